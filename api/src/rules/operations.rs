//! The rules of fleet operations (SPEC §5): queueing a staged start or
//! stop over the guests it concerns.

use herd_core::clock::Millis;
use herd_core::domain::JobKind;
use herd_core::store::events::Outcome;
use herd_core::store::{jobs, AnyConnection};
use herd_provisioner::error::WorkerError;
use herd_provisioner::staged::{self, Pace, Plan};

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// A staged operation as asked.
pub struct Staged {
    /// `staged_start` or `staged_stop`.
    pub kind: JobKind,
    pub batch_size: u32,
    pub interval_ms: i64,
    pub pace: Pace,
}

/// Queues a staged operation over the guests it concerns now, cancelling
/// an unfinished one of the other direction; audited when a user asked
/// (`None`: the server itself, at start-up or shutdown). Answers the job.
pub fn queue(
    c: &mut AnyConnection,
    who: Option<&Caller>,
    op: &Staged,
    now: Millis,
) -> ApiResult<i64> {
    let internal = |e: WorkerError| ApiError::Internal(e.to_string());
    let superseded = staged::supersede(c, op.kind, now).map_err(internal)?;
    let guests = staged::targets(c, op.kind).map_err(internal)?;
    let plan = Plan::new(guests, op.batch_size, op.interval_ms, op.pace, now);
    let params = serde_json::to_string(&plan)
        .map_err(|e| ApiError::Internal(format!("staged plan: {e}")))?;
    let new = jobs::NewJob {
        kind: op.kind,
        requested_by: who.map(|c| c.user.id),
        target: Some("fleet"),
        params: &params,
        total: plan.guests.len() as i32,
    };
    let id = jobs::create(c, &new, now)?;
    if let Some(who) = who {
        let mut detail = format!("{} guests, {} a batch", plan.guests.len(), op.batch_size);
        if !superseded.is_empty() {
            detail += &format!("; cancelled jobs {superseded:?}");
        }
        audit(
            c,
            who,
            op.kind.as_str(),
            Target::Named("fleet"),
            Outcome::Success,
            Some(&detail),
            now,
        )?;
    }
    Ok(id)
}
