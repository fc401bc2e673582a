-- herd schema, SQLite flavour. Times are INTEGER milliseconds since the epoch
-- (UTC) in both databases: one code path compares and orders them.
-- Keep in step with migrations/postgres (same tables, columns and constraints).

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL CHECK (role IN ('student', 'staff', 'admin')),
    source TEXT NOT NULL CHECK (source IN ('local', 'ldap')),
    password_hash TEXT,
    max_guests INTEGER CHECK (max_guests IS NULL OR max_guests >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (source = 'ldap' OR password_hash IS NOT NULL)
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CHECK (expires_at > created_at)
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_username ON login_failures (username, at);
CREATE INDEX login_failures_client ON login_failures (client_addr, at);

CREATE TABLE images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    created_at BIGINT NOT NULL
);

CREATE TABLE lans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    cidr TEXT NOT NULL UNIQUE,
    gateway TEXT NOT NULL,
    dns TEXT NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity >= 0),
    created_at BIGINT NOT NULL
);

CREATE TABLE guests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 8),
    owner_id BIGINT REFERENCES users (id),
    hostname TEXT NOT NULL,
    lan_id BIGINT NOT NULL REFERENCES lans (id),
    ip_address TEXT,
    memory_mb INTEGER NOT NULL CHECK (memory_mb > 0),
    image_id BIGINT NOT NULL REFERENCES images (id),
    auto_boot BOOLEAN NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('pooled', 'provisioning', 'stopped', 'starting', 'running',
        'stopping', 'unresponsive', 'failed', 'decommissioning', 'decommissioned')),
    created_at BIGINT NOT NULL,
    assigned_at BIGINT,
    expires_at BIGINT,
    expiry_warned_at BIGINT,
    updated_at BIGINT NOT NULL,
    -- A pooled guest belongs to nobody; an address is held until decommissioned.
    CHECK (state <> 'pooled' OR owner_id IS NULL),
    CHECK (state <> 'decommissioned' OR ip_address IS NULL),
    UNIQUE (lan_id, ip_address)
);
CREATE INDEX guests_owner ON guests (owner_id);
CREATE INDEX guests_state ON guests (state);

-- Monotonic counters (guest name sequence).
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Runtime settings changed through the API (pool target size, copy method).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE service_catalog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    command TEXT NOT NULL,
    default_enabled BOOLEAN NOT NULL
);

CREATE TABLE guest_services (
    guest_id BIGINT NOT NULL REFERENCES guests (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES service_catalog (id),
    enabled BOOLEAN NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up', 'down', 'unknown')),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (guest_id, service_id)
);

CREATE TABLE commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guest_id BIGINT NOT NULL REFERENCES guests (id),
    requested_by BIGINT REFERENCES users (id),
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'dispatched', 'succeeded', 'failed')),
    result TEXT,
    claimed_by TEXT,
    created_at BIGINT NOT NULL,
    dispatched_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX commands_status ON commands (status, id);

CREATE TABLE leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guest_id BIGINT NOT NULL REFERENCES guests (id),
    protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp')),
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    source_cidr TEXT,
    opened_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    closed_at BIGINT,
    close_reason TEXT CHECK (close_reason IS NULL OR close_reason IN ('expired', 'closed', 'decommissioned')),
    CHECK ((closed_at IS NULL) = (close_reason IS NULL))
);
-- At most one open lease per (guest, protocol, port).
CREATE UNIQUE INDEX leases_one_open ON leases (guest_id, protocol, port) WHERE closed_at IS NULL;
CREATE INDEX leases_expiry ON leases (expires_at) WHERE closed_at IS NULL;

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    requested_by BIGINT REFERENCES users (id),
    target TEXT,
    params TEXT NOT NULL DEFAULT '{}',
    progress_done INTEGER NOT NULL DEFAULT 0 CHECK (progress_done >= 0),
    progress_total INTEGER NOT NULL DEFAULT 0 CHECK (progress_total >= 0),
    error TEXT,
    claimed_by TEXT,
    heartbeat_at BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX jobs_status ON jobs (status, id);

-- Saga steps of a job: each outcome is written before the next step starts,
-- so a restarted provisioner resumes instead of repeating.
CREATE TABLE job_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    guest_id BIGINT REFERENCES guests (id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'undone')),
    detail TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    UNIQUE (job_id, guest_id, seq)
);

CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id BIGINT NOT NULL UNIQUE REFERENCES jobs (id),
    requested_by BIGINT REFERENCES users (id),
    ldap_group TEXT,
    guests_per_user INTEGER NOT NULL CHECK (guests_per_user > 0),
    image_id BIGINT NOT NULL REFERENCES images (id),
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE batch_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id BIGINT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'skipped', 'assigned', 'cloned', 'failed', 'cancelled')),
    guest_names TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    updated_at BIGINT NOT NULL,
    UNIQUE (batch_id, username)
);

-- Monitor and audit events: who, what, which target, when, from where, outcome.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    guest_id BIGINT REFERENCES guests (id),
    client_addr TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'info', 'warning')),
    detail TEXT
);
CREATE INDEX events_guest ON events (guest_id, id);
CREATE INDEX events_kind ON events (kind, id);
