//! Takes clicks (a service action, a power action) and records the
//! commands they ask for, the clicks waiting at the moment together: their
//! tokens, guests and services looked up in one query each, and their
//! commands and audit entries written in one statement (PostgreSQL) or
//! transaction (SQLite), instead of five trips to the database each.
//!
//! A [`Batcher`] records what has come meanwhile and wakes the dispatcher
//! once. Each click is judged on its own (its token, its access to the
//! guest, the service): one click's refusal is not another's.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestName, ServiceName};
use herd_core::store::commands::{self, CommandRow, Requested};
use herd_core::store::events::Outcome;
use herd_core::store::guests::{self, Guest};
use herd_core::store::{tokens, AnyConnection, Conn, Store, StoreError};
use herd_provisioner::dispatcher::{Command, CommandOp};
use herd_provisioner::wake::Wake;

use crate::auth::{Bearer, Caller};
use crate::batching::Batcher;
use crate::problem::{ApiError, ApiResult};
use crate::rules::audit::entry;
use crate::rules::guests::{authorize, Access};
use crate::rules::services::unknown_service;

/// What a click asks for.
pub struct Click {
    pub bearer: Bearer,
    /// As in the request's path.
    pub guest: String,
    /// A service the guest must have (a service action's).
    pub service: Option<ServiceName>,
    /// Run in this order.
    pub ops: Vec<CommandOp>,
}

type Answer = ApiResult<Vec<CommandRow>>;

pub struct Recorder {
    batcher: Batcher<Click, Vec<CommandRow>>,
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
    /// `store` should have a connection of its own: the thread keeps it.
    pub fn spawn(store: Store, clock: SharedClock, tell: Tell) -> std::io::Result<Self> {
        // Kept from batch to batch (no pool check each time); dropped after
        // an error, to start again on a fresh one.
        let mut held: Option<Conn> = None;
        let batcher = Batcher::spawn("command recorder", move |clicks| {
            // Mapped (and logged) once for the whole batch.
            let answered = record(&store, &mut held, clicks, clock.now_ms(), tell.others)
                .map_err(ApiError::from);
            tell.dispatcher.notify();
            answered
        })?;
        Ok(Self { batcher })
    }

    /// Records the commands `click` asks for, all or none, once its token,
    /// guest and service pass; answers them as stored, in order.
    pub async fn record(&self, click: Click) -> Answer {
        self.batcher.submit(click).await
    }
}

/// A click that passed, with what its commands are recorded with.
struct Accepted {
    caller: Caller,
    guest: Guest,
    texts: Vec<String>,
}

/// Each click's answer; `Err` only when the database failed them all.
/// The connection is kept in `held` for the next batch if all went well.
fn record(
    store: &Store,
    held: &mut Option<Conn>,
    clicks: Vec<Click>,
    now: i64,
    tell_others: bool,
) -> Result<Vec<Answer>, StoreError> {
    let (mut conn, looked_up) = look_up(store, held, &clicks, now)?;
    let judged: Vec<ApiResult<Accepted>> = clicks.into_iter().map(|c| looked_up.judge(c)).collect();
    let accepted: Vec<&Accepted> = judged.iter().filter_map(|j| j.as_ref().ok()).collect();
    let requested: Vec<Requested<'_>> = accepted
        .iter()
        .map(|a| Requested {
            guest_id: a.guest.row.id,
            requested_by: Some(a.caller.user.id),
            request_id: Some(&a.caller.request_id),
            texts: &a.texts,
            audit: entry(
                &a.caller,
                "command",
                Some(&a.guest.row.name),
                Some(a.guest.row.id),
                Outcome::Success,
                None,
            ),
        })
        .collect();
    // A dispatcher elsewhere is told with the commit (with no word, it
    // finds the commands on its next look).
    let mut recorded = if requested.is_empty() {
        Vec::new()
    } else {
        commands::record_all(&mut conn, &requested, now, tell_others)?
    }
    .into_iter();
    *held = Some(conn);
    Ok(judged
        .into_iter()
        .map(|j| j.map(|_| recorded.next().unwrap_or_default()))
        .collect())
}

/// The clicks' lookups, on the kept connection or, when that fails, on a
/// fresh one. A connection the database has closed meanwhile (a restart,
/// a failover) fails at its first statement, and nothing has been written
/// yet, so trying again is safe: the clicks are not failed for it.
fn look_up(
    store: &Store,
    held: &mut Option<Conn>,
    clicks: &[Click],
    now: i64,
) -> Result<(Conn, LookedUp), StoreError> {
    if let Some(mut conn) = held.take() {
        match LookedUp::fetch(&mut conn, clicks, now) {
            Ok(looked_up) => return Ok((conn, looked_up)),
            Err(e) => {
                tracing::info!(error = %e, "recorder: the kept connection failed; taking another")
            }
        }
    }
    let mut conn = store.conn()?;
    let looked_up = LookedUp::fetch(&mut conn, clicks, now)?;
    Ok((conn, looked_up))
}

/// What a batch of clicks refers to, looked up together.
struct LookedUp {
    users: HashMap<String, herd_core::store::users::User>,
    guests: HashMap<String, Guest>,
    services: HashSet<(i64, String)>,
}

impl LookedUp {
    fn fetch(conn: &mut AnyConnection, clicks: &[Click], now: i64) -> Result<Self, StoreError> {
        let hashes = distinct(clicks.iter().map(|c| c.bearer.token_hash().to_owned()));
        let names = distinct(clicks.iter().map(|c| c.guest.to_ascii_uppercase()));
        let users = tokens::live_users(conn, &strs(&hashes), now)?
            .into_iter()
            .collect();
        let guests: HashMap<String, Guest> = guests::find_by_names(conn, &strs(&names))?
            .into_iter()
            .map(|g| (g.row.name.clone(), g))
            .collect();
        let with_service: Vec<i64> = clicks
            .iter()
            .filter(|c| c.service.is_some())
            .filter_map(|c| guests.get(&c.guest.to_ascii_uppercase()))
            .map(|g| g.row.id)
            .collect();
        let services = if with_service.is_empty() {
            HashSet::new()
        } else {
            guests::service_names(conn, &with_service)?
                .into_iter()
                .collect()
        };
        Ok(Self {
            users,
            guests,
            services,
        })
    }

    /// The same rules, in the same order, as a click handled alone: token
    /// (`401`), guest (`404`), service (`404`).
    fn judge(&self, click: Click) -> ApiResult<Accepted> {
        let user = self.users.get(click.bearer.token_hash()).cloned();
        let caller = click.bearer.caller(user)?;
        let found = self.guests.get(&click.guest.to_ascii_uppercase()).cloned();
        let guest = authorize(&caller, found, &click.guest, Access::View)?;
        if let Some(service) = &click.service {
            if !self.services.contains(&(guest.row.id, service.to_string())) {
                return Err(unknown_service(service));
            }
        }
        let name: GuestName = guest
            .row
            .name
            .parse()
            .map_err(|e| ApiError::Internal(format!("{e}")))?;
        let texts = click
            .ops
            .into_iter()
            .map(|op| {
                Command {
                    guest: name.clone(),
                    op,
                }
                .to_string()
            })
            .collect();
        Ok(Accepted {
            caller,
            guest,
            texts,
        })
    }
}

fn distinct(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut items: Vec<String> = items.collect();
    items.sort();
    items.dedup();
    items
}

fn strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}
