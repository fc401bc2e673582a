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

/// The hypervisor is read before the database: a guest created meanwhile
/// has its row before its directory entry, so it is never taken for an
/// orphan. [`repair`] checks each difference again before acting, for the
/// other direction.
pub fn differences(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
) -> Result<Vec<Difference>, ReconcileError> {
    let directory: BTreeSet<GuestName> =
        backend.list_users()?.into_iter().map(|u| u.name).collect();
    let disks = backend.list_disks()?;
    let lans = backend.lans()?;
    let rows = guests::in_states(conn, &[LIVE.as_slice(), IN_SAGA.as_slice()].concat())?;
    let known: BTreeSet<&str> = rows.iter().map(|g| g.name.as_str()).collect();
    let mut found = Vec::new();
    for name in &directory {
        if !known.contains(name.as_str()) {
            found.push(Difference::OrphanedGuest(name.clone()));
        }
    }
    for disk in disks {
        if disk
            .id
            .owner()
            .is_some_and(|owner| !directory.contains(owner))
        {
            found.push(Difference::OrphanedDisk(disk.id));
        }
    }
    for lan in lans {
        for guest in lan.granted.into_iter().filter(|g| !directory.contains(g)) {
            found.push(Difference::OrphanedGrant {
                lan: lan.name.to_string(),
                guest,
            });
        }
    }
    let live = rows
        .iter()
        .filter(|g| LIVE.contains(&g.state))
        .filter(|g| !directory.iter().any(|d| d.as_str() == g.name));
    for g in live {
        found.push(Difference::MissingGuest(g.name.clone()));
    }
    Ok(found)
}

/// Whether a difference found a moment ago still holds: a saga running in
/// another process may have created or removed the guest since.
fn still_holds(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    d: &Difference,
) -> Result<bool, ReconcileError> {
    let in_directory = |g: &GuestName| -> Result<bool, ReconcileError> {
        Ok(backend.list_users()?.iter().any(|u| &u.name == g))
    };
    Ok(match d {
        Difference::OrphanedGuest(g) => guests::find_by_name(conn, g.as_str())?
            .is_none_or(|row| !LIVE.contains(&row.state()) && !IN_SAGA.contains(&row.state())),
        Difference::OrphanedDisk(disk) => match disk.owner() {
            Some(owner) => !in_directory(owner)?,
            None => false,
        },
        Difference::OrphanedGrant { guest, .. } => !in_directory(guest)?,
        Difference::MissingGuest(name) => match name.parse::<GuestName>() {
            Ok(g) => !in_directory(&g)?,
            Err(_) => true,
        },
    })
}

/// Repairs one difference, unless it no longer holds.
pub fn repair(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    d: &Difference,
    now: Millis,
) -> Result<(), ReconcileError> {
    if !still_holds(conn, backend, d)? {
        tracing::info!(difference = %d, "reconcile: resolved meanwhile; left alone");
        return Ok(());
    }
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
