-- How many addresses each LAN's guests hold, kept by the database itself:
-- every new guest goes to the LAN with the most free addresses, and
-- counting them over the guests at each one made a 10,000-guest batch
-- quadratic (5 ms a count on PostgreSQL). Triggers see every write to
-- guests, whichever code or process makes it. A migration that rebuilds
-- guests must make these triggers again.
ALTER TABLE lans ADD COLUMN addresses_held BIGINT NOT NULL DEFAULT 0;
UPDATE lans SET addresses_held =
    (SELECT count(*) FROM guests WHERE guests.lan_id = lans.id AND guests.ip_address IS NOT NULL);

CREATE TRIGGER guests_hold_address AFTER INSERT ON guests
WHEN NEW.ip_address IS NOT NULL
BEGIN
    UPDATE lans SET addresses_held = addresses_held + 1 WHERE id = NEW.lan_id;
END;

CREATE TRIGGER guests_free_address AFTER DELETE ON guests
WHEN OLD.ip_address IS NOT NULL
BEGIN
    UPDATE lans SET addresses_held = addresses_held - 1 WHERE id = OLD.lan_id;
END;

CREATE TRIGGER guests_move_address AFTER UPDATE OF ip_address, lan_id ON guests
WHEN (OLD.ip_address IS NULL) <> (NEW.ip_address IS NULL) OR OLD.lan_id <> NEW.lan_id
BEGIN
    UPDATE lans SET addresses_held = addresses_held - 1
        WHERE id = OLD.lan_id AND OLD.ip_address IS NOT NULL;
    UPDATE lans SET addresses_held = addresses_held + 1
        WHERE id = NEW.lan_id AND NEW.ip_address IS NOT NULL;
END;
