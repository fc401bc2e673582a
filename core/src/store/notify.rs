//! Wake-ups across processes on PostgreSQL: the web side `NOTIFY`s when it
//! records a command, and a dispatcher in another process `LISTEN`s; that
//! dispatcher `NOTIFY`s when a command is done, and web sides waiting for
//! it `LISTEN`. (In one process an in-memory signal does the same; SQLite
//! has no equivalent, and the other process falls back to a short interval.)

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, RunQueryDsl};

use super::{AnyConnection, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A command was recorded and waits for a dispatcher.
    CommandsWaiting,
    /// A dispatcher finished a command.
    CommandsFinished,
}

impl Channel {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::CommandsWaiting => "herd_commands",
            Self::CommandsFinished => "herd_commands_finished",
        }
    }
}

/// Tells the listeners of `channel`, with `payload` (what it is about, or
/// empty); delivered when the surrounding transaction commits (at once
/// outside one).
pub fn notify(conn: &mut AnyConnection, channel: Channel, payload: &str) -> StoreResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        super::kept::kept("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(channel.name())
            .bind::<Text, _>(payload)
            .execute(pg)?;
    }
    Ok(())
}

/// A dedicated connection listening on one channel.
pub struct Listener(PgConnection);

impl Listener {
    /// `None` for SQLite.
    pub fn open(url: &str, channel: Channel) -> StoreResult<Option<Self>> {
        if super::DbKind::of_url(url) != super::DbKind::Postgres {
            return Ok(None);
        }
        let mut conn =
            PgConnection::establish(url).map_err(|e| StoreError::Connect(e.to_string()))?;
        conn.batch_execute(&format!("LISTEN {}", channel.name()))?;
        Ok(Some(Self(conn)))
    }

    /// The payloads of the notifications that arrived since the last
    /// call. Never blocks: libpq reads what the socket holds.
    ///
    /// (Those committed before a statement this connection runs have all
    /// arrived once it answers: how tests wait for them without a clock.)
    pub fn pending(&mut self) -> StoreResult<Vec<String>> {
        self.0
            .notifications_iter()
            .map(|n| Ok(n?.payload))
            .collect()
    }

    #[cfg(test)]
    pub fn round_trip(&mut self) -> StoreResult<()> {
        Ok(self.0.batch_execute("SELECT 1")?)
    }
}
