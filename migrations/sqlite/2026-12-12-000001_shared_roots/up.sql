-- Shared roots (SPEC §7): an image's root comes in numbered versions, linked
-- read-only by its guests; provisioning copies only the segment. Existing
-- images get version 1 (their old golden disk, re-filed by the provisioner
-- at start-up) and a segment template a thirty-second of their size; the
-- guests that have booted boot version 1, and their whole old disk is their
-- segment, so nothing they wrote is lost.
CREATE TABLE root_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id BIGINT NOT NULL REFERENCES images (id),
    version INTEGER NOT NULL CHECK (version >= 1),
    label TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('published', 'retired')),
    checksum TEXT,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    created_at BIGINT NOT NULL,
    retired_at BIGINT,
    UNIQUE (image_id, version)
);
INSERT INTO root_versions (image_id, version, label, state, size_bytes, created_at)
    SELECT id, 1, 'initial', 'published', size_bytes, created_at FROM images;

ALTER TABLE images ADD COLUMN root_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE images ADD COLUMN segment_size_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE images SET segment_size_bytes = size_bytes / 32;

ALTER TABLE guests ADD COLUMN root_version INTEGER;
ALTER TABLE guests ADD COLUMN target_root_version INTEGER NOT NULL DEFAULT 1;
UPDATE guests SET root_version = 1
    WHERE state IN ('stopped', 'starting', 'running', 'stopping', 'unresponsive');
CREATE INDEX guests_image_roots ON guests (image_id, target_root_version);

-- What a finished job produced (a rollout's counts), as JSON.
ALTER TABLE jobs ADD COLUMN result TEXT;
