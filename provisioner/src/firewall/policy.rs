//! What a guest's owner may open, and for how long.
//!
//! Defaults: tcp `80, 443, 1024-65535`, udp `1024-65535`, 90 minutes unless
//! asked otherwise, at most 8 hours, at most 5 open ports per guest. The
//! well-known ports other than HTTP(S) stay closed by default because they
//! are the ones scanners try first (ssh, telnet, SMB, databases on defaults).

use std::fmt;
use std::str::FromStr;

use herd_core::domain::{Cidr, InvalidPort, Port, Protocol};
use serde::{Deserialize, Serialize};

/// An inclusive range of ports, `start <= end`. Written `{start, end}` in
/// JSON; configuration may also say `"1024-65535"`, `"80"` or `80`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PortRangeSpec")]
pub struct PortRange {
    start: Port,
    end: Port,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPortRange {
    #[error(transparent)]
    Port(#[from] InvalidPort),
    #[error("port range {start}-{end} is empty: the first port must not be above the last")]
    Reversed { start: Port, end: Port },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PortRangeSpec {
    Single(Port),
    Text(String),
    Bounds { start: Port, end: Port },
}

impl TryFrom<PortRangeSpec> for PortRange {
    type Error = InvalidPortRange;
    fn try_from(spec: PortRangeSpec) -> Result<Self, Self::Error> {
        match spec {
            PortRangeSpec::Single(port) => Ok(Self::single(port)),
            PortRangeSpec::Text(text) => text.parse(),
            PortRangeSpec::Bounds { start, end } => Self::new(start, end),
        }
    }
}

impl PortRange {
    pub fn new(start: Port, end: Port) -> Result<Self, InvalidPortRange> {
        if start > end {
            return Err(InvalidPortRange::Reversed { start, end });
        }
        Ok(Self { start, end })
    }

    pub fn single(port: Port) -> Self {
        Self {
            start: port,
            end: port,
        }
    }

    pub fn start(&self) -> Port {
        self.start
    }

    pub fn end(&self) -> Port {
        self.end
    }

    pub fn contains(&self, port: Port) -> bool {
        (self.start..=self.end).contains(&port)
    }
}

impl FromStr for PortRange {
    type Err = InvalidPortRange;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('-') {
            Some((start, end)) => Self::new(start.parse()?, end.parse()?),
            None => Ok(Self::single(s.parse()?)),
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// The firewall policy, as configured and as `GET /api/v1/firewall/policy`
/// shows it. Deserializing checks it, so a running server never holds an
/// inconsistent one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicySettings")]
pub struct FirewallPolicy {
    tcp: Vec<PortRange>,
    udp: Vec<PortRange>,
    default_minutes: u32,
    max_minutes: u32,
    max_open_per_guest: u32,
}

/// The unchecked form read from configuration; every field may be left out.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PolicySettings {
    tcp: Vec<PortRange>,
    udp: Vec<PortRange>,
    default_minutes: u32,
    max_minutes: u32,
    max_open_per_guest: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        let from = |n: u16| Port::try_from(n).expect("a non-zero literal");
        let unprivileged = PortRange::new(from(1024), Port::MAX).expect("ordered literals");
        Self {
            tcp: vec![
                PortRange::single(from(80)),
                PortRange::single(from(443)),
                unprivileged,
            ],
            udp: vec![unprivileged],
            default_minutes: 90,
            max_minutes: 8 * 60,
            max_open_per_guest: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPolicy {
    #[error("firewall default_minutes must be at least 1")]
    ZeroDefault,
    #[error("firewall default_minutes ({default}) is above max_minutes ({max})")]
    DefaultAboveMax { default: u32, max: u32 },
}

impl TryFrom<PolicySettings> for FirewallPolicy {
    type Error = InvalidPolicy;
    fn try_from(s: PolicySettings) -> Result<Self, Self::Error> {
        if s.default_minutes == 0 {
            return Err(InvalidPolicy::ZeroDefault);
        }
        if s.default_minutes > s.max_minutes {
            return Err(InvalidPolicy::DefaultAboveMax {
                default: s.default_minutes,
                max: s.max_minutes,
            });
        }
        Ok(Self {
            tcp: s.tcp,
            udp: s.udp,
            default_minutes: s.default_minutes,
            max_minutes: s.max_minutes,
            max_open_per_guest: s.max_open_per_guest,
        })
    }
}

impl Default for FirewallPolicy {
    fn default() -> Self {
        PolicySettings::default()
            .try_into()
            .expect("the default policy is consistent")
    }
}

/// Why a lease request is refused; the message is meant for the student.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("{protocol} port {port} may not be opened; allowed {protocol} ports: {}", describe(.allowed))]
    PortNotAllowed {
        protocol: Protocol,
        port: Port,
        allowed: Vec<PortRange>,
    },
    #[error("a lease must last at least 1 minute")]
    ZeroDuration,
    #[error("a lease may last at most {max} minutes; {requested} were asked for")]
    TooLong { requested: u32, max: u32 },
    #[error("source {0} is an IPv6 network, but guests have IPv4 addresses only")]
    Ipv6Source(Cidr),
    #[error("a guest may have at most {max} open ports at a time; close one first")]
    TooManyOpen { max: u32 },
}

fn describe(ranges: &[PortRange]) -> String {
    if ranges.is_empty() {
        return "none".to_owned();
    }
    let texts: Vec<String> = ranges.iter().map(PortRange::to_string).collect();
    texts.join(", ")
}

impl FirewallPolicy {
    pub fn allowed(&self, protocol: Protocol) -> &[PortRange] {
        match protocol {
            Protocol::Tcp => &self.tcp,
            Protocol::Udp => &self.udp,
        }
    }

    pub fn default_minutes(&self) -> u32 {
        self.default_minutes
    }

    pub fn max_minutes(&self) -> u32 {
        self.max_minutes
    }

    pub fn max_open_per_guest(&self) -> u32 {
        self.max_open_per_guest
    }

    /// Checks a new lease and answers how many minutes it lasts. Asking for
    /// more than the maximum is an error rather than silently shortened, so
    /// the student learns the limit when opening.
    pub fn check(
        &self,
        protocol: Protocol,
        port: Port,
        duration_minutes: Option<u32>,
    ) -> Result<u32, PolicyViolation> {
        let allowed = self.allowed(protocol);
        if !allowed.iter().any(|r| r.contains(port)) {
            return Err(PolicyViolation::PortNotAllowed {
                protocol,
                port,
                allowed: allowed.to_vec(),
            });
        }
        match duration_minutes.unwrap_or(self.default_minutes) {
            0 => Err(PolicyViolation::ZeroDuration),
            m if m > self.max_minutes => Err(PolicyViolation::TooLong {
                requested: m,
                max: self.max_minutes,
            }),
            m => Ok(m),
        }
    }

    /// How long a renewed lease lasts from now: "extend from now, up to the
    /// maximum" (SPEC §4), so a request above the maximum is capped rather
    /// than refused; renewing twice never lengthens a lease beyond it.
    pub fn renewal_minutes(&self, requested: Option<u32>) -> Result<u32, PolicyViolation> {
        match requested.unwrap_or(self.default_minutes) {
            0 => Err(PolicyViolation::ZeroDuration),
            m => Ok(m.min(self.max_minutes)),
        }
    }

    /// Guests have IPv4 addresses only: an IPv6 source could never reach one,
    /// and nftables refuses a rule that mixes the two.
    pub fn check_source(&self, source: Option<&Cidr>) -> Result<(), PolicyViolation> {
        match source {
            Some(cidr) if !cidr.is_ipv4() => Err(PolicyViolation::Ipv6Source(*cidr)),
            _ => Ok(()),
        }
    }

    /// `open_now` counts the guest's leases before the new one.
    pub fn check_open_count(&self, open_now: u32) -> Result<(), PolicyViolation> {
        if open_now >= self.max_open_per_guest {
            return Err(PolicyViolation::TooManyOpen {
                max: self.max_open_per_guest,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(n: u16) -> Port {
        Port::try_from(n).unwrap()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = FirewallPolicy::default();
        assert_eq!(describe(p.allowed(Protocol::Tcp)), "80, 443, 1024-65535");
        assert_eq!(describe(p.allowed(Protocol::Udp)), "1024-65535");
        assert_eq!(
            (p.default_minutes(), p.max_minutes(), p.max_open_per_guest()),
            (90, 480, 5)
        );
    }

    #[test]
    fn ports_in_range_are_allowed_with_the_default_duration() {
        let p = FirewallPolicy::default();
        for (proto, n) in [
            (Protocol::Tcp, 80),
            (Protocol::Tcp, 443),
            (Protocol::Tcp, 1024),
            (Protocol::Udp, 65535),
        ] {
            assert_eq!(p.check(proto, port(n), None), Ok(90), "{proto}/{n}");
        }
        assert_eq!(p.check(Protocol::Tcp, port(8080), Some(480)), Ok(480));
    }

    #[test]
    fn ports_out_of_range_are_refused_naming_the_ranges() {
        let p = FirewallPolicy::default();
        let err = p.check(Protocol::Tcp, port(22), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tcp port 22 may not be opened; allowed tcp ports: 80, 443, 1024-65535"
        );
        assert!(p.check(Protocol::Udp, port(53), None).is_err());
        assert!(p.check(Protocol::Udp, port(80), None).is_err());
    }

    #[test]
    fn durations_are_bounded() {
        let p = FirewallPolicy::default();
        let err = p.check(Protocol::Tcp, port(80), Some(481)).unwrap_err();
        assert_eq!(
            err,
            PolicyViolation::TooLong {
                requested: 481,
                max: 480
            }
        );
        assert!(err.to_string().contains("at most 480 minutes"));
        assert_eq!(
            p.check(Protocol::Tcp, port(80), Some(0)),
            Err(PolicyViolation::ZeroDuration)
        );
    }

    #[test]
    fn renewal_defaults_and_caps_at_the_maximum() {
        let p = FirewallPolicy::default();
        assert_eq!(p.renewal_minutes(None), Ok(90));
        assert_eq!(p.renewal_minutes(Some(30)), Ok(30));
        assert_eq!(p.renewal_minutes(Some(10_000)), Ok(480));
        assert_eq!(
            p.renewal_minutes(Some(0)),
            Err(PolicyViolation::ZeroDuration)
        );
    }

    #[test]
    fn sources_must_be_ipv4_and_open_ports_are_counted() {
        let p = FirewallPolicy::default();
        let v4: Cidr = "192.0.2.0/24".parse().unwrap();
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert_eq!(p.check_source(None), Ok(()));
        assert_eq!(p.check_source(Some(&v4)), Ok(()));
        assert_eq!(
            p.check_source(Some(&v6)),
            Err(PolicyViolation::Ipv6Source(v6))
        );
        assert_eq!(p.check_open_count(4), Ok(()));
        assert_eq!(
            p.check_open_count(5),
            Err(PolicyViolation::TooManyOpen { max: 5 })
        );
    }

    #[test]
    fn configuration_accepts_partial_settings_and_range_spellings() {
        let p: FirewallPolicy = serde_json::from_str(
            r#"{"tcp": ["8000-8999", 22, {"start": 443, "end": 443}], "max_minutes": 120}"#,
        )
        .unwrap();
        assert_eq!(describe(p.allowed(Protocol::Tcp)), "8000-8999, 22, 443");
        assert_eq!(describe(p.allowed(Protocol::Udp)), "1024-65535");
        assert_eq!((p.default_minutes(), p.max_minutes()), (90, 120));
    }

    #[test]
    fn inconsistent_configuration_is_refused() {
        for bad in [
            r#"{"default_minutes": 0}"#,
            r#"{"default_minutes": 100, "max_minutes": 60}"#,
            r#"{"tcp": ["2000-1000"]}"#,
            r#"{"tcp": ["0-10"]}"#,
            r#"{"max_minuets": 10}"#,
        ] {
            assert!(
                serde_json::from_str::<FirewallPolicy>(bad).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn serializes_ranges_as_bounds_and_reads_them_back() {
        let p = FirewallPolicy::default();
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["tcp"][0], serde_json::json!({"start": 80, "end": 80}));
        assert_eq!(json["max_minutes"], 480);
        assert_eq!(serde_json::from_value::<FirewallPolicy>(json).unwrap(), p);
    }
}
