//! Booting a guest, whoever asks (a user's command, the monitor, a staged
//! start, an assignment): the hypervisor first learns the boot-time service
//! enablement kept in the database, then IPLs.

use herd_core::domain::GuestName;
use herd_core::store::{guests, AnyConnection};

use crate::backend::{Backend, BackendError};
use crate::error::WorkerError;

/// Returns when the guest is expected to be running.
pub fn ipl(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    guest_id: i64,
    name: &GuestName,
) -> Result<i64, WorkerError> {
    for (service, enabled, _) in guests::services(conn, guest_id)? {
        backend.set_service_enabled(name, &service.name, enabled)?;
    }
    Ok(backend.ipl(name)?)
}

/// [`ipl`], where a guest already booting or running is not an error.
pub fn ensure_booting(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    guest_id: i64,
    name: &GuestName,
) -> Result<(), WorkerError> {
    match ipl(conn, backend, guest_id, name) {
        Ok(_) | Err(WorkerError::Backend(BackendError::InvalidState { .. })) => Ok(()),
        Err(e) => Err(e),
    }
}
