//! Removing what provisioning made; shared by undo and decommission.

use herd_core::domain::GuestName;

use crate::backend::{Backend, BackendError, DiskId, PowerState, Result};

/// Decommissioning is final, so there is no graceful wait: FORCE whatever
/// still runs. A guest already logged off (or unknown) is fine.
pub fn force_off(backend: &dyn Backend, guest: &GuestName) -> Result<()> {
    match backend.status(guest) {
        Ok(s) if s.power == PowerState::LoggedOff => Ok(()),
        Ok(_) => backend.force(guest),
        Err(BackendError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

pub fn delete_disks(backend: &dyn Backend, guest: &GuestName) -> Result<()> {
    match backend.delete_disk(&DiskId::segment_of(guest)) {
        Err(BackendError::NotFound(_)) => Ok(()),
        other => other,
    }
}

pub fn delete_entry(backend: &dyn Backend, guest: &GuestName) -> Result<()> {
    force_off(backend, guest)?;
    match backend.delete_user(guest) {
        Err(BackendError::NotFound(_)) => Ok(()),
        other => other,
    }
}
