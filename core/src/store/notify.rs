//! Wake-ups across processes on PostgreSQL: the web side `NOTIFY`s when it
//! records a command; a dispatcher in another process `LISTEN`s. (In one
//! process an in-memory signal does the same; SQLite has no equivalent, and
//! a separate dispatcher on SQLite falls back to its idle interval.)

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::{AnyConnection, StoreError, StoreResult};

const CHANNEL: &str = "herd_commands";

/// Tells listening dispatchers that a command waits; delivered when the
/// surrounding transaction commits.
pub fn commands_waiting(conn: &mut AnyConnection) -> StoreResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        pg.batch_execute(&format!("NOTIFY {CHANNEL}"))?;
    }
    Ok(())
}

/// A dedicated connection listening for [`commands_waiting`].
pub struct CommandListener(PgConnection);

impl CommandListener {
    /// `None` for SQLite.
    pub fn open(url: &str) -> StoreResult<Option<Self>> {
        if super::DbKind::of_url(url) != super::DbKind::Postgres {
            return Ok(None);
        }
        let mut conn =
            PgConnection::establish(url).map_err(|e| StoreError::Connect(e.to_string()))?;
        conn.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        Ok(Some(Self(conn)))
    }

    /// Whether notifications arrived since the last call. Never blocks:
    /// libpq reads what the socket holds.
    pub fn pending(&mut self) -> StoreResult<bool> {
        let mut any = false;
        for n in self.0.notifications_iter() {
            n?;
            any = true;
        }
        Ok(any)
    }
}
