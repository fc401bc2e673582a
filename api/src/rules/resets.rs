//! The rules of resets (SPEC §8): the owner or an admin resets a guest
//! that is theirs to use, with its name typed as confirmation, and undoes
//! the reset while the old segment is kept. A guest held by other work (a
//! rollout restarting it, a decommission, a reset already under way) is
//! `409`. Each request's checks and queueing are one transaction, under the
//! rollouts' lock so that no rollout round starts restarting the guest in
//! between.

use herd_core::clock::{rfc3339, Millis};
use herd_core::domain::GuestState;
use herd_core::store::events::Outcome;
use herd_core::store::guests::Guest;
use herd_core::store::{write_tx, AnyConnection};
use herd_provisioner::{reset, rollout};

use super::audit::{audit, Target};
use super::guests::{load_guest, Access};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// Queues the reset of guest `name`, confirmed by its name typed as
/// `confirm`; answers the job.
pub fn reset(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    confirm: &str,
    how: reset::Ask,
    now: Millis,
) -> ApiResult<i64> {
    write_tx(c, |c| {
        rollout::lock(c)?;
        let guest = load_guest(c, caller, name, Access::Change)?;
        if !confirm.eq_ignore_ascii_case(&guest.row.name) {
            return Err(ApiError::Unprocessable(format!(
                "confirm must be the guest's name, {}, to reset it",
                guest.row.name
            )));
        }
        check_free(c, &guest)?;
        let id = reset::queue(c, &guest, how, caller.user.id, now)?;
        let detail = if how.new_host_key {
            "with a new SSH host key"
        } else {
            "keeping its SSH host key"
        };
        audit(
            c,
            caller,
            "guest.reset",
            Target::Guest(&guest.row),
            Outcome::Success,
            Some(detail),
            now,
        )?;
        Ok(id)
    })
}

/// Queues putting back the segment guest `name`'s last reset kept.
pub fn undo(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    halt_timeout_ms: i64,
    now: Millis,
) -> ApiResult<i64> {
    write_tx(c, |c| {
        rollout::lock(c)?;
        let guest = load_guest(c, caller, name, Access::Change)?;
        match guest.row.reset_undo_until {
            Some(until) if until > now => {}
            Some(until) => {
                return Err(ApiError::NotFound(format!(
                    "the segment {} had before its reset was kept until {}; it is gone",
                    guest.row.name,
                    rfc3339(until)
                )))
            }
            None => {
                return Err(ApiError::NotFound(format!(
                    "{} keeps no segment from before a reset",
                    guest.row.name
                )))
            }
        }
        check_free(c, &guest)?;
        let id = reset::queue_undo(c, &guest, halt_timeout_ms, caller.user.id, now)?;
        audit(
            c,
            caller,
            "guest.reset_undo",
            Target::Guest(&guest.row),
            Outcome::Success,
            None,
            now,
        )?;
        Ok(id)
    })
}

/// `409` unless the guest is an owned guest that no other work holds.
fn check_free(c: &mut AnyConnection, guest: &Guest) -> ApiResult<()> {
    let name = &guest.row.name;
    let conflict = |why: String| Err(ApiError::Conflict(format!("{name} {why}")));
    match guest.state() {
        GuestState::Pooled => {
            return conflict("is in the warm pool: nothing of anyone's to reset".into())
        }
        GuestState::Provisioning => return conflict("is still being provisioned".into()),
        GuestState::Failed => {
            return conflict("failed to provision; decommission it instead".into())
        }
        GuestState::Decommissioning | GuestState::Decommissioned => {
            return conflict("is decommissioned or on its way".into())
        }
        _ => {}
    }
    if let Some(job) = reset::holding(c, name)? {
        return conflict(format!(
            "is being reset or undone (job {job}); wait for it to end"
        ));
    }
    if let Some(job) = rollout::holding(c, name)? {
        return conflict(format!(
            "is due for a restart in rollout job {job}; try again once the rollout is past it"
        ));
    }
    Ok(())
}
