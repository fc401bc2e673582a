//! The audit trail of changes made through the API (SPEC §3).

use herd_core::store::events::{self, NewEvent, Outcome};
use herd_core::store::guests::{self, GuestRow};
use herd_core::store::{AnyConnection, StoreResult};

use crate::auth::Caller;

/// What an audited action was done to.
pub enum Target<'a> {
    /// Nothing in particular.
    None,
    /// Something by name (a guest's name too, looked up so that its owner
    /// sees the entry).
    Named(&'a str),
    /// A guest whose row is at hand: no lookup.
    Guest(&'a GuestRow),
}

/// Records who did what to which target, from where, with what outcome.
pub fn audit(
    conn: &mut AnyConnection,
    caller: &Caller,
    action: &str,
    target: Target<'_>,
    outcome: Outcome,
    detail: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    // Events about a guest carry its id, so its owner sees them too.
    let (target, guest_id) = match target {
        Target::None => (None, None),
        Target::Named(t) if t.len() <= 8 => (Some(t), guests::id_of(conn, t)?),
        Target::Named(t) => (Some(t), None),
        Target::Guest(g) => (Some(g.name.as_str()), Some(g.id)),
    };
    let event = entry(caller, action, target, guest_id, outcome, detail);
    events::record(conn, &event, now)
}

/// The entry of an action by `caller`, for [`audit`] and for stores that
/// record it together with what it audits.
pub fn entry<'a>(
    caller: &'a Caller,
    action: &'a str,
    target: Option<&'a str>,
    guest_id: Option<i64>,
    outcome: Outcome,
    detail: Option<&'a str>,
) -> NewEvent<'a> {
    NewEvent {
        kind: herd_core::domain::EventKind::Audit,
        actor_id: Some(caller.user.id),
        actor: &caller.user.username,
        action,
        target,
        guest_id,
        client_addr: Some(&caller.client_addr),
        outcome,
        detail,
        request_id: Some(&caller.request_id),
    }
}
