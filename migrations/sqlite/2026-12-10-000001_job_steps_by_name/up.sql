-- Saga steps are found by name, not by their index in the saga's list of
-- steps: a release that inserts a step must still find the steps a saga in
-- flight recorded under the old numbering. `seq` stays, as the order shown,
-- and may repeat. SQLite cannot drop a table's UNIQUE clause: the table is
-- rebuilt (nothing refers to it).
CREATE TABLE job_steps_by_name (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    guest_id BIGINT REFERENCES guests (id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'undone')),
    detail TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    UNIQUE (job_id, guest_id, name)
);
INSERT INTO job_steps_by_name (id, job_id, guest_id, seq, name, status, detail, started_at, finished_at)
    SELECT id, job_id, guest_id, seq, name, status, detail, started_at, finished_at FROM job_steps;
DROP TABLE job_steps;
ALTER TABLE job_steps_by_name RENAME TO job_steps;
