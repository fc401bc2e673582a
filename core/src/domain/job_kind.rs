use serde::{Deserialize, Serialize};

/// What a job does: the `kind` of a job row, stored and sent as its
/// lower-case name, the same text the API has always shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Makes one guest (a provisioning saga).
    Provision,
    /// Removes one guest (a decommissioning saga).
    Decommission,
    /// Places a course's guests; its items are `provision` jobs or
    /// assignments.
    Batch,
    /// Records a pool refill; its clones are `provision` jobs listed in
    /// params.
    PoolRepopulate,
    /// End-of-term decommissioning; its `decommission` jobs are listed in
    /// params.
    Reclaim,
    /// Boots the `auto_boot` guests in waves.
    StagedStart,
    /// Stops the running guests in waves.
    StagedStop,
    /// Publishes an image's next root version.
    RootPublish,
    /// Brings an image's guests to a root version, restarting the running
    /// ones in batches.
    Rollout,
    /// Puts a fresh copy of the image's segment in place of a guest's,
    /// keeping the old one for undo.
    Reset,
    /// Puts back the segment a reset kept.
    ResetUndo,
}

super::stored_name::stored_names!(JobKind {
    Provision => "provision",
    Decommission => "decommission",
    Batch => "batch",
    PoolRepopulate => "pool_repopulate",
    Reclaim => "reclaim",
    StagedStart => "staged_start",
    StagedStop => "staged_stop",
    RootPublish => "root_publish",
    Rollout => "rollout",
    Reset => "reset",
    ResetUndo => "reset_undo",
});
