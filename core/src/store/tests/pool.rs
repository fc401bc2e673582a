//! A connection the server closed (a restart, `pg_terminate_backend`) is
//! replaced: tested before use once it has sat idle, and dropped after the
//! one statement that found it gone when it had not.

use std::time::Duration;

use diesel::r2d2::Pool;
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl};

use super::super::pool::Manager;
use super::super::test_db;
use super::super::{AnyConnection, StoreError};

#[derive(QueryableByName)]
struct Backend {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

fn backend_pid(conn: &mut AnyConnection) -> Result<i32, StoreError> {
    let row: Backend = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(conn)?;
    Ok(row.pid)
}

/// Ends the server process behind `pid`, and waits until it has ended.
fn terminate(conn: &mut AnyConnection, pid: i32) {
    diesel::sql_query(format!("SELECT pg_terminate_backend({pid}, 10000)"))
        .execute(conn)
        .expect("terminate the backend");
}

/// A pool of one connection, so that every checkout hands out the same
/// one until it is replaced.
fn one_connection(url: &str, trusted_idle: Duration) -> Pool<Manager> {
    Pool::builder()
        .max_size(1)
        .build(Manager::trusting_idle(url, trusted_idle))
        .expect("pool")
}

#[test]
fn a_closed_connection_idle_past_the_trusted_time_is_replaced_before_use() {
    for db in test_db::all()
        .into_iter()
        .filter(|db| db.label == "postgres")
    {
        let pool = one_connection(db.store.url(), Duration::ZERO);
        let first = backend_pid(&mut pool.get().unwrap()).unwrap();
        terminate(&mut db.store.conn().unwrap(), first);

        let next = backend_pid(&mut pool.get().unwrap()).expect("no request meets the closed one");
        assert_ne!(next, first, "a new connection in its place");
    }
}

#[test]
fn a_closed_connection_used_within_the_trusted_time_fails_once_then_is_replaced() {
    for db in test_db::all()
        .into_iter()
        .filter(|db| db.label == "postgres")
    {
        let pool = one_connection(db.store.url(), Duration::from_secs(3600));
        let first = backend_pid(&mut pool.get().unwrap()).unwrap();
        terminate(&mut db.store.conn().unwrap(), first);

        let failed = backend_pid(&mut pool.get().unwrap()).unwrap_err();
        assert!(
            matches!(failed, StoreError::ConnectionLost(_)),
            "lost, not a failed query: {failed}"
        );
        let next = backend_pid(&mut pool.get().unwrap()).expect("the pool made a new one");
        assert_ne!(next, first);
    }
}
