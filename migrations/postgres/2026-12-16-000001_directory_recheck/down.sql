ALTER TABLE users DROP COLUMN directory_checked_at;
