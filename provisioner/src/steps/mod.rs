//! Provisioning, decommissioning and resets as ordered steps. Each step
//! is idempotent (a restart may run it again after a crash between doing
//! it and recording it) and, but for decommissioning, has an undo.

mod directory_entry;
mod disk_copy;
mod ipl;
mod lan_grant;
pub mod reset;
mod tags;
mod teardown;

pub use teardown::delete_disk;

use std::collections::BTreeMap;

use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, CopyMethod, ImageName, LanName, Result, ServiceSpec};

/// Everything the hypervisor needs to know to make one guest: a
/// provisioning saga's parameters, frozen into its job when it is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestPlan {
    pub name: GuestName,
    pub memory_mb: u32,
    pub services: Vec<ServiceSpec>,
    pub image: ImageName,
    pub lan: LanName,
    /// Its capacity, to define it on the hypervisor if it is new (plans
    /// queued before LANs could be added: 0, the LAN exists).
    #[serde(default)]
    pub lan_capacity: u32,
    pub method: CopyMethod,
    pub tags: BTreeMap<String, String>,
    /// IPL at the end (an assigned guest with `auto_boot`).
    pub boot: bool,
    /// The root version its directory entry links (plans queued before
    /// shared roots: 1).
    #[serde(default = "first_root")]
    pub root_version: u32,
}

fn first_root() -> u32 {
    1
}

/// Everything the hypervisor needs to know to remove one guest: a
/// decommissioning saga's parameters, frozen into its job when it is queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecommissionParams {
    pub guest: GuestName,
    pub lan: LanName,
}

/// What a step's run got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Done,
    /// Sent on its way; the hypervisor finishes it in its own time (a HALT
    /// while the services stop): the step runs again on the next round.
    Waiting,
}

/// A step as the saga executor sees it: a name (what the job records, and
/// how a resumed saga finds it) and an action on the saga's parameters.
pub trait SagaStep: Copy {
    type Params;
    fn name(self) -> &'static str;
    fn run(self, backend: &dyn Backend, params: &Self::Params) -> Result<Progress>;
}

/// A step that can be taken back when a later one fails.
pub trait UndoableStep: SagaStep {
    fn undo(self, backend: &dyn Backend, params: &Self::Params) -> Result<()>;
}

impl SagaStep for ProvisionStep {
    type Params = GuestPlan;

    fn name(self) -> &'static str {
        ProvisionStep::name(self)
    }

    fn run(self, backend: &dyn Backend, plan: &GuestPlan) -> Result<Progress> {
        ProvisionStep::run(self, backend, plan).map(|()| Progress::Done)
    }
}

impl UndoableStep for ProvisionStep {
    fn undo(self, backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
        ProvisionStep::undo(self, backend, plan)
    }
}

impl SagaStep for DecommissionStep {
    type Params = DecommissionParams;

    fn name(self) -> &'static str {
        DecommissionStep::name(self)
    }

    fn run(self, backend: &dyn Backend, params: &DecommissionParams) -> Result<Progress> {
        DecommissionStep::run(self, backend, params).map(|()| Progress::Done)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionStep {
    DirectoryEntry,
    DiskCopy,
    LanGrant,
    Tags,
    Ipl,
}

impl ProvisionStep {
    /// SPEC §5's order. Reserving the name and address comes before these:
    /// it is a database step, done when the job is created.
    pub const ORDER: [ProvisionStep; 5] = [
        ProvisionStep::DirectoryEntry,
        ProvisionStep::DiskCopy,
        ProvisionStep::LanGrant,
        ProvisionStep::Tags,
        ProvisionStep::Ipl,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProvisionStep::DirectoryEntry => "directory_entry",
            ProvisionStep::DiskCopy => "disk_copy",
            ProvisionStep::LanGrant => "lan_grant",
            ProvisionStep::Tags => "tags",
            ProvisionStep::Ipl => "ipl",
        }
    }

    pub fn applies_to(self, plan: &GuestPlan) -> bool {
        self != ProvisionStep::Ipl || plan.boot
    }

    pub fn run(self, backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
        match self {
            ProvisionStep::DirectoryEntry => directory_entry::run(backend, plan),
            ProvisionStep::DiskCopy => disk_copy::run(backend, plan),
            ProvisionStep::LanGrant => lan_grant::run(backend, plan),
            ProvisionStep::Tags => tags::run(backend, plan),
            ProvisionStep::Ipl => ipl::run(backend, plan),
        }
    }

    pub fn undo(self, backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
        match self {
            ProvisionStep::DirectoryEntry => directory_entry::undo(backend, plan),
            ProvisionStep::DiskCopy => disk_copy::undo(backend, plan),
            ProvisionStep::LanGrant => lan_grant::undo(backend, plan),
            // The directory entry's removal takes the tags with it.
            ProvisionStep::Tags => Ok(()),
            ProvisionStep::Ipl => ipl::undo(backend, plan),
        }
    }
}

/// Takes a guest off the hypervisor entirely (grants, disks, entry),
/// whatever state it is in.
pub fn remove_everything(backend: &dyn Backend, guest: &GuestName) -> Result<()> {
    for lan in backend
        .lans()?
        .into_iter()
        .filter(|l| l.granted.contains(guest))
    {
        backend.revoke(&lan.name, guest)?;
    }
    teardown::delete_disks(backend, guest)?;
    teardown::delete_entry(backend, guest)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecommissionStep {
    Halt,
    RevokeGrant,
    DeleteDisks,
    DeleteDirectoryEntry,
}

impl DecommissionStep {
    /// The mirror of provisioning. Forward only: each step is safe to repeat.
    pub const ORDER: [DecommissionStep; 4] = [
        DecommissionStep::Halt,
        DecommissionStep::RevokeGrant,
        DecommissionStep::DeleteDisks,
        DecommissionStep::DeleteDirectoryEntry,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DecommissionStep::Halt => "halt",
            DecommissionStep::RevokeGrant => "revoke_grant",
            DecommissionStep::DeleteDisks => "delete_disks",
            DecommissionStep::DeleteDirectoryEntry => "delete_directory_entry",
        }
    }

    pub fn run(self, backend: &dyn Backend, params: &DecommissionParams) -> Result<()> {
        let (guest, lan) = (&params.guest, &params.lan);
        match self {
            DecommissionStep::Halt => teardown::force_off(backend, guest),
            DecommissionStep::RevokeGrant => backend.revoke(lan, guest),
            DecommissionStep::DeleteDisks => teardown::delete_disks(backend, guest),
            DecommissionStep::DeleteDirectoryEntry => teardown::delete_entry(backend, guest),
        }
    }
}
