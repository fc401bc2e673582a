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

/// The segment, and the one a reset kept for undo.
pub fn delete_disks(backend: &dyn Backend, guest: &GuestName) -> Result<()> {
    delete_disk(backend, &DiskId::kept_segment_of(guest))?;
    delete_disk(backend, &DiskId::segment_of(guest))
}

/// Deletes a disk; one already gone is fine.
pub fn delete_disk(backend: &dyn Backend, disk: &DiskId) -> Result<()> {
    match backend.delete_disk(disk) {
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
