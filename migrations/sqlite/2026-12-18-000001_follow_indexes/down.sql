DROP INDEX batch_items_status;
DROP INDEX jobs_target;
