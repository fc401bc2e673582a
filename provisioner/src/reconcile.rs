//! Compares the database with the hypervisor, reports every difference and
//! repairs what is safe to repair. Run at start-up and by
//! `herd-server reconcile`.
//!
//! Safe means: removing from the hypervisor what no guest row accounts for
//! (an orphaned directory entry, disk or grant), and marking `failed` a
//! guest the hypervisor has lost. A guest in the middle of provisioning or
//! decommissioning is left to its saga, which resumes by itself.

use std::collections::BTreeSet;
use std::fmt;

use herd_core::clock::Millis;
use herd_core::domain::{GuestName, GuestState};
use herd_core::store::guests;
use herd_core::store::{AnyConnection, StoreError};

use crate::backend::{Backend, BackendError, DiskId};
use crate::steps;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// In the hypervisor's directory, but no live guest row.
    OrphanedGuest(GuestName),
    /// A minidisk whose guest is not in the directory.
    OrphanedDisk(DiskId),
    /// A LAN grant for a guest not in the directory.
    OrphanedGrant { lan: String, guest: GuestName },
    /// A guest row says it exists; the hypervisor does not know it.
    MissingGuest(String),
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::OrphanedGuest(g) => write!(
                f,
                "{g} is in the z/VM directory but not a live guest in the database"
            ),
            Difference::OrphanedDisk(d) => write!(f, "disk {d} belongs to no directory entry"),
            Difference::OrphanedGrant { lan, guest } => {
                write!(f, "{lan} grants {guest}, which is not in the directory")
            }
            Difference::MissingGuest(g) => write!(
                f,
                "{g} is live in the database but unknown to the hypervisor"
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Backend(#[from] BackendError),
}

/// Guests whose rows say the hypervisor should hold them; provisioning and
/// decommissioning guests are in a saga's hands.
const LIVE: [GuestState; 6] = [
    GuestState::Pooled,
    GuestState::Stopped,
    GuestState::Starting,
    GuestState::Running,
    GuestState::Stopping,
    GuestState::Unresponsive,
];

const IN_SAGA: [GuestState; 2] = [GuestState::Provisioning, GuestState::Decommissioning];

pub fn differences(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
) -> Result<Vec<Difference>, ReconcileError> {
    let live: BTreeSet<String> = guests::in_states(conn, &LIVE)?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let in_saga: BTreeSet<String> = guests::in_states(conn, &IN_SAGA)?
        .into_iter()
        .map(|g| g.name)
        .collect();
    let directory: BTreeSet<GuestName> =
        backend.list_users()?.into_iter().map(|u| u.name).collect();
    let mut found = Vec::new();
    for name in &directory {
        if !live.contains(name.as_str()) && !in_saga.contains(name.as_str()) {
            found.push(Difference::OrphanedGuest(name.clone()));
        }
    }
    for disk in backend.list_disks()? {
        if disk
            .id
            .owner()
            .is_some_and(|owner| !directory.contains(owner))
        {
            found.push(Difference::OrphanedDisk(disk.id));
        }
    }
    for lan in backend.lans()? {
        for guest in lan.granted.into_iter().filter(|g| !directory.contains(g)) {
            found.push(Difference::OrphanedGrant {
                lan: lan.name.to_string(),
                guest,
            });
        }
    }
    for name in live
        .iter()
        .filter(|n| !directory.iter().any(|d| d.as_str() == n.as_str()))
    {
        found.push(Difference::MissingGuest(name.clone()));
    }
    Ok(found)
}

/// Repairs one difference.
pub fn repair(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    d: &Difference,
    now: Millis,
) -> Result<(), ReconcileError> {
    match d {
        Difference::OrphanedGuest(g) => steps::remove_everything(backend, g)?,
        Difference::OrphanedDisk(disk) => match backend.delete_disk(disk) {
            Err(BackendError::NotFound(_)) | Ok(()) => {}
            Err(e) => return Err(e.into()),
        },
        Difference::OrphanedGrant { lan, guest } => {
            if let Ok(lan) = lan.parse() {
                backend.revoke(&lan, guest)?;
            }
        }
        Difference::MissingGuest(name) => {
            if let Some(g) = guests::find_by_name(conn, name)? {
                guests::set_state(conn, g.row.id, GuestState::Failed, now)?;
            }
        }
    }
    Ok(())
}

/// Finds the differences and repairs each; returns what was found.
pub fn run(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    now: Millis,
) -> Result<Vec<Difference>, ReconcileError> {
    let found = differences(conn, backend)?;
    for d in &found {
        repair(conn, backend, d, now)?;
    }
    Ok(found)
}
