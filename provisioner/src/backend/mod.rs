//! The hypervisor as the provisioner sees it.
//!
//! Each trait mirrors one family of z/VM operations, so that a real backend
//! can map them one to one onto SMAPI/DIRMAINT requests and CP commands:
//! [`Directory`] (DIRMAINT ADD/PURGE/CHNGID), [`Storage`] (minidisks,
//! FlashCopy, DDR), [`Network`] (guest LAN grants and coupling), [`Runtime`]
//! (XAUTOLOG/IPL, SIGNAL SHUTDOWN, FORCE, the console) and [`Tags`]
//! (what a guest reads with `hcp TAG QUERY`). [`Backend`] bundles them.
//!
//! [`sim`] is the shipped implementation: a simulated z/VM in a data directory.

mod types;

pub mod sim;

use std::collections::BTreeMap;
use std::path::Path;

use herd_core::clock::Millis;
use herd_core::domain::GuestName;

pub use types::{
    ConsoleReply, CopyMethod, DiskId, DiskInfo, DiskKind, DiskStatus, GuestStatus, HostLoad,
    ImageName, InvalidName, LanInfo, LanName, PowerState, ServiceSpec, ServiceState, ServiceStatus,
    UserSpec, Vdev,
};

/// The console command a guest's login shell answers with its SSH host
/// public key (`ssh-ed25519 AAAA…`), made at its first boot.
pub const HOST_KEY_COMMAND: &str = "HOSTKEY";

/// Errors of the backend layer, grouped by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{what}: {why}")]
    InvalidState { what: String, why: String },
    #[error("{0}")]
    InvalidArgument(String),
    /// The hypervisor refuses: e.g. coupling to a LAN without a grant.
    #[error("not authorized: {0}")]
    NotAuthorized(String),
    #[error("{what} is full ({capacity})")]
    CapacityExceeded { what: String, capacity: u32 },
    #[error("{disk} has {targets} live FlashCopy target(s)")]
    HasFlashCopyTargets { disk: DiskId, targets: usize },
    #[error("injected fault: {0}")]
    FaultInjected(String),
    #[error("checksum mismatch on {disk}: expected {expected}, found {found}")]
    ChecksumMismatch {
        disk: DiskId,
        expected: String,
        found: String,
    },
    #[error("hypervisor state is unreadable: {0}")]
    Corrupt(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl BackendError {
    pub(crate) fn invalid_state(what: impl ToString, why: impl Into<String>) -> Self {
        Self::InvalidState {
            what: what.to_string(),
            why: why.into(),
        }
    }

    pub(crate) fn not_found(what: impl ToString) -> Self {
        Self::NotFound(what.to_string())
    }

    pub(crate) fn exists(what: impl ToString) -> Self {
        Self::AlreadyExists(what.to_string())
    }
}

impl From<InvalidName> for BackendError {
    fn from(e: InvalidName) -> Self {
        Self::InvalidArgument(e.to_string())
    }
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

/// The user directory (DIRMAINT).
pub trait Directory: Send + Sync {
    /// DIRMAINT ADD. Refuses a name that is already in the directory.
    fn add_user(&self, user: &UserSpec) -> Result<()>;
    /// DIRMAINT PURGE: the guest must be logged off; its minidisks, LAN
    /// grants and tags go with it.
    fn delete_user(&self, name: &GuestName) -> Result<()>;
    /// DIRMAINT CHNGID: the guest keeps its disks, grants, tags and services.
    fn change_user_id(&self, from: &GuestName, to: &GuestName) -> Result<()>;
    /// The directory entry's LINK of a root version (read-only): what the
    /// guest's next IPL boots. Refuses a root that does not exist.
    fn link_root(&self, guest: &GuestName, root: &DiskId) -> Result<()>;
    fn list_users(&self) -> Result<Vec<UserSpec>>;
}

/// Minidisks and images.
pub trait Storage: Send + Sync {
    /// Copies a disk image file in as an image's segment template or root
    /// version (verified by checksum).
    fn import_disk(&self, id: &DiskId, source: &Path) -> Result<DiskInfo>;
    /// Makes `target` (a minidisk of an existing guest) a copy of `source`.
    fn clone_disk(&self, source: &DiskId, target: &DiskId, method: CopyMethod) -> Result<DiskInfo>;
    /// Refuses a disk that still has FlashCopy targets, and a root that a
    /// guest links.
    fn delete_disk(&self, disk: &DiskId) -> Result<()>;
    /// Makes root version `version` of `image` from version `from`, with
    /// `label` written into it (the simulation's stand-in for the patched
    /// minidisk an operator prepares on z/VM). Repeating it is a no-op.
    fn publish_root(
        &self,
        image: &ImageName,
        from: u32,
        version: u32,
        label: &str,
    ) -> Result<DiskInfo>;
    /// Files a disk under another id, bytes untouched: an image's disk
    /// (the upgrade to shared roots files the old golden image as root
    /// version 1), or a guest's minidisk at another device number of the
    /// same guest (DIRMAINT CHVADDR: a reset keeps the old segment so).
    fn rename_disk(&self, from: &DiskId, to: &DiskId) -> Result<()>;
    /// Copies a guest's SSH host key files (`/etc/ssh/ssh_host_*`) from
    /// one of its segments into another (on z/VM: LINK both, copy the
    /// files), so that a reset segment keeps the guest's identity. A
    /// segment without a key leaves `to` as it is.
    fn carry_host_key(&self, from: &DiskId, to: &DiskId) -> Result<()>;
    fn disk_info(&self, disk: &DiskId) -> Result<DiskInfo>;
    fn list_disks(&self) -> Result<Vec<DiskInfo>>;
    fn read_disk(&self, disk: &DiskId, offset: u64, len: usize) -> Result<Vec<u8>>;
    fn write_disk(&self, disk: &DiskId, offset: u64, data: &[u8]) -> Result<()>;
    /// Reads the whole disk and returns its checksum (BLAKE3, hex); fails with
    /// [`BackendError::ChecksumMismatch`] when the disk should still hold
    /// the content it was created with and does not.
    fn verify_disk(&self, disk: &DiskId) -> Result<String>;
    /// Bytes left for new minidisks (on z/VM: the free extents of the DASD
    /// groups DIRMAINT allocates from).
    fn free_space(&self) -> Result<u64>;
}

/// Guest LANs (CP DEFINE LAN, SET LAN GRANT/REVOKE, COUPLE).
pub trait Network: Send + Sync {
    fn define_lan(&self, lan: &LanName, capacity: u32) -> Result<()>;
    fn lans(&self) -> Result<Vec<LanInfo>>;
    /// Refuses when the LAN already has `capacity` grants.
    fn grant(&self, lan: &LanName, guest: &GuestName) -> Result<()>;
    /// Also uncouples the guest. Revoking an absent grant is not an error.
    fn revoke(&self, lan: &LanName, guest: &GuestName) -> Result<()>;
    /// Refuses a guest without a grant.
    fn couple(&self, lan: &LanName, guest: &GuestName) -> Result<()>;
}

/// Guests' life: logging on, booting, the console, logging off.
pub trait Runtime: Send + Sync {
    /// XAUTOLOG + IPL of a logged-off guest; returns when it is expected to
    /// be running (the boot time depends on the host's load).
    fn ipl(&self, guest: &GuestName) -> Result<Millis>;
    /// SIGNAL SHUTDOWN: services stop, then the guest logs off. A guest that
    /// does not respond ignores it (use [`Runtime::force`]). Returns when it
    /// is expected to be logged off, `None` when ignored or already off.
    fn halt(&self, guest: &GuestName) -> Result<Option<Millis>>;
    /// FORCE: logs the guest off at once, whatever it is doing.
    fn force(&self, guest: &GuestName) -> Result<()>;
    fn status(&self, guest: &GuestName) -> Result<GuestStatus>;
    /// One command line on the guest's console, answered by its login shell.
    fn console_write(&self, guest: &GuestName, line: &str) -> Result<ConsoleReply>;
    /// Boot-time enablement of a catalog service (chkconfig on the guest).
    fn set_service_enabled(&self, guest: &GuestName, service: &str, enabled: bool) -> Result<()>;
    /// How busy the host is, so that staged operations can stay below the
    /// threshold at which it stalls.
    fn host_load(&self) -> Result<HostLoad>;
}

/// Per-guest key/value settings (hostname, address, owner…).
pub trait Tags: Send + Sync {
    /// Sets or replaces the given keys; other keys stay.
    fn set_tags(&self, guest: &GuestName, tags: &BTreeMap<String, String>) -> Result<()>;
    fn delete_tag(&self, guest: &GuestName, key: &str) -> Result<()>;
    fn tags(&self, guest: &GuestName) -> Result<BTreeMap<String, String>>;
}

/// Everything the provisioner needs from a hypervisor, as one object:
/// `Arc<dyn Backend>`.
pub trait Backend: Directory + Storage + Network + Runtime + Tags {}

impl<T: Directory + Storage + Network + Runtime + Tags> Backend for T {}

/// How many more guests may start booting or logging off without taking
/// the host near its stall threshold (a quarter of it is kept free).
pub fn host_room(backend: &dyn Backend) -> Result<usize> {
    let load = backend.host_load()?;
    if load.stalled_until.is_some() {
        return Ok(0);
    }
    let ceiling = (load.stall_threshold as usize * 3 / 4).max(1);
    Ok(ceiling.saturating_sub(load.in_transition as usize))
}
