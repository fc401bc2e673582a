//! XAUTOLOG + IPL, for a guest that has an owner and `auto_boot`.

use super::GuestPlan;
use crate::backend::{Backend, BackendError, PowerState, Result};

/// When the host is busy (a big batch), the IPL is left to the worker's
/// power follow-up, which boots `starting` guests as room appears: a batch
/// of 500 must not boot 500 guests at once.
pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    match backend.status(&plan.name)?.power {
        PowerState::LoggedOff if crate::backend::host_room(backend)? == 0 => Ok(()),
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
