//! The events stream's source (SPEC §10): one reader per process follows
//! the events table and hands each new event to every open stream, so a
//! thousand idle listeners cost one query a [`POLL`], not a thousand.
//!
//! Events are read in id order. On PostgreSQL ids are taken when a row is
//! inserted but become visible when its transaction commits, so a later id
//! can show up first; the reader then holds back what follows the gap for
//! up to [`GAP_WAIT`] (a transaction still committing) before giving up on
//! the missing id (one rolled back). Streams therefore see ids ascending,
//! which is what makes `Last-Event-ID` a sound resume point.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herd_core::store::events::{self, EventFilter, OwnedEvent};
use herd_core::store::Store;
use tokio::sync::broadcast;

/// How often the reader looks for new events.
pub const POLL: Duration = Duration::from_millis(200);
/// How long events after a missing id wait for it.
pub const GAP_WAIT: Duration = Duration::from_secs(2);
/// Events a stream may fall behind before it re-reads from the database.
const BUFFER: usize = 1024;
/// Events read at a time.
const BATCH: i64 = 500;

pub struct EventFeed {
    /// Taken at shutdown, which ends every stream at once.
    tx: Mutex<Option<broadcast::Sender<Arc<OwnedEvent>>>>,
}

impl EventFeed {
    /// Starts the reader on its own thread, following events after
    /// `start`; it ends when the feed is closed.
    pub fn start(store: Store, start: i64) -> std::io::Result<Arc<Self>> {
        let (tx, _) = broadcast::channel(BUFFER);
        let feed = Arc::new(Self {
            tx: Mutex::new(Some(tx)),
        });
        let reader = feed.clone();
        std::thread::Builder::new()
            .name("event-feed".into())
            .spawn(move || reader.follow(&store, start))?;
        Ok(feed)
    }

    fn sender(&self) -> Option<broadcast::Sender<Arc<OwnedEvent>>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// New events from now on (`None` once closed); call before reading
    /// the backlog, so that nothing falls between the two.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Arc<OwnedEvent>>> {
        self.sender().map(|tx| tx.subscribe())
    }

    /// Ends every stream (at shutdown, so that they do not hold it up).
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn follow(&self, store: &Store, start: i64) {
        let mut order = InOrder::new(start);
        loop {
            std::thread::sleep(POLL);
            let Some(tx) = self.sender() else { return };
            // Read even while nobody listens: one indexed query that finds
            // nothing, and the reader never has history to catch up on.
            let read = store.conn().and_then(|mut c| {
                events::after(&mut c, order.last, &EventFilter::default(), BATCH)
            });
            match read {
                Ok(rows) => {
                    for e in order.release(rows, Instant::now()) {
                        let _ = tx.send(Arc::new(e));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "event feed: reading new events"),
            }
        }
    }
}

/// Releases events in id order, waiting [`GAP_WAIT`] for a missing id.
#[derive(Debug)]
struct InOrder {
    last: i64,
    gap_seen: Option<Instant>,
}

impl InOrder {
    fn new(last: i64) -> Self {
        Self {
            last,
            gap_seen: None,
        }
    }

    /// `rows` are the events after `last`, ascending.
    fn release(&mut self, rows: Vec<OwnedEvent>, now: Instant) -> Vec<OwnedEvent> {
        let mut out = Vec::with_capacity(rows.len());
        for e in rows {
            if e.event.id != self.last + 1 {
                let since = *self.gap_seen.get_or_insert(now);
                if now.duration_since(since) < GAP_WAIT {
                    break;
                }
            }
            self.last = e.event.id;
            self.gap_seen = None;
            out.push(e);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herd_core::domain::EventKind;
    use herd_core::store::events::{Event, Outcome};

    fn event(id: i64) -> OwnedEvent {
        OwnedEvent {
            event: Event {
                id,
                at: 0,
                kind: EventKind::Audit,
                actor: "system".into(),
                action: "test".into(),
                target: None,
                guest_id: None,
                client_addr: None,
                outcome: Outcome::Info,
                detail: None,
                request_id: None,
            },
            owner_id: None,
        }
    }

    fn ids(v: &[OwnedEvent]) -> Vec<i64> {
        v.iter().map(|e| e.event.id).collect()
    }

    #[test]
    fn releases_consecutive_ids_at_once() {
        let mut o = InOrder::new(4);
        let t = Instant::now();
        assert_eq!(ids(&o.release(vec![event(5), event(6)], t)), [5, 6]);
        assert_eq!(o.last, 6);
    }

    #[test]
    fn holds_back_after_a_gap_until_it_fills() {
        let mut o = InOrder::new(4);
        let t = Instant::now();
        assert_eq!(ids(&o.release(vec![event(5), event(7)], t)), [5]);
        // 6 commits late: everything goes, in order.
        let later = t + Duration::from_millis(300);
        assert_eq!(ids(&o.release(vec![event(6), event(7)], later)), [6, 7]);
    }

    #[test]
    fn gives_up_on_a_missing_id_after_the_wait() {
        let mut o = InOrder::new(4);
        let t = Instant::now();
        assert!(o.release(vec![event(6)], t).is_empty());
        assert!(o.release(vec![event(6)], t + GAP_WAIT / 2).is_empty());
        assert_eq!(
            ids(&o.release(vec![event(6), event(7)], t + GAP_WAIT)),
            [6, 7]
        );
    }
}
