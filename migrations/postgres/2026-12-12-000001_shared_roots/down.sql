ALTER TABLE jobs DROP COLUMN result;
DROP INDEX guests_image_roots;
ALTER TABLE guests DROP COLUMN target_root_version;
ALTER TABLE guests DROP COLUMN root_version;
ALTER TABLE images DROP COLUMN segment_size_bytes;
ALTER TABLE images DROP COLUMN root_version;
DROP TABLE root_versions;
