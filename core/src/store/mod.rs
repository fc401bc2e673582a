//! The store: one diesel code path over SQLite (embedded default) and
//! PostgreSQL (production), with embedded migrations for both. The modules
//! below are one per resource; each takes a connection so that callers can
//! compose them inside one transaction.
//!
//! Lookups by a unique key use `get_result`, not `first`: diesel sends
//! `first`'s `LIMIT 1` as a bound parameter, and SQLite (3.50, as bundled)
//! plans with a bound LIMIT's value unless its query-planner stability
//! guarantee is on (a `sqlite3_db_config` diesel does not reach), so such a
//! statement is prepared again at every execution instead of coming from
//! the statement cache: five times the cost of the lookup, and a third of
//! the server's CPU under load before this rule (docs/benchmarks.md).

/// Loads `$query`, which filters by a list (`eq_any`), on the concrete
/// connection. Through [`AnyConnection`] diesel writes the list as
/// `IN ($1, …, $n)`, a statement it never keeps, so PostgreSQL parses and
/// plans it at every call; on a PostgreSQL connection diesel binds the list
/// as one array (`= ANY($1)`) and keeps the statement prepared. For the
/// lookups every click makes.
macro_rules! load_listed {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::store::AnyConnection::Postgresql(c) => $query.load(c),
            $crate::store::AnyConnection::Sqlite(c) => $query.load(c),
        }
    };
}

pub mod batches;
pub mod catalog;
pub mod checkpoint;
pub mod commands;
pub mod events;
pub mod guests;
pub mod idempotency;
pub mod jobs;
mod kept;
pub mod lans;
pub mod leases;
pub mod login_failures;
pub mod notify;
pub mod roots;
pub mod schema;
pub mod seed;
pub mod settings;
pub mod tasks;
pub mod tokens;
pub mod turns;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Arbitrary but fixed: serialises migrations of several herd processes
/// starting at once against one PostgreSQL.
const MIGRATION_LOCK_KEY: i64 = 0x6865_7264; // "herd"

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Conn = PooledConnection<ConnectionManager<AnyConnection>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database unavailable: {0}")]
    Unavailable(#[from] diesel::r2d2::PoolError),
    /// The server closed the connection mid-request (a restart): the pool
    /// replaces it, and the request may be tried again.
    #[error("the database connection was lost: {0}")]
    ConnectionLost(String),
    #[error("database error: {0}")]
    Query(diesel::result::Error),
    #[error("exhausted: {0}")]
    Exhausted(String),
    #[error("listening for notifications: {0}")]
    Listen(String),
    /// A stored value outside its closed set (a state, a status) or
    /// otherwise unreadable: never read as some default.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

/// A row whose closed-set column (read with `deserialize_as`) holds text no
/// value names is corrupt data, not a failed query; a connection the
/// server closed is the database's absence, not the statement's fault.
impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if let Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) = &e
        {
            return StoreError::ConnectionLost(e.to_string());
        }
        if let Error::DeserializationError(inner) = &e {
            // Read by field name (`QueryableByName`), the error comes wrapped.
            let inner = match inner.downcast_ref::<diesel::result::DeserializeFieldError>() {
                Some(field) => &field.error,
                None => inner,
            };
            if let Some(unknown) = inner.downcast_ref::<crate::domain::UnknownName>() {
                return StoreError::Corrupt(unknown.to_string());
            }
        }
        StoreError::Query(e)
    }
}

impl StoreError {
    /// `value` in `table.column` is not one this release knows.
    pub fn corrupt(table: &str, column: &str, value: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(format!("{table}.{column} holds `{value}`"))
    }

    /// A unique or check constraint refused the write: the caller asked for
    /// something that conflicts with what is stored.
    pub fn is_conflict(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            StoreError::Query(Error::DatabaseError(
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::CheckViolation,
                _
            ))
        )
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database layer's raw error, for callers' error types that run their
/// own work inside [`write_tx`].
pub use diesel::result as diesel_error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            DbKind::Postgres
        } else {
            DbKind::Sqlite
        }
    }
}

/// What a pool's connections are for, which decides how the database
/// treats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Everything but the clicks. PostgreSQL plans as it chooses: five
    /// executions planned for their parameters, then one generic plan if
    /// it looks no dearer (right for queries whose best plan depends on the
    /// values, `state = $1`). SQLite copies its write-ahead log back into
    /// the database whenever a commit finds it past 1000 pages.
    General,
    /// The statements of every click: the recorder's, the assigner's
    /// (pool guests for `POST /api/v1/guests`) and the dispatcher's.
    ///
    /// PostgreSQL keeps one generic plan, made at the first execution, that
    /// reads tables through their indexes. These statements find rows by
    /// key (`= ANY($1)`); PostgreSQL's default planned some of them again
    /// at every execution (its guess for an array of unknown length made
    /// the generic plan look dearer), a third of its CPU under 50 clicking
    /// clients. Sequential scans are priced out (`enable_seqscan = off`; a
    /// table without a usable index is still scanned): a generic plan made
    /// while `commands` was small scanned the whole table long after it had
    /// grown (1.2 ms a round instead of 0.3 within seconds of a new
    /// installation's first clicks), until the next `ANALYZE`.
    ///
    /// SQLite never copies the log back on these connections (a
    /// checkpoint copies and syncs the database file: tens of milliseconds
    /// for the click whose commit crossed the mark, and for every click
    /// queued behind it); a [`checkpoint::Checkpointer`] does, on a thread
    /// of its own.
    Clicks,
}

/// Per-connection settings. SQLite: foreign keys are off by default, and
/// concurrent writers should wait instead of failing at once. Both: what
/// the [`Workload`] asks for.
#[derive(Debug)]
struct ConnectionSettings(Workload);

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        let sqlite = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                      PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;";
        let settings = match (&*conn, self.0) {
            (AnyConnection::Sqlite(_), Workload::General) => sqlite.to_owned(),
            (AnyConnection::Sqlite(_), Workload::Clicks) => {
                format!("{sqlite} PRAGMA wal_autocheckpoint = 0;")
            }
            (AnyConnection::Postgresql(_), Workload::General) => return Ok(()),
            (AnyConnection::Postgresql(_), Workload::Clicks) => {
                "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off".to_owned()
            }
        };
        conn.batch_execute(&settings)
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<AnyConnection>>,
    kind: DbKind,
    url: Arc<str>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("kind", &self.kind).finish()
    }
}

impl Store {
    /// Connects, checks the URL with a readable error, and runs pending
    /// migrations. `url` is `postgres://…` or a SQLite file path
    /// (optionally `sqlite://path`).
    pub fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let kind = DbKind::of_url(url);
        let url = url.strip_prefix("sqlite://").unwrap_or(url);
        Self::check_connect(kind, url)?;
        let store = Self {
            pool: Self::pool(url, max_connections, Workload::General)?,
            kind,
            url: url.into(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The same database through a pool of its own, for a background role
    /// that must not wait behind web requests for a connection (r2d2 hands
    /// freed connections to waiters in no particular order).
    pub fn with_own_pool(&self, max_connections: u32, workload: Workload) -> StoreResult<Self> {
        Ok(Self {
            pool: Self::pool(&self.url, max_connections, workload)?,
            kind: self.kind,
            url: self.url.clone(),
        })
    }

    fn pool(
        url: &str,
        max_connections: u32,
        workload: Workload,
    ) -> StoreResult<Pool<ConnectionManager<AnyConnection>>> {
        Pool::builder()
            .max_size(max_connections.max(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(ConnectionSettings(workload)))
            .build(ConnectionManager::new(url))
            .map_err(|e| StoreError::Connect(e.to_string()))
    }

    // The multi-backend connection hides why a connection failed; the
    // concrete one says it.
    /// Whether the database at `url` takes a connection, without changing
    /// it: no migration, and no SQLite file made where there is none (the
    /// server makes it at its first start).
    pub fn check_reachable(url: &str) -> StoreResult<&'static str> {
        let kind = DbKind::of_url(url);
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        match kind {
            DbKind::Sqlite if !std::path::Path::new(path).exists() => {
                Ok("SQLite, not made yet: the first start makes it")
            }
            DbKind::Sqlite => Self::check_connect(kind, path).map(|()| "SQLite"),
            DbKind::Postgres => Self::check_connect(kind, path).map(|()| "PostgreSQL"),
        }
    }

    fn check_connect(kind: DbKind, url: &str) -> StoreResult<()> {
        let result = match kind {
            DbKind::Postgres => PgConnection::establish(url).map(drop),
            DbKind::Sqlite => SqliteConnection::establish(url).map(drop),
        };
        result.map_err(|e| StoreError::Connect(e.to_string()))
    }

    /// An online, consistent copy of a SQLite database into the new file
    /// `target`: `VACUUM INTO` reads one snapshot while other connections
    /// and processes keep writing. (PostgreSQL is copied with `pg_dump`.)
    pub fn backup_sqlite_into(&self, target: &std::path::Path) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let AnyConnection::Sqlite(c) = &mut *conn else {
            return Err(StoreError::Corrupt(
                "a PostgreSQL database is backed up with pg_dump".into(),
            ));
        };
        let path = target.to_string_lossy().replace('\'', "''");
        c.batch_execute(&format!("VACUUM INTO '{path}'"))?;
        Ok(())
    }

    /// Where the database is, for connections of its own (a listener).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    pub fn conn(&self) -> StoreResult<Conn> {
        Ok(self.pool.get()?)
    }

    /// Connections in use and idle, for the metrics endpoint.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections - s.idle_connections, s.idle_connections)
    }

    /// Runs pending migrations; safe to call from several processes at once.
    pub fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let migrated = match &mut *conn {
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
            AnyConnection::Postgresql(c) => {
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
                let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop);
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
                result
            }
        };
        migrated.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Readiness: can we get a connection and run a trivial query?
    /// Waits at most two seconds: a readiness probe gives up sooner than
    /// the pool's usual connection timeout.
    pub fn ping(&self) -> StoreResult<()> {
        self.pool
            .get_timeout(Duration::from_secs(2))?
            .batch_execute("SELECT 1")?;
        Ok(())
    }
}

#[cfg(any(test, feature = "test-support"))]
pub mod test_db;
#[cfg(test)]
mod tests;

/// Holds `key` until the surrounding transaction ends, so that work of
/// this kind runs one at a time across processes. PostgreSQL only: on
/// SQLite, [`write_tx`]'s `IMMEDIATE` transaction already serialises
/// writers.
pub fn serialize_in_tx(conn: &mut AnyConnection, key: i64) -> StoreResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})"))?;
    }
    Ok(())
}

/// Runs `work` in one write transaction. On SQLite it begins `IMMEDIATE`, so
/// the write lock is taken up front and a concurrent writer waits (see
/// [`turns`]) instead of failing when a read transaction tries to
/// upgrade; `work` must not open a write transaction on another connection.
/// On PostgreSQL it is an ordinary transaction; callers lock rows themselves.
/// Inside another `write_tx` it is a savepoint of that transaction.
pub fn write_tx<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let nested = match &mut *conn {
        AnyConnection::Sqlite(c) => AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()?
            .is_some(),
        _ => true,
    };
    // Inside a write transaction already (the turn and the lock are held):
    // a savepoint, so that `work` still fails as a whole.
    if nested {
        return conn.transaction(work);
    }
    let _turn = turns::take();
    if let AnyConnection::Sqlite(c) = &mut *conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = work(conn);
    if let AnyConnection::Sqlite(c) = conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(c)?,
            Err(_) => AnsiTransactionManager::rollback_transaction(c)?,
        }
    }
    result
}
