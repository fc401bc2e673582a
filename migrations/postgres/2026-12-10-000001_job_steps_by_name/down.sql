ALTER TABLE job_steps DROP CONSTRAINT job_steps_job_id_guest_id_name_key;
ALTER TABLE job_steps ADD CONSTRAINT job_steps_job_id_guest_id_seq_key UNIQUE (job_id, guest_id, seq);
