//! Guests past `expires_at` (SPEC §5): first a warning event, then, after
//! the grace period, decommissioning. Each guest is warned once and
//! retired once, whichever process sweeps.

use std::time::Duration;

use herd_core::clock::Millis;
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::guests::{self, GuestRow};
use herd_core::store::{diesel_error, write_tx, AnyConnection, StoreError, StoreResult};

/// Returns how many guests were warned and how many retired.
pub fn sweep(
    conn: &mut AnyConnection,
    grace: Duration,
    now: Millis,
) -> StoreResult<(usize, usize)> {
    let expired = guests::expired_unwarned(conn, now)?;
    for g in &expired {
        write_tx(conn, |c| {
            guests::mark_warned(c, g.id, now)?;
            let detail = format!(
                "expired; decommissioned after a grace period of {} days",
                grace.as_secs() / 86_400
            );
            event(c, g, "guest.expiry_warning", Outcome::Warning, &detail, now)
        })?;
    }
    let cutoff = now - grace.as_millis() as Millis;
    let due = guests::warned_before(conn, cutoff)?;
    for g in &due {
        write_tx(conn, |c| {
            let guest = guests::find_by_name(c, &g.name)?
                .ok_or(StoreError::Query(diesel_error::Error::NotFound))?;
            crate::sagas::queue_decommission(c, &guest, None, now)?;
            event(
                c,
                g,
                "guest.expired",
                Outcome::Info,
                "grace period over: decommissioning",
                now,
            )
        })?;
    }
    Ok((expired.len(), due.len()))
}

fn event(
    c: &mut AnyConnection,
    g: &GuestRow,
    action: &str,
    outcome: Outcome,
    detail: &str,
    now: Millis,
) -> StoreResult<()> {
    let work = GuestWork {
        kind: herd_core::domain::EventKind::Lifecycle,
        guest_id: g.id,
        guest: &g.name,
    };
    work.record(c, action, outcome, Some(detail), now)
}
