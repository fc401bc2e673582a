//! Root versions on the privileged side (SPEC §7): publishing one (a
//! `root_publish` job, its number frozen when it was queued) and freeing
//! the disks of retired ones.

use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use herd_core::domain::RootState;
use herd_core::store::{catalog, guests, jobs, roots, write_tx, AnyConnection};
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, BackendError, DiskId, ImageName};
use crate::error::WorkerError;

/// A `root_publish` job's parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishParams {
    pub image: String,
    pub image_id: i64,
    /// The version it is derived from (the latest when queued).
    pub from: i32,
    pub version: i32,
    pub label: String,
}

/// Makes the disk (again, after a crash: the backend repeats nothing
/// done) and records the version as published.
pub fn publish(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    job: &jobs::Job,
    now: Millis,
) -> Result<(), WorkerError> {
    let p: PublishParams = serde_json::from_str(&job.params)
        .map_err(|e| WorkerError::Invalid(format!("job {}: {e}", job.id)))?;
    let image: ImageName = p
        .image
        .parse()
        .map_err(|e| WorkerError::Invalid(format!("job {}: {e}", job.id)))?;
    let info = backend.publish_root(
        &image,
        p.from.max(1) as u32,
        p.version.max(1) as u32,
        &p.label,
    )?;
    write_tx(conn, |c| {
        if roots::find(c, p.image_id, p.version)?.is_none() {
            let new = roots::NewRootVersion {
                image_id: p.image_id,
                version: p.version,
                label: &p.label,
                checksum: info.checksum.as_deref(),
                size_bytes: info.size as i64,
            };
            roots::insert(c, &new, now)?;
        }
        let result = serde_json::json!({ "version": p.version }).to_string();
        jobs::set_result(c, job.id, &result)?;
        Ok(())
    })
}

/// Points the directory LINK of the image's guests at their targets.
fn relink(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    image: &catalog::Image,
    name: &ImageName,
    retired: i32,
) -> Result<(), WorkerError> {
    for g in guests::of_image(conn, image.id)? {
        let Ok(guest) = g.name.parse::<GuestName>() else {
            continue;
        };
        if g.target_root_version == retired {
            continue;
        }
        let root = DiskId::root(name, g.target_root_version.max(1) as u32);
        match backend.link_root(&guest, &root) {
            Ok(()) | Err(BackendError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Deletes the disks of retired versions still on the hypervisor; a disk
/// a guest still links stays until it no longer does.
pub fn free_retired(conn: &mut AnyConnection, backend: &dyn Backend) -> Result<usize, WorkerError> {
    let mut freed = 0;
    for image in catalog::images(conn)? {
        let Ok(name) = image.name.parse::<ImageName>() else {
            continue;
        };
        for v in roots::versions(conn, image.id)? {
            if v.state != RootState::Retired {
                continue;
            }
            let disk = DiskId::root(&name, v.version.max(1) as u32);
            match backend.delete_disk(&disk) {
                Ok(()) => freed += 1,
                Err(BackendError::NotFound(_)) => {}
                // Directory entries still naming it (guests logged off
                // since before its rollout): they get their target now.
                Err(BackendError::InvalidState { .. }) => {
                    relink(conn, backend, &image, &name, v.version)?
                }
                // The source of the segments of guests from before shared
                // roots: freed once they are gone.
                Err(e @ BackendError::HasFlashCopyTargets { .. }) => {
                    tracing::debug!(error = %e, "a retired root stays for now")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(freed)
}
