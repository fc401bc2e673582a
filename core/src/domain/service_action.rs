use std::fmt;

use serde::{Deserialize, Serialize};

/// What may be done to a guest's service: `start | stop | restart` in the
/// API, `START | STOP | RESTART` in command text and on the console.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ServiceAction {
    Start,
    Stop,
    Restart,
}

impl ServiceAction {
    pub const ALL: [ServiceAction; 3] = [Self::Start, Self::Stop, Self::Restart];

    /// The word in command text and on the guest's console.
    pub fn as_keyword(self) -> &'static str {
        match self {
            Self::Start => "START",
            Self::Stop => "STOP",
            Self::Restart => "RESTART",
        }
    }

    /// The inverse of [`as_keyword`](Self::as_keyword): exact upper case only.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_keyword() == word)
    }

    /// The API spelling, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
        }
    }
}

impl fmt::Display for ServiceAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_round_trip_and_are_case_exact() {
        for a in ServiceAction::ALL {
            assert_eq!(ServiceAction::from_keyword(a.as_keyword()), Some(a));
            assert_eq!(ServiceAction::from_keyword(a.as_str()), None);
        }
    }

    #[test]
    fn serde_is_lowercase() {
        for a in ServiceAction::ALL {
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
            assert_eq!(serde_json::from_str::<ServiceAction>(&json).unwrap(), a);
        }
        assert!(serde_json::from_str::<ServiceAction>("\"START\"").is_err());
    }
}
