ALTER TABLE lans DROP COLUMN removed_at;
