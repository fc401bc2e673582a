use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What recorded an event: `audit` for changes made through the API, the
/// background work that watches and heals guests for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Audit,
    Monitor,
    Lifecycle,
    Provisioning,
    Firewall,
    /// Root versions reaching guests.
    Rollout,
}

super::stored_name::stored_names!(EventKind {
    Audit => "audit",
    Monitor => "monitor",
    Lifecycle => "lifecycle",
    Provisioning => "provisioning",
    Firewall => "firewall",
    Rollout => "rollout",
});
