//! Closing leases when their time is up (SPEC §5): exactly once, whichever
//! process sweeps, with one `firewall`/`lease.expired` event per lease.
//!
//! The API and the ruleset already treat a lease past its `expires_at` as
//! closed, so the ruleset is right to the second even between sweeps; the
//! sweep makes the database say so too and records the event.

use herd_core::clock::Millis;
use herd_core::store::{leases, AnyConnection, StoreResult};

/// Closes every lease due at `now`; returns how many this call closed.
pub fn sweep(conn: &mut AnyConnection, now: Millis) -> StoreResult<usize> {
    let expired = leases::expire_due(conn, now)?;
    for lease in &expired {
        tracing::info!(
            lease = lease.id,
            guest = %lease.guest,
            protocol = %lease.protocol,
            port = %lease.port,
            "firewall lease expired"
        );
    }
    Ok(expired.len())
}
