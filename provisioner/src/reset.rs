//! Resets and their undo as jobs (SPEC §8): queued with their plan frozen,
//! claimed by one worker and advanced by it round after round (the HALT
//! takes the guest's time), their steps recorded by the saga executor; at
//! the end one transaction settles the guest. A kept segment is deleted
//! once its time is over.

use herd_core::clock::Millis;
use herd_core::domain::{EventKind, GuestName, GuestState, JobKind, JobStatus};
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::guests::{self, Guest};
use herd_core::store::jobs::{self, Job};
use herd_core::store::{write_tx, AnyConnection, StoreError, StoreResult};

use crate::backend::{Backend, CopyMethod, DiskId};
use crate::error::WorkerError;
use crate::saga::{self, Run, SagaError};
use crate::sagas::stored_name;
use crate::steps::reset::{ResetPlan, ResetRun, ResetStep};
use crate::steps::Progress;

/// The kinds of job that hold a guest while they swap its segment.
pub const KINDS: [JobKind; 2] = [JobKind::Reset, JobKind::ResetUndo];

/// How a reset is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub new_host_key: bool,
    pub method: CopyMethod,
    pub halt_timeout_ms: i64,
    pub keep_ms: i64,
}

/// The reset or undo under way on the guest named `name`, if any.
pub fn holding(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<i64>> {
    Ok(jobs::unfinished_for_target(conn, &KINDS, name)?
        .first()
        .map(|j| j.id))
}

/// Queues the reset of `guest`, inside the caller's transaction; answers
/// the job. The guest shows `stopping` from now on unless it is stopped.
pub fn queue(
    c: &mut AnyConnection,
    guest: &Guest,
    ask: Ask,
    requested_by: i64,
    now: Millis,
) -> StoreResult<i64> {
    let plan = ResetPlan {
        guest: stored_name(guest, "guests.name", &guest.row.name)?,
        image: stored_name(guest, "images.name", &guest.image)?,
        method: ask.method,
        new_host_key: ask.new_host_key,
        boot: runs(guest.state()) || guest.row.auto_boot,
        halt_timeout_ms: ask.halt_timeout_ms,
        keep_ms: ask.keep_ms,
        host_key: guest.row.ssh_host_key.clone(),
        started_at: None,
    };
    create(c, JobKind::Reset, guest, &plan, requested_by, now)
}

/// Queues putting back the segment the guest's last reset kept, inside
/// the caller's transaction; answers the job.
pub fn queue_undo(
    c: &mut AnyConnection,
    guest: &Guest,
    halt_timeout_ms: i64,
    requested_by: i64,
    now: Millis,
) -> StoreResult<i64> {
    let reset = jobs::latest_for_target(c, JobKind::Reset, &guest.row.name)?
        .ok_or_else(|| StoreError::Corrupt(format!("{} kept no reset", guest.row.name)))?;
    let reset = plan_of(&reset)?;
    let plan = ResetPlan {
        boot: runs(guest.state()) || guest.row.auto_boot,
        halt_timeout_ms,
        started_at: None,
        ..reset
    };
    create(c, JobKind::ResetUndo, guest, &plan, requested_by, now)
}

fn runs(state: GuestState) -> bool {
    matches!(
        state,
        GuestState::Running | GuestState::Starting | GuestState::Unresponsive
    )
}

fn create(
    c: &mut AnyConnection,
    kind: JobKind,
    guest: &Guest,
    plan: &ResetPlan,
    requested_by: i64,
    now: Millis,
) -> StoreResult<i64> {
    let params = serde_json::to_string(plan)
        .map_err(|e| StoreError::Corrupt(format!("reset of {}: {e}", guest.row.name)))?;
    if guest.state() != GuestState::Stopped {
        guests::set_state(c, guest.row.id, GuestState::Stopping, now)?;
    }
    let job = jobs::NewJob {
        kind,
        requested_by: Some(requested_by),
        target: Some(&guest.row.name),
        params: &params,
        total: 1,
    };
    jobs::create(c, &job, now)
}

/// One round of a claimed reset or undo: its steps as far as they go now,
/// and the guest settled when they are all done (or undone).
pub fn advance(run: &Run, job: &Job, now: Millis) -> Result<(), WorkerError> {
    let mut conn = run.store.conn()?;
    let Some(guest) = guests::find_by_name(&mut conn, job.target.as_deref().unwrap_or_default())?
    else {
        let why = format!("job {} names no known guest", job.id);
        jobs::finish(&mut conn, job.id, JobStatus::Failed, Some(&why), now)?;
        return Ok(());
    };
    let mut plan = plan_of(job)?;
    if plan.started_at.is_none() {
        plan.started_at = Some(now);
        let params =
            serde_json::to_string(&plan).map_err(|e| WorkerError::Invalid(e.to_string()))?;
        jobs::set_params(&mut conn, job.id, &params)?;
    }
    drop(conn);
    let steps = match job.kind {
        JobKind::Reset => ResetStep::reset(&plan),
        _ => ResetStep::undo_reset(),
    };
    let round = ResetRun { plan, now };
    let outcome = saga::with_undo(run, &steps, &round);
    let mut conn = run.store.conn()?;
    match outcome {
        Ok(Progress::Waiting) => Ok(()),
        Ok(Progress::Done) => Ok(write_tx(&mut conn, |c| {
            settle(c, job, &guest, &round.plan, None, now)
        })?),
        Err(e @ SagaError::Stopped(_)) => Err(e.into()),
        Err(e) => {
            let why = e.to_string();
            write_tx(&mut conn, |c| {
                settle(c, job, &guest, &round.plan, Some(&why), now)
            })?;
            Ok(())
        }
    }
}

/// The end of a reset or undo, in one transaction: the guest boots (the
/// power follower IPLs it on its target root as the host has room) or
/// stays stopped; the kept segment's time and the host key follow what
/// was done; the owner gets an event; the job ends.
fn settle(
    c: &mut AnyConnection,
    job: &Job,
    guest: &Guest,
    plan: &ResetPlan,
    failure: Option<&str>,
    now: Millis,
) -> StoreResult<()> {
    let id = guest.row.id;
    let state = if plan.boot {
        GuestState::Starting
    } else {
        GuestState::Stopped
    };
    // Held since the job was queued; a guest decommissioned meanwhile
    // stays so.
    for held in [GuestState::Stopping, GuestState::Stopped] {
        guests::set_state_from(c, id, held, state, now)?;
    }
    let undo = job.kind == JobKind::ResetUndo;
    let (action, detail) = match (undo, failure) {
        (false, None) => {
            let until = now + plan.keep_ms;
            guests::set_reset_undo_until(c, id, Some(until))?;
            if plan.new_host_key {
                guests::replace_host_key(c, id, None)?;
            }
            let detail = format!(
                "a fresh copy of image {}'s segment is in place; the old one is kept for undo",
                plan.image
            );
            ("guest.reset", detail)
        }
        (true, None) => {
            guests::set_reset_undo_until(c, id, None)?;
            guests::replace_host_key(c, id, plan.host_key.as_deref())?;
            (
                "guest.reset_undo",
                "the segment from before the reset is back".into(),
            )
        }
        // Its steps were undone: the guest has the segment it had. A reset
        // gave up the previous undo point on its way.
        (false, Some(why)) => {
            guests::set_reset_undo_until(c, id, None)?;
            (
                "guest.reset",
                format!("reset failed, the guest is as it was: {why}"),
            )
        }
        (true, Some(why)) => ("guest.reset_undo", format!("undo failed: {why}")),
    };
    let work = GuestWork {
        kind: EventKind::Lifecycle,
        guest_id: id,
        guest: &guest.row.name,
    };
    let outcome = if failure.is_some() {
        Outcome::Failure
    } else {
        Outcome::Success
    };
    work.record(c, action, outcome, Some(&detail), now)?;
    let status = if failure.is_some() {
        JobStatus::Failed
    } else {
        jobs::set_progress(c, job.id, 1, 1)?;
        JobStatus::Succeeded
    };
    jobs::finish(c, job.id, status, failure, now)
}

/// Deletes the segments kept past their time (none of a guest a reset or
/// undo is working on); answers how many.
pub fn expire(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    now: Millis,
) -> Result<usize, WorkerError> {
    let mut expired = 0;
    for g in guests::reset_kept_until(conn, now)? {
        if holding(conn, &g.name)?.is_some() {
            continue;
        }
        if let Ok(name) = g.name.parse::<GuestName>() {
            crate::steps::delete_disk(backend, &DiskId::kept_segment_of(&name))?;
        }
        write_tx(conn, |c| {
            guests::set_reset_undo_until(c, g.id, None)?;
            let work = GuestWork {
                kind: EventKind::Lifecycle,
                guest_id: g.id,
                guest: &g.name,
            };
            let detail = "the segment kept since the reset is deleted; it can no longer be undone";
            work.record(c, "guest.reset_expired", Outcome::Info, Some(detail), now)
        })?;
        expired += 1;
    }
    Ok(expired)
}

fn plan_of(job: &Job) -> StoreResult<ResetPlan> {
    serde_json::from_str(&job.params)
        .map_err(|e| StoreError::Corrupt(format!("jobs.params of job {}: {e}", job.id)))
}
