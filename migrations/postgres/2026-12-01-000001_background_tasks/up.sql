-- The status of each background task of each process (SPEC §10), published
-- by the process about every second; read by GET /api/v1/system/tasks.
CREATE TABLE background_tasks (
    process TEXT NOT NULL,
    name TEXT NOT NULL,
    last_started_at BIGINT,
    last_succeeded_at BIGINT,
    last_error TEXT,
    last_error_at BIGINT,
    runs BIGINT NOT NULL DEFAULT 0 CHECK (runs >= 0),
    failures BIGINT NOT NULL DEFAULT 0 CHECK (failures >= 0),
    failing BOOLEAN NOT NULL DEFAULT FALSE,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (process, name)
);
