//! Runs each task on a thread of its own until shutdown, and publishes the
//! board about every second.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use herd_core::store::Store;

use super::{Task, TaskBoard, TaskError};
use crate::wake::{Seen, Wake};

/// After failures a task waits longer, doubling up to this (or its own
/// period when that is longer); a wake still activates it at once.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

pub struct Driver {
    threads: Vec<JoinHandle<()>>,
    wakes: Vec<Arc<Wake>>,
    board: Arc<TaskBoard>,
    publisher: Option<(Store, Arc<Wake>)>,
}

impl Driver {
    /// Starts every task, and a publisher of the board to `store` (none
    /// when `None`: tests that read the board itself).
    pub fn start(
        board: Arc<TaskBoard>,
        tasks: Vec<Task>,
        store: Option<Store>,
        shutdown: Arc<AtomicBool>,
    ) -> std::io::Result<Self> {
        let mut threads = Vec::with_capacity(tasks.len() + 1);
        let wakes = tasks.iter().map(|t| t.wake.clone()).collect();
        for task in tasks {
            board.register(task.name);
            let (board, shutdown) = (board.clone(), shutdown.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("herd-task-{}", task.name))
                    .spawn(move || run(&task, &board, &shutdown))?,
            );
        }
        let publisher = match store {
            Some(store) => {
                let wake = Arc::new(Wake::default());
                let (b, s, w, st) = (board.clone(), shutdown.clone(), wake.clone(), store.clone());
                threads.push(
                    std::thread::Builder::new()
                        .name("herd-task-publish".into())
                        .spawn(move || publish_until(&b, &st, &w, &s))?,
                );
                Some((store, wake))
            }
            None => None,
        };
        Ok(Self {
            threads,
            wakes,
            board,
            publisher,
        })
    }

    /// Once shutdown is set: wakes every task, waits for each to end its
    /// activation, then publishes a last time.
    pub fn join(self) {
        let publisher_wake = self.publisher.as_ref().map(|(_, w)| w);
        for wake in self.wakes.iter().chain(publisher_wake) {
            wake.notify();
        }
        for t in self.threads {
            let _ = t.join();
        }
        if let Some((store, _)) = &self.publisher {
            if let Err(e) = self.board.publish(store) {
                tracing::warn!(error = %e, "publishing background task status");
            }
        }
    }
}

fn run(task: &Task, board: &TaskBoard, shutdown: &AtomicBool) {
    let mut seen = Seen::default();
    let mut failures_in_a_row = 0u32;
    while !shutdown.load(Ordering::SeqCst) {
        match activate(task, board) {
            Ok(()) => failures_in_a_row = 0,
            Err(_) => failures_in_a_row = failures_in_a_row.saturating_add(1),
        }
        task.wake
            .wait(&mut seen, backoff(task.period, failures_in_a_row));
    }
}

/// One activation, recorded on the board; a panic is caught and counts as
/// a failure, and the task goes on at its next activation.
pub(super) fn activate(task: &Task, board: &TaskBoard) -> Result<(), TaskError> {
    board.started(task.name);
    let outcome = catch_unwind(AssertUnwindSafe(|| (task.activate)())).unwrap_or_else(|panic| {
        Err(TaskError::new(format!(
            "panicked: {}",
            panic_message(&*panic)
        )))
    });
    if let Err(e) = &outcome {
        tracing::warn!(task = task.name, error = %e, "background task failed");
    }
    board.finished(task.name, &outcome);
    outcome
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

fn backoff(period: Duration, failures_in_a_row: u32) -> Duration {
    if failures_in_a_row == 0 {
        return period;
    }
    let doubled = period.saturating_mul(1 << failures_in_a_row.min(16));
    doubled.min(MAX_BACKOFF.max(period))
}

fn publish_until(board: &TaskBoard, store: &Store, wake: &Wake, shutdown: &AtomicBool) {
    let mut seen = Seen::default();
    while !shutdown.load(Ordering::SeqCst) {
        if let Err(e) = board.publish(store) {
            tracing::warn!(error = %e, "publishing background task status");
        }
        wake.wait(&mut seen, PUBLISH_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_a_bound() {
        let p = Duration::from_millis(500);
        assert_eq!(backoff(p, 0), p);
        assert_eq!(backoff(p, 1), Duration::from_secs(1));
        assert_eq!(backoff(p, 2), Duration::from_secs(2));
        assert_eq!(backoff(p, 30), MAX_BACKOFF);
        let slow = Duration::from_secs(60);
        assert_eq!(backoff(slow, 3), slow);
    }
}
