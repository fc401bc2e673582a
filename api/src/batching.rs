//! A thread that handles the requests waiting at the moment together: one
//! transaction (and, on PostgreSQL, a handful of statements) for all of
//! them instead of several each. Under load, requests queued behind each
//! other's statements: SQLite has one writer at a time, and each
//! PostgreSQL statement costs the database far more than the row it
//! touches. Alone, a request is handled at once: nothing waits for company.
//!
//! Used by the click recorder and the guest assigner.

use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::problem::{ApiError, ApiResult};

struct Pending<T, A> {
    item: T,
    answer: oneshot::Sender<ApiResult<A>>,
}

pub struct Batcher<T, A> {
    queue: mpsc::Sender<Pending<T, A>>,
    name: &'static str,
}

impl<T: Send + 'static, A: Send + 'static> Batcher<T, A> {
    /// Starts the thread; it ends when the batcher is dropped. `handle`
    /// answers each item of a batch, in order (its own refusal or result),
    /// or fails them all when the database failed.
    pub fn spawn<F>(name: &'static str, mut handle: F) -> std::io::Result<Self>
    where
        F: FnMut(Vec<T>) -> ApiResult<Vec<ApiResult<A>>> + Send + 'static,
    {
        let (queue, arrivals) = mpsc::channel::<Pending<T, A>>();
        std::thread::Builder::new()
            .name(format!("herd-{name}"))
            .spawn(move || {
                // People wait for these answers: their writes go first.
                herd_core::store::turns::mark_thread_urgent();
                while let Ok(first) = arrivals.recv() {
                    let batch: Vec<_> = std::iter::once(first).chain(arrivals.try_iter()).collect();
                    let (items, answers): (Vec<_>, Vec<_>) =
                        batch.into_iter().map(|p| (p.item, p.answer)).unzip();
                    reply(answers, handle(items));
                }
            })?;
        Ok(Self { queue, name })
    }

    /// `item`'s answer, handled with whatever else is waiting.
    pub async fn submit(&self, item: T) -> ApiResult<A> {
        let (answer, answered) = oneshot::channel();
        let stopped = || ApiError::Unavailable(format!("the {} has stopped", self.name));
        self.queue
            .send(Pending { item, answer })
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn reply<A>(answers: Vec<oneshot::Sender<ApiResult<A>>>, answered: ApiResult<Vec<ApiResult<A>>>) {
    match answered {
        Ok(each) => {
            for (answer, result) in answers.into_iter().zip(each) {
                // A request that gave up waiting needs no answer.
                let _ = answer.send(result);
            }
        }
        Err(error) => {
            // Each request gets the same answer.
            for answer in answers {
                let _ = answer.send(Err(same(&error)));
            }
        }
    }
}

/// What a failed transaction means to each request in it.
fn same(error: &ApiError) -> ApiError {
    match error {
        ApiError::Unavailable(detail) => ApiError::Unavailable(detail.clone()),
        other => ApiError::Internal(other.to_string()),
    }
}
