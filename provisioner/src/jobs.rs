//! The kinds of job the provisioner runs: the `kind` of a job row, shared
//! by the API that queues them and the tasks that run and follow them.

/// Makes one guest (a provisioning saga).
pub const PROVISION: &str = "provision";
/// Removes one guest (a decommissioning saga).
pub const DECOMMISSION: &str = "decommission";
/// Places a course's guests; its items are `provision` jobs or assignments.
pub const BATCH: &str = "batch";
/// Records a pool refill; its clones are `provision` jobs listed in params.
pub const POOL_REPOPULATE: &str = "pool_repopulate";
/// End-of-term decommissioning; its `decommission` jobs are listed in params.
pub const RECLAIM: &str = "reclaim";
/// Boots the `auto_boot` guests in waves.
pub const STAGED_START: &str = "staged_start";
/// Stops the running guests in waves.
pub const STAGED_STOP: &str = "staged_stop";

/// The kinds the job runner claims; the others settle in their followers.
pub const CLAIMED: [&str; 3] = [PROVISION, DECOMMISSION, BATCH];
