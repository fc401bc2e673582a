-- When the directory last answered for a directory user (SPEC §12): their role
-- and existence are checked again once this is HERD_LDAP_RECHECK_SECONDS old.
ALTER TABLE users ADD COLUMN directory_checked_at BIGINT;
