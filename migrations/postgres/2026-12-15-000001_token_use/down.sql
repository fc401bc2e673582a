ALTER TABLE tokens DROP COLUMN client_address;
ALTER TABLE tokens DROP COLUMN last_used_at;
