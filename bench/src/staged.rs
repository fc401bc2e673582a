//! Staged start of 500 guests (SPEC §5) on the simulated host with its
//! default (quick) timings and contention model, in simulated time: the
//! fixed schedule (15 guests every 30 s) as the baseline against the
//! adaptive pace, which starts the next guests as soon as the host's load
//! leaves room. Also the most guests seen in transition at once, against
//! the host's stall threshold.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{Clock, ManualClock, SharedClock};
use herd_core::domain::{GuestState, JobKind, JobStatus};
use herd_core::store::{guests, jobs};
use herd_provisioner::backend::sim::SimSettings;
use herd_provisioner::backend::{CopyMethod, Runtime};
use herd_provisioner::staged::{self, Pace, Plan};

use crate::batch::{fleet, run_batch, Db, Fleet};
use crate::{emit, BenchResult, Env};

const GUESTS: usize = 500;
const BATCH: u32 = 15;
const INTERVAL_MS: i64 = 30_000;
/// Simulated time per worker tick.
const STEP: Duration = Duration::from_secs(1);

pub fn run(_env: &Env) -> BenchResult {
    let mut seconds = Vec::new();
    let threshold = staged_starts(
        GUESTS,
        1,
        &[Pace::Fixed, Pace::Adaptive],
        |pace, s, most| {
            let name = pace_name(pace);
            emit(
                "staged",
                &format!("start_500_{name}_seconds"),
                s,
                "s (simulated)",
            );
            emit(
                "staged",
                &format!("start_500_{name}_most_in_transition"),
                most as f64,
                "guests",
            );
            seconds.push(s);
        },
    )?;
    emit("staged", "stall_threshold", f64::from(threshold), "guests");
    emit(
        "staged",
        "adaptive_vs_fixed",
        seconds[1] / seconds[0],
        "ratio (lower is sooner)",
    );
    Ok(())
}

pub fn pace_name(pace: Pace) -> &'static str {
    match pace {
        Pace::Fixed => "fixed",
        Pace::Adaptive => "adaptive",
    }
}

/// A fleet of `guests` over `lans` LANs, booted by its batch, then for each
/// pace stopped (adaptive) and started again with it: `each` gets the
/// pace, the simulated seconds the start took and the most guests seen in
/// transition at once. Answers the host's stall threshold.
pub fn staged_starts(
    guests: usize,
    lans: usize,
    paces: &[Pace],
    mut each: impl FnMut(Pace, f64, usize),
) -> Result<u32, Box<dyn Error>> {
    let clock = Arc::new(ManualClock::starting_now());
    let shared: SharedClock = clock.clone();
    let f = fleet(
        &Db::Sqlite,
        guests,
        lans,
        CopyMethod::FlashCopy,
        shared,
        SimSettings::default(),
    )?;
    run_batch(&f)?;
    settle(&f, &clock, GuestState::Running)?;
    for &pace in paces {
        staged_run(&f, &clock, JobKind::StagedStop, Pace::Adaptive)?;
        let (seconds, most) = staged_run(&f, &clock, JobKind::StagedStart, pace)?;
        each(pace, seconds, most);
    }
    Ok(f.zvm.host_load()?.stall_threshold)
}

/// Ticks until every guest of the fleet is in `state` (after the batch, the
/// boots it started).
fn settle(f: &Fleet, clock: &ManualClock, state: GuestState) -> Result<(), Box<dyn Error>> {
    for _ in 0..10_000 {
        let done = guests::in_states(&mut *f.store.conn()?, &[state])?.len();
        if done >= f.members.len() {
            return Ok(());
        }
        f.worker.tick()?;
        clock.advance(STEP);
    }
    Err(format!("guests did not all reach {}", state.as_str()).into())
}

/// Runs one staged operation to its end; simulated seconds taken and the
/// most guests booting or logging off at once.
fn staged_run(
    f: &Fleet,
    clock: &ManualClock,
    kind: JobKind,
    pace: Pace,
) -> Result<(f64, usize), Box<dyn Error>> {
    let mut conn = f.store.conn()?;
    let targets = staged::targets(&mut conn, kind)?;
    let plan = Plan::new(targets.clone(), BATCH, INTERVAL_MS, pace, clock.now_ms());
    let params = serde_json::to_string(&plan)?;
    let new = jobs::NewJob {
        kind,
        requested_by: None,
        target: None,
        params: &params,
        total: targets.len() as i32,
    };
    let job = jobs::create(&mut conn, &new, clock.now_ms())?;
    let began = clock.now_ms();
    let mut most = 0;
    while jobs::find(&mut conn, job)?.ok_or("job vanished")?.status != JobStatus::Succeeded {
        f.worker.tick()?;
        let load = f.zvm.host_load()?;
        most = most.max(load.in_transition as usize);
        clock.advance(STEP);
        if clock.now_ms() - began > 24 * 3_600_000 {
            return Err("staged operation did not finish in a simulated day".into());
        }
    }
    Ok(((clock.now_ms() - began) as f64 / 1000.0, most))
}
