use serde::{Deserialize, Serialize};

/// The life of a guest (SPEC §1). Stored as its lower-case name; the
/// database's check constraint lists the same values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuestState {
    Pooled,
    Provisioning,
    Stopped,
    Starting,
    Running,
    Stopping,
    Unresponsive,
    Failed,
    Decommissioning,
    Decommissioned,
}

super::stored_name::stored_names!(GuestState {
    Pooled => "pooled",
    Provisioning => "provisioning",
    Stopped => "stopped",
    Starting => "starting",
    Running => "running",
    Stopping => "stopping",
    Unresponsive => "unresponsive",
    Failed => "failed",
    Decommissioning => "decommissioning",
    Decommissioned => "decommissioned",
});
