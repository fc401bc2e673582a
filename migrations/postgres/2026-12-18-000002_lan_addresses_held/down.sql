DROP TRIGGER guests_move_address ON guests;
DROP TRIGGER guests_hold_or_free_address ON guests;
DROP FUNCTION guests_count_addresses();
ALTER TABLE lans DROP COLUMN addresses_held;
