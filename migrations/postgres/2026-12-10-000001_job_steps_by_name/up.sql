-- Saga steps are found by name, not by their index in the saga's list of
-- steps: a release that inserts a step must still find the steps a saga in
-- flight recorded under the old numbering. `seq` stays, as the order shown,
-- and may repeat.
ALTER TABLE job_steps DROP CONSTRAINT job_steps_job_id_guest_id_seq_key;
ALTER TABLE job_steps ADD CONSTRAINT job_steps_job_id_guest_id_name_key UNIQUE (job_id, guest_id, name);
