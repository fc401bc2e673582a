//! Lets the API wake the background workers at once when it queues work,
//! so no polling interval sets the latency floor in one process.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Wake {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending = true;
            self.signal.notify_all();
        }
    }

    /// Returns when notified or after `timeout`, whichever comes first.
    pub fn wait(&self, timeout: Duration) {
        let Ok(pending) = self.pending.lock() else {
            return;
        };
        if let Ok((mut pending, _)) = self.signal.wait_timeout_while(pending, timeout, |p| !*p) {
            *pending = false;
        }
    }
}
