//! Rollouts (SPEC §7): an image's guests brought to a root version. Every
//! guest's target changes at once; the running ones are restarted in
//! batches (HALT, then IPL on the new root), each checked for health within
//! a timeout and rolled back to the version it ran before when it fails.
//! The first batch is the canary; the rollout stops when the rollbacks
//! pass the budget `min_healthy_percent` leaves.
//!
//! The plan, with every guest's step, lives in the job's params and is
//! advanced under one lock by the rollout follower, one transaction a
//! round: a crash resumes where the last round left it, within the same
//! bounds, since the guests in flight are counted from the plan and each
//! step first looks at what the hypervisor says the guest is doing.
//!
//! `fixed` starts a batch `interval` after the previous one settled;
//! `adaptive` keeps up to `batch_size` guests restarting, refilling as each
//! settles, and never more than the host's load leaves room for (as staged
//! operations do). Both wait for the whole canary first.

use herd_core::clock::Millis;
use herd_core::domain::{EventKind, GuestName, GuestState, JobKind, JobStatus};
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::{guests, jobs, roots, serialize_in_tx, write_tx, AnyConnection};
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, BackendError, DiskId, GuestStatus, ImageName, PowerState};
use crate::error::WorkerError;
use crate::staged::Pace;

const ROLLOUT_LOCK: i64 = 0x6865_7264_726f; // "herdro"

/// How a rollout goes, as asked (with the SPEC's defaults).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Settings {
    pub batch_size: u32,
    pub min_healthy_percent: u32,
    pub health_timeout_ms: i64,
    pub pace: Pace,
    pub interval_ms: i64,
}

/// Where one running guest is in its restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Pending,
    /// HALT sent; IPL on the new root once logged off.
    Halting {
        since: Millis,
    },
    /// IPL'd on the new root; healthy or rolled back by `ipl_at` + timeout.
    Booting {
        ipl_at: Millis,
    },
    Updated,
    /// Unhealthy: going back to the version it ran before.
    Reverting {
        since: Millis,
    },
    /// IPL'd again on the version it ran before; rolled back once it runs
    /// (or the timeout passed), and down until then.
    Recovering {
        ipl_at: Millis,
    },
    RolledBack,
    /// No longer running when its turn came (stopped meanwhile, or gone):
    /// it boots its target at its next IPL, like any logged-off guest.
    Skipped,
}

impl Step {
    fn in_flight(self) -> bool {
        matches!(
            self,
            Self::Halting { .. }
                | Self::Booting { .. }
                | Self::Reverting { .. }
                | Self::Recovering { .. }
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub guest_id: i64,
    /// The version it ran before: what a rollback boots.
    pub from: i32,
    pub step: Step,
    /// Why it was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// A rollout's plan and progress, kept in its job's params.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub image_id: i64,
    pub image: String,
    pub version: i32,
    /// The image's `root_version` when the rollout began: the target a
    /// guest that never booted returns to.
    pub previous: i32,
    pub settings: Settings,
    /// The guests running at the start that need a restart, in the order
    /// they restart.
    pub guests: Vec<Entry>,
    /// All guests running at the start, those already on the version too:
    /// `min_healthy_percent` is of these.
    #[serde(default)]
    pub running: usize,
    /// The first this many guests are the canary batch.
    pub canary: usize,
    /// Guests sent on their way so far.
    pub launched: usize,
    /// When the next batch may start; `None` while one is in flight.
    pub next_at: Option<Millis>,
    /// Set when the rollout stops early: why (the job's error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    #[serde(default)]
    pub cancelled: bool,
}

/// The job's `result`: counts of the guests to restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub updated: u32,
    pub rolled_back: u32,
    /// Not restarted yet.
    pub pending: u32,
}

impl Plan {
    fn count(&self, step: Step) -> usize {
        self.guests.iter().filter(|e| e.step == step).count()
    }

    fn in_flight(&self) -> usize {
        self.guests.iter().filter(|e| e.step.in_flight()).count()
    }

    /// Guests still to restart (the skipped ones need not be).
    fn total(&self) -> usize {
        self.guests.len() - self.count(Step::Skipped)
    }

    /// How many may be down at once: `min_healthy_percent` of those running
    /// at the start stay up, but one at a time always may go.
    fn most_down(&self) -> usize {
        let n = self.running.max(self.guests.len());
        let healthy = (n * self.settings.min_healthy_percent as usize).div_ceil(100);
        (self.settings.batch_size as usize)
            .min(n.saturating_sub(healthy))
            .max(1)
    }

    pub fn counts(&self) -> Counts {
        let updated = self.count(Step::Updated) as u32;
        let rolled_back = self.count(Step::RolledBack) as u32;
        Counts {
            updated,
            rolled_back,
            pending: (self.total() as u32).saturating_sub(updated + rolled_back),
        }
    }

    fn canary_settled(&self) -> bool {
        self.guests[..self.canary.min(self.guests.len())]
            .iter()
            .all(|e| !e.step.in_flight() && e.step != Step::Pending)
    }

    /// The reason to stop now, if the rollbacks say so.
    fn verdict(&self) -> Option<String> {
        let canary = &self.guests[..self.canary.min(self.guests.len())];
        if let Some(e) = canary.iter().find(|e| e.step == Step::RolledBack) {
            return Some(format!(
                "canary failed: {} rolled back ({})",
                e.name,
                e.why.as_deref().unwrap_or("unhealthy")
            ));
        }
        let rolled_back = self.count(Step::RolledBack);
        let budget = 100 - self.settings.min_healthy_percent.min(100) as usize;
        (rolled_back * 100 > budget * self.total()).then(|| {
            format!(
                "{rolled_back} of {} guests rolled back, more than the {budget} % \
                 min_healthy_percent allows",
                self.total()
            )
        })
    }
}

/// Serializes rollouts' changes (starting one, a round, a cancel) for the
/// rest of the transaction.
pub fn lock(conn: &mut AnyConnection) -> Result<(), WorkerError> {
    Ok(serialize_in_tx(conn, ROLLOUT_LOCK)?)
}

/// Whether the image has a rollout that has not finished.
pub fn unfinished_of(conn: &mut AnyConnection, image: &str) -> Result<Option<i64>, WorkerError> {
    Ok(jobs::unfinished(conn, JobKind::Rollout)?
        .into_iter()
        .find(|j| j.target.as_deref() == Some(image))
        .map(|j| j.id))
}

/// Sets every guest's target and plans the restarts of those running; the
/// caller holds the transaction and the [`lock`], and creates the job.
/// Owners are told.
pub fn plan(
    conn: &mut AnyConnection,
    image: &herd_core::store::catalog::Image,
    version: i32,
    settings: Settings,
    now: Millis,
) -> Result<Plan, WorkerError> {
    roots::target_all(conn, image.id, version)?;
    let mut guests = Vec::new();
    let mut running = 0;
    for g in guests::of_image(conn, image.id)? {
        if g.owner_id.is_some() {
            let work = work(&g);
            let detail = format!("root version {version} of {}", image.name);
            work.record(conn, "rollout.scheduled", Outcome::Info, Some(&detail), now)?;
        }
        let up = matches!(g.state, GuestState::Running | GuestState::Starting);
        running += usize::from(up);
        if up && g.root_version != Some(version) {
            guests.push(Entry {
                name: g.name.clone(),
                guest_id: g.id,
                from: g.root_version.unwrap_or(image.root_version),
                step: Step::Pending,
                why: None,
            });
        }
    }
    let mut plan = Plan {
        image_id: image.id,
        image: image.name.clone(),
        version,
        previous: image.root_version,
        settings,
        guests,
        running,
        canary: 0,
        launched: 0,
        next_at: Some(now),
        stop: None,
        cancelled: false,
    };
    plan.canary = plan.most_down().min(plan.guests.len());
    Ok(plan)
}

fn work(g: &guests::GuestRow) -> GuestWork<'_> {
    GuestWork {
        kind: EventKind::Rollout,
        guest_id: g.id,
        guest: &g.name,
    }
}

fn entry_work(e: &Entry) -> GuestWork<'_> {
    GuestWork {
        kind: EventKind::Rollout,
        guest_id: e.guest_id,
        guest: &e.name,
    }
}

/// The unfinished rollout that has yet to restart the guest named `name`,
/// or is restarting it now, if any. Call it under [`lock`].
pub fn holding(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, WorkerError> {
    for job in jobs::unfinished(conn, JobKind::Rollout)? {
        let plan = read_plan(&job)?;
        // A stopping rollout restarts no one new.
        let holds = plan.guests.iter().any(|e| {
            e.name == name
                && (e.step.in_flight() || (e.step == Step::Pending && plan.stop.is_none()))
        });
        if holds {
            return Ok(Some(job.id));
        }
    }
    Ok(None)
}

/// Asks a rollout to stop: no guest is restarted any more, those in flight
/// finish their restart, the others keep their current version. Answers
/// false when the job is not an unfinished rollout.
pub fn cancel(conn: &mut AnyConnection, job_id: i64) -> Result<bool, WorkerError> {
    write_tx(conn, |c| {
        serialize_in_tx(c, ROLLOUT_LOCK)?;
        let Some(job) = jobs::find(c, job_id)?.filter(|j| !j.status.is_finished()) else {
            return Ok(false);
        };
        let mut plan = read_plan(&job)?;
        // One already stopping (its canary failed) ends as it would have.
        if plan.stop.is_none() {
            plan.cancelled = true;
            plan.stop = Some("cancelled".into());
        }
        jobs::set_params(c, job.id, &to_json(&plan)?)?;
        Ok(true)
    })
}

fn read_plan(job: &jobs::Job) -> Result<Plan, WorkerError> {
    serde_json::from_str(&job.params)
        .map_err(|e| WorkerError::Invalid(format!("job {} has an unreadable plan: {e}", job.id)))
}

fn to_json<T: Serialize>(v: &T) -> Result<String, WorkerError> {
    serde_json::to_string(v).map_err(|e| WorkerError::Invalid(e.to_string()))
}

/// Advances one rollout as far as it can go now; true when it is done.
pub fn advance(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    job_id: i64,
    now: Millis,
) -> Result<bool, WorkerError> {
    write_tx(conn, |c| {
        serialize_in_tx(c, ROLLOUT_LOCK)?;
        let Some(job) = jobs::find(c, job_id)?.filter(|j| !j.status.is_finished()) else {
            return Ok(true);
        };
        jobs::mark_running(c, job.id, now)?;
        let mut plan = read_plan(&job)?;
        let image: ImageName = plan
            .image
            .parse()
            .map_err(|e| WorkerError::Invalid(format!("rollout {}: {e}", job.id)))?;
        let mut round = Round {
            c,
            backend,
            now,
            new_root: DiskId::root(&image, plan.version.max(1) as u32),
            timeout: plan.settings.health_timeout_ms,
        };
        for entry in plan.guests.iter_mut().filter(|e| e.step.in_flight()) {
            let followed = round.follow(entry);
            if let Some(refused) = refused(followed)? {
                round.give_up(entry, refused)?;
            }
        }
        if plan.stop.is_none() && plan.canary_settled() {
            plan.stop = plan.verdict();
        }
        if plan.stop.is_none() {
            launch(&mut round, &mut plan)?;
        }
        let done =
            plan.in_flight() == 0 && (plan.stop.is_some() || plan.launched >= plan.guests.len());
        let counts = plan.counts();
        jobs::set_params(c, job.id, &to_json(&plan)?)?;
        jobs::set_result(c, job.id, &to_json(&counts)?)?;
        let total = plan.total() as i32;
        jobs::set_progress(c, job.id, total - counts.pending as i32, total)?;
        if done {
            finish(c, &plan, job.id, now)?;
        }
        Ok(done)
    })
}

/// Starts the guests the pace and the bounds allow now.
fn launch(round: &mut Round<'_, '_>, plan: &mut Plan) -> Result<(), WorkerError> {
    let in_flight = plan.in_flight();
    let canary_done = plan.launched >= plan.canary && plan.canary_settled();
    let room = if plan.launched < plan.canary {
        plan.canary - plan.launched
    } else if !canary_done {
        0
    } else {
        match plan.settings.pace {
            // A batch at a time, `interval` after the previous one settled.
            Pace::Fixed => match plan.next_at {
                None if in_flight == 0 => {
                    plan.next_at = Some(round.now + plan.settings.interval_ms);
                    0
                }
                Some(at) if at <= round.now && in_flight == 0 => plan.most_down(),
                _ => 0,
            },
            Pace::Adaptive => plan.most_down().saturating_sub(in_flight),
        }
    };
    let room = match plan.settings.pace {
        Pace::Adaptive => room.min(crate::backend::host_room(round.backend)?),
        Pace::Fixed => room,
    };
    let end = (plan.launched + room).min(plan.guests.len());
    if end > plan.launched {
        for entry in &mut plan.guests[plan.launched..end] {
            if let Some(refused) = refused(round.start(entry))? {
                entry.why = Some(format!("not restarted: {refused}"));
                entry.step = Step::Skipped;
            }
        }
        plan.launched = end;
        plan.next_at = None;
        if plan.launched <= plan.canary {
            fill_canary(plan);
        }
    }
    Ok(())
}

/// Canary guests skipped (stopped meanwhile) are replaced by the next
/// ones, so that the canary restarts as many guests as a batch.
fn fill_canary(plan: &mut Plan) {
    let size = plan.most_down();
    let counted = |p: &Plan, end: usize| {
        p.guests[..end]
            .iter()
            .filter(|e| e.step != Step::Skipped)
            .count()
    };
    while plan.canary < plan.guests.len() && counted(plan, plan.canary) < size {
        plan.canary += 1;
    }
}

/// Ends the rollout: the guests it did not restart keep their current
/// version unless it succeeded; a success makes the version the image's.
fn finish(c: &mut AnyConnection, plan: &Plan, job_id: i64, now: Millis) -> Result<(), WorkerError> {
    match &plan.stop {
        None => {
            roots::set_image_root_version(c, plan.image_id, plan.version)?;
            target_newcomers(c, plan)?;
            jobs::finish(c, job_id, JobStatus::Succeeded, None, now)?;
        }
        Some(why) => {
            restore_targets(c, plan)?;
            let status = if plan.cancelled {
                JobStatus::Cancelled
            } else {
                JobStatus::Failed
            };
            jobs::finish(c, job_id, status, Some(why), now)?;
        }
    }
    Ok(())
}

/// Guests made while the rollout ran got the image's version of then: after
/// a success they boot the new one at their next IPL, as the others do
/// (those rolled back excepted).
fn target_newcomers(c: &mut AnyConnection, plan: &Plan) -> Result<(), WorkerError> {
    let rolled_back: Vec<i64> = plan
        .guests
        .iter()
        .filter(|e| e.step == Step::RolledBack)
        .map(|e| e.guest_id)
        .collect();
    for g in guests::of_image(c, plan.image_id)? {
        if g.target_root_version == plan.previous && !rolled_back.contains(&g.id) {
            roots::set_target(c, g.id, plan.version)?;
        }
    }
    Ok(())
}

/// What the hypervisor refused for one guest: that guest's outcome, not
/// the round's (the database's errors still are).
fn refused(result: Result<(), WorkerError>) -> Result<Option<BackendError>, WorkerError> {
    match result {
        Ok(()) => Ok(None),
        Err(WorkerError::Backend(e)) => Ok(Some(e)),
        Err(e) => Err(e),
    }
}

/// Guests not restarted by a stopped rollout go back to the version they
/// run (never booted: the image's), unless they booted the new one since.
fn restore_targets(c: &mut AnyConnection, plan: &Plan) -> Result<(), WorkerError> {
    let restarted: Vec<i64> = plan
        .guests
        .iter()
        .filter(|e| matches!(e.step, Step::Updated | Step::RolledBack))
        .map(|e| e.guest_id)
        .collect();
    for g in guests::of_image(c, plan.image_id)? {
        if g.target_root_version != plan.version
            || g.root_version == Some(plan.version)
            || restarted.contains(&g.id)
        {
            continue;
        }
        roots::set_target(c, g.id, g.root_version.unwrap_or(plan.previous))?;
    }
    Ok(())
}

/// One round's work on the guests in flight.
struct Round<'c, 'b> {
    c: &'c mut AnyConnection,
    backend: &'b dyn Backend,
    now: Millis,
    new_root: DiskId,
    timeout: i64,
}

impl Round<'_, '_> {
    fn status(&self, entry: &Entry) -> Result<Option<(GuestName, GuestStatus)>, WorkerError> {
        let Ok(name) = entry.name.parse::<GuestName>() else {
            return Ok(None);
        };
        match self.backend.status(&name) {
            Ok(s) => Ok(Some((name, s))),
            Err(BackendError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends a guest on its restart, or finds where a crashed round had
    /// sent it.
    fn start(&mut self, entry: &mut Entry) -> Result<(), WorkerError> {
        let Some((name, status)) = self.status(entry)? else {
            entry.step = Step::Skipped;
            return Ok(());
        };
        // Being reset: the reset boots its target, the new version.
        if crate::reset::holding(self.c, &entry.name)?.is_some() {
            entry.step = Step::Skipped;
            return Ok(());
        }
        entry.step = match status.power {
            PowerState::Running { .. } if status.root.as_ref() == Some(&self.new_root) => {
                Step::Booting { ipl_at: self.now }
            }
            PowerState::Running { .. } => {
                self.shut_down(entry.guest_id, &name)?;
                Step::Halting { since: self.now }
            }
            PowerState::Booting { .. } if status.root.as_ref() == Some(&self.new_root) => {
                Step::Booting { ipl_at: self.now }
            }
            // Halted once it is up (a booting guest cannot be).
            PowerState::Stopping { .. } | PowerState::Booting { .. } => {
                Step::Halting { since: self.now }
            }
            PowerState::LoggedOff | PowerState::DisabledWait { .. } => Step::Skipped,
        };
        Ok(())
    }

    /// HALT, or FORCE for a guest that does not answer it.
    fn shut_down(&mut self, guest_id: i64, name: &GuestName) -> Result<(), WorkerError> {
        match self.backend.halt(name) {
            Ok(Some(_)) => {}
            Ok(None) => self.backend.force(name)?,
            Err(BackendError::InvalidState { .. }) => self.backend.force(name)?,
            Err(e) => return Err(e.into()),
        }
        guests::set_state(self.c, guest_id, GuestState::Stopping, self.now)?;
        Ok(())
    }

    fn boot(&mut self, guest_id: i64, name: &GuestName) -> Result<(), WorkerError> {
        crate::power::ipl(self.c, self.backend, guest_id, name)?;
        guests::set_state(self.c, guest_id, GuestState::Starting, self.now)?;
        Ok(())
    }

    fn follow(&mut self, entry: &mut Entry) -> Result<(), WorkerError> {
        let Some((name, status)) = self.status(entry)? else {
            entry.step = Step::Skipped;
            return Ok(());
        };
        let now = self.now;
        match (entry.step, status.power) {
            // Being decommissioned meanwhile: not ours to boot any more.
            (Step::Halting { .. } | Step::Reverting { .. }, PowerState::LoggedOff)
                if self.going_away(entry)? =>
            {
                entry.step = Step::Skipped;
            }
            (Step::Halting { .. } | Step::Reverting { .. }, PowerState::LoggedOff) => {
                self.boot(entry.guest_id, &name)?;
                entry.step = match entry.step {
                    Step::Reverting { .. } => Step::Recovering { ipl_at: now },
                    _ => Step::Booting { ipl_at: now },
                };
            }
            (Step::Recovering { ipl_at }, power) => {
                let up = matches!(power, PowerState::Running { .. });
                if up || now - ipl_at >= self.timeout {
                    self.rolled_back(entry)?;
                }
            }
            // A HALT that takes too long, or a guest that cannot go down.
            (Step::Halting { since } | Step::Reverting { since }, PowerState::Stopping { .. })
                if now - since >= self.timeout =>
            {
                self.backend.force(&name)?
            }
            (
                Step::Halting { .. } | Step::Reverting { .. },
                PowerState::Stopping { .. } | PowerState::Booting { .. },
            ) => {}
            (Step::Halting { .. } | Step::Reverting { .. }, _) => {
                self.shut_down(entry.guest_id, &name)?
            }
            (Step::Booting { ipl_at }, power) => match unhealthy(&status) {
                None => {
                    entry.step = Step::Updated;
                    let detail = format!("now on {}", self.new_root);
                    entry_work(entry).record(
                        self.c,
                        "rollout.updated",
                        Outcome::Success,
                        Some(&detail),
                        now,
                    )?;
                }
                Some(why)
                    if now - ipl_at >= self.timeout
                        || matches!(power, PowerState::DisabledWait { .. }) =>
                {
                    self.roll_back(entry, &name, why)?
                }
                Some(_) => {}
            },
            _ => {}
        }
        Ok(())
    }

    fn going_away(&mut self, entry: &Entry) -> Result<bool, WorkerError> {
        let state = guests::find_by_name(self.c, &entry.name)?.map(|g| g.state());
        Ok(!matches!(
            state,
            Some(
                GuestState::Running
                    | GuestState::Starting
                    | GuestState::Stopping
                    | GuestState::Stopped
            )
        ))
    }

    fn rolled_back(&mut self, entry: &mut Entry) -> Result<(), WorkerError> {
        entry.step = Step::RolledBack;
        let why = entry.why.clone().unwrap_or_default();
        entry_work(entry).record(
            self.c,
            "rollout.rolled_back",
            Outcome::Warning,
            Some(&why),
            self.now,
        )?;
        Ok(())
    }

    /// A guest whose restart the hypervisor refused: it counts as rolled
    /// back (its target returns to the version it ran before), with why.
    fn give_up(&mut self, entry: &mut Entry, refused: BackendError) -> Result<(), WorkerError> {
        tracing::warn!(guest = %entry.name, error = %refused, "rollout: restart refused");
        entry.why = Some(format!("the hypervisor refused its restart: {refused}"));
        roots::set_target(self.c, entry.guest_id, entry.from)?;
        self.rolled_back(entry)
    }

    fn roll_back(
        &mut self,
        entry: &mut Entry,
        name: &GuestName,
        why: String,
    ) -> Result<(), WorkerError> {
        let secs = self.timeout / 1000;
        entry.why = Some(format!("{why} within {secs} s on {}", self.new_root));
        roots::set_target(self.c, entry.guest_id, entry.from)?;
        self.shut_down(entry.guest_id, name)?;
        entry.step = Step::Reverting { since: self.now };
        Ok(())
    }
}

/// Why a guest is not healthy yet: not running, or an enabled service not
/// up.
fn unhealthy(status: &GuestStatus) -> Option<String> {
    match status.power {
        PowerState::Running { .. } => {}
        PowerState::DisabledWait { .. } => return Some("IPL ended in a disabled wait".into()),
        _ => return Some("not running".into()),
    }
    let down: Vec<&str> = status
        .services
        .iter()
        .filter(|s| s.enabled && s.state != crate::backend::ServiceState::Up)
        .map(|s| s.name.as_str())
        .collect();
    (!down.is_empty()).then(|| format!("{} not up", down.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(restart: usize, running: usize, batch: u32, healthy: u32) -> Plan {
        let entry = |i: usize| Entry {
            name: format!("LX{i:06}"),
            guest_id: i as i64,
            from: 1,
            step: Step::Pending,
            why: None,
        };
        let mut p = Plan {
            image_id: 1,
            image: "golden".into(),
            version: 2,
            previous: 1,
            settings: Settings {
                batch_size: batch,
                min_healthy_percent: healthy,
                health_timeout_ms: 300_000,
                pace: Pace::Adaptive,
                interval_ms: 30_000,
            },
            guests: (0..restart).map(entry).collect(),
            running,
            canary: 0,
            launched: 0,
            next_at: Some(0),
            stop: None,
            cancelled: false,
        };
        p.canary = p.most_down().min(p.guests.len());
        p
    }

    #[test]
    fn the_healthy_floor_bounds_the_batch() {
        assert_eq!(plan(500, 500, 15, 90).most_down(), 15);
        // 10 running at 90 %: one at a time
        assert_eq!(plan(10, 10, 15, 90).most_down(), 1);
        // 50 % of 10: five may be down, the batch allows four
        assert_eq!(plan(10, 10, 4, 50).most_down(), 4);
        // guests already on the version count among the running
        assert_eq!(plan(5, 40, 15, 90).most_down(), 4);
        // one guest, 100 %: it may still go, alone
        assert_eq!(plan(1, 1, 15, 100).most_down(), 1);
    }

    #[test]
    fn a_rolled_back_canary_stops_at_once() {
        let mut p = plan(10, 10, 2, 50);
        assert_eq!(p.canary, 2);
        p.guests[0].step = Step::Updated;
        p.guests[1].step = Step::RolledBack;
        p.guests[1].why = Some("apache not up".into());
        let why = p.verdict().expect("stops");
        assert!(why.starts_with("canary failed: LX000001"), "{why}");
        assert!(why.contains("apache not up"), "{why}");
    }

    #[test]
    fn rollbacks_stop_once_past_the_budget() {
        // 75 % healthy of 8: two rollbacks are the budget, a third is past it
        let mut p = plan(8, 8, 1, 75);
        p.guests[0].step = Step::Updated;
        for i in [3, 5] {
            p.guests[i].step = Step::RolledBack;
        }
        assert_eq!(p.verdict(), None);
        p.guests[6].step = Step::RolledBack;
        let why = p.verdict().expect("stops");
        assert!(why.starts_with("3 of 8 guests rolled back"), "{why}");
        assert_eq!(
            p.counts(),
            Counts {
                updated: 1,
                rolled_back: 3,
                pending: 4
            }
        );
    }

    #[test]
    fn a_skipped_canary_guest_is_replaced() {
        let mut p = plan(10, 10, 2, 50);
        assert_eq!(p.canary, 2);
        p.guests[0].step = Step::Skipped;
        p.launched = 2;
        fill_canary(&mut p);
        assert_eq!(p.canary, 3, "two guests restart in the canary");
        for e in &mut p.guests[..6] {
            e.step = Step::Skipped;
        }
        fill_canary(&mut p);
        assert_eq!(p.canary, 8);
    }

    #[test]
    fn skipped_guests_leave_the_total() {
        let mut p = plan(4, 4, 2, 0);
        p.guests[1].step = Step::Skipped;
        p.guests[2].step = Step::Updated;
        assert_eq!(p.total(), 3);
        assert_eq!(
            p.counts(),
            Counts {
                updated: 1,
                rolled_back: 0,
                pending: 2
            }
        );
    }
}
