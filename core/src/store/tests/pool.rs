//! A connection the server closed (a restart, `pg_terminate_backend`) is
//! replaced: tested before use when it sat idle, and dropped after the one
//! statement that found it gone when a request held it.

use diesel::r2d2::{ConnectionManager, Pool};
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl};

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
fn one_connection(url: &str) -> Pool<ConnectionManager<AnyConnection>> {
    Pool::builder()
        .max_size(1)
        .build(ConnectionManager::new(url))
        .expect("pool")
}

fn postgres() -> impl Iterator<Item = test_db::TestDb> {
    test_db::all()
        .into_iter()
        .filter(|db| db.label == "postgres")
}

#[test]
fn a_connection_closed_while_idle_is_replaced_before_use() {
    for db in postgres() {
        let pool = one_connection(db.store.url());
        let first = backend_pid(&mut pool.get().unwrap()).unwrap();
        terminate(&mut db.store.conn().unwrap(), first);

        let next = backend_pid(&mut pool.get().unwrap()).expect("no request meets the closed one");
        assert_ne!(next, first, "a new connection in its place");
    }
}

#[test]
fn a_connection_closed_while_held_fails_its_statement_as_lost_then_is_replaced() {
    for db in postgres() {
        let pool = one_connection(db.store.url());
        let mut held = pool.get().unwrap();
        let first = backend_pid(&mut held).unwrap();
        terminate(&mut db.store.conn().unwrap(), first);

        let failed = backend_pid(&mut held).unwrap_err();
        assert!(
            matches!(failed, StoreError::ConnectionLost(_)),
            "lost, not a failed query: {failed}"
        );
        drop(held);
        let next = backend_pid(&mut pool.get().unwrap()).expect("the pool made a new one");
        assert_ne!(next, first);
    }
}
