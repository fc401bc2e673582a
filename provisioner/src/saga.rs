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

fn status_of(recorded: &[Step], seq: usize) -> Option<&str> {
    recorded
        .iter()
        .find(|s| s.seq == seq as i32 + 1)
        .map(|s| s.status.as_str())
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
    if let Some(failed) = first_failed(&recorded) {
        // Died while undoing: finish the undo, then report the old failure.
        undo(&rec, backend, plan, &steps[..failed.min(steps.len())])?;
        let detail = recorded
            .iter()
            .find(|s| s.status == FAILED)
            .and_then(|s| s.detail.clone());
        return Err(SagaError::Step {
            step: steps.get(failed).map_or("unknown", |s| s.name()),
            error: BackendError::InvalidState {
                what: plan.name.to_string(),
                why: detail.unwrap_or_default(),
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

fn first_failed(recorded: &[Step]) -> Option<usize> {
    recorded
        .iter()
        .find(|s| s.status == FAILED)
        .map(|s| (s.seq - 1) as usize)
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
        rec.record(seq, step.name(), UNDONE, None)?;
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
