//! Makes the hypervisor hold what the database says exists: the golden
//! images and the guest LANs. Run at start-up; repeating it changes nothing.

use std::path::Path;

use herd_core::store::{catalog, lans, AnyConnection};

use crate::backend::sim::write_synthetic_image;
use crate::backend::{Backend, BackendError, DiskId, ImageName, LanName};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    Store(#[from] herd_core::store::StoreError),
    #[error("{0}")]
    Backend(#[from] BackendError),
    #[error("{0}")]
    Invalid(String),
}

/// Imports each image the backend lacks. The embedded default has no real
/// golden disk, so one is synthesised (repeatable bytes of the image's
/// size) under `<data dir>/images/`.
pub fn prepare(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    data_dir: &Path,
) -> Result<(), BootstrapError> {
    for image in catalog::images(conn)? {
        let name: ImageName = image
            .name
            .parse()
            .map_err(|e| BootstrapError::Invalid(format!("{e}")))?;
        if backend.disk_info(&DiskId::image(&name)).is_ok() {
            continue;
        }
        let dir = data_dir.join("images");
        std::fs::create_dir_all(&dir).map_err(BackendError::Io)?;
        let file = dir.join(format!("{name}.img"));
        if !file.exists() {
            write_synthetic_image(&file, image.size_bytes.max(0) as u64, image.id as u64)
                .map_err(BackendError::Io)?;
        }
        backend.import_image(&name, &file)?;
    }
    define_lans(conn, backend)
}

fn define_lans(conn: &mut AnyConnection, backend: &dyn Backend) -> Result<(), BootstrapError> {
    let known: Vec<LanName> = backend.lans()?.into_iter().map(|l| l.name).collect();
    for usage in lans::list_with_use(conn)? {
        let name: LanName = usage
            .lan
            .name
            .parse()
            .map_err(|e| BootstrapError::Invalid(format!("{e}")))?;
        if !known.contains(&name) {
            match backend.define_lan(&name, usage.lan.capacity.max(1) as u32) {
                Err(BackendError::AlreadyExists(_)) | Ok(()) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
