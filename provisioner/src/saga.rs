//! Runs steps as a saga: each step's outcome is written to the database
//! before the next one starts; a failure undoes the done steps in reverse.
//! Run again after a crash, it skips what is recorded as done, repeats a
//! step caught mid-way (steps are idempotent), and finishes an interrupted
//! undo.

use herd_core::clock::Clock;
use herd_core::domain::GuestName;
use herd_core::store::jobs::{self, Step};
use herd_core::store::{Store, StoreError};

use crate::backend::{Backend, BackendError, LanName};
use crate::steps::{DecommissionStep, GuestPlan, ProvisionStep};

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("step {step} failed: {error}")]
    Step {
        step: &'static str,
        error: BackendError,
    },
}

const DONE: &str = "done";
const RUNNING: &str = "running";
const FAILED: &str = "failed";
const UNDONE: &str = "undone";

struct Recorder<'a> {
    store: &'a Store,
    clock: &'a dyn Clock,
    job_id: i64,
    guest_id: i64,
}

impl Recorder<'_> {
    fn recorded(&self) -> Result<Vec<Step>, StoreError> {
        jobs::steps(&mut *self.store.conn()?, self.job_id, self.guest_id)
    }

    fn record(
        &self,
        seq: usize,
        name: &str,
        status: &str,
        detail: Option<String>,
    ) -> Result<(), StoreError> {
        let step = Step {
            seq: seq as i32 + 1,
            name: name.into(),
            status: status.into(),
            detail,
        };
        let mut conn = self.store.conn()?;
        let now = self.clock.now_ms();
        jobs::record_step(&mut conn, self.job_id, self.guest_id, &step, now)?;
        // Each recorded step also shows the job's worker is alive, so no
        // other process takes the job over.
        jobs::heartbeat_any(&mut conn, self.job_id, now)
    }
}

fn step_at(recorded: &[Step], seq: usize) -> Option<&Step> {
    recorded.iter().find(|s| s.seq == seq as i32 + 1)
}

fn status_of(recorded: &[Step], seq: usize) -> Option<&str> {
    step_at(recorded, seq).map(|s| s.status.as_str())
}

/// Makes the guest of `plan` on the hypervisor.
pub fn provision(
    store: &Store,
    backend: &dyn Backend,
    clock: &dyn Clock,
    job_id: i64,
    guest_id: i64,
    plan: &GuestPlan,
) -> Result<(), SagaError> {
    let rec = Recorder {
        store,
        clock,
        job_id,
        guest_id,
    };
    let recorded = rec.recorded()?;
    let steps: Vec<ProvisionStep> = ProvisionStep::ORDER
        .into_iter()
        .filter(|s| s.applies_to(plan))
        .collect();
    if let Some(failed) = failed_step(&recorded) {
        // Died while undoing: finish the undo (the failed step may have
        // half-happened, as below), then report the old failure.
        let seq = (failed.seq - 1) as usize;
        undo(&rec, backend, plan, &steps[..(seq + 1).min(steps.len())])?;
        return Err(SagaError::Step {
            step: steps.get(seq).map_or("unknown", |s| s.name()),
            error: BackendError::InvalidState {
                what: plan.name.to_string(),
                why: failed.detail.clone().unwrap_or_default(),
            },
        });
    }
    for (seq, step) in steps.iter().enumerate() {
        if status_of(&recorded, seq) == Some(DONE) {
            continue;
        }
        rec.record(seq, step.name(), RUNNING, None)?;
        match step.run(backend, plan) {
            Ok(()) => rec.record(seq, step.name(), DONE, None)?,
            Err(error) => {
                rec.record(seq, step.name(), FAILED, Some(error.to_string()))?;
                // The failed step may have half-happened: undo it as well.
                undo(&rec, backend, plan, &steps[..=seq])?;
                return Err(SagaError::Step {
                    step: step.name(),
                    error,
                });
            }
        }
    }
    Ok(())
}

/// The step a failed saga failed at, if it failed. Running forward records
/// neither `failed` nor `undone`, and stops at the failed step, which is
/// therefore the last one recorded. Its undo comes first and overwrites
/// `failed` with `undone`: a run that died after that must still see the
/// failure, or it would provision the half-undone guest again.
fn failed_step(recorded: &[Step]) -> Option<&Step> {
    recorded
        .iter()
        .any(|s| s.status == FAILED || s.status == UNDONE)
        .then(|| recorded.iter().max_by_key(|s| s.seq))
        .flatten()
}

fn undo(
    rec: &Recorder,
    backend: &dyn Backend,
    plan: &GuestPlan,
    steps: &[ProvisionStep],
) -> Result<(), SagaError> {
    let recorded = rec.recorded()?;
    for (seq, step) in steps.iter().enumerate().rev() {
        if matches!(status_of(&recorded, seq), None | Some(UNDONE)) {
            continue;
        }
        step.undo(backend, plan).map_err(|error| SagaError::Step {
            step: step.name(),
            error,
        })?;
        // The failed step keeps its error, for a run that finishes the undo.
        let detail = step_at(&recorded, seq).and_then(|s| s.detail.clone());
        rec.record(seq, step.name(), UNDONE, detail)?;
    }
    Ok(())
}

/// Removes the guest from the hypervisor: the mirror of [`provision`].
pub fn decommission(
    store: &Store,
    backend: &dyn Backend,
    clock: &dyn Clock,
    job_id: i64,
    guest_id: i64,
    guest: &GuestName,
    lan: &LanName,
) -> Result<(), SagaError> {
    let rec = Recorder {
        store,
        clock,
        job_id,
        guest_id,
    };
    let recorded = rec.recorded()?;
    for (seq, step) in DecommissionStep::ORDER.into_iter().enumerate() {
        if status_of(&recorded, seq) == Some(DONE) {
            continue;
        }
        rec.record(seq, step.name(), RUNNING, None)?;
        if let Err(error) = step.run(backend, guest, lan) {
            rec.record(seq, step.name(), FAILED, Some(error.to_string()))?;
            return Err(SagaError::Step {
                step: step.name(),
                error,
            });
        }
        rec.record(seq, step.name(), DONE, None)?;
    }
    Ok(())
}
