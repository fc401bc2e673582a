use serde::{Deserialize, Serialize};

/// What a user may do (SPEC §3). Ordered: a higher role may do what a lower
/// one may.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Staff,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "student" => Some(Role::Student),
            "staff" => Some(Role::Staff),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Guests a user may request for themselves unless set per user
    /// (SPEC §1: student 2, staff 10, admin no limit).
    pub fn default_max_guests(self) -> Option<u32> {
        match self {
            Role::Student => Some(2),
            Role::Staff => Some(10),
            Role::Admin => None,
        }
    }
}
