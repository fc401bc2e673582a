//! SQLite's write-ahead log: a click's commit leaves it for the
//! checkpointer, which copies it into the database.

use diesel::connection::SimpleConnection;

use super::super::checkpoint::checkpoint;
use super::super::test_db;
use super::super::Workload;

const FILLER_MB: u64 = 6;

fn database_file_len(url: &str) -> u64 {
    std::fs::metadata(url).expect("the database file").len()
}

#[test]
fn a_clicks_commit_leaves_the_log_to_the_checkpointer_sqlite() {
    for db in test_db::all().into_iter().filter(|db| db.label == "sqlite") {
        let url = db.store.url().to_owned();
        let clicks = db.store.with_own_pool(1, Workload::Clicks).unwrap();
        let mut conn = clicks.conn().unwrap();
        checkpoint(&mut conn).unwrap();
        let before = database_file_len(&url);
        // Far past the 1000 pages (4 MB) at which a commit would copy the
        // log back itself.
        conn.batch_execute(&format!(
            "CREATE TABLE filler (bytes BLOB); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
             INSERT INTO filler SELECT randomblob(1024) FROM n;",
            FILLER_MB * 1024
        ))
        .unwrap();
        assert!(
            database_file_len(&url) < before + FILLER_MB * 1024 * 1024 / 2,
            "the commit copied the log into the database itself"
        );

        let copied = checkpoint(&mut conn).unwrap().expect("SQLite answers");
        assert!(copied.log > 1000, "{copied:?}");
        assert_eq!(copied.checkpointed, copied.log, "all of it copied");
        assert!(
            database_file_len(&url) >= before + FILLER_MB * 1024 * 1024,
            "the checkpoint copied the log into the database"
        );
    }
}

#[test]
fn checkpoint_is_nothing_to_do_on_postgres() {
    for db in test_db::all()
        .into_iter()
        .filter(|db| db.label == "postgres")
    {
        let mut conn = db.store.conn().unwrap();
        assert_eq!(checkpoint(&mut conn).unwrap(), None);
    }
}
