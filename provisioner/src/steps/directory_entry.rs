//! DIRMAINT ADD of the guest.

use super::GuestPlan;
use crate::backend::{Backend, BackendError, Result, UserSpec};

pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    let spec = UserSpec {
        name: plan.name.clone(),
        memory_mb: plan.memory_mb,
        services: plan.services.clone(),
    };
    match backend.add_user(&spec) {
        // The name was reserved for this guest in the database, so an entry
        // under it is ours, from a run that died before recording success.
        Err(BackendError::AlreadyExists(_)) => Ok(()),
        other => other,
    }
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    super::teardown::delete_entry(backend, &plan.name)
}
