-- A LAN an admin removed (DELETE /api/v1/lans/{name}). Its row stays for the
-- decommissioned guests that still name it; name and cidr are freed for reuse.
ALTER TABLE lans ADD COLUMN removed_at BIGINT;
