//! Makes the hypervisor hold what the database says exists: the golden
//! images and the guest LANs. Run at start-up; repeating it changes nothing.

use std::path::Path;

use herd_core::domain::RootState;
use herd_core::store::{catalog, lans, roots, AnyConnection};

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

/// Makes each image's root version 1 and segment template where the
/// backend lacks them. An installation from before shared roots has one
/// golden disk per image, which every guest's disk was copied from: it is
/// filed as root version 1 (its bytes, and so every guest's, untouched) and
/// gets a new segment template. The embedded default has no real golden
/// disk, so one is synthesised (repeatable bytes of the size asked) under
/// `<data dir>/images/`. Also records the roots' checksums.
pub fn prepare(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    data_dir: &Path,
) -> Result<(), BootstrapError> {
    let dir = data_dir.join("images");
    for image in catalog::images(conn)? {
        let name: ImageName = image
            .name
            .parse()
            .map_err(|e| BootstrapError::Invalid(format!("{e}")))?;
        let root = DiskId::root(&name, 1);
        let template = DiskId::image(&name);
        if missing(backend, &root)? {
            if missing(backend, &template)? {
                let file = dir.join(format!("{name}.img"));
                let seed = image.id as u64;
                import(backend, &root, &file, image.size_bytes, seed)?;
            } else {
                tracing::info!(image = %name, "filing the golden disk as root version 1");
                backend.rename_disk(&template, &root)?;
            }
        }
        if missing(backend, &template)? {
            let file = dir.join(format!("{name}.segment.img"));
            let seed = image.id as u64 ^ 0x5e9;
            import(backend, &template, &file, image.segment_size_bytes, seed)?;
        }
        record_checksums(conn, backend, &image, &name)?;
    }
    define_lans(conn, backend)
}

fn missing(backend: &dyn Backend, disk: &DiskId) -> Result<bool, BootstrapError> {
    match backend.disk_info(disk) {
        Ok(_) => Ok(false),
        Err(BackendError::NotFound(_)) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

fn import(
    backend: &dyn Backend,
    disk: &DiskId,
    file: &Path,
    size: i64,
    seed: u64,
) -> Result<(), BootstrapError> {
    if !file.exists() {
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(BackendError::Io)?;
        write_synthetic_image(file, size.max(0) as u64, seed).map_err(BackendError::Io)?;
    }
    backend.import_disk(disk, file)?;
    Ok(())
}

fn record_checksums(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    image: &catalog::Image,
    name: &ImageName,
) -> Result<(), BootstrapError> {
    for v in roots::versions(conn, image.id)? {
        if v.checksum.is_some() || v.state != RootState::Published {
            continue;
        }
        let disk = DiskId::root(name, v.version.max(1) as u32);
        if let Some(sum) = backend.disk_info(&disk)?.checksum {
            roots::set_checksum(conn, v.id, &sum)?;
        }
    }
    Ok(())
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
