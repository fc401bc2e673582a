//! Lets the API wake the background tasks at once when it queues work, so
//! no polling interval sets the latency floor in one process. Every waiter
//! is woken by a notification (each background task waits on its own), so
//! a wake counts notifications and each waiter remembers what it has seen.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Wake {
    notified: Mutex<u64>,
    signal: Condvar,
}

/// One waiter's view of a [`Wake`]: what it has seen so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen(u64);

impl Wake {
    pub fn notify(&self) {
        if let Ok(mut notified) = self.notified.lock() {
            *notified += 1;
            self.signal.notify_all();
        }
    }

    /// Returns when notified since `seen` (at once if that happened
    /// already) or after `timeout`, whichever comes first; answers whether
    /// it was notified.
    pub fn wait(&self, seen: &mut Seen, timeout: Duration) -> bool {
        let Ok(notified) = self.notified.lock() else {
            return false;
        };
        match self
            .signal
            .wait_timeout_while(notified, timeout, |n| *n == seen.0)
        {
            Ok((notified, _)) => {
                let woken = *notified != seen.0;
                seen.0 = *notified;
                woken
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waiter_sees_a_notification_once() {
        let wake = Wake::default();
        let (mut a, mut b) = (Seen::default(), Seen::default());
        wake.notify();
        assert!(wake.wait(&mut a, Duration::ZERO));
        assert!(wake.wait(&mut b, Duration::ZERO));
        assert!(!wake.wait(&mut a, Duration::ZERO));
        assert!(!wake.wait(&mut b, Duration::ZERO));
    }
}
