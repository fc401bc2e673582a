ALTER TABLE guests DROP COLUMN reset_undo_until;
