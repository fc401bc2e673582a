//! XAUTOLOG + IPL, for a guest that has an owner and `auto_boot`.

use super::GuestPlan;
use crate::backend::{Backend, BackendError, PowerState, Result};

pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    match backend.status(&plan.name)?.power {
        PowerState::LoggedOff => backend.ipl(&plan.name).map(drop),
        // Already booting or up: an earlier run got this far.
        _ => Ok(()),
    }
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    match backend.force(&plan.name) {
        Err(BackendError::InvalidState { .. }) => Ok(()),
        other => other,
    }
}
