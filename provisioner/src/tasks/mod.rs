//! Background work as independent tasks (SPEC §10), after omicron's
//! background task driver: each task is activated on its own schedule (and
//! early, by a [`Wake`], when the API queues work), on its own thread, with
//! its own errors and back-off; a failure or a panic in one never delays
//! another. Their status is kept on a [`TaskBoard`] that the process
//! publishes to the database for operators.

mod board;
mod driver;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use board::{process_label, TaskBoard, TaskStatus};
pub use driver::Driver;

use crate::wake::Wake;

/// One activation of a task: one pass over its work.
pub type Activation = Box<dyn Fn() -> Result<(), TaskError> + Send + Sync>;

pub struct Task {
    pub name: &'static str,
    /// Between the end of one activation and the start of the next, when
    /// nothing wakes it sooner and the last one succeeded.
    pub period: Duration,
    /// Activates the task before its period is over (and at shutdown).
    pub wake: Arc<Wake>,
    pub activate: Activation,
}

impl Task {
    pub fn new(
        name: &'static str,
        period: Duration,
        wake: Arc<Wake>,
        activate: impl Fn() -> Result<(), TaskError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            period,
            wake,
            activate: Box::new(activate),
        }
    }
}

/// Why an activation failed, as operators read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError(String);

impl TaskError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TaskError {}

macro_rules! task_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for TaskError {
            fn from(e: $t) -> Self {
                TaskError(e.to_string())
            }
        }
    )*};
}
task_error_from!(
    crate::error::WorkerError,
    crate::backend::BackendError,
    crate::saga::SagaError,
    herd_core::store::StoreError
);

/// The errors of a sweep over many items (guests, jobs): one item's error
/// is noted and the sweep goes on with the others; the activation fails
/// at the end if any item did.
#[derive(Debug, Default)]
pub struct Sweep {
    failed: Vec<String>,
    total: usize,
}

/// The errors shown of a failed sweep; the rest are counted.
const SHOWN_ERRORS: usize = 3;

impl Sweep {
    /// Notes the outcome of one item, named `item` in the error.
    pub fn note<E: fmt::Display>(&mut self, item: &str, result: Result<(), E>) {
        self.total += 1;
        if let Err(e) = result {
            tracing::warn!(item, error = %e, "background sweep");
            self.failed.push(format!("{item}: {e}"));
        }
    }

    pub fn finish(self) -> Result<(), TaskError> {
        if self.failed.is_empty() {
            return Ok(());
        }
        let mut message = format!(
            "{} of {} failed: {}",
            self.failed.len(),
            self.total,
            self.failed[..self.failed.len().min(SHOWN_ERRORS)].join("; ")
        );
        if self.failed.len() > SHOWN_ERRORS {
            message.push_str(&format!("; and {} more", self.failed.len() - SHOWN_ERRORS));
        }
        Err(TaskError(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sweep_goes_on_past_failed_items_and_reports_them() {
        let mut sweep = Sweep::default();
        for i in 0..6 {
            let result = if i % 2 == 0 {
                Err("halt refused")
            } else {
                Ok(())
            };
            sweep.note(&format!("LX00000{i}"), result);
        }
        let e = sweep.finish().unwrap_err();
        assert_eq!(
            e.message(),
            "3 of 6 failed: LX000000: halt refused; LX000002: halt refused; LX000004: halt refused"
        );
        assert_eq!(Sweep::default().finish(), Ok(()));
    }
}
