//! SQLite's write-ahead log, copied back into the database by a thread of
//! its own instead of by whichever click's commit crosses the mark (see
//! [`super::Workload::Clicks`]). Nothing to do on PostgreSQL, whose checkpointer
//! is its own process.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;

use super::{AnyConnection, DbKind, Store, StoreResult};

/// How far a checkpoint got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct Copied {
    /// Frames in the log.
    #[diesel(sql_type = BigInt)]
    pub log: i64,
    /// Frames of it now in the database.
    #[diesel(sql_type = BigInt)]
    pub checkpointed: i64,
}

/// Copies what it can of the log into the database without waiting for
/// readers or writers (`PASSIVE`): a reader still using old frames keeps
/// them, and the next checkpoint takes them. `None` on PostgreSQL.
pub fn checkpoint(conn: &mut AnyConnection) -> StoreResult<Option<Copied>> {
    match conn {
        AnyConnection::Sqlite(_) => Ok(Some(
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result(conn)?,
        )),
        AnyConnection::Postgresql(_) => Ok(None),
    }
}

/// Checkpoints every `every` while it lives; dropping it stops the thread
/// at once and waits for a checkpoint in progress.
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// On SQLite, a thread on `store` (best a pool of its own: see
    /// [`Store::with_own_pool`]); `None` on PostgreSQL.
    pub fn spawn(store: Store, every: Duration) -> std::io::Result<Option<Self>> {
        if store.kind() != DbKind::Sqlite {
            return Ok(None);
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("herd-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let copied = store.conn().and_then(|mut conn| checkpoint(&mut conn));
                    if let Err(e) = copied {
                        tracing::warn!(error = %e, "SQLite checkpoint");
                    }
                }
            })?;
        Ok(Some(Self {
            stop: Some(stop),
            thread: Some(thread),
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
