//! The guest's segment, copied from the image's segment template by
//! FlashCopy or DDR (the root is shared, linked at IPL).

use super::GuestPlan;
use crate::backend::{Backend, BackendError, DiskId, DiskStatus, Result};

pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    let target = DiskId::segment_of(&plan.name);
    match backend.disk_info(&target) {
        Ok(info) if info.status == DiskStatus::Ready => return Ok(()),
        // A copy that died half-way: start it again from scratch.
        Ok(_) => backend.delete_disk(&target)?,
        Err(BackendError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    backend
        .clone_disk(&DiskId::image(&plan.image), &target, plan.method)
        .map(drop)
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    super::teardown::delete_disks(backend, &plan.name)
}
