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

impl GuestState {
    pub const ALL: [GuestState; 10] = [
        GuestState::Pooled,
        GuestState::Provisioning,
        GuestState::Stopped,
        GuestState::Starting,
        GuestState::Running,
        GuestState::Stopping,
        GuestState::Unresponsive,
        GuestState::Failed,
        GuestState::Decommissioning,
        GuestState::Decommissioned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GuestState::Pooled => "pooled",
            GuestState::Provisioning => "provisioning",
            GuestState::Stopped => "stopped",
            GuestState::Starting => "starting",
            GuestState::Running => "running",
            GuestState::Stopping => "stopping",
            GuestState::Unresponsive => "unresponsive",
            GuestState::Failed => "failed",
            GuestState::Decommissioning => "decommissioning",
            GuestState::Decommissioned => "decommissioned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in GuestState::ALL {
            assert_eq!(GuestState::parse(state.as_str()), Some(state));
        }
        assert_eq!(GuestState::parse("Running"), None);
    }
}
