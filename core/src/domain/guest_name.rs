use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A guest's name, which is its z/VM user id: 1–8 characters of
/// `A-Z 0-9 @ # $`. Lower-case input is accepted and upper-cased, as CP does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GuestName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a z/VM user id: use 1 to 8 characters of A-Z, 0-9, @, # and $")]
pub struct InvalidGuestName(pub String);

impl GuestName {
    pub const MAX_LEN: usize = 8;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `n`th name of a sequence: `LX` + 6 digits gives `LX000042`.
    /// The number is zero-padded to fill the 8 characters.
    pub fn from_sequence(prefix: &str, n: u64) -> Result<Self, InvalidGuestName> {
        let width = Self::MAX_LEN.saturating_sub(prefix.len());
        let candidate = format!("{prefix}{n:0width$}");
        candidate.parse()
    }
}

fn is_zvm_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '@' | '#' | '$')
}

impl FromStr for GuestName {
    type Err = InvalidGuestName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.to_ascii_uppercase();
        if upper.is_empty() || upper.len() > Self::MAX_LEN || !upper.chars().all(is_zvm_char) {
            return Err(InvalidGuestName(s.to_owned()));
        }
        Ok(Self(upper))
    }
}

impl TryFrom<String> for GuestName {
    type Error = InvalidGuestName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<GuestName> for String {
    fn from(n: GuestName) -> String {
        n.0
    }
}

impl fmt::Display for GuestName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_zvm_ids_and_uppercases() {
        assert_eq!(
            "lx000042".parse::<GuestName>().unwrap().as_str(),
            "LX000042"
        );
        assert!("A@#$1".parse::<GuestName>().is_ok());
    }

    #[test]
    fn refuses_everything_else() {
        for bad in ["", "TOOLONGID", "LX-1", "LX 1", "ÄB", "a;rm"] {
            assert!(bad.parse::<GuestName>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn sequence_names_fill_eight_characters() {
        assert_eq!(
            GuestName::from_sequence("LX", 42).unwrap().as_str(),
            "LX000042"
        );
        assert!(GuestName::from_sequence("LX", 10_000_000).is_err());
    }
}
