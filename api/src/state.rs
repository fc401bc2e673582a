//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::SharedClock;
use herd_core::store::{AnyConnection, Store};

use herd_provisioner::firewall::FirewallPolicy;
use herd_provisioner::pool::{PoolSettings, PoolShape};
use herd_provisioner::tasks::TaskBoard;
use herd_provisioner::wake::Wake;

use crate::assigner::Assigner;
use crate::auth::{Authenticator, Bearer, Caller};
use crate::config::Settings;
use crate::event_feed::EventFeed;
use crate::finishes::Finishes;
use crate::metrics::Metrics;
use crate::problem::ApiResult;
use crate::recorder::Recorder;
use crate::rules::guests::RequestDefaults;

pub struct AppState {
    pub store: Store,
    /// Wakes the provisioning worker when a job is queued.
    pub wake: Arc<Wake>,
    /// Records the commands requests ask for, and tells the dispatcher.
    pub recorder: Recorder,
    /// Serves guest requests, those waiting at the moment together.
    pub assigner: Assigner,
    /// Requests waiting for their commands, told by the dispatcher (here:
    /// with the rows; in another process on PostgreSQL: the ids, looked
    /// up once for all).
    pub finishes: Arc<Finishes>,
    pub pool_shape: PoolShape,
    pub pool_defaults: PoolSettings,
    pub clock: SharedClock,
    pub settings: Arc<Settings>,
    pub auth: Authenticator,
    pub metrics: Metrics,
    /// What may be opened, built once from the `firewall_*` settings.
    pub firewall: Arc<FirewallPolicy>,
    /// This process's background tasks, as the metrics show them.
    pub tasks: Arc<TaskBoard>,
    /// New events for the open event streams.
    pub feed: Arc<EventFeed>,
}

impl AppState {
    /// Runs database work on the blocking pool: diesel is synchronous and
    /// must not stall the HTTP workers.
    pub async fn db<T, F>(&self, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> ApiResult<T> + Send + 'static,
    {
        crate::blocking::db(&self.store, work).await
    }

    /// [`Self::db`] for a bearer's request: the token is looked up on the
    /// same connection, in the same trip to the blocking pool, as `work`
    /// (`401` before `work` runs). For the busiest reads, where a trip of
    /// its own for the token cost 8 % of their throughput.
    pub async fn db_as<T, F>(&self, bearer: Bearer, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, Caller) -> ApiResult<T> + Send + 'static,
    {
        let now = self.now_ms();
        self.db(move |c| {
            let caller = bearer.resolve(c, now)?;
            work(c, caller)
        })
        .await
    }

    /// What guest requests are made with when they do not say.
    pub fn request_defaults(&self) -> RequestDefaults {
        request_defaults(&self.settings, &self.pool_shape, self.pool_defaults)
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

pub fn request_defaults(
    settings: &Settings,
    shape: &PoolShape,
    pool: PoolSettings,
) -> RequestDefaults {
    RequestDefaults {
        shape: shape.clone(),
        pool,
        lifetime: Duration::from_secs(u64::from(settings.guest_lifetime_days) * 86_400),
    }
}
