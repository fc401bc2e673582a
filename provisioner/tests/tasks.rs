//! The background task driver: every task runs on its own, so one that
//! panics, fails or hangs never holds up another, and each one's status is
//! on the board.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use herd_core::clock::{ManualClock, SharedClock};
use herd_provisioner::tasks::{Driver, Task, TaskBoard, TaskError, TaskStatus};
use herd_provisioner::wake::Wake;

const PERIOD: Duration = Duration::from_millis(1);

fn status(board: &TaskBoard, name: &str) -> TaskStatus {
    board
        .snapshot()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no task {name} on the board"))
}

/// Polls the board (wall time, bounded) until `done` holds.
fn wait_until(board: &TaskBoard, what: &str, done: impl Fn(&TaskBoard) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(board) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            board.snapshot()
        );
        std::thread::yield_now();
    }
}

fn counting(name: &'static str, count: Arc<AtomicUsize>) -> Task {
    Task::new(name, PERIOD, Arc::new(Wake::default()), move || {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

#[test]
fn a_panicking_a_failing_and_a_stuck_task_hold_up_no_other() {
    let clock: SharedClock = Arc::new(ManualClock::new(1_000_000));
    let board = Arc::new(TaskBoard::new("test".into(), clock));
    let steady = Arc::new(AtomicUsize::new(0));
    let (release, stuck_until) = mpsc::channel::<()>();
    let stuck_until = Mutex::new(stuck_until);
    let stuck_runs = Arc::new(AtomicUsize::new(0));
    let stuck_count = stuck_runs.clone();
    let tasks = vec![
        Task::new("panicky", PERIOD, Arc::new(Wake::default()), || {
            panic!("boom")
        }),
        Task::new("failing", PERIOD, Arc::new(Wake::default()), || {
            Err(TaskError::new("no free address left"))
        }),
        Task::new("stuck", PERIOD, Arc::new(Wake::default()), move || {
            stuck_count.fetch_add(1, Ordering::SeqCst);
            let _ = stuck_until.lock().unwrap().recv();
            Ok(())
        }),
        counting("steady", steady.clone()),
    ];
    let shutdown = Arc::new(AtomicBool::new(false));
    let driver = Driver::start(board.clone(), tasks, None, shutdown.clone()).unwrap();

    // The panicking task is run again after each panic, the failing one
    // again after each failure (backing off), while the steady one keeps
    // going and the stuck one is still inside its first activation.
    wait_until(&board, "three panics and a steady pace", |b| {
        status(b, "panicky").runs >= 3 && status(b, "steady").runs >= 200
    });
    wait_until(&board, "two failures", |b| {
        status(b, "failing").failures >= 2
    });
    assert_eq!(stuck_runs.load(Ordering::SeqCst), 1);

    let panicky = status(&board, "panicky");
    assert_eq!(panicky.failures, panicky.runs);
    assert!(panicky.failing);
    assert_eq!(panicky.last_error.as_deref(), Some("panicked: boom"));
    assert_eq!(panicky.last_succeeded_at, None);

    let failing = status(&board, "failing");
    assert_eq!(failing.last_error.as_deref(), Some("no free address left"));
    assert!(failing.failing);

    let steady_status = status(&board, "steady");
    assert_eq!(steady_status.failures, 0);
    assert!(!steady_status.failing);
    assert!(steady_status.last_succeeded_at.is_some());
    assert!(steady.load(Ordering::SeqCst) >= 200);

    let stuck = status(&board, "stuck");
    assert_eq!(stuck.runs, 0, "still in its first activation");
    assert!(stuck.last_started_at.is_some());

    shutdown.store(true, Ordering::SeqCst);
    release.send(()).unwrap();
    driver.join();
    assert_eq!(status(&board, "stuck").runs, 1);
}

#[test]
fn a_wake_activates_a_task_before_its_period() {
    let clock: SharedClock = Arc::new(ManualClock::new(0));
    let board = Arc::new(TaskBoard::new("test".into(), clock));
    let wake = Arc::new(Wake::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let count = runs.clone();
    let hour = Duration::from_secs(3600);
    let task = Task::new("sleepy", hour, wake.clone(), move || {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    let shutdown = Arc::new(AtomicBool::new(false));
    let driver = Driver::start(board.clone(), vec![task], None, shutdown.clone()).unwrap();
    wait_until(&board, "the first run", |b| status(b, "sleepy").runs == 1);
    wake.notify();
    wait_until(&board, "the run a wake asked for", |b| {
        status(b, "sleepy").runs == 2
    });
    shutdown.store(true, Ordering::SeqCst);
    // Shutdown wakes the task out of its hour-long wait.
    driver.join();
    assert!(runs.load(Ordering::SeqCst) >= 2);
}
