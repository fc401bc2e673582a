//! A reset (SPEC §8): the guest halted, its segment kept beside it at
//! another device number, a fresh copy of the image's segment template put
//! in its place with the guest's host key carried over; and the undo of a
//! reset, which puts the kept segment back. Name, address, LAN grant, tags
//! and directory entry are never touched.

use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

use super::disk_copy::copy_segment;
use super::teardown::delete_disk;
use super::{Progress, SagaStep, UndoableStep};
use crate::backend::{Backend, BackendError, CopyMethod, DiskId, ImageName, PowerState, Result};

/// A reset's or an undo's parameters, frozen into its job when queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPlan {
    pub guest: GuestName,
    pub image: ImageName,
    pub method: CopyMethod,
    pub new_host_key: bool,
    /// Boot it at the end: it was running, or is `auto_boot`.
    pub boot: bool,
    /// A HALT not done by then is followed by a FORCE.
    pub halt_timeout_ms: i64,
    /// How long the replaced segment is kept, from the reset's end.
    pub keep_ms: i64,
    /// The host key the kept segment holds (OpenSSH), as recorded when the
    /// reset was queued: what an undo records again.
    pub host_key: Option<String>,
    /// When the saga first ran (set by its first round).
    #[serde(default)]
    pub started_at: Option<Millis>,
}

/// One round of a reset's steps: the plan and the time.
pub struct ResetRun {
    pub plan: ResetPlan,
    pub now: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetStep {
    Halt,
    DropKept,
    KeepSegment,
    FreshSegment,
    CarryHostKey,
    RestoreSegment,
}

impl ResetStep {
    const RESET: [ResetStep; 5] = [
        ResetStep::Halt,
        ResetStep::DropKept,
        ResetStep::KeepSegment,
        ResetStep::FreshSegment,
        ResetStep::CarryHostKey,
    ];

    const UNDO: [ResetStep; 2] = [ResetStep::Halt, ResetStep::RestoreSegment];

    /// A reset's steps; the host key is carried over unless a new one was
    /// asked for (the guest then makes one at its next boot).
    pub fn reset(plan: &ResetPlan) -> Vec<ResetStep> {
        Self::RESET
            .into_iter()
            .filter(|s| *s != ResetStep::CarryHostKey || !plan.new_host_key)
            .collect()
    }

    pub fn undo_reset() -> Vec<ResetStep> {
        Self::UNDO.to_vec()
    }
}

impl SagaStep for ResetStep {
    type Params = ResetRun;

    fn name(self) -> &'static str {
        match self {
            ResetStep::Halt => "halt",
            ResetStep::DropKept => "drop_kept_segment",
            ResetStep::KeepSegment => "keep_segment",
            ResetStep::FreshSegment => "fresh_segment",
            ResetStep::CarryHostKey => "carry_host_key",
            ResetStep::RestoreSegment => "restore_segment",
        }
    }

    fn run(self, backend: &dyn Backend, run: &ResetRun) -> Result<Progress> {
        let plan = &run.plan;
        let (segment, kept) = disks(&plan.guest);
        match self {
            ResetStep::Halt => return halt(backend, run),
            // One undo point: the segment before the latest reset.
            ResetStep::DropKept => delete_disk(backend, &kept)?,
            ResetStep::KeepSegment => keep(backend, &segment, &kept)?,
            ResetStep::FreshSegment => {
                copy_segment(backend, &plan.image, &plan.guest, plan.method)?
            }
            ResetStep::CarryHostKey => backend.carry_host_key(&kept, &segment)?,
            ResetStep::RestoreSegment => put_back(backend, &segment, &kept)?,
        }
        Ok(Progress::Done)
    }
}

impl UndoableStep for ResetStep {
    fn undo(self, backend: &dyn Backend, run: &ResetRun) -> Result<()> {
        let (segment, kept) = disks(&run.plan.guest);
        match self {
            ResetStep::KeepSegment => put_back(backend, &segment, &kept),
            ResetStep::FreshSegment => delete_disk(backend, &segment),
            // The guest is booted again (or not) by the job's end; the
            // previous undo point is gone; a carried key goes with the
            // fresh segment; a restore cannot be taken back.
            ResetStep::Halt
            | ResetStep::DropKept
            | ResetStep::CarryHostKey
            | ResetStep::RestoreSegment => Ok(()),
        }
    }
}

fn disks(guest: &GuestName) -> (DiskId, DiskId) {
    (DiskId::segment_of(guest), DiskId::kept_segment_of(guest))
}

/// HALT, waiting while the services stop; FORCE once the HALT has taken
/// longer than the plan allows, or for a guest that cannot take a HALT
/// (booting, or in a disabled wait).
fn halt(backend: &dyn Backend, run: &ResetRun) -> Result<Progress> {
    let guest = &run.plan.guest;
    let started = run.plan.started_at.unwrap_or(run.now);
    let overdue = run.now - started >= run.plan.halt_timeout_ms;
    match backend.status(guest)?.power {
        PowerState::LoggedOff => return Ok(Progress::Done),
        PowerState::Running { .. } if !overdue => {
            // A hung guest ignores it; the FORCE follows after the timeout.
            backend.halt(guest)?;
            return Ok(Progress::Waiting);
        }
        PowerState::Stopping { .. } if !overdue => return Ok(Progress::Waiting),
        _ => backend.force(guest)?,
    }
    Ok(Progress::Done)
}

/// Files the segment at the kept device number; done already when only
/// the kept one is there.
fn keep(backend: &dyn Backend, segment: &DiskId, kept: &DiskId) -> Result<()> {
    match backend.disk_info(segment) {
        Ok(_) => backend.rename_disk(segment, kept),
        Err(BackendError::NotFound(_)) if backend.disk_info(kept).is_ok() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Puts the kept segment back in place of the current one; done already
/// when nothing is kept and a segment is there.
fn put_back(backend: &dyn Backend, segment: &DiskId, kept: &DiskId) -> Result<()> {
    match backend.disk_info(kept) {
        Ok(_) => {
            delete_disk(backend, segment)?;
            backend.rename_disk(kept, segment)
        }
        Err(BackendError::NotFound(_)) => backend.disk_info(segment).map(drop),
        Err(e) => Err(e),
    }
}
