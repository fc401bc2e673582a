CREATE TABLE job_steps_by_seq (
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
INSERT INTO job_steps_by_seq (id, job_id, guest_id, seq, name, status, detail, started_at, finished_at)
    SELECT id, job_id, guest_id, seq, name, status, detail, started_at, finished_at FROM job_steps;
DROP TABLE job_steps;
ALTER TABLE job_steps_by_seq RENAME TO job_steps;
