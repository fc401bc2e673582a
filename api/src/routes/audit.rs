//! The audit trail of changes made through the API (SPEC §3).

use herd_core::store::events::{self, NewEvent, Outcome};
use herd_core::store::{guests, AnyConnection, StoreResult};

use crate::auth::Caller;

/// Records who did what to which target, from where, with what outcome.
pub fn audit(
    conn: &mut AnyConnection,
    caller: &Caller,
    action: &str,
    target: Option<&str>,
    outcome: Outcome,
    detail: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    // Events about a guest carry its id, so its owner sees them too.
    let guest_id = match target {
        Some(t) if t.len() <= 8 => guests::id_of(conn, t)?,
        _ => None,
    };
    let event = NewEvent {
        kind: "audit",
        actor_id: Some(caller.user.id),
        actor: &caller.user.username,
        action,
        target,
        guest_id,
        client_addr: Some(&caller.client_addr),
        outcome,
        detail,
    };
    events::record(conn, &event, now)
}
