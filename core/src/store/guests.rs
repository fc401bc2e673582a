//! Guests: reserving a name and an address, listing with a stable cursor,
//! and taking one from the warm pool.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use ipnet::Ipv4Net;

use super::catalog::CatalogService;
use super::schema::{
    counters, guest_services, guests, images, lans, leases, service_catalog, users,
};
use super::{write_tx, AnyConnection, StoreError, StoreResult};
use crate::clock::Millis;
use crate::domain::{GuestName, GuestState, ServiceState};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = guests)]
pub struct GuestRow {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
    pub hostname: String,
    pub lan_id: i64,
    pub ip_address: Option<String>,
    pub memory_mb: i32,
    pub image_id: i64,
    pub auto_boot: bool,
    pub description: String,
    /// Text no state names (a newer release's, a broken row's) makes the
    /// read fail with [`StoreError::Corrupt`], never a guess.
    #[diesel(deserialize_as = String)]
    pub state: GuestState,
    pub created_at: Millis,
    pub assigned_at: Option<Millis>,
    pub expires_at: Option<Millis>,
    /// The root version booted at the last IPL.
    pub root_version: Option<i32>,
    /// The root version the next IPL boots.
    pub target_root_version: i32,
    /// The SSH host public key the guest reported (OpenSSH format).
    pub ssh_host_key: Option<String>,
    /// Until when the segment a reset replaced is kept for undo.
    pub reset_undo_until: Option<Millis>,
}

/// A guest with the names of what it refers to.
#[derive(Debug, Clone)]
pub struct Guest {
    pub row: GuestRow,
    pub owner: Option<String>,
    pub lan: String,
    pub image: String,
}

impl GuestRow {
    /// The recorded host key; one that no longer parses is left out.
    pub fn host_key(&self) -> Option<crate::domain::HostKey> {
        self.ssh_host_key.as_deref().and_then(|k| k.parse().ok())
    }
}

impl Guest {
    pub fn state(&self) -> GuestState {
        self.row.state
    }
}

type GuestTuple = (GuestRow, Option<String>, String, String);

fn from_tuple((row, owner, lan, image): GuestTuple) -> Guest {
    Guest {
        row,
        owner,
        lan,
        image,
    }
}

macro_rules! joined_guests {
    () => {
        guests::table
            .left_join(users::table.on(users::id.nullable().eq(guests::owner_id)))
            .inner_join(lans::table)
            .inner_join(images::table)
            .select((
                GuestRow::as_select(),
                users::username.nullable(),
                lans::name,
                images::name,
            ))
    };
}

pub fn find_by_name(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<Guest>> {
    Ok(joined_guests!()
        .filter(guests::name.eq(name))
        .get_result::<GuestTuple>(conn)
        .optional()?
        .map(from_tuple))
}

/// The guests of these names that exist: one query for requests handled
/// together.
pub fn find_by_names(conn: &mut AnyConnection, names: &[&str]) -> StoreResult<Vec<Guest>> {
    let found: Vec<GuestTuple> =
        load_listed!(conn, joined_guests!().filter(guests::name.eq_any(names)))?;
    Ok(found.into_iter().map(from_tuple).collect())
}

#[derive(Debug, Clone, Default)]
pub struct GuestFilter {
    pub owner_id: Option<i64>,
    /// `None` lists every state but `decommissioned`: retired guests stay
    /// in the database for the audit trail, not in everyday lists.
    pub state: Option<GuestState>,
    /// List names strictly after this one (the cursor).
    pub after: Option<String>,
    pub limit: i64,
}

/// One page in name order, plus whether more follow. Names are unique and
/// never change, so a cursor stays valid while guests come and go.
pub fn list(conn: &mut AnyConnection, f: &GuestFilter) -> StoreResult<(Vec<Guest>, bool)> {
    // Every name sorts after "", so a first page is a cursor like any other.
    let after = f.after.as_deref().unwrap_or("");
    let retired = GuestState::Decommissioned.as_str();
    // Four fixed shapes rather than one boxed query: a boxed query is
    // prepared anew at each execution, and this is the busiest list there is.
    macro_rules! page {
        ($query:expr) => {
            $query
                .filter(guests::name.gt(after))
                .order(guests::name)
                .limit(f.limit + 1)
                .load::<GuestTuple>(conn)?
        };
    }
    let found = match (f.owner_id, f.state) {
        (Some(owner), Some(state)) => page!(joined_guests!()
            .filter(guests::owner_id.eq(owner))
            .filter(guests::state.eq(state.as_str()))),
        (Some(owner), None) => page!(joined_guests!()
            .filter(guests::owner_id.eq(owner))
            .filter(guests::state.ne(retired))),
        (None, Some(state)) => page!(joined_guests!().filter(guests::state.eq(state.as_str()))),
        (None, None) => page!(joined_guests!().filter(guests::state.ne(retired))),
    };
    let mut rows: Vec<Guest> = found.into_iter().map(from_tuple).collect();
    let more = rows.len() as i64 > f.limit;
    rows.truncate(f.limit.max(0) as usize);
    Ok((rows, more))
}

#[derive(Debug, Clone, Default)]
pub struct GuestUpdate {
    pub auto_boot: Option<bool>,
    pub description: Option<String>,
}

pub fn update(conn: &mut AnyConnection, id: i64, u: &GuestUpdate, now: Millis) -> StoreResult<()> {
    if let Some(auto_boot) = u.auto_boot {
        diesel::update(guests::table.find(id))
            .set((guests::auto_boot.eq(auto_boot), guests::updated_at.eq(now)))
            .execute(conn)?;
    }
    if let Some(description) = &u.description {
        diesel::update(guests::table.find(id))
            .set((
                guests::description.eq(description),
                guests::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// What a new guest is made of.
#[derive(Debug, Clone)]
pub struct GuestSpec {
    pub name_prefix: String,
    /// `{name}` is replaced by the lower-case guest name.
    pub hostname_template: String,
    pub lan_id: i64,
    pub image_id: i64,
    pub memory_mb: i32,
    pub auto_boot: bool,
    pub owner_id: Option<i64>,
    pub state: GuestState,
    pub expires_at: Option<Millis>,
}

/// Reserves the next free name and the lowest free address on the LAN in
/// one transaction: the first step of provisioning. The unique constraints
/// make a second reservation of either impossible, even across processes.
pub fn reserve(conn: &mut AnyConnection, spec: &GuestSpec, now: Millis) -> StoreResult<Guest> {
    write_tx(conn, |c| reserve_in_tx(c, spec, now))
}

/// [`reserve`] inside the caller's write transaction (see [`write_tx`]),
/// so that the reservation and what depends on it commit together.
pub fn reserve_in_tx(c: &mut AnyConnection, spec: &GuestSpec, now: Millis) -> StoreResult<Guest> {
    lock_lan(c, spec.lan_id)?;
    // The address first: a LAN that is full must not use up a name.
    let address = free_address(c, spec.lan_id)?;
    let name = next_free_name(c, &spec.name_prefix)?;
    let hostname = spec
        .hostname_template
        .replace("{name}", &name.as_str().to_lowercase());
    let assigned_at = spec.owner_id.map(|_| now);
    let root = images::table
        .find(spec.image_id)
        .select(images::root_version)
        .first::<i32>(c)?;
    let id = diesel::insert_into(guests::table)
        .values((
            guests::name.eq(name.as_str()),
            guests::owner_id.eq(spec.owner_id),
            guests::hostname.eq(hostname),
            guests::lan_id.eq(spec.lan_id),
            guests::ip_address.eq(address.to_string()),
            guests::memory_mb.eq(spec.memory_mb),
            guests::image_id.eq(spec.image_id),
            guests::auto_boot.eq(spec.auto_boot),
            guests::state.eq(spec.state.as_str()),
            guests::created_at.eq(now),
            guests::assigned_at.eq(assigned_at),
            guests::expires_at.eq(spec.expires_at),
            guests::target_root_version.eq(root),
            guests::updated_at.eq(now),
        ))
        .returning(guests::id)
        .get_result::<i64>(c)?;
    add_catalog_services(c, id, now)?;
    find_by_name(c, name.as_str())?.ok_or(StoreError::Query(diesel::result::Error::NotFound))
}

/// Guests in a state that nobody owns (the pool and its refills).
/// How many guests nobody owns are in each of `states`, in that order, read
/// in one statement: counted in two, a guest moving from one state to the
/// other in between (a clone becoming pooled) would be missed by both, and
/// the pool keeper would clone one too many.
pub fn count_unowned(conn: &mut AnyConnection, states: &[GuestState]) -> StoreResult<Vec<i64>> {
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    let counted: Vec<(String, i64)> = guests::table
        .filter(guests::owner_id.is_null())
        .filter(guests::state.eq_any(&names))
        .group_by(guests::state)
        .select((guests::state, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(names
        .iter()
        .map(|n| counted.iter().find(|(s, _)| s == n).map_or(0, |(_, c)| *c))
        .collect())
}

/// Every catalog service, enabled as the catalog says, state not yet known:
/// one `INSERT … SELECT`, however many services the catalog has.
fn add_catalog_services(conn: &mut AnyConnection, guest_id: i64, now: Millis) -> StoreResult<()> {
    use diesel::sql_types::{BigInt, Text};
    let rows = service_catalog::table.select((
        guest_id.into_sql::<BigInt>(),
        service_catalog::id,
        service_catalog::default_enabled,
        "unknown".into_sql::<Text>(),
        now.into_sql::<BigInt>(),
    ));
    diesel::insert_into(guest_services::table)
        .values(rows)
        .into_columns((
            guest_services::guest_id,
            guest_services::service_id,
            guest_services::enabled,
            guest_services::state,
            guest_services::updated_at,
        ))
        .execute(conn)?;
    Ok(())
}

/// The services a guest runs, with its own enablement, by priority.
pub fn services(
    conn: &mut AnyConnection,
    guest_id: i64,
) -> StoreResult<Vec<(CatalogService, bool, ServiceState)>> {
    let rows: Vec<(CatalogService, bool, String)> = guest_services::table
        .inner_join(service_catalog::table)
        .filter(guest_services::guest_id.eq(guest_id))
        .order((service_catalog::priority, service_catalog::name))
        .select((
            CatalogService::as_select(),
            guest_services::enabled,
            guest_services::state,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(s, enabled, state)| {
            let state =
                ServiceState::try_from(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((s, enabled, state))
        })
        .collect()
}

/// Which services each of these guests has, as (guest id, service name).
pub fn service_names(
    conn: &mut AnyConnection,
    guest_ids: &[i64],
) -> StoreResult<Vec<(i64, String)>> {
    Ok(load_listed!(
        conn,
        guest_services::table
            .inner_join(service_catalog::table)
            .filter(guest_services::guest_id.eq_any(guest_ids))
            .select((guest_services::guest_id, service_catalog::name))
    )?)
}

pub fn set_state(
    conn: &mut AnyConnection,
    id: i64,
    state: GuestState,
    now: Millis,
) -> StoreResult<()> {
    diesel::update(guests::table.find(id))
        .set((guests::state.eq(state.as_str()), guests::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// [`set_state`] unless the guest left `from` meanwhile (another task moved
/// it on since it was read); answers whether it changed.
pub fn set_state_from(
    conn: &mut AnyConnection,
    id: i64,
    from: GuestState,
    state: GuestState,
    now: Millis,
) -> StoreResult<bool> {
    let changed = diesel::update(
        guests::table
            .find(id)
            .filter(guests::state.eq(from.as_str())),
    )
    .set((guests::state.eq(state.as_str()), guests::updated_at.eq(now)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// The end of a guest: its address is free again and its firewall openings
/// close. The row stays, `decommissioned`, for the audit trail.
pub fn retire(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    write_tx(conn, |c| retire_in_tx(c, id, now))
}

/// [`retire`] inside the caller's write transaction.
pub fn retire_in_tx(c: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    diesel::update(guests::table.find(id))
        .set((
            guests::state.eq(GuestState::Decommissioned.as_str()),
            guests::ip_address.eq(None::<String>),
            guests::updated_at.eq(now),
        ))
        .execute(c)?;
    diesel::update(
        leases::table
            .filter(leases::guest_id.eq(id))
            .filter(leases::closed_at.is_null()),
    )
    .set((
        leases::closed_at.eq(now),
        leases::close_reason.eq("decommissioned"),
    ))
    .execute(c)?;
    Ok(())
}

/// PostgreSQL: reservations on one LAN take turns, or two transactions
/// would pick the same lowest free address (the unique constraint would
/// refuse the second, but failing is worse than waiting a millisecond).
/// SQLite's `IMMEDIATE` transaction already serialises them.
fn lock_lan(conn: &mut AnyConnection, lan_id: i64) -> StoreResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM lans WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(lan_id)
            .load::<IdRow>(pg)?;
    }
    Ok(())
}

fn next_free_name(conn: &mut AnyConnection, prefix: &str) -> StoreResult<GuestName> {
    loop {
        let n = next_counter(conn, &format!("guest_name:{prefix}"))?;
        let name = GuestName::from_sequence(prefix, n as u64)
            .map_err(|e| StoreError::Exhausted(format!("guest names: {e}")))?;
        let taken = guests::table
            .filter(guests::name.eq(name.as_str()))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if !taken {
            return Ok(name);
        }
    }
}

fn next_counter(conn: &mut AnyConnection, name: &str) -> StoreResult<i64> {
    let bumped = diesel::update(counters::table.find(name))
        .set(counters::value.eq(counters::value + 1))
        .returning(counters::value)
        .get_result::<i64>(conn)
        .optional()?;
    match bumped {
        Some(v) => Ok(v),
        None => {
            diesel::insert_into(counters::table)
                .values((counters::name.eq(name), counters::value.eq(1i64)))
                .execute(conn)?;
            Ok(1)
        }
    }
}

fn free_address(conn: &mut AnyConnection, lan_id: i64) -> StoreResult<Ipv4Addr> {
    let (cidr, gateway, dns) = lans::table
        .find(lan_id)
        .select((lans::cidr, lans::gateway, lans::dns))
        .get_result::<(String, String, String)>(conn)?;
    let net: Ipv4Net = cidr.parse().map_err(|e| {
        StoreError::Exhausted(format!("LAN {lan_id} has an unreadable cidr {cidr}: {e}"))
    })?;
    let used: HashSet<String> = guests::table
        .filter(guests::lan_id.eq(lan_id))
        .filter(guests::ip_address.is_not_null())
        .select(guests::ip_address.assume_not_null())
        .load::<String>(conn)?
        .into_iter()
        .chain([gateway, dns])
        .collect();
    net.hosts()
        .find(|a| !used.contains(&a.to_string()))
        .ok_or_else(|| StoreError::Exhausted(format!("no free address left on {cidr}")))
}

/// Why a guest could not be taken from the pool.
#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error("quota reached: {used} of {max} guests")]
    OverQuota { used: i64, max: u32 },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for AssignError {
    fn from(e: diesel::result::Error) -> Self {
        AssignError::Store(e.into())
    }
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub owner_id: i64,
    /// `None`: no quota applies (admin, or staff placing for others).
    pub max_guests: Option<u32>,
    /// `None`: a pooled guest on any LAN.
    pub lan_id: Option<i64>,
    pub image_id: i64,
    pub expires_at: Millis,
    pub next_state: GuestState,
}

/// Gives the owner one pooled guest, or `None` when the pool is empty. One
/// short transaction: concurrent callers never get the same guest (see
/// [`assign_all_in_tx`]).
pub fn assign_from_pool(
    conn: &mut AnyConnection,
    a: &Assignment,
    now: Millis,
) -> Result<Option<String>, AssignError> {
    write_tx(conn, |c| assign_in_tx(c, a, now))
}

/// [`assign_from_pool`] inside the caller's write transaction.
pub fn assign_in_tx(
    c: &mut AnyConnection,
    a: &Assignment,
    now: Millis,
) -> Result<Option<String>, AssignError> {
    match assign_all_in_tx(c, std::slice::from_ref(a), now)?.pop() {
        Some(Assigned::Guest(name)) => Ok(Some(name)),
        Some(Assigned::OverQuota { used, max }) => Err(AssignError::OverQuota { used, max }),
        Some(Assigned::PoolEmpty) | None => Ok(None),
    }
}

/// What one of several assignments got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// This pooled guest, now the owner's.
    Guest(String),
    /// No pooled guest of the image (and LAN) asked was left.
    PoolEmpty,
    /// The owner holds `used` of `max` guests already (counting those
    /// assigned earlier in the same call).
    OverQuota { used: i64, max: u32 },
}

/// Pooled guests for several assignments at once, in order, each judged on
/// its own: a handful of statements whatever their number, so that requests
/// arriving together cost the database (and SQLite's one writer) little
/// more than one. Inside the caller's write transaction.
///
/// Never a guest given twice: on PostgreSQL the candidates are locked with
/// `SKIP LOCKED`, so parallel transactions (also in other processes) take
/// different guests instead of queueing on one, and the owners' rows are
/// locked so that a quota holds under concurrency; on SQLite the
/// `IMMEDIATE` transaction serialises writers. The update still requires
/// `pooled`, so a row taken meanwhile is never taken again.
pub fn assign_all_in_tx(
    c: &mut AnyConnection,
    asks: &[Assignment],
    now: Millis,
) -> StoreResult<Vec<Assigned>> {
    lock_owners(c, asks)?;
    let mut held = quota_counts(c, asks)?;
    let mut outcome: Vec<Assigned> = asks
        .iter()
        .map(|a| match a.max_guests {
            Some(max) => {
                let used = held.entry(a.owner_id).or_insert(0);
                if *used >= i64::from(max) {
                    Assigned::OverQuota { used: *used, max }
                } else {
                    *used += 1;
                    Assigned::PoolEmpty
                }
            }
            None => Assigned::PoolEmpty,
        })
        .collect();
    // Asks of one image and LAN share one candidate query.
    let mut shapes: Vec<(i64, Option<i64>)> = asks.iter().map(|a| (a.image_id, a.lan_id)).collect();
    shapes.sort_unstable();
    shapes.dedup();
    let mut pairs: Vec<(usize, i64)> = Vec::new();
    for (image_id, lan_id) in shapes {
        let wanting: Vec<usize> = (0..asks.len())
            .filter(|&i| outcome[i] == Assigned::PoolEmpty)
            .filter(|&i| asks[i].image_id == image_id && asks[i].lan_id == lan_id)
            .collect();
        if wanting.is_empty() {
            continue;
        }
        let candidates = pooled_candidates(c, image_id, lan_id, wanting.len())?;
        pairs.extend(wanting.into_iter().zip(candidates));
    }
    for (i, name) in take_candidates(c, asks, &pairs, now)? {
        outcome[i] = Assigned::Guest(name);
    }
    Ok(outcome)
}

/// PostgreSQL: the owners' rows, in id order (no deadlock between two
/// batches), for the quota count that follows.
fn lock_owners(c: &mut AnyConnection, asks: &[Assignment]) -> StoreResult<()> {
    if let AnyConnection::Postgresql(pg) = c {
        let mut owners: Vec<i64> = asks.iter().map(|a| a.owner_id).collect();
        owners.sort_unstable();
        owners.dedup();
        diesel::sql_query("SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind::<diesel::sql_types::Array<BigInt>, _>(owners)
            .load::<IdRow>(pg)?;
    }
    Ok(())
}

/// Guests held by the owners a quota applies to.
fn quota_counts(c: &mut AnyConnection, asks: &[Assignment]) -> StoreResult<HashMap<i64, i64>> {
    let limited: Vec<i64> = asks
        .iter()
        .filter(|a| a.max_guests.is_some())
        .map(|a| a.owner_id)
        .collect();
    if limited.is_empty() {
        return Ok(Default::default());
    }
    super::users::guests_held_by(c, &limited)
}

/// Up to `n` pooled guests of the image (and LAN), oldest first.
fn pooled_candidates(
    c: &mut AnyConnection,
    image_id: i64,
    lan_id: Option<i64>,
    n: usize,
) -> StoreResult<Vec<i64>> {
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    Ok(match c {
        AnyConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT id FROM guests WHERE state = 'pooled' AND image_id = $1 \
             AND ($2::BIGINT IS NULL OR lan_id = $2) \
             ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind::<BigInt, _>(image_id)
        .bind::<diesel::sql_types::Nullable<BigInt>, _>(lan_id)
        .bind::<BigInt, _>(n)
        .load::<IdRow>(pg)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
        AnyConnection::Sqlite(_) => {
            let mut q = guests::table
                .filter(guests::state.eq(GuestState::Pooled.as_str()))
                .filter(guests::image_id.eq(image_id))
                .order(guests::id)
                .select(guests::id)
                .limit(n)
                .into_boxed();
            if let Some(lan_id) = lan_id {
                q = q.filter(guests::lan_id.eq(lan_id));
            }
            q.load::<i64>(c)?
        }
    })
}

#[derive(QueryableByName)]
struct TakenRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Gives each paired guest to its ask's owner; answers (ask, guest name)
/// for the rows still pooled. One statement on PostgreSQL; on SQLite, where
/// a statement costs no trip, one each.
fn take_candidates(
    c: &mut AnyConnection,
    asks: &[Assignment],
    pairs: &[(usize, i64)],
    now: Millis,
) -> StoreResult<Vec<(usize, String)>> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    match c {
        AnyConnection::Postgresql(pg) => {
            use diesel::sql_types::{Array, Text};
            let column = |f: fn(&Assignment) -> i64| -> Vec<i64> {
                pairs.iter().map(|&(i, _)| f(&asks[i])).collect()
            };
            let states: Vec<&str> = pairs
                .iter()
                .map(|&(i, _)| asks[i].next_state.as_str())
                .collect();
            let rows = diesel::sql_query(
                "UPDATE guests g SET owner_id = v.owner_id, state = v.state, assigned_at = $5, \
                   expires_at = v.expires_at, updated_at = $5 \
                 FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) \
                   WITH ORDINALITY AS v(id, owner_id, expires_at, state, n) \
                 WHERE g.id = v.id AND g.state = 'pooled' \
                 RETURNING v.n, g.name",
            )
            .bind::<Array<BigInt>, _>(pairs.iter().map(|&(_, id)| id).collect::<Vec<_>>())
            .bind::<Array<BigInt>, _>(column(|a| a.owner_id))
            .bind::<Array<BigInt>, _>(column(|a| a.expires_at))
            .bind::<Array<Text>, _>(states)
            .bind::<BigInt, _>(now)
            .load::<TakenRow>(pg)?;
            Ok(rows
                .into_iter()
                .filter_map(|r| {
                    let k = usize::try_from(r.n).ok()?.checked_sub(1)?;
                    Some((pairs.get(k)?.0, r.name))
                })
                .collect())
        }
        AnyConnection::Sqlite(_) => {
            let mut taken = Vec::with_capacity(pairs.len());
            for &(i, id) in pairs {
                let a = &asks[i];
                let name = diesel::update(
                    guests::table
                        .find(id)
                        .filter(guests::state.eq(GuestState::Pooled.as_str())),
                )
                .set((
                    guests::owner_id.eq(a.owner_id),
                    guests::state.eq(a.next_state.as_str()),
                    guests::assigned_at.eq(now),
                    guests::expires_at.eq(a.expires_at),
                    guests::updated_at.eq(now),
                ))
                .returning(guests::name)
                .get_result::<String>(c)
                .optional()?;
                taken.extend(name.map(|n| (i, n)));
            }
            Ok(taken)
        }
    }
}

/// The user's guests given to them at or after `since` (by assignment or
/// cloning), by name: what a batch item made, recomputed from the database
/// so that a batch resumed after a crash reports exactly what exists.
pub fn assigned_since(
    conn: &mut AnyConnection,
    owner_id: i64,
    since: Millis,
) -> StoreResult<Vec<(String, String)>> {
    Ok(guests::table
        .filter(guests::owner_id.eq(owner_id))
        .filter(guests::assigned_at.ge(since))
        .filter(guests::state.ne(GuestState::Decommissioned.as_str()))
        .order(guests::name)
        .select((guests::name, guests::state))
        .load(conn)?)
}

/// The owners of guests assigned at `since` or later that are still being
/// cloned (`provisioning`).
pub fn owners_cloning_since(
    conn: &mut AnyConnection,
    since: Millis,
) -> StoreResult<std::collections::HashSet<i64>> {
    Ok(guests::table
        .filter(guests::state.eq(GuestState::Provisioning.as_str()))
        .filter(guests::assigned_at.ge(since))
        .filter(guests::owner_id.is_not_null())
        .select(guests::owner_id.assume_not_null())
        .distinct()
        .load::<i64>(conn)?
        .into_iter()
        .collect())
}

/// Owned guests past `expires_at` that have not been warned yet.
pub fn expired_unwarned(conn: &mut AnyConnection, now: Millis) -> StoreResult<Vec<GuestRow>> {
    Ok(guests::table
        .filter(guests::owner_id.is_not_null())
        .filter(guests::expires_at.lt(now))
        .filter(guests::expiry_warned_at.is_null())
        .filter(guests::state.ne_all(RETIRING))
        .select(GuestRow::as_select())
        .load(conn)?)
}

/// Warned guests whose grace period ended before `cutoff` was warned.
pub fn warned_before(conn: &mut AnyConnection, cutoff: Millis) -> StoreResult<Vec<GuestRow>> {
    Ok(guests::table
        .filter(guests::expiry_warned_at.lt(cutoff))
        .filter(guests::state.ne_all(RETIRING))
        .select(GuestRow::as_select())
        .load(conn)?)
}

pub fn mark_warned(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    diesel::update(guests::table.find(id))
        .set(guests::expiry_warned_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// States in which nothing more should be started on a guest.
const RETIRING: [&str; 3] = ["provisioning", "decommissioning", "decommissioned"];

/// Every guest row in one of the given states (for reconciliation).
pub fn in_states(conn: &mut AnyConnection, states: &[GuestState]) -> StoreResult<Vec<GuestRow>> {
    let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
    Ok(guests::table
        .filter(guests::state.eq_any(names))
        .select(GuestRow::as_select())
        .order(guests::name)
        .load(conn)?)
}

/// The id of the guest with this name, if any.
pub fn id_of(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<i64>> {
    Ok(guests::table
        .filter(guests::name.eq(name))
        .select(guests::id)
        .get_result(conn)
        .optional()?)
}

/// Records the first host key the guest's console reported; answers
/// whether it was the first (a recorded key is never replaced here).
pub fn set_host_key(conn: &mut AnyConnection, id: i64, key: &str) -> StoreResult<bool> {
    let changed = diesel::update(
        guests::table
            .find(id)
            .filter(guests::ssh_host_key.is_null()),
    )
    .set(guests::ssh_host_key.eq(key))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Replaces the recorded host key: what a reset asking for a new key
/// (`None`: the guest reports its new one at its next boot) or the undo of
/// one (the old segment's key) leaves.
pub fn replace_host_key(conn: &mut AnyConnection, id: i64, key: Option<&str>) -> StoreResult<()> {
    diesel::update(guests::table.find(id))
        .set(guests::ssh_host_key.eq(key))
        .execute(conn)?;
    Ok(())
}

/// Sets (or, with `None`, clears) until when a reset's old segment is kept.
pub fn set_reset_undo_until(
    conn: &mut AnyConnection,
    id: i64,
    until: Option<Millis>,
) -> StoreResult<()> {
    diesel::update(guests::table.find(id))
        .set(guests::reset_undo_until.eq(until))
        .execute(conn)?;
    Ok(())
}

/// The guests whose reset's old segment was kept until `now` or before.
pub fn reset_kept_until(conn: &mut AnyConnection, now: Millis) -> StoreResult<Vec<GuestRow>> {
    Ok(guests::table
        .filter(guests::reset_undo_until.le(now))
        .select(GuestRow::as_select())
        .order(guests::name)
        .load(conn)?)
}

/// The guests of an image that are not decommissioned, by name.
pub fn of_image(conn: &mut AnyConnection, image_id: i64) -> StoreResult<Vec<GuestRow>> {
    Ok(guests::table
        .filter(guests::image_id.eq(image_id))
        .filter(guests::state.ne(GuestState::Decommissioned.as_str()))
        .select(GuestRow::as_select())
        .order(guests::name)
        .load(conn)?)
}

/// The guests that reported a host key, by name.
pub fn with_host_keys(conn: &mut AnyConnection) -> StoreResult<Vec<GuestRow>> {
    Ok(guests::table
        .filter(guests::ssh_host_key.is_not_null())
        .filter(guests::state.ne(GuestState::Decommissioned.as_str()))
        .select(GuestRow::as_select())
        .order(guests::name)
        .load(conn)?)
}
