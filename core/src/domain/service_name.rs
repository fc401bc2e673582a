use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The name of a catalog service (`apache`, `jakarta`, `mysql`): 1–32
/// characters of `a-z 0-9 _ -`, starting with a letter. Strict lower case,
/// unlike [`GuestName`](super::GuestName), because the name travels inside
/// command text that the dispatcher re-parses and must match byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a service name: use 1 to 32 characters of a-z, 0-9, `_` and `-`, starting with a letter"
)]
pub struct InvalidServiceName(pub String);

impl ServiceName {
    pub const MAX_LEN: usize = 32;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid(s: &str) -> bool {
    let mut chars = s.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    starts_with_letter
        && s.len() <= ServiceName::MAX_LEN
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'))
}

impl FromStr for ServiceName {
    type Err = InvalidServiceName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_valid(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidServiceName(s.to_owned()))
        }
    }
}

impl TryFrom<String> for ServiceName {
    type Error = InvalidServiceName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ServiceName> for String {
    fn from(n: ServiceName) -> String {
        n.0
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_catalog_names() {
        for good in [
            "apache",
            "jakarta",
            "mysql",
            "a",
            "php-fpm",
            "x_1",
            &"a".repeat(32),
        ] {
            assert_eq!(good.parse::<ServiceName>().unwrap().as_str(), good);
        }
    }

    #[test]
    fn refuses_everything_else() {
        let too_long = "a".repeat(33);
        for bad in [
            "", "Apache", "1sql", "-x", "_x", "my sql", "a;b", "ä", &too_long,
        ] {
            assert!(bad.parse::<ServiceName>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_checks_the_name() {
        let name: ServiceName = serde_json::from_str("\"apache\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"apache\"");
        assert!(serde_json::from_str::<ServiceName>("\"APACHE\"").is_err());
    }
}
