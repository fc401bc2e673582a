//! Runs steps as a saga: each step's outcome is written to the database
//! before the next one starts; a failure undoes the done steps in reverse.
//! Run again after a crash, it skips what is recorded as done, repeats a
//! step caught mid-way (steps are idempotent), and finishes an interrupted
//! undo.
//!
//! Steps are recorded and found by name, so a release that adds a step
//! still reads a saga in flight correctly: the new step is not recorded,
//! and runs. Steps are only ever added, never renamed or removed, so each
//! recorded name is one of the saga's steps.

use std::cell::Cell;
use std::time::Duration;

use herd_core::clock::{Clock, Millis};
use herd_core::domain::StepStatus;
use herd_core::store::jobs::{self, Step};
use herd_core::store::{Store, StoreError};

use crate::backend::{Backend, BackendError};
use crate::steps::{
    DecommissionParams, DecommissionStep, GuestPlan, Progress, ProvisionStep, SagaStep,
    UndoableStep,
};

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("step {step} failed: {error}")]
    Step {
        step: &'static str,
        error: BackendError,
    },
    /// [`Injection::stop_after`] stopped the saga.
    #[error("stopped after step {0}, as injected")]
    Stopped(&'static str),
    /// A step of a saga run to its end in one go has to wait.
    #[error("step {0} waits for the hypervisor, but this saga cannot wait")]
    Waiting(&'static str),
}

/// How far a run of a saga's steps got.
enum Forward {
    Finished,
    /// A step waits for the hypervisor: the saga is run again later.
    Waiting(&'static str),
    /// This step (by its place) failed, recorded `failed` with its error.
    Failed(usize, BackendError),
}

/// Where a test makes a saga fail or stop, as steno's error injection does
/// for omicron: by step name, inside the executor, so that the recording,
/// the undo and the resume under test are the real ones. Production runs
/// with [`Injection::NONE`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injection {
    /// This step fails without running, as if the hypervisor refused it.
    pub fail_at: Option<&'static str>,
    /// The saga stops once this step is recorded done, as a crash right
    /// then would stop it: nothing after it runs or is recorded.
    pub stop_after: Option<&'static str>,
}

impl Injection {
    pub const NONE: Injection = Injection {
        fail_at: None,
        stop_after: None,
    };

    fn run<S: SagaStep>(
        &self,
        step: S,
        backend: &dyn Backend,
        params: &S::Params,
    ) -> Result<Progress, BackendError> {
        if self.fail_at == Some(step.name()) {
            return Err(BackendError::FaultInjected(format!(
                "step {} failed, as injected",
                step.name()
            )));
        }
        step.run(backend, params)
    }
}

/// One run of a saga: the job and guest its steps are recorded under, and
/// what a test injects.
pub struct Run<'a> {
    pub store: &'a Store,
    pub backend: &'a dyn Backend,
    pub clock: &'a dyn Clock,
    pub job_id: i64,
    pub guest_id: i64,
    pub injection: Injection,
    pub heartbeat: Heartbeat,
}

/// How often a run shows that the job's worker lives. Each recorded step
/// shows it, but not more often than `every`: a saga of quick steps would
/// otherwise write the job's row twice a step, a round trip each on
/// PostgreSQL, to say what the last write said a moment ago.
pub struct Heartbeat {
    every: Millis,
    last: Cell<Option<Millis>>,
}

impl Heartbeat {
    /// At most once per `every`; the first recorded step always beats.
    pub fn every(every: Duration) -> Self {
        Self {
            every: every.as_millis() as Millis,
            last: Cell::new(None),
        }
    }

    /// Whether a beat is due at `now`, counting it sent if so.
    fn due(&self, now: Millis) -> bool {
        let due = self.last.get().is_none_or(|last| now - last >= self.every);
        if due {
            self.last.set(Some(now));
        }
        due
    }
}

impl Run<'_> {
    fn recorded(&self) -> Result<Vec<Step>, StoreError> {
        jobs::steps(&mut *self.store.conn()?, self.job_id, self.guest_id)
    }

    /// Records step `name`, the `seq`-th (from 0) of the saga's steps.
    fn record(
        &self,
        seq: usize,
        name: &str,
        status: StepStatus,
        detail: Option<String>,
    ) -> Result<(), StoreError> {
        let step = Step {
            seq: seq as i32 + 1,
            name: name.into(),
            status,
            detail,
        };
        let mut conn = self.store.conn()?;
        let now = self.clock.now_ms();
        jobs::record_step(&mut conn, self.job_id, self.guest_id, &step, now)?;
        // A recorded step also shows the job's worker is alive, so no other
        // process takes the job over.
        if self.heartbeat.due(now) {
            jobs::heartbeat_any(&mut conn, self.job_id, now)?;
        }
        Ok(())
    }

    /// Runs the steps not recorded done, in order, until one fails or has
    /// to wait (it stays recorded `running`, and runs again next time).
    fn forward<S: SagaStep>(&self, steps: &[S], params: &S::Params) -> Result<Forward, SagaError> {
        let recorded = self.recorded()?;
        for (seq, &step) in steps.iter().enumerate() {
            if status_of(&recorded, step.name()) == Some(StepStatus::Done) {
                continue;
            }
            self.record(seq, step.name(), StepStatus::Running, None)?;
            match self.injection.run(step, self.backend, params) {
                Ok(Progress::Done) => {}
                Ok(Progress::Waiting) => return Ok(Forward::Waiting(step.name())),
                Err(error) => {
                    let detail = Some(error.to_string());
                    self.record(seq, step.name(), StepStatus::Failed, detail)?;
                    return Ok(Forward::Failed(seq, error));
                }
            }
            self.record(seq, step.name(), StepStatus::Done, None)?;
            if self.injection.stop_after == Some(step.name()) {
                return Err(SagaError::Stopped(step.name()));
            }
        }
        Ok(Forward::Finished)
    }
}

fn recorded_as<'r>(recorded: &'r [Step], name: &str) -> Option<&'r Step> {
    recorded.iter().find(|s| s.name == name)
}

fn status_of(recorded: &[Step], name: &str) -> Option<StepStatus> {
    recorded_as(recorded, name).map(|s| s.status)
}

/// Makes the guest of `plan` on the hypervisor.
pub fn provision(run: &Run, plan: &GuestPlan) -> Result<(), SagaError> {
    let steps: Vec<ProvisionStep> = ProvisionStep::ORDER
        .into_iter()
        .filter(|s| s.applies_to(plan))
        .collect();
    match with_undo(run, &steps, plan)? {
        Progress::Done => Ok(()),
        Progress::Waiting => Err(SagaError::Waiting(steps[steps.len() - 1].name())),
    }
}

/// Runs `steps` forward; a failure undoes the done steps in reverse (and
/// the failed one, which may have half-happened) and is answered.
pub fn with_undo<S: UndoableStep>(
    run: &Run,
    steps: &[S],
    params: &S::Params,
) -> Result<Progress, SagaError> {
    let recorded = run.recorded()?;
    if let Some(failed) = failed_at(&recorded, steps) {
        // Died while undoing: finish the undo, then report the old failure.
        undo(run, params, &steps[..=failed])?;
        let step = steps[failed].name();
        let why = recorded_as(&recorded, step).and_then(|s| s.detail.clone());
        return Err(SagaError::Step {
            step,
            error: BackendError::InvalidState {
                what: format!("job {}", run.job_id),
                why: why.unwrap_or_default(),
            },
        });
    }
    match run.forward(steps, params)? {
        Forward::Finished => Ok(Progress::Done),
        Forward::Waiting(_) => Ok(Progress::Waiting),
        Forward::Failed(failed, error) => {
            undo(run, params, &steps[..=failed])?;
            Err(SagaError::Step {
                step: steps[failed].name(),
                error,
            })
        }
    }
}

/// Where among `steps` a failed saga failed, if it failed. Running forward
/// records neither `failed` nor `undone`, and stops at the failed step,
/// which is therefore the last of `steps` recorded. Its undo comes first
/// and overwrites `failed` with `undone`: a run that died after that must
/// still see the failure, or it would run the half-undone saga again.
fn failed_at<S: SagaStep>(recorded: &[Step], steps: &[S]) -> Option<usize> {
    recorded
        .iter()
        .any(|s| matches!(s.status, StepStatus::Failed | StepStatus::Undone))
        .then(|| {
            steps
                .iter()
                .rposition(|s| recorded_as(recorded, s.name()).is_some())
        })
        .flatten()
}

fn undo<S: UndoableStep>(run: &Run, params: &S::Params, steps: &[S]) -> Result<(), SagaError> {
    let recorded = run.recorded()?;
    for (seq, step) in steps.iter().enumerate().rev() {
        let Some(record) = recorded_as(&recorded, step.name()) else {
            continue;
        };
        if record.status == StepStatus::Undone {
            continue;
        }
        step.undo(run.backend, params)
            .map_err(|error| SagaError::Step {
                step: step.name(),
                error,
            })?;
        // The failed step keeps its error, for a run that finishes the undo.
        run.record(seq, step.name(), StepStatus::Undone, record.detail.clone())?;
    }
    Ok(())
}

/// Removes the guest from the hypervisor: the mirror of [`provision`],
/// forward only (each step is safe to repeat, so a failed decommission is
/// finished by running it again).
pub fn decommission(run: &Run, params: &DecommissionParams) -> Result<(), SagaError> {
    let steps = &DecommissionStep::ORDER;
    match run.forward(steps, params)? {
        Forward::Finished => Ok(()),
        Forward::Waiting(step) => Err(SagaError::Waiting(step)),
        Forward::Failed(failed, error) => Err(SagaError::Step {
            step: steps[failed].name(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::Heartbeat;
    use std::time::Duration;

    #[test]
    fn a_heartbeat_is_due_at_the_first_step_then_once_per_interval() {
        let beat = Heartbeat::every(Duration::from_secs(15));
        assert!(beat.due(1_000), "the first recorded step beats");
        assert!(!beat.due(1_001), "a step a moment later does not");
        assert!(!beat.due(15_999));
        assert!(beat.due(16_000), "one interval after the last beat");
        assert!(!beat.due(16_000));
    }
}
