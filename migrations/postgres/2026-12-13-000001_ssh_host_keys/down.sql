ALTER TABLE guests DROP COLUMN ssh_host_key;
