//! Records the commands requests ask for, the requests waiting at the
//! moment together: one write for all of them instead of one each.
//!
//! Under load, a write per click was what clicks queued behind: SQLite has
//! one writer at a time, which the dispatcher's claims and results wait
//! for too, and on PostgreSQL each write is a statement and a commit. A
//! request does its reads (token, guest, checks) as before, in parallel
//! with others, then hands its commands here; one thread records what has
//! come meanwhile, in one statement or transaction, and wakes the
//! dispatcher once. Alone, a request is recorded at once: nothing waits
//! for company.

use std::sync::mpsc;
use std::sync::Arc;

use herd_core::clock::SharedClock;
use herd_core::store::commands::{self, CommandRow, Requested};
use herd_core::store::events::Outcome;
use herd_core::store::{notify, Store, StoreError};
use herd_provisioner::wake::Wake;
use tokio::sync::oneshot;

use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};
use crate::routes::audit::entry;

/// One request's commands for one guest.
pub struct Request {
    pub guest_id: i64,
    pub guest_name: String,
    /// Run in this order.
    pub texts: Vec<String>,
    /// Who asked: `requested_by` and the audit entries.
    pub caller: Caller,
}

struct Pending {
    request: Request,
    answer: oneshot::Sender<ApiResult<Vec<CommandRow>>>,
}

pub struct Recorder {
    queue: mpsc::Sender<Pending>,
}

/// Where the recorded commands' news goes.
pub struct Tell {
    /// The dispatcher in this process.
    pub dispatcher: Arc<Wake>,
    /// Dispatchers in other processes (PostgreSQL `NOTIFY`), when this
    /// process has none.
    pub others: bool,
}

impl Recorder {
    /// Starts the recording thread; it ends when the recorder is dropped.
    /// `store` should have a connection of its own.
    pub fn spawn(store: Store, clock: SharedClock, tell: Tell) -> std::io::Result<Self> {
        let (queue, arrivals) = mpsc::channel::<Pending>();
        std::thread::Builder::new()
            .name("herd-recorder".into())
            .spawn(move || {
                while let Ok(first) = arrivals.recv() {
                    let batch: Vec<_> = std::iter::once(first).chain(arrivals.try_iter()).collect();
                    let recorded = record(&store, &batch, clock.now_ms(), tell.others);
                    tell.dispatcher.notify();
                    answer(batch, recorded);
                }
            })?;
        Ok(Self { queue })
    }

    /// Records `request`'s commands, all or none; answers them as stored,
    /// in order.
    pub async fn record(&self, request: Request) -> ApiResult<Vec<CommandRow>> {
        let (answer, answered) = oneshot::channel();
        let stopped = || ApiError::Unavailable("the command recorder has stopped".into());
        self.queue
            .send(Pending { request, answer })
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn record(
    store: &Store,
    batch: &[Pending],
    now: i64,
    tell_others: bool,
) -> Result<Vec<Vec<CommandRow>>, StoreError> {
    let requested: Vec<Requested<'_>> = batch
        .iter()
        .map(|Pending { request: r, .. }| Requested {
            guest_id: r.guest_id,
            requested_by: Some(r.caller.user.id),
            texts: &r.texts,
            audit: entry(
                &r.caller,
                "command",
                Some(&r.guest_name),
                Some(r.guest_id),
                Outcome::Success,
                None,
            ),
        })
        .collect();
    let mut conn = store.conn()?;
    let recorded = commands::record_all(&mut conn, &requested, now)?;
    if tell_others {
        // The commands stand; a dispatcher elsewhere that is not told finds
        // them on its next look.
        if let Err(e) = notify::notify(&mut conn, notify::Channel::CommandsWaiting, "") {
            tracing::warn!(error = %e, "telling other dispatchers of new commands");
        }
    }
    Ok(recorded)
}

fn answer(batch: Vec<Pending>, recorded: Result<Vec<Vec<CommandRow>>, StoreError>) {
    match recorded {
        Ok(rows) => {
            for (pending, rows) in batch.into_iter().zip(rows) {
                // A request that gave up waiting needs no answer.
                let _ = pending.answer.send(Ok(rows));
            }
        }
        Err(e) => {
            // Mapped (and logged) once; each request gets the same answer.
            let error = ApiError::from(e);
            for pending in batch {
                let _ = pending.answer.send(Err(same(&error)));
            }
        }
    }
}

/// What a failed write means to each request in it.
fn same(error: &ApiError) -> ApiError {
    match error {
        ApiError::Unavailable(detail) => ApiError::Unavailable(detail.clone()),
        other => ApiError::Internal(other.to_string()),
    }
}
