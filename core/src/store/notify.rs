//! Wake-ups across processes on PostgreSQL: the web side `NOTIFY`s when it
//! records a command, and a dispatcher in another process `LISTEN`s; that
//! dispatcher `NOTIFY`s when a command is done, and web sides waiting for
//! it `LISTEN`. (In one process an in-memory signal does the same; SQLite
//! has no equivalent, and the other process falls back to a short interval.)

use std::ffi::{CStr, CString};
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

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

/// The payload that tells a listening process to look for itself:
/// notifications may have been missed.
pub const LOOK: &str = "";

/// A [`Listener`] that outlives its connection: when the connection is
/// lost (a database restart, a failover), it connects again. Notifications
/// sent meanwhile are lost, so it answers [`LOOK`] when the connection is
/// lost and again when it is back; between, the process looks for itself.
pub struct Listening {
    url: String,
    channel: Channel,
    listener: Option<Listener>,
}

impl Listening {
    /// `None` for SQLite; an error when the first connection fails.
    pub fn open(url: &str, channel: Channel) -> StoreResult<Option<Self>> {
        Ok(Listener::open(url, channel)?.map(|listener| Self {
            url: url.to_owned(),
            channel,
            listener: Some(listener),
        }))
    }

    /// The payloads of the notifications that arrive within `timeout`
    /// (see [`Listener::wait`]). Without a connection, tries to connect
    /// again, at most once every `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Vec<String> {
        let Some(listener) = &mut self.listener else {
            return self.reconnect(timeout);
        };
        listener.wait(timeout).unwrap_or_else(|e| {
            tracing::warn!(error = %e, channel = ?self.channel, "LISTEN connection lost; connecting again, looking for changes meanwhile");
            self.listener = None;
            vec![LOOK.to_owned()]
        })
    }

    fn reconnect(&mut self, timeout: Duration) -> Vec<String> {
        let started = Instant::now();
        match Listener::open(&self.url, self.channel) {
            Ok(listener) => {
                tracing::info!(channel = ?self.channel, "LISTEN connection back");
                self.listener = listener;
                vec![LOOK.to_owned()]
            }
            Err(e) => {
                tracing::debug!(error = %e, channel = ?self.channel, "LISTEN: connecting again");
                std::thread::sleep(timeout.saturating_sub(started.elapsed()));
                Vec::new()
            }
        }
    }
}

/// A dedicated connection listening on one channel: libpq's own (the
/// bundled libpq diesel's connections use, so the same database URLs
/// work), because diesel gives no access to a connection's socket, and
/// waiting on that socket is what wakes a listener the moment a
/// notification arrives instead of at its next look.
pub struct Listener(NonNull<pq_sys::PGconn>);

// SAFETY: a libpq connection may move between threads as long as one
// thread at a time uses it, which `&mut self` on every use ensures.
unsafe impl Send for Listener {}

impl Listener {
    /// `None` for SQLite.
    pub fn open(url: &str, channel: Channel) -> StoreResult<Option<Self>> {
        if super::DbKind::of_url(url) != super::DbKind::Postgres {
            return Ok(None);
        }
        let url = CString::new(url)
            .map_err(|_| StoreError::Connect("the database URL holds a NUL byte".into()))?;
        // SAFETY: a valid C string; libpq copies what it needs.
        let conn = unsafe { pq_sys::PQconnectdb(url.as_ptr()) };
        let mut listener = Self(
            NonNull::new(conn).ok_or_else(|| StoreError::Connect("libpq: out of memory".into()))?,
        );
        // SAFETY: a connection libpq made, alive until `drop`.
        if unsafe { pq_sys::PQstatus(conn) } != pq_sys::ConnStatusType::CONNECTION_OK {
            return Err(StoreError::Connect(listener.error()));
        }
        listener
            .execute(&format!("LISTEN {}", channel.name()))
            .map_err(StoreError::Connect)?;
        Ok(Some(listener))
    }

    /// The payloads of the notifications that arrive within `timeout`:
    /// waits on the socket until the first comes, and answers it with any
    /// that came with it (empty when none came).
    pub fn wait(&mut self, timeout: Duration) -> StoreResult<Vec<String>> {
        let heard = self.pending()?;
        if !heard.is_empty() {
            return Ok(heard);
        }
        let micros = i64::try_from(timeout.as_micros()).unwrap_or(i64::MAX);
        // SAFETY: a live connection; `PQsocketPoll` only polls the socket.
        let ready = unsafe {
            let end = pq_sys::PQgetCurrentTimeUSec().saturating_add(micros);
            pq_sys::PQsocketPoll(pq_sys::PQsocket(self.0.as_ptr()), 1, 0, end)
        };
        if ready < 0 {
            let why = std::io::Error::last_os_error();
            if why.kind() != std::io::ErrorKind::Interrupted {
                return Err(StoreError::Listen(why.to_string()));
            }
        }
        self.pending()
    }

    /// The payloads of the notifications that arrived since the last
    /// call. Never blocks: libpq reads what the socket holds.
    ///
    /// (Those committed before a statement this connection runs have all
    /// arrived once it answers: how tests wait for them without a clock.)
    pub fn pending(&mut self) -> StoreResult<Vec<String>> {
        let conn = self.0.as_ptr();
        // SAFETY: a live connection.
        if unsafe { pq_sys::PQconsumeInput(conn) } == 0 {
            return Err(StoreError::Listen(self.error()));
        }
        let mut payloads = Vec::new();
        loop {
            // SAFETY: each notification libpq hands over is ours to read
            // and then to free, once.
            unsafe {
                let Some(heard) = NonNull::new(pq_sys::PQnotifies(conn)) else {
                    return Ok(payloads);
                };
                let payload = CStr::from_ptr(heard.as_ref().extra);
                payloads.push(payload.to_string_lossy().into_owned());
                pq_sys::PQfreemem(heard.as_ptr().cast());
            }
        }
    }

    /// Runs `sql`, answering libpq's message when it fails.
    fn execute(&mut self, sql: &str) -> Result<(), String> {
        let sql = CString::new(sql).map_err(|e| e.to_string())?;
        // SAFETY: a live connection and a valid C string; the result is
        // read, then freed once (`PQclear` ignores null).
        let ok = unsafe {
            let result = pq_sys::PQexec(self.0.as_ptr(), sql.as_ptr());
            let ok = !result.is_null()
                && matches!(
                    pq_sys::PQresultStatus(result),
                    pq_sys::ExecStatusType::PGRES_COMMAND_OK
                        | pq_sys::ExecStatusType::PGRES_TUPLES_OK
                );
            pq_sys::PQclear(result);
            ok
        };
        if ok {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// libpq's last message about the connection.
    fn error(&self) -> String {
        // SAFETY: libpq answers a C string it owns, valid until the next
        // call on the connection; copied at once.
        let message = unsafe { CStr::from_ptr(pq_sys::PQerrorMessage(self.0.as_ptr())) };
        message.to_string_lossy().trim().to_owned()
    }

    #[cfg(test)]
    pub fn round_trip(&mut self) -> StoreResult<()> {
        self.execute("SELECT 1").map_err(StoreError::Listen)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // SAFETY: the connection libpq made, finished once.
        unsafe { pq_sys::PQfinish(self.0.as_ptr()) }
    }
}
