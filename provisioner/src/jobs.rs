//! Job-kind facts of the provisioner: which kinds ([`JobKind`]) the job
//! runner claims, the others being settled by their followers.

use herd_core::domain::JobKind;

/// The kinds the job runner claims; the others settle in their followers.
pub const CLAIMED: [JobKind; 4] = [
    JobKind::Provision,
    JobKind::Decommission,
    JobKind::Batch,
    JobKind::RootPublish,
];
