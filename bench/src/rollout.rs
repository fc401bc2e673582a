//! Shared roots and rolling updates (SPEC §7), on the simulated host.
//!
//! Disk: the bytes the files of the simulated host's minidisks really take
//! on the file system (`st_blocks` × 512 of everything under
//! `<data dir>/zvm/disks`) once 500 guests are provisioned the way herd
//! does it (root version 1 linked, segment copied from the template by
//! FlashCopy or DDR), against 500 full copies of root + segment.
//!
//! Rollout: 500 running guests restarted onto a new root version by a
//! rollout job, driven by the worker (one tick per simulated second, as
//! the staged benchmark does), `adaptive` against `fixed` (15 every 30 s):
//! simulated time to the job's end, the most guests of the rollout in
//! flight and in transition at once, the steps at which the host stalled,
//! and the wall time the worker spent on it, against a staged restart
//! (staged stop, then staged start, adaptive) of the same 500 guests driven
//! the same way, and against idle ticks (500 guests running, no job).

use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herd_core::clock::{Clock, ManualClock, SharedClock, SystemClock};
use herd_core::domain::{GuestName, GuestState, JobKind, JobStatus};
use herd_core::store::{catalog, guests, jobs, write_tx};
use herd_provisioner::backend::sim::{write_synthetic_image, SimBackend, SimSettings};
use herd_provisioner::backend::{
    CopyMethod, Directory, DiskId, ImageName, Runtime, Storage, UserSpec,
};
use herd_provisioner::error::WorkerError;
use herd_provisioner::rollout::{self, Settings, Step};
use herd_provisioner::staged::{self, Pace};

use crate::batch::{fleet, run_batch, Db, Fleet};
use crate::{emit, BenchResult, Env};

const MIB: u64 = 1 << 20;
/// herd-server's defaults (`image_size_mb`, `image_segment_size_mb`).
const ROOT_MIB: u64 = 64;
const SEGMENT_MIB: u64 = 2;
const GUESTS: usize = 500;
/// The SPEC's rollout defaults.
const BATCH: u32 = 15;
const MIN_HEALTHY_PERCENT: u32 = 90;
const HEALTH_TIMEOUT_MS: i64 = 300_000;
const INTERVAL_MS: i64 = 30_000;
/// Simulated time per worker tick.
const STEP: Duration = Duration::from_secs(1);
/// Ticks of the idle baseline.
const IDLE_TICKS: usize = 100;
/// The fleet's image (see `batch::fleet`).
const IMAGE: &str = "golden";

fn record(metric: &str, value: f64, unit: &str) {
    emit("rollout", metric, value, unit);
}

pub fn run(_env: &Env) -> BenchResult {
    disk("flashcopy", CopyMethod::FlashCopy, false)?;
    disk("ddr", CopyMethod::Ddr, false)?;
    disk("flashcopy_written", CopyMethod::FlashCopy, true)?;
    rollouts()
}

/// 500 guests on one simulated host: each a directory entry linking root
/// version 1 and a segment copied from the template with `method`; with
/// `write`, each guest then writes 4 KiB into its segment (a FlashCopy
/// target's first write makes its overlay files).
fn disk(label: &str, method: CopyMethod, write: bool) -> BenchResult {
    let dir = tempfile::Builder::new()
        .prefix("herd-bench-rollout-")
        .tempdir()?;
    let zvm = SimBackend::open(dir.path(), Arc::new(SystemClock), SimSettings::default())?;
    let image: ImageName = IMAGE.parse()?;
    let root = DiskId::root(&image, 1);
    let template = DiskId::image(&image);
    // The source files lie outside `zvm/disks`: only the host's copies count.
    import(&zvm, &root, &dir.path().join("root.src"), ROOT_MIB * MIB, 1)?;
    import(
        &zvm,
        &template,
        &dir.path().join("segment.src"),
        SEGMENT_MIB * MIB,
        2,
    )?;
    let began = Instant::now();
    for i in 0..GUESTS {
        let name: GuestName = format!("LX{:06}", i + 1).parse()?;
        zvm.add_user(&UserSpec {
            name: name.clone(),
            memory_mb: 64,
            services: Vec::new(),
        })?;
        zvm.link_root(&name, &root)?;
        let segment = DiskId::segment_of(&name);
        zvm.clone_disk(&template, &segment, method)?;
        if write {
            zvm.write_disk(&segment, 0, &[0x5a; 4096])?;
        }
    }
    let took = began.elapsed();
    let used = allocated(&dir.path().join("zvm").join("disks"))?;
    let full = GUESTS as u64 * (ROOT_MIB + SEGMENT_MIB) * MIB;
    record(
        &format!("disk_500_{label}_bytes"),
        used as f64,
        "bytes allocated (root 64 MiB, segment 2 MiB)",
    );
    record(
        &format!("disk_500_{label}_baseline_bytes"),
        full as f64,
        "bytes: 500 x (root + segment)",
    );
    record(
        &format!("disk_500_{label}_percent"),
        used as f64 * 100.0 / full as f64,
        "% of baseline (goal < 5)",
    );
    record(
        &format!("disk_500_{label}_provision_s"),
        took.as_secs_f64(),
        "s (add_user + link_root + copy, 500 guests)",
    );
    Ok(())
}

fn import(zvm: &SimBackend, disk: &DiskId, file: &Path, size: u64, seed: u64) -> BenchResult {
    write_synthetic_image(file, size, seed)?;
    zvm.import_disk(disk, file)?;
    Ok(())
}

/// Bytes the file system allocated to the files under `dir`.
fn allocated(dir: &Path) -> Result<u64, Box<dyn Error>> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            allocated(&entry.path())?
        } else {
            meta.blocks() * 512
        };
    }
    Ok(total)
}

/// What one job's run looked like, step by step.
#[derive(Debug, Default)]
struct Run {
    sim_s: f64,
    /// Spent in the worker's ticks (the sampling between them left out).
    wall: Duration,
    ticks: usize,
    /// The host's guests booting or logging off (only this job's guests
    /// move in these runs).
    most_in_transition: u32,
    /// The rollout's own count: guests halting, booting on the new root
    /// until healthy, or reverting.
    most_in_flight: usize,
    stalled_steps: usize,
}

fn rollouts() -> BenchResult {
    let clock = Arc::new(ManualClock::starting_now());
    let shared: SharedClock = clock.clone();
    let f = fleet(
        &Db::Sqlite,
        GUESTS,
        1,
        CopyMethod::FlashCopy,
        shared,
        SimSettings::default(),
    )?;
    run_batch(&f)?;
    settle(&f, &clock)?;
    let threshold = f.zvm.host_load()?.stall_threshold;

    // What a tick costs with 500 guests running and no job: the part of
    // the wall times below that is not the jobs' own.
    let idle = Instant::now();
    for _ in 0..IDLE_TICKS {
        f.worker.tick()?;
        clock.advance(STEP);
    }
    record(
        "idle_wall_ms_per_tick",
        ms_per_tick(idle.elapsed(), IDLE_TICKS),
        "ms (500 guests running, no job)",
    );

    // The baseline for the wall time: the same guests restarted by the
    // staged operations herd had before rollouts.
    let stop = staged_job(&f, &clock, JobKind::StagedStop)?;
    let stop = drive(&f, &clock, stop, false)?;
    let start = staged_job(&f, &clock, JobKind::StagedStart)?;
    let start = drive(&f, &clock, start, false)?;
    settle(&f, &clock)?;
    let staged_wall = stop.wall + start.wall;
    let staged_sim = stop.sim_s + start.sim_s;
    record(
        "staged_restart_sim_s",
        staged_sim,
        "s (simulated; staged stop + staged start, adaptive)",
    );
    record(
        "staged_restart_wall_s",
        staged_wall.as_secs_f64(),
        "s (wall, worker ticks)",
    );
    record(
        "staged_restart_wall_ms_per_tick",
        ms_per_tick(staged_wall, stop.ticks + start.ticks),
        "ms",
    );

    let mut runs = Vec::new();
    for (version, pace, name) in [(2, Pace::Adaptive, "adaptive"), (3, Pace::Fixed, "fixed")] {
        publish(&f, &clock, version)?;
        let job = start_rollout(&f, &clock, version, pace)?;
        let run = drive(&f, &clock, job, true)?;
        check_succeeded(&f, job, version)?;
        settle(&f, &clock)?;
        record(
            &format!("rollout_{name}_sim_s"),
            run.sim_s,
            "s (simulated, 500 running guests)",
        );
        record(
            &format!("rollout_{name}_most_in_flight"),
            run.most_in_flight as f64,
            "guests (goal <= batch_size)",
        );
        record(
            &format!("rollout_{name}_most_in_transition"),
            f64::from(run.most_in_transition),
            "guests (host: booting or logging off)",
        );
        record(
            &format!("rollout_{name}_stalled_steps"),
            run.stalled_steps as f64,
            "steps (goal 0)",
        );
        record(
            &format!("rollout_{name}_wall_s"),
            run.wall.as_secs_f64(),
            "s (wall, worker ticks)",
        );
        runs.push(run);
    }
    let (adaptive, fixed) = (&runs[0], &runs[1]);
    record("batch_size", f64::from(BATCH), "guests");
    record("stall_threshold", f64::from(threshold), "guests");
    record(
        "rollout_adaptive_vs_fixed",
        adaptive.sim_s / fixed.sim_s,
        "ratio (lower is sooner; goal < 1)",
    );
    record(
        "rollout_wall_s",
        adaptive.wall.as_secs_f64(),
        "s (wall, adaptive rollout of 500 guests, worker ticks)",
    );
    record(
        "rollout_wall_ms_per_tick",
        ms_per_tick(adaptive.wall, adaptive.ticks),
        "ms",
    );
    record(
        "rollout_wall_vs_staged_restart",
        adaptive.wall.as_secs_f64() / staged_wall.as_secs_f64(),
        "ratio",
    );
    Ok(())
}

fn ms_per_tick(wall: Duration, ticks: usize) -> f64 {
    wall.as_secs_f64() * 1e3 / ticks.max(1) as f64
}

/// Ticks until every guest of the fleet runs (in the database: its
/// services came up and the worker saw it).
fn settle(f: &Fleet, clock: &ManualClock) -> BenchResult {
    for _ in 0..10_000 {
        let running = guests::in_states(&mut *f.store.conn()?, &[GuestState::Running])?.len();
        if running >= GUESTS {
            return Ok(());
        }
        f.worker.tick()?;
        clock.advance(STEP);
    }
    Err("guests did not all reach running".into())
}

/// A staged operation of every guest it applies to, adaptive.
fn staged_job(f: &Fleet, clock: &ManualClock, kind: JobKind) -> Result<i64, Box<dyn Error>> {
    let mut conn = f.store.conn()?;
    let targets = staged::targets(&mut conn, kind)?;
    if targets.len() != GUESTS {
        return Err(format!("{kind} of {} guests, not {GUESTS}", targets.len()).into());
    }
    let plan = staged::Plan::new(targets, BATCH, INTERVAL_MS, Pace::Adaptive, clock.now_ms());
    let params = serde_json::to_string(&plan)?;
    let new = jobs::NewJob {
        kind,
        requested_by: None,
        target: None,
        params: &params,
        total: GUESTS as i32,
    };
    Ok(jobs::create(&mut conn, &new, clock.now_ms())?)
}

/// Publishes root version `version` from the one before through a
/// `root_publish` job, run by the worker.
fn publish(f: &Fleet, clock: &ManualClock, version: i32) -> BenchResult {
    let mut conn = f.store.conn()?;
    let params = herd_provisioner::roots::PublishParams {
        image: IMAGE.into(),
        image_id: f.image_id,
        from: version - 1,
        version,
        label: format!("security update {version}"),
    };
    let params = serde_json::to_string(&params)?;
    let new = jobs::NewJob {
        kind: JobKind::RootPublish,
        requested_by: None,
        target: Some(IMAGE),
        params: &params,
        total: 1,
    };
    let job = jobs::create(&mut conn, &new, clock.now_ms())?;
    for _ in 0..100 {
        f.worker.tick()?;
        let job = jobs::find(&mut conn, job)?.ok_or("the publish job vanished")?;
        match job.status {
            JobStatus::Succeeded => return Ok(()),
            JobStatus::Failed | JobStatus::Cancelled => {
                let why = job.error.unwrap_or_default();
                return Err(format!("publishing version {version}: {why}").into());
            }
            _ => clock.advance(STEP),
        }
    }
    Err(format!("version {version} was not published").into())
}

/// Starts a rollout as the API does: plan and job in one transaction,
/// under the rollouts' lock.
fn start_rollout(
    f: &Fleet,
    clock: &ManualClock,
    version: i32,
    pace: Pace,
) -> Result<i64, Box<dyn Error>> {
    let settings = Settings {
        batch_size: BATCH,
        min_healthy_percent: MIN_HEALTHY_PERCENT,
        health_timeout_ms: HEALTH_TIMEOUT_MS,
        pace,
        interval_ms: INTERVAL_MS,
    };
    let now = clock.now_ms();
    let mut conn = f.store.conn()?;
    let (job, planned) = write_tx(&mut conn, |c| -> Result<_, WorkerError> {
        rollout::lock(c)?;
        let image = catalog::image_by_name(c, IMAGE)?
            .ok_or_else(|| WorkerError::Invalid(format!("no image {IMAGE}")))?;
        let plan = rollout::plan(c, &image, version, settings, now)?;
        let params =
            serde_json::to_string(&plan).map_err(|e| WorkerError::Invalid(e.to_string()))?;
        let new = jobs::NewJob {
            kind: JobKind::Rollout,
            requested_by: None,
            target: Some(IMAGE),
            params: &params,
            total: plan.guests.len() as i32,
        };
        Ok((jobs::create(c, &new, now)?, plan.guests.len()))
    })?;
    if planned != GUESTS {
        return Err(format!("the rollout plans {planned} restarts, not {GUESTS}").into());
    }
    Ok(job)
}

/// Ticks the worker, one simulated second apart, until the job ends
/// `succeeded`; looks at the host (and the rollout's plan) after each tick.
fn drive(f: &Fleet, clock: &ManualClock, job: i64, rollout: bool) -> Result<Run, Box<dyn Error>> {
    let mut conn = f.store.conn()?;
    let began = clock.now_ms();
    let mut run = Run::default();
    loop {
        let tick = Instant::now();
        f.worker.tick()?;
        run.wall += tick.elapsed();
        run.ticks += 1;
        let load = f.zvm.host_load()?;
        run.most_in_transition = run.most_in_transition.max(load.in_transition);
        if load.stalled_until.is_some() {
            run.stalled_steps += 1;
        }
        let job = jobs::find(&mut conn, job)?.ok_or("the job vanished")?;
        if rollout {
            let plan: rollout::Plan = serde_json::from_str(&job.params)?;
            let in_flight = plan
                .guests
                .iter()
                .filter(|e| {
                    matches!(
                        e.step,
                        Step::Halting { .. } | Step::Booting { .. } | Step::Reverting { .. }
                    )
                })
                .count();
            run.most_in_flight = run.most_in_flight.max(in_flight);
        }
        match job.status {
            JobStatus::Succeeded => break,
            JobStatus::Failed | JobStatus::Cancelled => {
                let why = job.error.unwrap_or_default();
                return Err(format!("{} job {}: {why}", job.kind, job.status).into());
            }
            _ => {}
        }
        clock.advance(STEP);
        if clock.now_ms() - began > 24 * 3_600_000 {
            return Err(format!("{} job did not finish in a simulated day", job.kind).into());
        }
    }
    run.sim_s = (clock.now_ms() - began) as f64 / 1000.0;
    Ok(run)
}

/// The rollout updated every guest, rolled none back, and made its version
/// the image's; every guest booted it.
fn check_succeeded(f: &Fleet, job: i64, version: i32) -> BenchResult {
    let mut conn = f.store.conn()?;
    let job = jobs::find(&mut conn, job)?.ok_or("the rollout's job vanished")?;
    let counts: rollout::Counts = serde_json::from_str(job.result.as_deref().unwrap_or("{}"))?;
    let expected = rollout::Counts {
        updated: GUESTS as u32,
        rolled_back: 0,
        pending: 0,
    };
    if counts != expected {
        return Err(format!("rollout to version {version} ended with {counts:?}").into());
    }
    let image = catalog::image_by_name(&mut conn, IMAGE)?.ok_or("the image vanished")?;
    if image.root_version != version {
        return Err(format!("the image boots version {}", image.root_version).into());
    }
    let image_root = DiskId::root(&IMAGE.parse()?, version as u32);
    for g in guests::of_image(&mut conn, f.image_id)? {
        let root = f.zvm.status(&g.name.parse()?)?.root;
        if g.root_version != Some(version) || root.as_ref() != Some(&image_root) {
            return Err(format!("{} did not boot version {version}", g.name).into());
        }
    }
    Ok(())
}
