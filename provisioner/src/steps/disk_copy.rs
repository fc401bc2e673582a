//! The guest's segment, copied from the image's segment template by
//! FlashCopy or DDR (the root is shared, linked at IPL).

use super::GuestPlan;
use herd_core::domain::GuestName;

use crate::backend::{Backend, BackendError, CopyMethod, DiskId, DiskStatus, ImageName, Result};

pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    copy_segment(backend, &plan.image, &plan.name, plan.method)
}

/// Makes the guest's segment a copy of the image's segment template,
/// unless a copy is there already (a run that died before recording it).
pub fn copy_segment(
    backend: &dyn Backend,
    image: &ImageName,
    guest: &GuestName,
    method: CopyMethod,
) -> Result<()> {
    let target = DiskId::segment_of(guest);
    match backend.disk_info(&target) {
        Ok(info) if info.status == DiskStatus::Ready => return Ok(()),
        // A copy that died half-way: start it again from scratch.
        Ok(_) => backend.delete_disk(&target)?,
        Err(BackendError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    backend
        .clone_disk(&DiskId::image(image), &target, method)
        .map(drop)
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    super::teardown::delete_disks(backend, &plan.name)
}
