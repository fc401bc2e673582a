//! Whose turn it is to write on SQLite, within this process.
//!
//! SQLite has one writer at a time, and a writer that finds the lock taken
//! sleeps in SQLite's busy handler (1, 2, 5, 10, … ms) however soon the lock
//! is free. This process's write transactions take turns here first, so the
//! next one starts the moment the last commits. (Other processes, and
//! single statements outside `write_tx`, still meet the busy handler.)
//!
//! Threads that answer people waiting (the click recorder, the guest
//! assigner) mark themselves urgent: while one of them waits, no other
//! transaction begins, so a batch of requests waits for the transaction
//! under way only, not for every saga step queued before it (a pool
//! refill's clones during a class's burst of requests). Under a burst that
//! never pauses, background writers wait until it does.

use std::cell::Cell;
use std::sync::{Condvar, Mutex, MutexGuard};

struct Queue {
    busy: bool,
    urgent_waiting: usize,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    busy: false,
    urgent_waiting: 0,
});
static FREED: Condvar = Condvar::new();

thread_local! {
    static URGENT: Cell<bool> = const { Cell::new(false) };
}

/// From now on, the calling thread's write transactions go first.
pub fn mark_thread_urgent() {
    URGENT.with(|u| u.set(true));
}

/// The turn to write; the next writer's when dropped.
pub(super) struct Turn(());

pub(super) fn take() -> Turn {
    let urgent = URGENT.with(Cell::get);
    let mut queue = lock();
    if urgent {
        queue.urgent_waiting += 1;
    }
    while queue.busy || (!urgent && queue.urgent_waiting > 0) {
        queue = FREED.wait(queue).unwrap_or_else(|p| p.into_inner());
    }
    if urgent {
        queue.urgent_waiting -= 1;
    }
    queue.busy = true;
    Turn(())
}

impl Drop for Turn {
    fn drop(&mut self) {
        lock().busy = false;
        FREED.notify_all();
    }
}

fn lock() -> MutexGuard<'static, Queue> {
    // The queue is consistent between any two statements: a panic that
    // poisoned it (none can while it is held) leaves nothing to repair.
    QUEUE.lock().unwrap_or_else(|p| p.into_inner())
}
