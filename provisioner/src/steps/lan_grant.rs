//! SET LAN … GRANT: the guest may couple to its guest LAN.

use super::GuestPlan;
use crate::backend::{Backend, Result};

/// Granting twice is a no-op for the hypervisor.
pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    backend.grant(&plan.lan, &plan.name)
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    backend.revoke(&plan.lan, &plan.name)
}
