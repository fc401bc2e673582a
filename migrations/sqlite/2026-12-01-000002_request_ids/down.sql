ALTER TABLE events DROP COLUMN request_id;
ALTER TABLE commands DROP COLUMN request_id;
