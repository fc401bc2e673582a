//! Wake-ups across processes on PostgreSQL: the web side `NOTIFY`s when it
//! records a command, and a dispatcher in another process `LISTEN`s; that
//! dispatcher `NOTIFY`s when a command is done, and web sides waiting for
//! it `LISTEN`. (In one process an in-memory signal does the same; SQLite
//! has no equivalent, and the other process falls back to a short interval.)

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::{AnyConnection, StoreError, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A command was recorded and waits for a dispatcher.
    CommandsWaiting,
    /// A dispatcher finished a command.
    CommandsFinished,
}

impl Channel {
    fn name(self) -> &'static str {
        match self {
            Self::CommandsWaiting => "herd_commands",
            Self::CommandsFinished => "herd_commands_finished",
        }
    }
}

/// Tells the listeners of `channel`; delivered when the surrounding
/// transaction commits (at once outside one).
pub fn notify(conn: &mut AnyConnection, channel: Channel) -> StoreResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        pg.batch_execute(&format!("NOTIFY {}", channel.name()))?;
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
