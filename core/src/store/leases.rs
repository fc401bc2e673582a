//! Firewall leases (SPEC §1, §5): a port opened to one guest until
//! `expires_at`, then closed automatically, exactly once.
//!
//! A lease is *open* while `closed_at` is `NULL` and `expires_at` is in the
//! future. A lease whose time has passed but which no sweeper has closed yet
//! is already treated as closed by every read here (lists, counts, the
//! ruleset inputs) and cannot be closed or renewed any more, so what the API
//! answers is right to the second however late the sweep runs;
//! [`expire_due`] then closes it with reason `expired` and records one event.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::events::{self, NewEvent, Outcome};
use super::schema::{guests, leases, users};
use super::{write_tx, AnyConnection, StoreError, StoreResult};
use crate::clock::Millis;
use crate::domain::{Cidr, GuestState, Port, Protocol};

/// Why a lease ended.
pub const EXPIRED: &str = "expired";
pub const CLOSED: &str = "closed";
pub const DECOMMISSIONED: &str = "decommissioned";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = leases)]
pub struct LeaseRow {
    pub id: i64,
    pub guest_id: i64,
    pub protocol: String,
    pub port: i32,
    pub source_cidr: Option<String>,
    pub opened_by: Option<i64>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub closed_at: Option<Millis>,
    pub close_reason: Option<String>,
}

/// A lease with its guest's name and address and the opener's user name.
#[derive(Debug, Clone)]
pub struct Lease {
    pub id: i64,
    pub guest_id: i64,
    pub guest: String,
    /// `None` once the guest is decommissioned.
    pub address: Option<String>,
    pub protocol: Protocol,
    pub port: Port,
    /// Who may connect; `None` is anyone.
    pub source: Option<Cidr>,
    pub opened_by: Option<String>,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub closed_at: Option<Millis>,
    pub close_reason: Option<String>,
}

impl Lease {
    /// Open as of `now`: not closed and not past its time.
    pub fn is_open(&self, now: Millis) -> bool {
        self.closed_at.is_none() && self.expires_at > now
    }

    fn from_parts(
        row: LeaseRow,
        guest: String,
        address: Option<String>,
        opener: Option<String>,
    ) -> StoreResult<Self> {
        // The check constraints admit only valid values; a row that still
        // fails to parse is a corrupt database, reported rather than hidden.
        let corrupt = |what: String| {
            StoreError::Query(diesel::result::Error::DeserializationError(what.into()))
        };
        let protocol: Protocol = row
            .protocol
            .parse()
            .map_err(|e| corrupt(format!("lease {}: {e}", row.id)))?;
        let port = Port::try_from(i64::from(row.port))
            .map_err(|e| corrupt(format!("lease {}: {e}", row.id)))?;
        let source = row
            .source_cidr
            .as_deref()
            .map(str::parse::<Cidr>)
            .transpose()
            .map_err(|e| corrupt(format!("lease {}: {e}", row.id)))?;
        Ok(Self {
            id: row.id,
            guest_id: row.guest_id,
            guest,
            address,
            protocol,
            port,
            source,
            opened_by: opener,
            created_at: row.created_at,
            expires_at: row.expires_at,
            closed_at: row.closed_at,
            close_reason: row.close_reason,
        })
    }
}

type LeaseTuple = (LeaseRow, String, Option<String>, Option<String>);

macro_rules! joined_leases {
    () => {
        leases::table
            .inner_join(guests::table)
            .left_join(users::table.on(users::id.nullable().eq(leases::opened_by)))
            .select((
                LeaseRow::as_select(),
                guests::name,
                guests::ip_address,
                users::username.nullable(),
            ))
    };
}

fn from_tuples(rows: Vec<LeaseTuple>) -> StoreResult<Vec<Lease>> {
    rows.into_iter()
        .map(|(row, guest, address, opener)| Lease::from_parts(row, guest, address, opener))
        .collect()
}

/// Rows re-read with their joins, in id order.
fn load_ids(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<Vec<Lease>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    from_tuples(
        joined_leases!()
            .filter(leases::id.eq_any(ids))
            .order(leases::id)
            .load::<LeaseTuple>(conn)?,
    )
}

pub struct NewLease<'a> {
    pub guest_id: i64,
    pub protocol: Protocol,
    pub port: Port,
    pub source: Option<&'a Cidr>,
    pub opened_by: Option<i64>,
    pub expires_at: Millis,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{protocol}/{port} is already open on this guest")]
    AlreadyOpen { protocol: Protocol, port: Port },
    /// The guest has `open` leases already, which is the most allowed.
    #[error("the guest has {open} open ports already")]
    TooManyOpen { open: u32 },
    /// Decommissioned, on its way there, or gone.
    #[error("the guest is {0}: no firewall openings")]
    GuestUnavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for OpenError {
    fn from(e: diesel::result::Error) -> Self {
        OpenError::Store(e.into())
    }
}

/// Opens a lease, in one transaction: the guest must not be (on its way to
/// being) decommissioned, must have fewer than `max_open` open leases, and
/// must not have this protocol and port open already (the partial unique
/// index decides that, so two concurrent requests cannot both win). Leases
/// of this guest that are due are expired first, so a port whose lease just
/// ran out can be opened again at once.
pub fn open(
    conn: &mut AnyConnection,
    new: &NewLease,
    max_open: u32,
    now: Millis,
) -> Result<Lease, OpenError> {
    let id = write_tx(conn, |c| -> Result<i64, OpenError> {
        match lock_guest(c, new.guest_id)? {
            None => return Err(OpenError::GuestUnavailable("gone".into())),
            Some(state @ (GuestState::Decommissioning | GuestState::Decommissioned)) => {
                return Err(OpenError::GuestUnavailable(state.as_str().into()))
            }
            Some(_) => {}
        }
        expire_due_in(c, Some(new.guest_id), now)?;
        let open = count_open(c, new.guest_id, now)?;
        if open >= max_open {
            return Err(OpenError::TooManyOpen { open });
        }
        let inserted = diesel::insert_into(leases::table)
            .values((
                leases::guest_id.eq(new.guest_id),
                leases::protocol.eq(new.protocol.as_str()),
                leases::port.eq(i32::from(new.port.get())),
                leases::source_cidr.eq(new.source.map(Cidr::to_string)),
                leases::opened_by.eq(new.opened_by),
                leases::created_at.eq(now),
                leases::expires_at.eq(new.expires_at),
            ))
            .returning(leases::id)
            .get_result::<i64>(c);
        match inserted {
            Ok(id) => Ok(id),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_conflict() {
                    Err(OpenError::AlreadyOpen {
                        protocol: new.protocol,
                        port: new.port,
                    })
                } else {
                    Err(e.into())
                }
            }
        }
    })?;
    find(conn, id)?
        .ok_or_else(|| OpenError::Store(StoreError::Query(diesel::result::Error::NotFound)))
}

#[derive(QueryableByName)]
struct StateRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    state: String,
}

/// The guest's state, with its row locked on PostgreSQL until the end of
/// the transaction, so that a decommission and an opening (or two openings
/// counting the guest's leases) take turns. SQLite's `IMMEDIATE`
/// transaction already serialises writers.
fn lock_guest(conn: &mut AnyConnection, guest_id: i64) -> StoreResult<Option<GuestState>> {
    let state = match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::sql_query("SELECT state FROM guests WHERE id = $1 FOR UPDATE")
                .bind::<BigInt, _>(guest_id)
                .load::<StateRow>(pg)?
                .pop()
                .map(|r| r.state)
        }
        AnyConnection::Sqlite(_) => guests::table
            .find(guest_id)
            .select(guests::state)
            .get_result::<String>(conn)
            .optional()?,
    };
    state
        .map(|s| {
            GuestState::try_from(s)
                .map_err(|e| StoreError::Corrupt(format!("guests.state of guest #{guest_id}: {e}")))
        })
        .transpose()
}

/// One lease, open or not.
pub fn find(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<Lease>> {
    Ok(load_ids(conn, &[id])?.pop())
}

/// The guest's open leases, oldest first.
pub fn list_open_for_guest(
    conn: &mut AnyConnection,
    guest_id: i64,
    now: Millis,
) -> StoreResult<Vec<Lease>> {
    from_tuples(
        joined_leases!()
            .filter(leases::guest_id.eq(guest_id))
            .filter(leases::closed_at.is_null())
            .filter(leases::expires_at.gt(now))
            .order(leases::id)
            .load::<LeaseTuple>(conn)?,
    )
}

/// Every open lease with its guest's name and address: the ruleset's input.
pub fn list_open(conn: &mut AnyConnection, now: Millis) -> StoreResult<Vec<Lease>> {
    from_tuples(
        joined_leases!()
            .filter(leases::closed_at.is_null())
            .filter(leases::expires_at.gt(now))
            .order(leases::id)
            .load::<LeaseTuple>(conn)?,
    )
}

/// How many leases the guest has open.
pub fn count_open(conn: &mut AnyConnection, guest_id: i64, now: Millis) -> StoreResult<u32> {
    let n: i64 = leases::table
        .filter(leases::guest_id.eq(guest_id))
        .filter(leases::closed_at.is_null())
        .filter(leases::expires_at.gt(now))
        .count()
        .get_result(conn)?;
    Ok(n.clamp(0, i64::from(u32::MAX)) as u32)
}

/// Closes an open lease early (reason `closed`). `None` when there is no
/// such lease or it is not open any more (closed, or past its time).
pub fn close(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<Option<Lease>> {
    let updated = diesel::update(
        leases::table
            .filter(leases::id.eq(id))
            .filter(leases::closed_at.is_null())
            .filter(leases::expires_at.gt(now)),
    )
    .set((leases::closed_at.eq(now), leases::close_reason.eq(CLOSED)))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

/// Moves an open lease's end to `expires_at`. `None` when there is no such
/// lease or it is not open any more: an expired lease is not revived.
pub fn renew(
    conn: &mut AnyConnection,
    id: i64,
    expires_at: Millis,
    now: Millis,
) -> StoreResult<Option<Lease>> {
    let updated = diesel::update(
        leases::table
            .filter(leases::id.eq(id))
            .filter(leases::closed_at.is_null())
            .filter(leases::expires_at.gt(now)),
    )
    .set(leases::expires_at.eq(expires_at))
    .execute(conn)?;
    if updated == 0 {
        return Ok(None);
    }
    find(conn, id)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The open leases due at `now`. On PostgreSQL their rows are locked in id
/// order, so concurrent sweepers never deadlock; the global sweep skips rows
/// another sweeper holds (that one closes them). The conditional `UPDATE`
/// that follows is what makes closing exactly-once on both databases.
fn due_ids(conn: &mut AnyConnection, guest_id: Option<i64>, now: Millis) -> StoreResult<Vec<i64>> {
    const DUE: &str = "SELECT id FROM leases WHERE closed_at IS NULL AND expires_at <= $1";
    if let AnyConnection::Postgresql(pg) = conn {
        let rows = match guest_id {
            Some(g) => diesel::sql_query(format!("{DUE} AND guest_id = $2 ORDER BY id FOR UPDATE"))
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(g)
                .load::<IdRow>(pg)?,
            None => diesel::sql_query(format!("{DUE} ORDER BY id FOR UPDATE SKIP LOCKED"))
                .bind::<BigInt, _>(now)
                .load::<IdRow>(pg)?,
        };
        return Ok(rows.into_iter().map(|r| r.id).collect());
    }
    let mut q = leases::table
        .filter(leases::closed_at.is_null())
        .filter(leases::expires_at.le(now))
        .into_boxed();
    if let Some(g) = guest_id {
        q = q.filter(leases::guest_id.eq(g));
    }
    Ok(q.select(leases::id).order(leases::id).load(conn)?)
}

/// Closes every open lease with `expires_at <= now` (reason `expired`) and
/// records a `firewall`/`lease.expired` event for each, in one transaction.
/// Each lease is closed exactly once however many processes sweep at the
/// same time: the conditional `UPDATE … WHERE closed_at IS NULL` returns
/// only the rows it changed, and a concurrent sweeper waits for the row
/// lock (PostgreSQL: skips it) or the write lock (SQLite) and then finds
/// them closed.
pub fn expire_due(conn: &mut AnyConnection, now: Millis) -> StoreResult<Vec<Lease>> {
    write_tx(conn, |c| expire_due_in(c, None, now))
}

/// [`expire_due`] for one guest (or all with `None`) inside the caller's
/// write transaction.
pub fn expire_due_in(
    conn: &mut AnyConnection,
    guest_id: Option<i64>,
    now: Millis,
) -> StoreResult<Vec<Lease>> {
    let due = due_ids(conn, guest_id, now)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let closed: Vec<i64> = diesel::update(
        leases::table
            .filter(leases::id.eq_any(&due))
            .filter(leases::closed_at.is_null())
            .filter(leases::expires_at.le(now)),
    )
    .set((leases::closed_at.eq(now), leases::close_reason.eq(EXPIRED)))
    .returning(leases::id)
    .get_results(conn)?;
    let expired = load_ids(conn, &closed)?;
    for lease in &expired {
        let detail = format!(
            "lease {}: {}/{} closed, it expired at {}",
            lease.id,
            lease.protocol,
            lease.port,
            crate::clock::rfc3339(lease.expires_at)
        );
        let event = NewEvent {
            kind: crate::domain::EventKind::Firewall,
            actor_id: None,
            actor: "system",
            action: "lease.expired",
            target: Some(&lease.guest),
            guest_id: Some(lease.guest_id),
            client_addr: None,
            outcome: Outcome::Info,
            detail: Some(&detail),
            request_id: None,
        };
        events::record(conn, &event, now)?;
    }
    Ok(expired)
}
