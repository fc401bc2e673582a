-- The id of the HTTP request that asked for a command or made an audited
-- change (x-request-id), so that one click can be followed from the
-- request's log line through the command row and the dispatcher's log to
-- the audit entry.
ALTER TABLE commands ADD COLUMN request_id TEXT;
ALTER TABLE events ADD COLUMN request_id TEXT;
