//! Requests waiting for their commands, each woken by its own command.
//! (Through a broadcast, every batch of results woke every waiting
//! request: at 50 clients, 50 wake-ups a batch, of which one or two had
//! anything to do.)

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use herd_core::store::commands::{CommandRow, Finished};
use tokio::sync::oneshot;

/// What a waiting request hears.
#[derive(Debug)]
pub enum Heard {
    /// Its command, as stored once finished.
    Done(CommandRow),
    /// Its command finished, or may have: look it up.
    Look,
}

/// Where a request stands when it starts waiting for its command.
#[derive(Debug)]
pub enum Waiting {
    /// Finished already: as stored, or (told by another process) to be
    /// looked up.
    Finished(Option<CommandRow>),
    /// Told when it finishes.
    Until(oneshot::Receiver<Heard>),
}

/// Finished commands remembered for requests that start waiting just
/// after theirs finished (the recorder answers a click before the
/// dispatcher, woken at the same moment, can finish it).
const REMEMBERED: usize = 4096;

#[derive(Default)]
pub struct Finishes(Mutex<Inner>);

#[derive(Default)]
struct Inner {
    waiting: HashMap<i64, Vec<oneshot::Sender<Heard>>>,
    finished: HashMap<i64, Option<CommandRow>>,
    oldest_first: VecDeque<i64>,
}

impl Finishes {
    /// Starts waiting for command `id`.
    pub fn wait_for(&self, id: i64) -> Waiting {
        let mut inner = self.lock();
        if let Some(done) = inner.finished.get(&id) {
            return Waiting::Finished(done.clone());
        }
        let (tell, heard) = oneshot::channel();
        let waiters = inner.waiting.entry(id).or_default();
        // Requests that gave up (their wait ran out) leave closed senders.
        waiters.retain(|w| !w.is_closed());
        waiters.push(tell);
        Waiting::Until(heard)
    }

    /// Wakes the requests waiting for the commands `word` names.
    pub fn tell(&self, word: Finished) {
        let mut inner = self.lock();
        match word {
            Finished::Commands(rows) => {
                for row in rows.iter() {
                    inner.remember(row.id, Some(row.clone()));
                    for waiter in inner.waiting.remove(&row.id).unwrap_or_default() {
                        let _ = waiter.send(Heard::Done(row.clone()));
                    }
                }
            }
            Finished::Ids(ids) => {
                for &id in ids.iter() {
                    inner.remember(id, None);
                    inner.wake(id);
                }
            }
            Finished::Several => {
                let ids: Vec<i64> = inner.waiting.keys().copied().collect();
                ids.into_iter().for_each(|id| inner.wake(id));
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // What it guards stays whole: each change is one insert or removal.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn remember(&mut self, id: i64, row: Option<CommandRow>) {
        if self.finished.insert(id, row).is_none() {
            self.oldest_first.push_back(id);
        }
        while self.oldest_first.len() > REMEMBERED {
            if let Some(old) = self.oldest_first.pop_front() {
                self.finished.remove(&old);
            }
        }
    }

    fn wake(&mut self, id: i64) {
        for waiter in self.waiting.remove(&id).unwrap_or_default() {
            let _ = waiter.send(Heard::Look);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64) -> CommandRow {
        CommandRow {
            id,
            guest_id: 1,
            requested_by: None,
            text: "LX000001 IPL".into(),
            status: herd_core::domain::CommandStatus::Succeeded,
            result: Some("ok".into()),
            created_at: 5,
            dispatched_at: Some(6),
            finished_at: Some(7),
            request_id: None,
        }
    }

    fn until(waiting: Waiting) -> oneshot::Receiver<Heard> {
        match waiting {
            Waiting::Until(heard) => heard,
            other => panic!("finished already: {other:?}"),
        }
    }

    #[test]
    fn a_finished_command_wakes_its_waiters_and_no_others() {
        let finishes = Finishes::default();
        let (mut mine, mut also_mine, mut other) = (
            until(finishes.wait_for(1)),
            until(finishes.wait_for(1)),
            until(finishes.wait_for(2)),
        );
        finishes.tell(Finished::Commands(vec![row(1)].into()));
        for heard in [&mut mine, &mut also_mine] {
            match heard.try_recv() {
                Ok(Heard::Done(r)) => assert_eq!(r, row(1)),
                other => panic!("not told its command: {other:?}"),
            }
        }
        assert!(other.try_recv().is_err(), "woken for another's command");
    }

    #[test]
    fn a_request_that_starts_waiting_late_finds_its_command() {
        let finishes = Finishes::default();
        finishes.tell(Finished::Commands(vec![row(3)].into()));
        finishes.tell(Finished::Ids(vec![4].into()));
        match finishes.wait_for(3) {
            Waiting::Finished(Some(r)) => assert_eq!(r, row(3)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(finishes.wait_for(4), Waiting::Finished(None)));
    }

    #[test]
    fn named_or_several_tell_waiters_to_look() {
        let finishes = Finishes::default();
        let (mut named, mut any) = (until(finishes.wait_for(5)), until(finishes.wait_for(6)));
        finishes.tell(Finished::Ids(vec![5].into()));
        assert!(matches!(named.try_recv(), Ok(Heard::Look)));
        assert!(any.try_recv().is_err(), "not named");
        finishes.tell(Finished::Several);
        assert!(matches!(any.try_recv(), Ok(Heard::Look)));
    }

    #[test]
    fn only_the_latest_finished_commands_are_remembered() {
        let finishes = Finishes::default();
        for id in 0..(REMEMBERED as i64 + 10) {
            finishes.tell(Finished::Commands(vec![row(id)].into()));
        }
        assert!(
            matches!(finishes.wait_for(0), Waiting::Until(_)),
            "forgotten"
        );
        assert!(matches!(
            finishes.wait_for(REMEMBERED as i64 + 9),
            Waiting::Finished(Some(_))
        ));
    }
}
