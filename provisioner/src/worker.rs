//! The provisioning worker's background tasks: the job runner claims queued
//! jobs (from any process) and runs their sagas in parallel on a bounded
//! rayon pool; the pool keeper fills the warm pool; followers settle
//! refills, batches and staged operations and move booting guests to
//! `running`; the monitor heals; leases and lifetimes expire. Each runs as
//! a task of its own (see [`crate::tasks`]).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestName, GuestState, JobKind, JobStatus};
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::guests::{self, Guest};
use herd_core::store::jobs::{self, Job};
use herd_core::store::{batches, commands, write_tx, Store, StoreResult};
use rayon::prelude::*;

use crate::backend::{Backend, BackendError, PowerState, ServiceState};
use crate::batch::{self, BatchContext};
use crate::error::WorkerError;
use crate::jobs::CLAIMED;
use crate::monitor::{Monitor, MonitorSettings};
use crate::pool::{self, PoolSettings, PoolShape};
use crate::saga::{self, Injection, SagaError};
use crate::sagas;
use crate::tasks::{Sweep, Task, TaskError};
use crate::wake::Wake;
use crate::{lifecycle, staged};

/// How long a booted guest may take to start its enabled services before it
/// counts as running anyway.
const SERVICES_SETTLE_MS: i64 = 30_000;

/// One piece of the worker's background work: a task of its own.
struct Piece {
    name: &'static str,
    /// Between activations, not woken by the API's notifications; `None`:
    /// the worker's idle wait, and woken when the API queues work.
    period: Option<Duration>,
    run: fn(&Worker) -> Result<usize, TaskError>,
}

/// The worker's tasks, in the order [`Worker::tick`] runs them. Each
/// answers how many jobs it ran (only the job runner runs any).
const PIECES: [Piece; 13] = [
    Piece {
        name: "lease_expiry",
        period: None,
        run: |w| {
            crate::firewall::expiry::sweep(&mut *w.store.conn()?, w.clock.now_ms())?;
            Ok(0)
        },
    },
    Piece {
        name: "lifecycle",
        period: None,
        run: |w| {
            let grace = w.settings.expiry_grace;
            lifecycle::sweep(&mut *w.store.conn()?, grace, w.clock.now_ms())?;
            Ok(0)
        },
    },
    Piece {
        name: "pool_keeper",
        period: None,
        run: |w| w.keep_pool().map(|()| 0),
    },
    Piece {
        name: "job_runner",
        period: None,
        run: Worker::drain,
    },
    Piece {
        name: "repopulate_follower",
        period: None,
        run: |w| w.follow_repopulates().map(|()| 0),
    },
    Piece {
        name: "batch_follower",
        period: None,
        run: |w| w.follow_batches().map(|()| 0),
    },
    Piece {
        name: "staged_operations",
        period: None,
        run: |w| w.follow_staged().map(|()| 0),
    },
    Piece {
        name: "rollouts",
        period: None,
        run: |w| w.follow_rollouts().map(|()| 0),
    },
    Piece {
        name: "resets",
        period: None,
        run: |w| w.follow_resets().map(|()| 0),
    },
    Piece {
        name: "reset_expiry",
        period: None,
        run: |w| {
            let mut conn = w.store.conn()?;
            crate::reset::expire(&mut conn, &*w.backend, w.clock.now_ms())?;
            Ok(0)
        },
    },
    Piece {
        name: "power_follower",
        period: None,
        run: |w| w.follow_power().map(|()| 0),
    },
    Piece {
        name: "host_capacity",
        period: Some(Duration::from_secs(10)),
        run: |w| {
            let mut conn = w.store.conn()?;
            crate::capacity::publish(&mut conn, &*w.backend, w.clock.now_ms())?;
            Ok(0)
        },
    },
    Piece {
        name: "monitor",
        period: None,
        run: |w| {
            let mut conn = w.store.conn()?;
            w.monitor.sweep(&mut conn, &*w.backend, w.clock.now_ms())?;
            Ok(0)
        },
    },
];

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

pub struct Worker {
    store: Store,
    backend: Arc<dyn Backend>,
    clock: SharedClock,
    id: String,
    settings: WorkerSettings,
    threads: rayon::ThreadPool,
    monitor: Monitor,
    /// What the sagas this worker runs are made to do (tests).
    injection: Injection,
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
            .start_handler(|_| background_priority())
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
            injection: Injection::NONE,
        })
    }

    /// Makes every saga this worker runs fail at, or stop after, a step:
    /// how tests exercise undo and resume (see [`Injection`]).
    pub fn inject(&mut self, injection: Injection) {
        self.injection = injection;
    }

    /// The worker's background tasks, each to run on its own (see
    /// [`crate::tasks::Driver`]), activated early by `wake`.
    pub fn tasks(self: &Arc<Self>, wake: &Arc<Wake>) -> Vec<Task> {
        PIECES
            .iter()
            .map(|piece| {
                let (worker, run) = (self.clone(), piece.run);
                let (period, wake) = match piece.period {
                    Some(period) => (period, Arc::new(Wake::default())),
                    None => (self.settings.idle_wait, wake.clone()),
                };
                Task::new(piece.name, period, wake, move || run(&worker).map(drop))
            })
            .collect()
    }

    /// Every task's work once, in order, each whatever the others did (a
    /// panic included): how tests and benchmarks drive the worker on
    /// their own clock. Answers the jobs run, or the first error once all
    /// have run.
    pub fn tick(&self) -> Result<usize, TaskError> {
        let mut ran = 0;
        let mut first_error = None;
        for piece in &PIECES {
            match catch_unwind(AssertUnwindSafe(|| (piece.run)(self))) {
                Ok(Ok(n)) => ran += n,
                Ok(Err(e)) => {
                    first_error.get_or_insert(TaskError::new(format!("{}: {e}", piece.name)));
                }
                Err(_) => {
                    first_error.get_or_insert(TaskError::new(format!("{} panicked", piece.name)));
                }
            }
        }
        first_error.map_or(Ok(ran), Err)
    }

    /// Fills the pool towards its target; a pool it cannot fill (no name
    /// or address left) is this task's failure, with the reason.
    fn keep_pool(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let settings = PoolSettings::load(&mut conn, self.settings.pool_defaults)?;
        let done = pool::top_up(
            &mut conn,
            &self.settings.pool_shape,
            settings,
            self.clock.now_ms(),
        )?;
        match done.short {
            Some(short) => Err(TaskError::new(short.to_string())),
            None => Ok(()),
        }
    }

    /// Claims and runs jobs until none is left; returns how many ran.
    pub fn drain(&self) -> Result<usize, TaskError> {
        let mut ran = 0;
        loop {
            let batch = self.claim_batch()?;
            if batch.is_empty() {
                return Ok(ran);
            }
            ran += batch.len();
            self.threads.install(|| {
                batch.par_iter().for_each(|job| {
                    // Every log line of the job's work names the job.
                    let _job = tracing::info_span!("job", id = job.id, kind = %job.kind).entered();
                    self.run(job);
                })
            });
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
            match jobs::claim(&mut conn, &CLAIMED, &self.id, now, stale_before)? {
                Some(job) => batch.push(job),
                None => break,
            }
        }
        Ok(batch)
    }

    fn run(&self, job: &Job) {
        let result = match job.kind {
            JobKind::Provision => self.provision(job),
            JobKind::RootPublish => self.publish_root(job),
            JobKind::Decommission => self.decommission(job),
            // A batch ends when its last item settles, in `follow_batches`.
            JobKind::Batch => match self.place_batch(job) {
                Ok(()) => return,
                Err(e) => Err(e),
            },
            // Settled by their followers, never claimed (see `CLAIMED`).
            JobKind::PoolRepopulate
            | JobKind::Reclaim
            | JobKind::StagedStart
            | JobKind::StagedStop
            | JobKind::Rollout
            | JobKind::Reset
            | JobKind::ResetUndo => Err(WorkerError::Invalid(format!(
                "the job runner does not run {} jobs",
                job.kind
            ))),
        };
        if let Err(WorkerError::Saga(SagaError::Stopped(step))) = &result {
            // An injected stop leaves the job as a crash would: running,
            // for another worker to take over once its heartbeat is stale.
            tracing::info!(job = job.id, step, "saga stopped, as injected");
            return;
        }
        let now = self.clock.now_ms();
        let finished = self
            .store
            .conn()
            .map_err(WorkerError::from)
            .and_then(|mut c| {
                let (status, error) = match &result {
                    Ok(()) => (JobStatus::Succeeded, None),
                    Err(e) => (JobStatus::Failed, Some(e.to_string())),
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

    fn target(&self, job: &Job) -> Result<Guest, WorkerError> {
        let name = job.target.as_deref().unwrap_or_default();
        guests::find_by_name(&mut *self.store.conn()?, name)?.ok_or_else(|| {
            WorkerError::Invalid(format!("job {} names no known guest `{name}`", job.id))
        })
    }

    /// The run of a saga of `job` on a guest, its steps recorded under both.
    fn saga_run(&self, job: &Job, guest_id: i64) -> saga::Run<'_> {
        saga::Run {
            store: &self.store,
            backend: &*self.backend,
            clock: &*self.clock,
            job_id: job.id,
            guest_id,
            injection: self.injection,
            // Well inside the time after which another worker takes over.
            heartbeat: saga::Heartbeat::every(self.settings.stale_after / 4),
        }
    }

    fn provision(&self, job: &Job) -> Result<(), WorkerError> {
        let guest = self.target(job)?;
        let plan = sagas::frozen_plan(&mut *self.store.conn()?, job, &guest)?;
        let outcome = saga::provision(&self.saga_run(job, guest.row.id), &plan);
        let mut conn = self.store.conn()?;
        let now = self.clock.now_ms();
        match outcome {
            Ok(()) => {
                let name = &plan.name;
                crate::power::record_boot(&mut conn, &*self.backend, guest.row.id, name)?;
                let state = match (guest.row.owner_id, plan.boot) {
                    (None, _) => GuestState::Pooled,
                    (Some(_), true) => GuestState::Starting,
                    (Some(_), false) => GuestState::Stopped,
                };
                guests::set_state(&mut conn, guest.row.id, state, now)?;
                self.event(&mut conn, &guest, "guest.provision", Outcome::Success, None)?;
                Ok(())
            }
            // Stopped as a crash would stop it: nothing after the saga runs.
            Err(e @ SagaError::Stopped(_)) => Err(e.into()),
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

    fn publish_root(&self, job: &Job) -> Result<(), WorkerError> {
        let mut conn = self.store.conn()?;
        crate::roots::publish(&mut conn, &*self.backend, job, self.clock.now_ms())
    }

    fn decommission(&self, job: &Job) -> Result<(), WorkerError> {
        let guest = self.target(job)?;
        let params = sagas::frozen_decommission(job, &guest)?;
        saga::decommission(&self.saga_run(job, guest.row.id), &params)?;
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
        // Only now may the batch follower settle its items: before the
        // placement, a retried item would still show its old failure.
        jobs::release(&mut conn, job.id)?;
        Ok(())
    }

    fn follow_staged(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let mut staged = jobs::unfinished(&mut conn, JobKind::StagedStart)?;
        staged.extend(jobs::unfinished(&mut conn, JobKind::StagedStop)?);
        let mut sweep = Sweep::default();
        for job in staged {
            let advanced = staged::advance(&mut conn, &*self.backend, &job, self.clock.now_ms());
            sweep.note(&format!("job {}", job.id), advanced.map(drop));
        }
        sweep.finish()
    }

    fn follow_batches(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let mut sweep = Sweep::default();
        for job in jobs::released(&mut conn, JobKind::Batch)? {
            let followed = batch::follow(&mut conn, job.id, self.clock.now_ms());
            sweep.note(&format!("batch job {}", job.id), followed.map(drop));
        }
        sweep.finish()
    }

    /// A refill (or reclaim) is done when all its child jobs are.
    fn follow_repopulates(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let mut parents = jobs::unfinished(&mut conn, JobKind::PoolRepopulate)?;
        parents.extend(jobs::unfinished(&mut conn, JobKind::Reclaim)?);
        let mut sweep = Sweep::default();
        for job in parents {
            let followed = self.follow_parent(&mut conn, &job);
            sweep.note(&format!("job {}", job.id), followed);
        }
        sweep.finish()
    }

    fn follow_parent(
        &self,
        conn: &mut herd_core::store::AnyConnection,
        job: &Job,
    ) -> StoreResult<()> {
        let children = crate::jobs::children(job);
        let statuses = jobs::statuses(conn, &children)?;
        let finished = statuses.iter().filter(|s| s.is_finished()).count();
        jobs::set_progress(conn, job.id, finished as i32, children.len() as i32)?;
        if finished < children.len() {
            return Ok(());
        }
        let failed = statuses.iter().filter(|s| **s == JobStatus::Failed).count();
        let (status, error) = match failed {
            0 => (JobStatus::Succeeded, None),
            n => (
                JobStatus::Failed,
                Some(format!("{n} of {} clones failed", children.len())),
            ),
        };
        jobs::finish(conn, job.id, status, error.as_deref(), self.clock.now_ms())
    }

    /// Follows guests through power transitions the hypervisor completes
    /// on its own time: `starting` → `running` (booting a guest assigned
    /// from the pool if nobody has), `stopping` → `stopped`; the observed
    /// service states come along. One guest's error leaves the others
    /// followed.
    /// Advances every unfinished rollout, each on its own (one failing
    /// does not hold up another), then frees retired roots.
    fn follow_rollouts(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let mut sweep = Sweep::default();
        for job in jobs::unfinished(&mut conn, JobKind::Rollout)? {
            let now = self.clock.now_ms();
            let advanced = crate::rollout::advance(&mut conn, &*self.backend, job.id, now);
            sweep.note(&format!("rollout {}", job.id), advanced.map(drop));
        }
        let freed = crate::roots::free_retired(&mut conn, &*self.backend);
        sweep.note("retired roots", freed.map(drop));
        sweep.finish()
    }

    /// Claims the resets and undos no live worker holds, then advances
    /// each this worker holds by a round (one failing leaves the others
    /// going).
    fn follow_resets(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let now = self.clock.now_ms();
        let stale_before = now - self.settings.stale_after.as_millis() as i64;
        while jobs::claim(&mut conn, &crate::reset::KINDS, &self.id, now, stale_before)?.is_some() {
        }
        let mut sweep = Sweep::default();
        for job in jobs::claimed_by(&mut conn, &crate::reset::KINDS, &self.id)? {
            jobs::heartbeat(&mut conn, job.id, &self.id, now)?;
            let guest_id = guests::id_of(&mut conn, job.target.as_deref().unwrap_or_default())?;
            let run = self.saga_run(&job, guest_id.unwrap_or_default());
            let advanced = crate::reset::advance(&run, &job, now);
            sweep.note(&format!("{} job {}", job.kind, job.id), advanced);
        }
        sweep.finish()
    }

    fn follow_power(&self) -> Result<(), TaskError> {
        let mut conn = self.store.conn()?;
        let moving = guests::in_states(&mut conn, &[GuestState::Starting, GuestState::Stopping])?;
        let mut sweep = Sweep::default();
        for guest in moving {
            let followed = self.follow_power_of(&mut conn, &guest);
            sweep.note(&guest.name, followed);
        }
        sweep.finish()
    }

    fn follow_power_of(
        &self,
        conn: &mut herd_core::store::AnyConnection,
        guest: &guests::GuestRow,
    ) -> Result<(), WorkerError> {
        let Ok(name) = guest.name.parse::<GuestName>() else {
            return Ok(());
        };
        let status = match self.backend.status(&name) {
            Ok(s) => s,
            // Still being provisioned by a saga.
            Err(BackendError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let now = self.clock.now_ms();
        let (state, services) = match (guest.state, status.power) {
            (GuestState::Starting, PowerState::LoggedOff) => {
                if crate::backend::host_room(&*self.backend)? > 0 {
                    crate::power::ensure_booting(conn, &*self.backend, guest.id, &name)?;
                }
                return Ok(());
            }
            // Running once its enabled services are up (as after the
            // init scripts), or after a while even if one failed.
            (GuestState::Starting, PowerState::Running { since }) => {
                let settled = status
                    .services
                    .iter()
                    .all(|s| !s.enabled || s.state == ServiceState::Up);
                if !settled && now - since < SERVICES_SETTLE_MS {
                    return Ok(());
                }
                crate::identity::record(conn, &*self.backend, guest, &name, now)?;
                (GuestState::Running, status.services)
            }
            (GuestState::Stopping, PowerState::LoggedOff) => (GuestState::Stopped, Vec::new()),
            _ => return Ok(()),
        };
        // One transaction, so that no one sees the guest running with
        // the services it had before it stopped; nothing if another task
        // (a rollout restarting it) moved the guest on since it was read.
        write_tx(conn, |c| -> StoreResult<()> {
            if !guests::set_state_from(c, guest.id, guest.state, state, now)? {
                return Ok(());
            }
            commands::set_all_service_states(c, guest.id, "down", now)?;
            for s in services.iter().filter(|s| s.state == ServiceState::Up) {
                commands::set_service_state(c, guest.id, &s.name, "up", now)?;
            }
            Ok(())
        })?;
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
            kind: herd_core::domain::EventKind::Provisioning,
            guest_id: guest.row.id,
            guest: &guest.row.name,
        };
        work.record(conn, action, outcome, detail, self.clock.now_ms())
    }
}

/// Sagas are background work: at nice 10 their threads leave the CPU to
/// the requests being answered, so a class's burst of assignments is served
/// first and the pool refills in the gaps (on 2 cores the refill's clones
/// otherwise took half the CPU during the burst). Linux keeps a nice value
/// per thread, and raising one's own needs no privilege; should it fail
/// anyway, the sagas run at the normal priority, as before.
fn background_priority() {
    let _ = rustix::process::setpriority_process(None, 10);
}

fn rand_suffix() -> String {
    use rand::Rng;
    format!("{:08x}", rand::rng().random::<u32>())
}
