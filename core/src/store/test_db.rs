//! Fresh databases for store tests: a SQLite file, and a new PostgreSQL
//! database on the throwaway server that `scripts/test.sh` starts.

use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::Rng;

use super::Store;

pub struct TestDb {
    pub store: Store,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// Every database the store must work on. PostgreSQL comes from
/// `HERD_TEST_PG_URL`; without it the PostgreSQL half is skipped, except in
/// CI where a missing service is a failure.
pub fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite()];
    match std::env::var("HERD_TEST_PG_URL") {
        Ok(url) => dbs.push(postgres(&url)),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("HERD_TEST_PG_URL is not set: run the tests with scripts/test.sh")
        }
        Err(_) => {
            eprintln!("skipping PostgreSQL: HERD_TEST_PG_URL is not set (scripts/test.sh sets it)")
        }
    }
    dbs
}

fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("herd.db");
    let store = Store::open(path.to_str().expect("utf-8 path"), 20).expect("open SQLite store");
    TestDb {
        store,
        label: "sqlite",
        _dir: Some(dir),
    }
}

fn postgres(admin_url: &str) -> TestDb {
    let name = format!("herd_core_{:016x}", rand::rng().random::<u64>());
    let mut admin = PgConnection::establish(admin_url).expect("connect to HERD_TEST_PG_URL");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .expect("create test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    let store = Store::open(&format!("{base}/{name}"), 20).expect("open PostgreSQL store");
    TestDb {
        store,
        label: "postgres",
        _dir: None,
    }
}
