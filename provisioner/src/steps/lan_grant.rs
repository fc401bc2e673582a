//! SET LAN … GRANT: the guest may couple to its guest LAN. A LAN an admin
//! added since the last start is defined here, by the privileged side,
//! before its first grant.

use super::GuestPlan;
use crate::backend::{Backend, BackendError, Result};

/// Granting twice is a no-op for the hypervisor.
pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    match backend.grant(&plan.lan, &plan.name) {
        Err(BackendError::NotFound(_)) if plan.lan_capacity > 0 => {
            match backend.define_lan(&plan.lan, plan.lan_capacity) {
                Ok(()) | Err(BackendError::AlreadyExists(_)) => {}
                Err(e) => return Err(e),
            }
            backend.grant(&plan.lan, &plan.name)
        }
        granted => granted,
    }
}

pub fn undo(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    backend.revoke(&plan.lan, &plan.name)
}
