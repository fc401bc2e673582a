//! The rules of firewall openings (SPEC §1, §4): who may open, renew and
//! close which lease, within the policy, and the transactions that do it.
//!
//! A lease past its `expires_at` is closed from that millisecond on: it
//! can be neither closed nor renewed (`404`).

use std::time::Duration;

use herd_core::clock::{after, Millis};
use herd_core::domain::{Cidr, Port, Protocol};
use herd_core::store::events::Outcome;
use herd_core::store::leases::{self, Lease, NewLease, OpenError};
use herd_core::store::AnyConnection;
use herd_provisioner::firewall::{FirewallPolicy, PolicyViolation};

use super::audit::{audit, Target};
use super::guests::{load_guest, Access};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// An opening as asked, parsed but not yet checked against the policy.
pub struct Opening {
    pub protocol: Protocol,
    pub port: Port,
    /// As asked; absent means the policy's default.
    pub duration_minutes: Option<i64>,
    /// Who may connect; `None` is anyone.
    pub source: Option<Cidr>,
}

fn violation(v: PolicyViolation) -> ApiError {
    ApiError::Unprocessable(v.to_string())
}

/// A requested duration: absent means the default; zero or less is the
/// policy's "at least 1 minute" refusal; anything huge is "too long".
fn minutes(requested: Option<i64>) -> ApiResult<Option<u32>> {
    match requested {
        None => Ok(None),
        Some(m) if m <= 0 => Err(violation(PolicyViolation::ZeroDuration)),
        Some(m) => Ok(Some(u32::try_from(m).unwrap_or(u32::MAX))),
    }
}

fn expiry(now: Millis, minutes: u32) -> Millis {
    after(now, Duration::from_secs(u64::from(minutes) * 60))
}

/// The open leases of the guest `name`, oldest first, if the caller may
/// change it.
pub fn guest_leases(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    now: Millis,
) -> ApiResult<Vec<Lease>> {
    let guest = load_guest(c, caller, name, Access::Change)?;
    Ok(leases::list_open_for_guest(c, guest.row.id, now)?)
}

/// Opens a port to the guest `name` (owner or admin), within the policy:
/// its ports, durations and sources, then the guest's own limit of open
/// ports. Audited.
pub fn open(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    policy: &FirewallPolicy,
    opening: Opening,
    now: Millis,
) -> ApiResult<Lease> {
    let guest = load_guest(c, caller, name, Access::Change)?;
    let o = opening;
    let minutes = policy
        .check(o.protocol, o.port, minutes(o.duration_minutes)?)
        .map_err(violation)?;
    policy.check_source(o.source.as_ref()).map_err(violation)?;
    let name = guest.row.name.clone();
    let new = NewLease {
        guest_id: guest.row.id,
        protocol: o.protocol,
        port: o.port,
        source: o.source.as_ref(),
        opened_by: Some(caller.user.id),
        expires_at: expiry(now, minutes),
    };
    let lease = leases::open(c, &new, policy.max_open_per_guest(), now).map_err(|e| match e {
        OpenError::AlreadyOpen { protocol, port } => ApiError::Conflict(format!(
            "{protocol}/{port} is already open on {name}; renew that lease instead"
        )),
        OpenError::TooManyOpen { open } => violation(
            policy
                .check_open_count(open)
                .err()
                .unwrap_or(PolicyViolation::TooManyOpen {
                    max: policy.max_open_per_guest(),
                }),
        ),
        OpenError::GuestUnavailable(why) => {
            ApiError::Conflict(format!("{name} is {why}: no new openings"))
        }
        OpenError::Store(e) => e.into(),
    })?;
    let from = lease
        .source
        .map_or_else(|| "anywhere".to_owned(), |s| s.to_string());
    let detail = format!(
        "lease {}: {}/{} from {from} for {minutes} minutes",
        lease.id, lease.protocol, lease.port
    );
    audit(
        c,
        caller,
        "firewall.lease.open",
        Target::Named(&name),
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    Ok(lease)
}

/// The lease, if the caller may change it and it is still open.
fn load_open_lease(
    c: &mut AnyConnection,
    caller: &Caller,
    id: i64,
    now: Millis,
) -> ApiResult<Lease> {
    let not_found = || ApiError::NotFound(format!("no open lease {id}"));
    let lease = leases::find(c, id)?.ok_or_else(not_found)?;
    // Another student's lease is as unknown as its guest.
    load_guest(c, caller, &lease.guest, Access::Change).map_err(|e| match e {
        ApiError::NotFound(_) => not_found(),
        other => other,
    })?;
    if !lease.is_open(now) {
        return Err(not_found());
    }
    Ok(lease)
}

/// Closes an open lease before its time. Audited.
pub fn close(c: &mut AnyConnection, caller: &Caller, id: i64, now: Millis) -> ApiResult<()> {
    let lease = load_open_lease(c, caller, id, now)?;
    leases::close(c, id, now)?.ok_or_else(|| ApiError::NotFound(format!("no open lease {id}")))?;
    let detail = format!("lease {id}: {}/{}", lease.protocol, lease.port);
    audit(
        c,
        caller,
        "firewall.lease.close",
        Target::Named(&lease.guest),
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    Ok(())
}

/// Extends an open lease: it then ends `duration_minutes` (as asked, else
/// the policy's default) from now, capped at the policy's maximum. Audited.
pub fn renew(
    c: &mut AnyConnection,
    caller: &Caller,
    id: i64,
    policy: &FirewallPolicy,
    duration_minutes: Option<i64>,
    now: Millis,
) -> ApiResult<Lease> {
    let lease = load_open_lease(c, caller, id, now)?;
    let minutes = policy
        .renewal_minutes(minutes(duration_minutes)?)
        .map_err(violation)?;
    let renewed = leases::renew(c, id, expiry(now, minutes), now)?
        .ok_or_else(|| ApiError::NotFound(format!("no open lease {id}")))?;
    let detail = format!(
        "lease {id}: {}/{} for {minutes} more minutes",
        lease.protocol, lease.port
    );
    audit(
        c,
        caller,
        "firewall.lease.renew",
        Target::Named(&lease.guest),
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    Ok(renewed)
}
