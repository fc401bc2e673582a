DROP TRIGGER guests_move_address;
DROP TRIGGER guests_free_address;
DROP TRIGGER guests_hold_address;
ALTER TABLE lans DROP COLUMN addresses_held;
