//! The rules of jobs: who may cancel which (SPEC §7).

use herd_core::clock::Millis;
use herd_core::domain::{JobKind, JobStatus, Role};
use herd_core::store::events::Outcome;
use herd_core::store::jobs::{self, Job};
use herd_core::store::{write_tx, AnyConnection};
use herd_provisioner::rollout;

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// The job, if the caller may see it (its requester or an admin).
pub fn visible(c: &mut AnyConnection, caller: &Caller, id: i64) -> ApiResult<Job> {
    jobs::find(c, id)?
        .filter(|j| caller.user.role == Role::Admin || j.requested_by == Some(caller.user.id))
        .ok_or_else(|| ApiError::NotFound(format!("no job {id}")))
}

/// Cancels a queued or running job of a kind that can stop halfway: a
/// rollout stops starting restarts and ends once those in flight are done;
/// a staged operation or a pool refill ends at once (a refill's clones not
/// started yet are cancelled too).
pub fn cancel(c: &mut AnyConnection, caller: &Caller, id: i64, now: Millis) -> ApiResult<Job> {
    write_tx(c, |c| {
        let job = visible(c, caller, id)?;
        if job.status.is_finished() {
            return Err(ApiError::Conflict(format!(
                "job {id} is {} already",
                job.status
            )));
        }
        match job.kind {
            JobKind::Rollout => {
                rollout::cancel(c, id).map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            JobKind::StagedStart | JobKind::StagedStop => {
                jobs::finish(c, id, JobStatus::Cancelled, Some("cancelled"), now)?;
            }
            JobKind::PoolRepopulate => {
                for child in herd_provisioner::jobs::children(&job) {
                    jobs::cancel_queued(c, child, now)?;
                }
                jobs::finish(c, id, JobStatus::Cancelled, Some("cancelled"), now)?;
            }
            kind => {
                return Err(ApiError::Conflict(format!(
                    "a {kind} job cannot stop halfway; only rollouts, staged operations and \
                     pool refills can be cancelled"
                )))
            }
        }
        let detail = format!("{} job {id}", job.kind);
        audit(
            c,
            caller,
            "job.cancel",
            Target::None,
            Outcome::Success,
            Some(&detail),
            now,
        )?;
        Ok(jobs::find(c, id)?.unwrap_or(job))
    })
}
