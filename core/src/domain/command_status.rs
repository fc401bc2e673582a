use serde::{Deserialize, Serialize};

/// Where a command of the command channel is (SPEC §4). Stored and sent as
/// its lower-case name (also inside the finish notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[derive(diesel::deserialize::FromSqlRow)]
pub enum CommandStatus {
    Queued,
    Dispatched,
    Succeeded,
    Failed,
}

super::stored_name::stored_names!(CommandStatus {
    Queued => "queued",
    Dispatched => "dispatched",
    Succeeded => "succeeded",
    Failed => "failed",
});
