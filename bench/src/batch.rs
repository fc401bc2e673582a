//! Batch provisioning end to end, at library level (store, simulated
//! backend, worker; no HTTP): from creating the batch to its job ending
//! `succeeded`, on SQLite and on PostgreSQL. A FlashCopy batch of 500
//! guests against the same 500 FlashCopies made directly on the simulated
//! backend, and a DDR batch of 100 guests against `cp` of the same bytes.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herd_core::clock::{SharedClock, SystemClock};
use herd_core::domain::{GuestName, Role};
use herd_core::domain::{ItemStatus, JobKind, JobStatus};
use herd_core::store::batches::{self, NewBatch};
use herd_core::store::lans::{self, NewLan};
use herd_core::store::seed::{self, Seed, SeedImage, SeedLan};
use herd_core::store::users::{self, NewLocalUser};
use herd_core::store::{catalog, jobs, Store};
use herd_provisioner::backend::sim::{write_synthetic_image, SimBackend, SimSettings};
use herd_provisioner::backend::{CopyMethod, Directory, DiskId, ImageName, Storage, UserSpec};
use herd_provisioner::bootstrap;
use herd_provisioner::monitor::MonitorSettings;
use herd_provisioner::pool::{PoolSettings, PoolShape};
use herd_provisioner::worker::{Worker, WorkerSettings};

use crate::disk::cp_and_sync;
use crate::pg::PgDatabase;
use crate::{emit, emit_skipped, BenchResult, Env};

const MIB: u64 = 1 << 20;
const IMAGE_MIB: u64 = 16;
const FLASHCOPY_GUESTS: usize = 500;
const DDR_GUESTS: usize = 100;
/// herd-server's default `provision_concurrency`.
const CONCURRENCY: usize = 4;
const BATCH_TIMEOUT: Duration = Duration::from_secs(300);
const LAN: &str = "LNXLAN1";
const IMAGE: &str = "golden";

fn record(metric: &str, value: f64, unit: &str) {
    emit("batch", metric, value, unit);
}

pub fn run(env: &Env) -> BenchResult {
    flashcopy(env)?;
    ddr(env)
}

fn flashcopy(env: &Env) -> BenchResult {
    let raw = raw_flashcopies(FLASHCOPY_GUESTS)?;
    record("flashcopy_raw_500_s", raw.as_secs_f64(), "s");
    for (label, db) in databases(env, "flashcopy_postgres_skipped") {
        let t = provision(db?, FLASHCOPY_GUESTS, CopyMethod::FlashCopy)?;
        let s = t.as_secs_f64();
        record(&format!("flashcopy_batch_500_{label}_s"), s, "s");
        record(
            &format!("flashcopy_batch_500_{label}_guests_per_s"),
            FLASHCOPY_GUESTS as f64 / s,
            "1/s",
        );
        record(
            &format!("flashcopy_batch_500_{label}_vs_raw"),
            s / raw.as_secs_f64(),
            "ratio",
        );
    }
    Ok(())
}

fn ddr(env: &Env) -> BenchResult {
    let cp = cp_copies(DDR_GUESTS)?;
    let mib = (DDR_GUESTS as u64 * IMAGE_MIB) as f64;
    record("ddr_cp_100_s", cp.as_secs_f64(), "s");
    record("ddr_cp_mib_s", mib / cp.as_secs_f64(), "MiB/s");
    for (label, db) in databases(env, "ddr_postgres_skipped") {
        let t = provision(db?, DDR_GUESTS, CopyMethod::Ddr)?;
        record(&format!("ddr_batch_100_{label}_s"), t.as_secs_f64(), "s");
        record(
            &format!("ddr_batch_100_{label}_mib_s"),
            mib / t.as_secs_f64(),
            "MiB/s",
        );
        record(
            &format!("ddr_batch_100_{label}_vs_cp"),
            cp.as_secs_f64() / t.as_secs_f64(),
            "ratio",
        );
    }
    Ok(())
}

pub enum Db {
    Sqlite,
    Postgres(PgDatabase),
}

/// SQLite, then PostgreSQL when there is one (else a note line).
fn databases(
    env: &Env,
    skipped: &str,
) -> impl Iterator<Item = (&'static str, Result<Db, Box<dyn Error>>)> {
    let pg = match env.postgres() {
        Ok(pg) => Some(("postgres", pg.fresh_database().map(Db::Postgres))),
        Err(why) => {
            emit_skipped("batch", skipped, why);
            None
        }
    };
    std::iter::once(("sqlite", Ok(Db::Sqlite))).chain(pg)
}

/// A store, a simulated host and a worker with `guests` users and an empty
/// pool: what both the batch and the staged benchmarks start from.
pub struct Fleet {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub zvm: Arc<SimBackend>,
    pub worker: Worker,
    pub members: Vec<(String, Option<i64>)>,
    pub image_id: i64,
    pub clock: SharedClock,
}

/// `lans` LANs (a /22 each, 1021 guests) take the guests, each to the one
/// with the most free addresses.
pub fn fleet(
    db: &Db,
    guests: usize,
    lans: usize,
    method: CopyMethod,
    clock: SharedClock,
    sim: SimSettings,
) -> Result<Fleet, Box<dyn Error>> {
    let dir = tempfile::Builder::new()
        .prefix("herd-bench-batch-")
        .tempdir()?;
    let url = match db {
        Db::Sqlite => dir.path().join("herd.db").display().to_string(),
        Db::Postgres(pg) => pg.url.clone(),
    };
    let store = Store::open(&url, (CONCURRENCY * 2 + 4) as u32)?;
    let zvm = Arc::new(SimBackend::open(dir.path(), clock.clone(), sim)?);
    let mut conn = store.conn()?;
    let seed = Seed {
        lan: SeedLan {
            name: LAN.into(),
            cidr: "10.10.0.0/22".parse()?,
            dns: None,
        },
        image: SeedImage {
            name: IMAGE.into(),
            description: String::new(),
            size_bytes: (IMAGE_MIB * MIB) as i64,
            segment_size_bytes: (IMAGE_MIB * MIB) as i64,
        },
    };
    seed::apply(&mut conn, &seed, clock.now_ms())?;
    for n in 2..=lans {
        let (name, cidr, gateway) = (
            format!("LNXLAN{n}"),
            format!("10.{}.0.0/22", 9 + n),
            format!("10.{}.0.1", 9 + n),
        );
        let lan = NewLan {
            name: &name,
            cidr: &cidr,
            gateway: &gateway,
            dns: &gateway,
            capacity: 1021,
        };
        lans::insert(&mut conn, &lan, clock.now_ms())?;
    }
    bootstrap::prepare(&mut conn, &*zvm, dir.path())?;
    let pool = PoolSettings {
        target_size: 0,
        copy_method: method,
    };
    pool.save(&mut conn, clock.now_ms())?;
    let image_id = catalog::images(&mut conn)?
        .into_iter()
        .find(|i| i.name == IMAGE)
        .ok_or("the seeded image is missing")?
        .id;
    let mut members = Vec::with_capacity(guests);
    for i in 0..guests {
        let username = format!("student{i:04}");
        let new = NewLocalUser {
            username: &username,
            display_name: &username,
            role: Role::Student,
            password_hash: "unused",
        };
        let user = users::create_local(&mut conn, &new, clock.now_ms())?;
        members.push((username, Some(user.id)));
    }
    let settings = WorkerSettings {
        concurrency: CONCURRENCY,
        stale_after: Duration::from_secs(60),
        idle_wait: Duration::from_millis(10),
        pool_defaults: pool,
        pool_shape: PoolShape {
            lan: None,
            image: IMAGE.into(),
            name_prefix: "LX".into(),
            hostname_template: "{name}.example.edu".into(),
            memory_mb: 64,
        },
        guest_lifetime: Duration::from_secs(86_400),
        expiry_grace: Duration::from_secs(7 * 86_400),
        monitor: MonitorSettings::default(),
    };
    let worker = Worker::new(store.clone(), zvm.clone(), clock.clone(), settings)?;
    Ok(Fleet {
        _dir: dir,
        store,
        zvm,
        worker,
        members,
        image_id,
        clock,
    })
}

/// Time from creating a batch that gives each of the fleet's users one
/// guest, with an empty pool, to its job ending `succeeded`.
fn provision(db: Db, guests: usize, method: CopyMethod) -> Result<Duration, Box<dyn Error>> {
    let f = fleet(
        &db,
        guests,
        1,
        method,
        Arc::new(SystemClock),
        SimSettings::default(),
    )?;
    let took = run_batch(&f)?;
    Ok(took)
}

/// Runs one batch for every user of the fleet to its end.
pub fn run_batch(f: &Fleet) -> Result<Duration, Box<dyn Error>> {
    let (store, worker, clock, members, image_id) =
        (&f.store, &f.worker, &f.clock, &f.members, f.image_id);
    let guests = members.len();
    let mut conn = store.conn()?;

    let began = Instant::now();
    let new = NewBatch {
        requested_by: None,
        ldap_group: None,
        guests_per_user: 1,
        image_id,
        expires_at: None,
        users: members,
    };
    let batch = batches::create(&mut conn, &new, JobKind::Batch, clock.now_ms())?;
    loop {
        worker.tick()?;
        let job = jobs::find(&mut conn, batch.job_id)?.ok_or("the batch's job vanished")?;
        match job.status {
            JobStatus::Succeeded => break,
            JobStatus::Failed | JobStatus::Cancelled => {
                return Err(
                    format!("batch {}: {}", job.status, job.error.unwrap_or_default()).into(),
                )
            }
            _ if began.elapsed() > BATCH_TIMEOUT => {
                return Err(format!("batch still {} after {BATCH_TIMEOUT:?}", job.status).into())
            }
            _ => {}
        }
    }
    let took = began.elapsed();

    let cloned = batches::items(&mut conn, batch.id)?
        .iter()
        .filter(|i| i.status == ItemStatus::Cloned && i.guests().len() == 1)
        .count();
    if cloned != guests {
        return Err(format!("{cloned} of {guests} users got a cloned guest").into());
    }
    Ok(took)
}

/// The same FlashCopies on a bare simulated backend: no database, no saga,
/// one after the other.
fn raw_flashcopies(count: usize) -> Result<Duration, Box<dyn Error>> {
    let dir = tempfile::Builder::new()
        .prefix("herd-bench-batch-")
        .tempdir()?;
    let zvm = SimBackend::open(dir.path(), Arc::new(SystemClock), SimSettings::default())?;
    let file = dir.path().join("golden.img");
    write_synthetic_image(&file, IMAGE_MIB * MIB, 1)?;
    let image: ImageName = IMAGE.parse()?;
    zvm.import_disk(&DiskId::image(&image), &file)?;
    let source = DiskId::image(&image);
    let targets = (0..count)
        .map(|i| {
            let name: GuestName = format!("LX{:06}", i + 1).parse()?;
            zvm.add_user(&UserSpec {
                name: name.clone(),
                memory_mb: 64,
                services: Vec::new(),
            })?;
            Ok(DiskId::segment_of(&name))
        })
        .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
    let began = Instant::now();
    for target in &targets {
        zvm.clone_disk(&source, target, CopyMethod::FlashCopy)?;
    }
    Ok(began.elapsed())
}

/// `count` copies of an image file with `cp`, each followed by an fsync
/// (DDR ends with one too), one after the other.
fn cp_copies(count: usize) -> Result<Duration, Box<dyn Error>> {
    let dir = tempfile::Builder::new()
        .prefix("herd-bench-batch-")
        .tempdir()?;
    let file = dir.path().join("golden.img");
    write_synthetic_image(&file, IMAGE_MIB * MIB, 1)?;
    let began = Instant::now();
    for i in 0..count {
        cp_and_sync(&file, &dir.path().join(format!("copy{i}.img")))?;
    }
    Ok(began.elapsed())
}
