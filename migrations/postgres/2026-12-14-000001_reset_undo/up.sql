-- Until when a reset guest's old segment is kept for undo (SPEC §8); NULL
-- when nothing is kept.
ALTER TABLE guests ADD COLUMN reset_undo_until BIGINT;
