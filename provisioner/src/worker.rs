//! The provisioning worker: claims queued jobs (from any process) and runs
//! their sagas in parallel on a bounded rayon pool; keeps the warm pool
//! filled; moves booting guests to `running`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestName, GuestState};
use herd_core::store::diesel_error;
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::guests::{self, Guest};
use herd_core::store::jobs::{self, Job};
use herd_core::store::{batches, commands, lans, write_tx, Store, StoreError, StoreResult};
use rayon::prelude::*;

use crate::backend::{Backend, BackendError, CopyMethod, PowerState, ServiceSpec, ServiceState};
use crate::batch::{self, BatchContext, BATCH};
use crate::monitor::{Monitor, MonitorSettings};
use crate::pool::{self, PoolSettings, PoolShape};
use crate::saga::{self, SagaError};
use crate::steps::GuestPlan;
use crate::wake::Wake;
use crate::{lifecycle, staged};

pub const PROVISION: &str = "provision";
pub const DECOMMISSION: &str = "decommission";
/// Records a pool refill; its clones are `provision` jobs listed in params.
pub const POOL_REPOPULATE: &str = "pool_repopulate";
/// End-of-term decommissioning; its `decommission` jobs are listed in params.
pub const RECLAIM: &str = "reclaim";
/// How long a booted guest may take to start its enabled services before it
/// counts as running anyway.
const SERVICES_SETTLE_MS: i64 = 30_000;
const KINDS: [&str; 3] = [PROVISION, DECOMMISSION, BATCH];

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Sagas run at once (clones in parallel).
    pub concurrency: usize,
    /// A running job whose heartbeat is older is taken over (its worker died).
    pub stale_after: Duration,
    /// How long to sleep when nothing woke the worker.
    pub idle_wait: Duration,
    pub pool_defaults: PoolSettings,
    pub pool_shape: PoolShape,
    /// `expires_at` of a guest is its assignment plus this.
    pub guest_lifetime: Duration,
    /// Between the expiry warning and decommissioning.
    pub expiry_grace: Duration,
    pub monitor: MonitorSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Saga(#[from] SagaError),
    #[error("{0}")]
    Backend(#[from] BackendError),
    #[error("{0}")]
    Invalid(String),
}

impl From<diesel_error::Error> for WorkerError {
    fn from(e: diesel_error::Error) -> Self {
        WorkerError::Store(e.into())
    }
}

pub struct Worker {
    store: Store,
    backend: Arc<dyn Backend>,
    clock: SharedClock,
    id: String,
    settings: WorkerSettings,
    threads: rayon::ThreadPool,
    monitor: Monitor,
}

impl Worker {
    pub fn new(
        store: Store,
        backend: Arc<dyn Backend>,
        clock: SharedClock,
        settings: WorkerSettings,
    ) -> Result<Self, rayon::ThreadPoolBuildError> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(settings.concurrency.max(1))
            .thread_name(|i| format!("herd-provision-{i}"))
            .build()?;
        let id = format!("{}-{}", std::process::id(), rand_suffix());
        let monitor = Monitor::new(settings.monitor.clone());
        Ok(Self {
            store,
            backend,
            clock,
            id,
            settings,
            threads,
            monitor,
        })
    }

    /// Runs in the background until `shutdown` is set.
    pub fn spawn(
        self,
        wake: Arc<Wake>,
        shutdown: Arc<AtomicBool>,
    ) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("herd-worker".into())
            .spawn(move || {
                while !shutdown.load(Ordering::SeqCst) {
                    if let Err(e) = self.tick() {
                        tracing::warn!(error = %e, "provisioning worker");
                    }
                    wake.wait(self.settings.idle_wait);
                }
            })
    }

    /// One round of background work: refill the pool, run every job that
    /// can be claimed, and follow booting guests.
    pub fn tick(&self) -> Result<usize, WorkerError> {
        crate::firewall::expiry::sweep(&mut *self.store.conn()?, self.clock.now_ms())?;
        lifecycle::sweep(
            &mut *self.store.conn()?,
            self.settings.expiry_grace,
            self.clock.now_ms(),
        )?;
        self.top_up_pool()?;
        let ran = self.drain()?;
        self.follow_repopulates()?;
        self.follow_batches()?;
        self.follow_staged()?;
        self.follow_power()?;
        self.monitor.sweep(
            &mut *self.store.conn()?,
            &*self.backend,
            self.clock.now_ms(),
        )?;
        Ok(ran)
    }

    fn top_up_pool(&self) -> StoreResult<()> {
        let mut conn = self.store.conn()?;
        let settings = PoolSettings::load(&mut conn, self.settings.pool_defaults)?;
        pool::top_up(
            &mut conn,
            &self.settings.pool_shape,
            settings,
            self.clock.now_ms(),
        )
        .map(drop)
    }

    /// Claims and runs jobs until none is left; returns how many ran.
    pub fn drain(&self) -> StoreResult<usize> {
        let mut ran = 0;
        loop {
            let batch = self.claim_batch()?;
            if batch.is_empty() {
                return Ok(ran);
            }
            ran += batch.len();
            self.threads
                .install(|| batch.par_iter().for_each(|job| self.run(job)));
            // Batches show their progress as their clones finish, not only
            // once the whole queue is drained.
            self.follow_batches()?;
        }
    }

    fn claim_batch(&self) -> StoreResult<Vec<Job>> {
        let mut conn = self.store.conn()?;
        let now = self.clock.now_ms();
        let stale_before = now - self.settings.stale_after.as_millis() as i64;
        let mut batch = Vec::new();
        while batch.len() < self.settings.concurrency.max(1) * 4 {
            match jobs::claim(&mut conn, &KINDS, &self.id, now, stale_before)? {
                Some(job) => batch.push(job),
                None => break,
            }
        }
        Ok(batch)
    }

    fn run(&self, job: &Job) {
        let result = match job.kind.as_str() {
            PROVISION => self.provision(job),
            DECOMMISSION => self.decommission(job),
            // A batch ends when its last item settles, in `follow_batches`.
            BATCH => match self.place_batch(job) {
                Ok(()) => return,
                Err(e) => Err(e),
            },
            other => Err(WorkerError::Invalid(format!("unknown job kind {other}"))),
        };
        let now = self.clock.now_ms();
        let finished = self
            .store
            .conn()
            .map_err(WorkerError::from)
            .and_then(|mut c| {
                let (status, error) = match &result {
                    Ok(()) => ("succeeded", None),
                    Err(e) => ("failed", Some(e.to_string())),
                };
                if result.is_ok() {
                    jobs::set_progress(&mut c, job.id, job.progress_total, job.progress_total)?;
                }
                jobs::finish(&mut c, job.id, status, error.as_deref(), now)?;
                Ok(())
            });
        if let Err(e) = finished {
            tracing::error!(job = job.id, error = %e, "could not record the end of a job");
        }
    }

    fn target(&self, job: &Job) -> Result<(Guest, GuestName), WorkerError> {
        let name = job.target.as_deref().unwrap_or_default();
        let guest = guests::find_by_name(&mut *self.store.conn()?, name)?.ok_or_else(|| {
            WorkerError::Invalid(format!("job {} names no known guest `{name}`", job.id))
        })?;
        let parsed = name
            .parse()
            .map_err(|e| WorkerError::Invalid(format!("{e}")))?;
        Ok((guest, parsed))
    }

    fn provision(&self, job: &Job) -> Result<(), WorkerError> {
        let (guest, name) = self.target(job)?;
        let plan = self.plan(job, &guest, name)?;
        let outcome = saga::provision(
            &self.store,
            &*self.backend,
            &*self.clock,
            job.id,
            guest.row.id,
            &plan,
        );
        let mut conn = self.store.conn()?;
        let now = self.clock.now_ms();
        match outcome {
            Ok(()) => {
                let state = match (guest.row.owner_id, plan.boot) {
                    (None, _) => GuestState::Pooled,
                    (Some(_), true) => GuestState::Starting,
                    (Some(_), false) => GuestState::Stopped,
                };
                guests::set_state(&mut conn, guest.row.id, state, now)?;
                self.event(&mut conn, &guest, "guest.provision", Outcome::Success, None)?;
                Ok(())
            }
            Err(e) => {
                // Everything made on the hypervisor was undone: free the
                // name's address too, and keep the row for the record.
                guests::retire(&mut conn, guest.row.id, now)?;
                self.event(
                    &mut conn,
                    &guest,
                    "guest.provision",
                    Outcome::Failure,
                    Some(&e.to_string()),
                )?;
                Err(e.into())
            }
        }
    }

    fn plan(&self, job: &Job, guest: &Guest, name: GuestName) -> Result<GuestPlan, WorkerError> {
        let params: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
        let method = match params["method"].as_str() {
            Some("ddr") => CopyMethod::Ddr,
            _ => CopyMethod::FlashCopy,
        };
        let mut conn = self.store.conn()?;
        let services = guests::services(&mut conn, guest.row.id)?
            .into_iter()
            .map(|(s, enabled, _)| ServiceSpec {
                name: s.name,
                priority: s.priority.max(0) as u32,
                command: s.command,
                enabled,
            })
            .collect();
        let lan = lans::find_by_name(&mut conn, &guest.lan)?.ok_or_else(|| {
            WorkerError::Invalid(format!(
                "guest {} is on unknown LAN {}",
                guest.row.name, guest.lan
            ))
        })?;
        let invalid = |e: crate::backend::InvalidName| WorkerError::Invalid(e.to_string());
        Ok(GuestPlan {
            name,
            memory_mb: guest.row.memory_mb.max(1) as u32,
            services,
            image: guest.image.parse().map_err(invalid)?,
            lan: guest.lan.parse().map_err(invalid)?,
            method,
            tags: tags(guest, &lan),
            boot: guest.row.owner_id.is_some() && guest.row.auto_boot,
        })
    }

    fn decommission(&self, job: &Job) -> Result<(), WorkerError> {
        let (guest, name) = self.target(job)?;
        let lan = guest
            .lan
            .parse()
            .map_err(|e: crate::backend::InvalidName| WorkerError::Invalid(e.to_string()))?;
        saga::decommission(
            &self.store,
            &*self.backend,
            &*self.clock,
            job.id,
            guest.row.id,
            &name,
            &lan,
        )?;
        let mut conn = self.store.conn()?;
        guests::retire(&mut conn, guest.row.id, self.clock.now_ms())?;
        self.event(
            &mut conn,
            &guest,
            "guest.decommission",
            Outcome::Success,
            None,
        )?;
        Ok(())
    }

    fn place_batch(&self, job: &Job) -> Result<(), WorkerError> {
        let mut conn = self.store.conn()?;
        let Some(batch) = batches::for_job(&mut conn, job.id)? else {
            return Err(WorkerError::Invalid(format!("job {} has no batch", job.id)));
        };
        let ctx = BatchContext {
            shape: self.settings.pool_shape.clone(),
            method: PoolSettings::load(&mut conn, self.settings.pool_defaults)?.copy_method,
            lifetime: self.settings.guest_lifetime,
        };
        batch::place(&mut conn, &batch, &ctx, self.clock.now_ms())?;
        Ok(())
    }

    fn follow_staged(&self) -> Result<(), WorkerError> {
        let mut conn = self.store.conn()?;
        let mut staged = jobs::unfinished(&mut conn, staged::STAGED_START)?;
        staged.extend(jobs::unfinished(&mut conn, staged::STAGED_STOP)?);
        for job in staged {
            staged::advance(&mut conn, &*self.backend, &job, self.clock.now_ms())?;
        }
        Ok(())
    }

    fn follow_batches(&self) -> StoreResult<()> {
        let mut conn = self.store.conn()?;
        for job in jobs::unfinished(&mut conn, BATCH)?
            .into_iter()
            .filter(|j| j.status == "running")
        {
            batch::follow(&mut conn, job.id, self.clock.now_ms())?;
        }
        Ok(())
    }

    /// A refill (or reclaim) is done when all its child jobs are.
    fn follow_repopulates(&self) -> StoreResult<()> {
        let mut conn = self.store.conn()?;
        let mut parents = jobs::unfinished(&mut conn, POOL_REPOPULATE)?;
        parents.extend(jobs::unfinished(&mut conn, RECLAIM)?);
        for job in parents {
            let params: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
            let children: Vec<i64> = params["jobs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_i64())
                .collect();
            let statuses = jobs::statuses(&mut conn, &children)?;
            let finished = statuses
                .iter()
                .filter(|s| matches!(s.as_str(), "succeeded" | "failed" | "cancelled"))
                .count();
            jobs::set_progress(&mut conn, job.id, finished as i32, children.len() as i32)?;
            if finished == children.len() {
                let failed = statuses.iter().filter(|s| *s == "failed").count();
                let (status, error) = match failed {
                    0 => ("succeeded", None),
                    n => (
                        "failed",
                        Some(format!("{n} of {} clones failed", children.len())),
                    ),
                };
                jobs::finish(
                    &mut conn,
                    job.id,
                    status,
                    error.as_deref(),
                    self.clock.now_ms(),
                )?;
            }
        }
        Ok(())
    }

    /// Follows guests through power transitions the hypervisor completes
    /// on its own time: `starting` → `running` (booting a guest assigned
    /// from the pool if nobody has), `stopping` → `stopped`; the observed
    /// service states come along.
    fn follow_power(&self) -> Result<(), WorkerError> {
        let mut conn = self.store.conn()?;
        let moving = guests::in_states(&mut conn, &[GuestState::Starting, GuestState::Stopping])?;
        for guest in moving {
            let Ok(name) = guest.name.parse::<GuestName>() else {
                continue;
            };
            let status = match self.backend.status(&name) {
                Ok(s) => s,
                // Still being provisioned by a saga.
                Err(BackendError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let now = self.clock.now_ms();
            let (state, services) = match (guest.state.as_str(), status.power) {
                ("starting", PowerState::LoggedOff) => {
                    if staged::host_room(&*self.backend)? == 0 {
                        continue;
                    }
                    crate::power::ensure_booting(&mut conn, &*self.backend, guest.id, &name)?;
                    continue;
                }
                // Running once its enabled services are up (as after the
                // init scripts), or after a while even if one failed.
                ("starting", PowerState::Running { since }) => {
                    let settled = status
                        .services
                        .iter()
                        .all(|s| !s.enabled || s.state == ServiceState::Up);
                    if !settled && now - since < SERVICES_SETTLE_MS {
                        continue;
                    }
                    (GuestState::Running, status.services)
                }
                ("stopping", PowerState::LoggedOff) => (GuestState::Stopped, Vec::new()),
                _ => continue,
            };
            // One transaction, so that no one sees the guest running with
            // the services it had before it stopped.
            write_tx(&mut conn, |c| {
                commands::set_all_service_states(c, guest.id, "down", now)?;
                for s in services.iter().filter(|s| s.state == ServiceState::Up) {
                    commands::set_service_state(c, guest.id, &s.name, "up", now)?;
                }
                guests::set_state(c, guest.id, state, now)
            })?;
        }
        Ok(())
    }

    fn event(
        &self,
        conn: &mut herd_core::store::AnyConnection,
        guest: &Guest,
        action: &str,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> StoreResult<()> {
        let work = GuestWork {
            kind: "provisioning",
            guest_id: guest.row.id,
            guest: &guest.row.name,
        };
        work.record(conn, action, outcome, detail, self.clock.now_ms())
    }
}

/// What the guest reads with `hcp TAG QUERY` at boot to configure itself.
pub fn tags(guest: &Guest, lan: &lans::Lan) -> BTreeMap<String, String> {
    let prefix = lan.cidr.split('/').nth(1).unwrap_or("24").to_owned();
    let mut tags = BTreeMap::from([
        ("HOSTNAME".to_owned(), guest.row.hostname.clone()),
        (
            "IPADDR".to_owned(),
            guest.row.ip_address.clone().unwrap_or_default(),
        ),
        ("PREFIX".to_owned(), prefix),
        ("GATEWAY".to_owned(), lan.gateway.clone()),
        ("DNS".to_owned(), lan.dns.clone()),
        ("LAN".to_owned(), lan.name.clone()),
    ]);
    if let Some(owner) = &guest.owner {
        tags.insert("OWNER".to_owned(), owner.clone());
    }
    tags
}

fn rand_suffix() -> String {
    use rand::Rng;
    format!("{:08x}", rand::rng().random::<u32>())
}
