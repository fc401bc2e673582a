-- What a user sees of their tokens (SPEC §12): when each was last used (to the
-- minute) and from which client address it was made.
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE tokens ADD COLUMN client_address TEXT;
