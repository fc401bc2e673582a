//! Booting a guest, whoever asks (a user's command, the monitor, a staged
//! start, an assignment, a rollout): the hypervisor first learns the
//! boot-time service enablement and the target root version kept in the
//! database, then IPLs, and the database records the root booted.

use herd_core::domain::GuestName;
use herd_core::store::{guests, roots, AnyConnection};

use crate::backend::{Backend, BackendError, DiskId, ImageName};
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
    let target = link_target(conn, backend, name)?;
    let ready_at = backend.ipl(name)?;
    if let Some(version) = target {
        roots::set_booted(conn, guest_id, version)?;
    }
    Ok(ready_at)
}

/// Links the guest's target root version; answers it (`None` for a guest
/// the database does not know).
fn link_target(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    name: &GuestName,
) -> Result<Option<i32>, WorkerError> {
    let Some(guest) = guests::find_by_name(conn, name.as_str())? else {
        return Ok(None);
    };
    let image: ImageName = guest
        .image
        .parse()
        .map_err(|e| WorkerError::Invalid(format!("guest {name}: {e}")))?;
    let version = guest.row.target_root_version.max(1);
    backend.link_root(name, &DiskId::root(&image, version as u32))?;
    Ok(Some(version))
}

/// Records the root a guest booted in the saga that made it.
pub fn record_boot(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    guest_id: i64,
    name: &GuestName,
) -> Result<(), WorkerError> {
    if let Some((_, version)) = backend
        .status(name)?
        .root
        .as_ref()
        .and_then(DiskId::as_root)
    {
        roots::set_booted(conn, guest_id, version as i32)?;
    }
    Ok(())
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
