//! Store tests, each run on SQLite and on PostgreSQL.

mod checkpoint;
mod commands;
mod corrupt;
mod guests;
mod invariants;
mod leases;
mod notify;
mod pool;

use std::sync::Barrier;

use super::test_db::TestDb;
use super::Conn;

/// Runs `work(i, connection, start)` on `threads` threads, each with a
/// connection of its own; `work` calls `start.wait()` once ready, so that
/// all race from the same moment. Answers the results in thread order.
pub(super) fn race<T: Send>(
    db: &TestDb,
    threads: usize,
    work: impl Fn(usize, &mut Conn, &Barrier) -> T + Sync,
) -> Vec<T> {
    let start = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (work, start) = (&work, &start);
                s.spawn(move || work(i, &mut db.store.conn().unwrap(), start))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `seen` holds every id of `all`, none twice.
pub(super) fn assert_each_once(seen: &[i64], all: &std::collections::HashSet<i64>, twice: &str) {
    let unique: std::collections::HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), unique.len(), "{twice}");
    assert_eq!(&unique, all, "{twice}");
}
