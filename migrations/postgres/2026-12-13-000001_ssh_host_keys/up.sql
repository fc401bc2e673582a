-- A guest's SSH host public key (SPEC §8), as its console reported it at boot:
-- made by the guest, never set by a client.
ALTER TABLE guests ADD COLUMN ssh_host_key TEXT;
