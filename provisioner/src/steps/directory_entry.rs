//! DIRMAINT ADD of the guest, linking its root version.

use super::GuestPlan;
use crate::backend::{Backend, BackendError, DiskId, Result, UserSpec};

pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    let spec = UserSpec {
        name: plan.name.clone(),
        memory_mb: plan.memory_mb,
        services: plan.services.clone(),
    };
    match backend.add_user(&spec) {
        // The name was reserved for this guest in the database, so an entry
        // under it is ours, from a run that died before recording success.
        Err(BackendError::AlreadyExists(_)) | Ok(()) => {}
        Err(e) => return Err(e),
    }
    backend.link_root(&plan.name, &DiskId::root(&plan.image, plan.root_version))
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    super::teardown::delete_entry(backend, &plan.name)
}
