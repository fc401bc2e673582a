//! How the pool tests its connections: with a round trip only when one
//! has sat idle.
//!
//! r2d2 tests every connection it hands out with `SELECT 1`; on
//! PostgreSQL that is one more round trip than the request's own (three
//! instead of two for an authenticated `GET`). A connection that ran a
//! statement moments ago needs no such test. One the server closed in
//! those moments (a restart, `pg_terminate_backend`) fails the statement
//! that finds it gone, with [`super::StoreError::ConnectionLost`]; diesel
//! then counts it broken (libpq no longer knows its transaction state)
//! and the pool makes a new one in its place.

use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::r2d2::{ConnectionManager, ManageConnection};
use diesel::Connection;

use super::AnyConnection;

/// Idle for longer than this, a connection is tested before use: the
/// server may have gone away unnoticed in the meantime.
const TRUSTED_IDLE: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct Manager {
    connections: ConnectionManager<AnyConnection>,
    trusted_idle: Duration,
}

impl Manager {
    pub fn new(url: &str) -> Self {
        Self::trusting_idle(url, TRUSTED_IDLE)
    }

    /// Connections idle for up to `trusted_idle` are handed out untested.
    pub(super) fn trusting_idle(url: &str, trusted_idle: Duration) -> Self {
        Self {
            connections: ConnectionManager::new(url),
            trusted_idle,
        }
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let mut conn = self.connections.connect()?;
        conn.set_instrumentation(Health::new());
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        match health(conn) {
            Some(h) if h.last_statement.elapsed() < self.trusted_idle => Ok(()),
            _ => self.connections.is_valid(conn),
        }
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        self.connections.has_broken(conn)
    }
}

fn health(conn: &mut AnyConnection) -> Option<&mut Health> {
    conn.instrumentation().downcast_mut::<Health>()
}

/// Rides on each connection, told of every statement it runs.
struct Health {
    last_statement: Instant,
}

impl Health {
    fn new() -> Self {
        Self {
            last_statement: Instant::now(),
        }
    }
}

impl Instrumentation for Health {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { .. } = event {
            self.last_statement = Instant::now();
        }
    }
}
