use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A network written as `address/prefix` (`192.0.2.0/24`, `2001:db8::/32`),
/// or a bare address standing for that one host (`/32`, `/128`).
///
/// Host bits must be clear: `192.0.2.7/24` is refused rather than silently
/// widened or narrowed, because a firewall source that means something other
/// than what its author typed is worse than an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr(IpNet);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCidr {
    #[error("`{0}` is not a network: write an address with an optional prefix length, e.g. `192.0.2.0/24`")]
    Syntax(String),
    #[error("`{given}` has host bits set: the network is `{network}`, a single host is `{host}`")]
    HostBitsSet {
        given: String,
        network: String,
        host: String,
    },
}

impl Cidr {
    pub fn net(&self) -> IpNet {
        self.0
    }

    pub fn is_ipv4(&self) -> bool {
        matches!(self.0, IpNet::V4(_))
    }

    pub fn contains(&self, addr: &IpAddr) -> bool {
        self.0.contains(addr)
    }
}

impl FromStr for Cidr {
    type Err = InvalidCidr;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let net = parse_parts(addr, prefix).ok_or_else(|| InvalidCidr::Syntax(s.to_owned()))?;
        if net.trunc() != net {
            return Err(InvalidCidr::HostBitsSet {
                given: s.to_owned(),
                network: net.trunc().to_string(),
                host: net.addr().to_string(),
            });
        }
        Ok(Self(net))
    }
}

/// Uses std's address parser, which refuses leading zeros (`010.0.0.1`
/// reads as octal to some tools), and takes the prefix only as plain digits.
fn parse_parts(addr: &str, prefix: Option<&str>) -> Option<IpNet> {
    let addr: IpAddr = addr.parse().ok()?;
    let len = match prefix {
        None => return Some(addr.into()),
        Some(p) if is_plain_number(p) => p.parse::<u8>().ok()?,
        Some(_) => return None,
    };
    IpNet::new(addr, len).ok()
}

fn is_plain_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

impl TryFrom<String> for Cidr {
    type Error = InvalidCidr;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

impl From<IpNet> for Cidr {
    /// Clears host bits, as there is no author whose intent to respect.
    fn from(net: IpNet) -> Self {
        Self(net.trunc())
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn networks_and_single_hosts() {
        assert_eq!(cidr("192.0.2.0/24").to_string(), "192.0.2.0/24");
        assert_eq!(cidr("192.0.2.7").to_string(), "192.0.2.7/32");
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert_eq!(cidr("2001:db8::/32").to_string(), "2001:db8::/32");
        assert_eq!(cidr("2001:db8::1").to_string(), "2001:db8::1/128");
        assert!(cidr("192.0.2.0/24").is_ipv4());
        assert!(!cidr("2001:db8::/32").is_ipv4());
        assert!(cidr("192.0.2.0/24").contains(&"192.0.2.200".parse().unwrap()));
    }

    #[test]
    fn host_bits_are_refused_with_both_readings_offered() {
        let err = "192.0.2.7/24".parse::<Cidr>().unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, InvalidCidr::HostBitsSet { .. }));
        assert!(
            msg.contains("192.0.2.0/24") && msg.contains("`192.0.2.7`"),
            "{msg}"
        );
        assert!("2001:db8::1/64".parse::<Cidr>().is_err());
    }

    #[test]
    fn refuses_malformed_text() {
        for bad in [
            "",
            "192.0.2.0/33",
            "192.0.2/24",
            "192.0.2.0/",
            "/24",
            " 192.0.2.0/24",
            "example.org",
            "192.0.2.0/24/1",
            "010.0.0.0/8",
            "10.0.0.0/08",
            "10.0.0.0/+8",
        ] {
            assert!(
                matches!(bad.parse::<Cidr>(), Err(InvalidCidr::Syntax(_))),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn serde_is_the_checked_string() {
        let c: Cidr = serde_json::from_str("\"198.51.100.0/24\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"198.51.100.0/24\"");
        assert!(serde_json::from_str::<Cidr>("\"198.51.100.1/24\"").is_err());
    }
}
