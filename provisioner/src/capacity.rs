//! What the host has room for, published by the privileged side for the
//! web side, which never looks at the hypervisor itself (SPEC §3): a batch's
//! dry run reads the free disk space from here.

use herd_core::clock::Millis;
use herd_core::store::{settings, AnyConnection, StoreResult};

use crate::backend::Backend;
use crate::error::WorkerError;

const DISK_FREE_KEY: &str = "host.disk_free_bytes";

/// Asks the backend for its free space and writes it down.
pub fn publish(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    now: Millis,
) -> Result<(), WorkerError> {
    let free = backend.free_space()?;
    settings::put(conn, DISK_FREE_KEY, &free.to_string(), now)?;
    Ok(())
}

/// The free disk space last published; `None` before any provisioner has.
pub fn disk_free_bytes(conn: &mut AnyConnection) -> StoreResult<Option<u64>> {
    Ok(settings::get(conn, DISK_FREE_KEY)?.and_then(|v| v.parse().ok()))
}
