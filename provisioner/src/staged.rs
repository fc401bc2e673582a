//! Staged start and stop of the fleet (SPEC §5): guests boot or log off in
//! batches, so the host never sees hundreds of transitions at once (the
//! original saw 500 logoffs at once freeze z/VM for 10–15 minutes).
//!
//! `fixed` follows the operator's schedule: up to `batch_size` guests every
//! `interval`, and never more than `batch_size` of them in transition.
//! `adaptive` ignores the interval and starts the next guests as soon as
//! the host's load leaves room under its stall threshold (with a margin),
//! still at most `batch_size` at a time: it finishes sooner on a quiet host
//! and holds back on a busy one.

use herd_core::clock::Millis;
use herd_core::domain::{GuestName, GuestState, JobKind, JobStatus};
use herd_core::store::{guests, jobs, serialize_in_tx, write_tx, AnyConnection};
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, BackendError, PowerState};
use crate::error::WorkerError;

const STAGED_LOCK: i64 = 0x6865_7264_7374; // "herdst"

/// How a staged operation paces its batches: `fixed` on a schedule,
/// `adaptive` as the host's load leaves room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pace {
    #[default]
    Fixed,
    Adaptive,
}

/// A staged operation's plan and progress, kept in its job's params.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub guests: Vec<String>,
    pub batch_size: u32,
    pub interval_ms: i64,
    pub pace: Pace,
    /// Guests already sent on their way.
    pub next: usize,
    pub next_at: Millis,
}

impl Plan {
    pub fn new(
        guests: Vec<String>,
        batch_size: u32,
        interval_ms: i64,
        pace: Pace,
        now: Millis,
    ) -> Self {
        Self {
            guests,
            batch_size: batch_size.max(1),
            interval_ms,
            pace,
            next: 0,
            next_at: now,
        }
    }
}

/// The guests a staged start boots: owned, `auto_boot`, stopped; a staged
/// stop halts every guest that runs.
pub fn targets(conn: &mut AnyConnection, kind: JobKind) -> Result<Vec<String>, WorkerError> {
    let rows = if kind == JobKind::StagedStart {
        guests::in_states(conn, &[GuestState::Stopped])?
            .into_iter()
            .filter(|g| g.owner_id.is_some() && g.auto_boot)
            .collect::<Vec<_>>()
    } else {
        guests::in_states(
            conn,
            &[
                GuestState::Running,
                GuestState::Starting,
                GuestState::Unresponsive,
            ],
        )?
    };
    Ok(rows.into_iter().map(|g| g.name).collect())
}

/// A new staged operation cancels the unfinished ones of the other kind:
/// the operator's latest word wins, and a boot must not race a stop (a stop
/// at shutdown left unfinished by a crash, then a start at boot).
pub fn supersede(
    conn: &mut AnyConnection,
    kind: JobKind,
    now: Millis,
) -> Result<Vec<i64>, WorkerError> {
    let other = if kind == JobKind::StagedStart {
        JobKind::StagedStop
    } else {
        JobKind::StagedStart
    };
    write_tx(conn, |c| {
        serialize_in_tx(c, STAGED_LOCK)?;
        let mut cancelled = Vec::new();
        for job in jobs::unfinished(c, other)? {
            let why = format!("superseded by a {kind}");
            jobs::finish(c, job.id, JobStatus::Cancelled, Some(&why), now)?;
            cancelled.push(job.id);
        }
        Ok(cancelled)
    })
}

/// Advances one staged job as far as its pace allows now; true when done.
pub fn advance(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    job: &jobs::Job,
    now: Millis,
) -> Result<bool, WorkerError> {
    write_tx(conn, |c| {
        serialize_in_tx(c, STAGED_LOCK)?;
        // Re-read under the lock: another process may have advanced it.
        let Some(job) = jobs::find(c, job.id)?.filter(|j| !j.status.is_finished()) else {
            return Ok(true);
        };
        jobs::mark_running(c, job.id, now)?;
        let mut plan: Plan = serde_json::from_str(&job.params).map_err(|e| {
            WorkerError::Invalid(format!("job {} has an unreadable plan: {e}", job.id))
        })?;
        let starting = job.kind == JobKind::StagedStart;
        let in_flight = in_transition(backend, &plan)?;
        if plan.next < plan.guests.len() && now >= plan.next_at {
            let room = room(backend, &plan, in_flight)?;
            let end = (plan.next + room).min(plan.guests.len());
            for name in &plan.guests[plan.next..end] {
                send(c, backend, name, starting, now)?;
            }
            if end > plan.next {
                plan.next = end;
                plan.next_at = match plan.pace {
                    Pace::Fixed => now + plan.interval_ms,
                    Pace::Adaptive => now,
                };
            }
        }
        let done = plan.next >= plan.guests.len() && in_transition(backend, &plan)? == 0;
        jobs::set_params(c, job.id, &serde_json::to_string(&plan).unwrap_or_default())?;
        let settled = plan.next.saturating_sub(in_transition(backend, &plan)?);
        jobs::set_progress(c, job.id, settled as i32, plan.guests.len() as i32)?;
        if done {
            jobs::finish(c, job.id, JobStatus::Succeeded, None, now)?;
        }
        Ok(done)
    })
}

/// Guests of this plan already sent and still booting or logging off.
fn in_transition(backend: &dyn Backend, plan: &Plan) -> Result<usize, WorkerError> {
    let mut n = 0;
    for name in &plan.guests[..plan.next] {
        let Ok(g) = name.parse::<GuestName>() else {
            continue;
        };
        match backend.status(&g) {
            Ok(s)
                if matches!(
                    s.power,
                    PowerState::Booting { .. } | PowerState::Stopping { .. }
                ) =>
            {
                n += 1
            }
            Ok(_) | Err(BackendError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(n)
}

/// How many more guests may go now.
fn room(backend: &dyn Backend, plan: &Plan, in_flight: usize) -> Result<usize, WorkerError> {
    let by_batch = (plan.batch_size as usize).saturating_sub(in_flight);
    Ok(match plan.pace {
        Pace::Fixed => by_batch,
        Pace::Adaptive => by_batch.min(crate::backend::host_room(backend)?),
    })
}

fn send(
    c: &mut AnyConnection,
    backend: &dyn Backend,
    name: &str,
    starting: bool,
    now: Millis,
) -> Result<(), WorkerError> {
    let Ok(g) = name.parse::<GuestName>() else {
        return Ok(());
    };
    let Some(guest) = guests::find_by_name(c, name)? else {
        return Ok(());
    };
    // A reset under way halts the guest and boots it itself.
    if crate::reset::holding(c, name)?.is_some() {
        return Ok(());
    }
    if starting {
        crate::power::ensure_booting(c, backend, guest.row.id, &g)?;
    } else {
        match backend.halt(&g) {
            // Already down: nothing to do for this one.
            Ok(_) | Err(BackendError::InvalidState { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let state = if starting {
        GuestState::Starting
    } else {
        GuestState::Stopping
    };
    guests::set_state(c, guest.row.id, state, now)?;
    Ok(())
}
