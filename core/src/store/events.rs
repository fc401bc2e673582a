//! Monitor and audit events (SPEC §3: who, what, which target, when, from
//! which address, outcome).

use diesel::prelude::*;

use super::schema::events;
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;
use crate::domain::EventKind;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    Info,
    Warning,
}

crate::domain::stored_names!(Outcome {
    Success => "success",
    Failure => "failure",
    Info => "info",
    Warning => "warning",
});

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub actor_id: Option<i64>,
    /// Username, or `system` for background work.
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub guest_id: Option<i64>,
    pub client_addr: Option<&'a str>,
    pub outcome: Outcome,
    pub detail: Option<&'a str>,
    /// The HTTP request that made the change (`x-request-id`).
    pub request_id: Option<&'a str>,
}

/// Background work (provisioning, monitor, lifecycle) acting on one guest.
#[derive(Debug, Clone, Copy)]
pub struct GuestWork<'a> {
    pub kind: EventKind,
    pub guest_id: i64,
    pub guest: &'a str,
}

impl GuestWork<'_> {
    pub fn record(
        &self,
        conn: &mut AnyConnection,
        action: &str,
        outcome: Outcome,
        detail: Option<&str>,
        at: Millis,
    ) -> StoreResult<()> {
        let e = NewEvent {
            kind: self.kind,
            actor_id: None,
            actor: "system",
            action,
            target: Some(self.guest),
            guest_id: Some(self.guest_id),
            client_addr: None,
            outcome,
            detail,
            request_id: None,
        };
        record(conn, &e, at)
    }
}

pub fn record(conn: &mut AnyConnection, e: &NewEvent, at: Millis) -> StoreResult<()> {
    record_all(conn, std::slice::from_ref(e), at)
}

/// Several events, in one statement on PostgreSQL.
pub fn record_all(conn: &mut AnyConnection, es: &[NewEvent], at: Millis) -> StoreResult<()> {
    if es.is_empty() {
        return Ok(());
    }
    let rows: Vec<EventRow<'_>> = es
        .iter()
        .map(|e| EventRow {
            at,
            kind: e.kind.as_str(),
            actor_id: e.actor_id,
            actor: e.actor,
            action: e.action,
            target: e.target,
            guest_id: e.guest_id,
            client_addr: e.client_addr,
            outcome: e.outcome.as_str(),
            detail: e.detail,
            request_id: e.request_id,
        })
        .collect();
    match conn {
        AnyConnection::Postgresql(pg) => {
            diesel::insert_into(events::table)
                .values(rows)
                .execute(pg)?;
        }
        // No trip to save in-process: one statement a row.
        AnyConnection::Sqlite(lite) => {
            for row in rows {
                diesel::insert_into(events::table)
                    .values(row)
                    .execute(lite)?;
            }
        }
    }
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventRow<'a> {
    at: Millis,
    kind: &'a str,
    actor_id: Option<i64>,
    actor: &'a str,
    action: &'a str,
    target: Option<&'a str>,
    guest_id: Option<i64>,
    client_addr: Option<&'a str>,
    outcome: &'a str,
    detail: Option<&'a str>,
    request_id: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: i64,
    pub at: Millis,
    #[diesel(deserialize_as = String)]
    pub kind: EventKind,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub guest_id: Option<i64>,
    pub client_addr: Option<String>,
    #[diesel(deserialize_as = String)]
    pub outcome: Outcome,
    pub detail: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub guest_id: Option<i64>,
    /// Only events about guests this user owns.
    pub owner_id: Option<i64>,
    pub kind: Option<EventKind>,
    pub action: Option<String>,
    /// Cursor: events older than this id.
    pub before: Option<i64>,
    pub limit: i64,
}

/// Newest first.
pub fn list(conn: &mut AnyConnection, f: &EventFilter) -> StoreResult<(Vec<Event>, bool)> {
    use super::schema::guests;
    let mut q = events::table.select(Event::as_select()).into_boxed();
    if let Some(g) = f.guest_id {
        q = q.filter(events::guest_id.eq(g));
    }
    if let Some(owner) = f.owner_id {
        let owned = guests::table
            .filter(guests::owner_id.eq(owner))
            .select(guests::id.nullable());
        q = q.filter(events::guest_id.eq_any(owned));
    }
    if let Some(kind) = &f.kind {
        q = q.filter(events::kind.eq(kind.as_str()));
    }
    if let Some(action) = &f.action {
        q = q.filter(events::action.eq(action.clone()));
    }
    if let Some(before) = f.before {
        q = q.filter(events::id.lt(before));
    }
    let mut rows = q
        .order(events::id.desc())
        .limit(f.limit + 1)
        .load::<Event>(conn)?;
    let more = rows.len() as i64 > f.limit;
    rows.truncate(f.limit.max(0) as usize);
    Ok((rows, more))
}

/// An event with the owner of its guest at the time it is read: whom a
/// stream may show it to.
#[derive(Debug, Clone)]
pub struct OwnedEvent {
    pub event: Event,
    pub owner_id: Option<i64>,
}

/// The newest event's id (0 when there is none): where a stream that
/// starts now begins.
pub fn newest_id(conn: &mut AnyConnection) -> StoreResult<i64> {
    Ok(events::table
        .select(diesel::dsl::max(events::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Events after `after`, oldest first, at most `limit`, each with its
/// guest's owner; `f`'s `guest_id`, `owner_id` and `kind` apply (`before`
/// and `limit` do not).
pub fn after(
    conn: &mut AnyConnection,
    after: i64,
    f: &EventFilter,
    limit: i64,
) -> StoreResult<Vec<OwnedEvent>> {
    use super::schema::guests;
    let mut q = events::table
        .filter(events::id.gt(after))
        .select(Event::as_select())
        .into_boxed();
    if let Some(g) = f.guest_id {
        q = q.filter(events::guest_id.eq(g));
    }
    if let Some(owner) = f.owner_id {
        let owned = guests::table
            .filter(guests::owner_id.eq(owner))
            .select(guests::id.nullable());
        q = q.filter(events::guest_id.eq_any(owned));
    }
    if let Some(kind) = &f.kind {
        q = q.filter(events::kind.eq(kind.as_str()));
    }
    let rows = q.order(events::id.asc()).limit(limit).load::<Event>(conn)?;
    let mut ids: Vec<i64> = rows.iter().filter_map(|e| e.guest_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let owners: std::collections::HashMap<i64, Option<i64>> = guests::table
        .filter(guests::id.eq_any(&ids))
        .select((guests::id, guests::owner_id))
        .load::<(i64, Option<i64>)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|event| OwnedEvent {
            owner_id: event
                .guest_id
                .and_then(|g| owners.get(&g).copied().flatten()),
            event,
        })
        .collect())
}
