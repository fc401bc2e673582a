//! Takes guest requests (`POST /api/v1/guests` without an
//! `Idempotency-Key`) and serves the requests waiting at the moment
//! together: their tokens looked up in one query, their pooled guests taken
//! and their audit entries written in one transaction ([`request_all`]),
//! and the pool keeper woken once. Each request is judged on its own (its
//! token, owner, image, LAN and quota): one's refusal is not another's.
//!
//! A request with an `Idempotency-Key` is served alone, by the route: its
//! stored answer belongs to its own transaction.

use std::sync::Arc;

use herd_core::clock::SharedClock;
use herd_core::store::{tokens, write_tx, Store};
use herd_provisioner::wake::Wake;

use crate::auth::Bearer;
use crate::batching::Batcher;
use crate::problem::{ApiError, ApiResult};
use crate::rules::guests::{request_all, Ask, RequestDefaults, Taken};

pub struct Assigner {
    batcher: Batcher<(Bearer, Ask), Taken>,
}

impl Assigner {
    /// Starts the assigning thread; it ends when the assigner is dropped.
    /// `store` should have a connection of its own. `pool_keeper` is woken
    /// after every batch, to refill what it took.
    pub fn spawn(
        store: Store,
        clock: SharedClock,
        defaults: RequestDefaults,
        pool_keeper: Arc<Wake>,
    ) -> std::io::Result<Self> {
        let batcher = Batcher::spawn("guest assigner", move |asks| {
            let answered = assign(&store, asks, &defaults, clock.now_ms());
            pool_keeper.notify();
            answered
        })?;
        Ok(Self { batcher })
    }

    /// A guest for the bearer's request: see [`crate::rules::guests::request`].
    pub async fn request(&self, bearer: Bearer, ask: Ask) -> ApiResult<Taken> {
        self.batcher.submit((bearer, ask)).await
    }
}

fn assign(
    store: &Store,
    asks: Vec<(Bearer, Ask)>,
    defaults: &RequestDefaults,
    now: i64,
) -> ApiResult<Vec<ApiResult<Taken>>> {
    let mut conn = store.conn()?;
    write_tx(&mut conn, |c| {
        let hashes: Vec<&str> = asks.iter().map(|(b, _)| b.token_hash()).collect();
        let users: std::collections::HashMap<_, _> =
            tokens::live_users(c, &hashes, now)?.into_iter().collect();
        let mut answers: Vec<Option<ApiResult<Taken>>> = Vec::with_capacity(asks.len());
        let mut known = Vec::with_capacity(asks.len());
        for (bearer, ask) in asks {
            let user = users.get(bearer.token_hash()).cloned();
            match bearer.caller(user) {
                Ok(caller) => {
                    known.push((caller, ask));
                    answers.push(None);
                }
                Err(refused) => answers.push(Some(Err(refused))),
            }
        }
        let mut served = request_all(c, known, defaults, now)?.into_iter();
        Ok(answers
            .into_iter()
            .map(|a| {
                a.or_else(|| served.next())
                    .unwrap_or_else(|| Err(ApiError::Internal("a request went unanswered".into())))
            })
            .collect())
    })
}
