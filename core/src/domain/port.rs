use std::fmt;
use std::num::NonZeroU16;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A TCP or UDP port number, 1–65535 (0 is not a port one can open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u16")]
pub struct Port(NonZeroU16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a port: use a whole number from 1 to 65535")]
pub struct InvalidPort(pub String);

impl Port {
    pub const MIN: Port = Port(NonZeroU16::MIN);
    pub const MAX: Port = Port(NonZeroU16::MAX);

    pub fn get(self) -> u16 {
        self.0.get()
    }
}

impl TryFrom<u16> for Port {
    type Error = InvalidPort;
    fn try_from(n: u16) -> Result<Self, Self::Error> {
        NonZeroU16::new(n)
            .map(Self)
            .ok_or_else(|| InvalidPort(n.to_string()))
    }
}

impl TryFrom<i64> for Port {
    type Error = InvalidPort;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        u16::try_from(n)
            .map_err(|_| InvalidPort(n.to_string()))
            .and_then(Port::try_from)
    }
}

impl FromStr for Port {
    type Err = InvalidPort;

    /// Digits only: `u16::from_str` would also take a leading `+`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPort(s.to_owned());
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        s.parse::<u16>()
            .map_err(|_| invalid())
            .and_then(Port::try_from)
    }
}

impl From<Port> for u16 {
    fn from(p: Port) -> u16 {
        p.get()
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_to_65535() {
        assert_eq!("1".parse::<Port>().unwrap(), Port::MIN);
        assert_eq!(Port::try_from(65535_i64).unwrap(), Port::MAX);
        assert_eq!("8080".parse::<Port>().unwrap().get(), 8080);
    }

    #[test]
    fn refuses_everything_else() {
        for bad in ["", "0", "65536", "+80", "-1", " 80", "80 ", "0x50", "8o"] {
            assert!(bad.parse::<Port>().is_err(), "{bad} accepted");
        }
        for bad in [0_i64, -1, 65_536, i64::MAX] {
            assert!(Port::try_from(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_is_a_checked_number() {
        let p: Port = serde_json::from_str("443").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "443");
        assert!(serde_json::from_str::<Port>("0").is_err());
        assert!(serde_json::from_str::<Port>("70000").is_err());
    }
}
