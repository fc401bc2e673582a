use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A guest's service as last observed: `unknown` until the guest has said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    Up,
    Down,
    Unknown,
}

super::stored_name::stored_names!(ServiceState {
    Up => "up",
    Down => "down",
    Unknown => "unknown",
});
