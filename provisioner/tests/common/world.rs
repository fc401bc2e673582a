//! A whole provisioning world for saga tests: a database (SQLite or
//! PostgreSQL) seeded with one LAN and one image, a simulated host holding
//! the image, and a clock that only moves when a test says so.

use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{ManualClock, SharedClock};
use herd_core::domain::Role;
use herd_core::store::guests::{self, Guest};
use herd_core::store::jobs::{self, Job};
use herd_core::store::seed::{self, Seed, SeedImage, SeedLan};
use herd_core::store::test_db::TestDb;
use herd_core::store::users::{self, NewLocalUser};
use herd_provisioner::backend::sim::SimBackend;
use herd_provisioner::backend::CopyMethod;
use herd_provisioner::bootstrap;
use herd_provisioner::pool::{self, CloneFor, PoolSettings, PoolShape};
use herd_provisioner::worker::{Worker, WorkerSettings};

use super::{test_settings, T0};

/// Older than this, a running job's heartbeat shows its worker died.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

pub struct World {
    pub db: TestDb,
    pub zvm: Arc<SimBackend>,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

pub fn shape() -> PoolShape {
    PoolShape {
        lan: Some("LNXLAN1".into()),
        image: "golden".into(),
        name_prefix: "LX".into(),
        hostname_template: "{name}.example.edu".into(),
        memory_mb: 64,
    }
}

impl World {
    pub fn new(db: TestDb) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let zvm = Arc::new(SimBackend::open(dir.path(), clock.clone(), test_settings()).unwrap());
        let mut conn = db.store.conn().unwrap();
        let spec = Seed {
            lan: SeedLan {
                name: "LNXLAN1".into(),
                cidr: "10.10.0.0/24".parse().unwrap(),
                dns: None,
            },
            image: SeedImage {
                name: "golden".into(),
                description: String::new(),
                size_bytes: 1 << 20,
                segment_size_bytes: 64 << 10,
            },
        };
        seed::apply(&mut conn, &spec, T0).unwrap();
        bootstrap::prepare(&mut conn, &*zvm, dir.path()).unwrap();
        drop(conn);
        World {
            db,
            zvm,
            clock,
            _dir: dir,
        }
    }

    /// A worker of a process of its own, keeping no pool.
    pub fn worker(&self) -> Worker {
        let settings = WorkerSettings {
            concurrency: 2,
            stale_after: STALE_AFTER,
            idle_wait: Duration::from_millis(10),
            pool_defaults: PoolSettings {
                target_size: 0,
                copy_method: CopyMethod::FlashCopy,
            },
            pool_shape: shape(),
            guest_lifetime: Duration::from_secs(86_400),
            expiry_grace: Duration::from_secs(7 * 86_400),
            monitor: herd_provisioner::monitor::MonitorSettings::default(),
        };
        let clock: SharedClock = self.clock.clone();
        Worker::new(self.db.store.clone(), self.zvm.clone(), clock, settings).unwrap()
    }

    pub fn now(&self) -> i64 {
        use herd_core::clock::Clock;
        self.clock.now_ms()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn student(&self, name: &str) -> i64 {
        let new = NewLocalUser {
            username: name,
            display_name: name,
            role: Role::Student,
            password_hash: "x",
        };
        users::create_local(&mut self.db.store.conn().unwrap(), &new, T0)
            .unwrap()
            .id
    }

    /// Reserves a guest (for `owner`, else for the pool) and queues its
    /// provisioning: the guest's name and the job.
    pub fn queue_clone(&self, owner: Option<i64>, method: CopyMethod) -> (String, i64) {
        let purpose = CloneFor {
            owner_id: owner,
            ..CloneFor::default()
        };
        let mut conn = self.db.store.conn().unwrap();
        pool::queue_clone(&mut conn, &shape(), method, purpose, self.now()).unwrap()
    }

    pub fn guest(&self, name: &str) -> Guest {
        guests::find_by_name(&mut self.db.store.conn().unwrap(), name)
            .unwrap()
            .unwrap()
    }

    pub fn job(&self, id: i64) -> Job {
        jobs::find(&mut self.db.store.conn().unwrap(), id)
            .unwrap()
            .unwrap()
    }

    /// The job's recorded steps as (name, status), in order.
    pub fn steps(&self, job: i64, guest: &str) -> Vec<(String, &'static str)> {
        let id = self.guest(guest).row.id;
        jobs::steps(&mut self.db.store.conn().unwrap(), job, id)
            .unwrap()
            .into_iter()
            .map(|s| (s.name, s.status.as_str()))
            .collect()
    }

    /// When each recorded step of the job last started, by name.
    pub fn step_starts(&self, job: i64, guest: &str) -> Vec<(String, Option<i64>)> {
        let id = self.guest(guest).row.id;
        jobs::step_starts(&mut self.db.store.conn().unwrap(), job, id).unwrap()
    }
}
