//! Guest LANs: who may add and remove them, and what a LAN must be.

use std::net::Ipv4Addr;

use herd_core::clock::Millis;
use herd_core::domain::{Cidr, Role};
use herd_core::store::events::Outcome;
use herd_core::store::lans::{self, Lan, NewLan};
use herd_core::store::{write_tx, AnyConnection};
use herd_provisioner::backend::LanName;
use ipnet::{IpNet, Ipv4Net};

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// A LAN as an admin asked for it, checked: an IPv4 network with room for
/// guests, a gateway among its hosts, a DNS server.
pub struct LanSpec {
    pub name: LanName,
    pub net: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub dns: Ipv4Addr,
}

impl LanSpec {
    pub fn parse(
        name: &str,
        cidr: &str,
        gateway: Option<&str>,
        dns: Option<&str>,
    ) -> ApiResult<LanSpec> {
        let invalid = |e: &dyn std::fmt::Display| ApiError::Unprocessable(e.to_string());
        let name: LanName = name.parse().map_err(|e| invalid(&e))?;
        let net = match cidr.parse::<Cidr>().map_err(|e| invalid(&e))?.net() {
            IpNet::V4(net) if (Self::WIDEST..=Self::NARROWEST).contains(&net.prefix_len()) => net,
            IpNet::V4(net) => {
                return Err(ApiError::Unprocessable(format!(
                    "{net} does not fit a guest LAN: use a network from /{} (65 534 guests) to /{} (1 guest)",
                    Self::WIDEST,
                    Self::NARROWEST
                )))
            }
            IpNet::V6(net) => {
                return Err(ApiError::Unprocessable(format!(
                    "{net} is IPv6: guest LANs are IPv4 networks"
                )))
            }
        };
        let address = |what: &str, text: &str| -> ApiResult<Ipv4Addr> {
            text.parse().map_err(|_| {
                ApiError::Unprocessable(format!("{what} `{text}` is not an IPv4 address"))
            })
        };
        let gateway = match gateway {
            Some(g) => address("gateway", g)?,
            None => net.hosts().next().unwrap_or(net.addr()),
        };
        if !is_host_of(&net, gateway) {
            return Err(ApiError::Unprocessable(format!(
                "the gateway {gateway} is not a host address of {net}"
            )));
        }
        let dns = match dns {
            Some(d) => address("dns", d)?,
            None => gateway,
        };
        Ok(LanSpec {
            name,
            net,
            gateway,
            dns,
        })
    }

    /// A /16 holds more guests than a z/VM guest LAN connects.
    const WIDEST: u8 = 16;
    /// A /30: two hosts, the gateway and one guest.
    const NARROWEST: u8 = 30;

    /// Host addresses left for guests: the gateway's and a DNS server's
    /// inside the network are not.
    pub fn capacity(&self) -> i32 {
        let hosts = (1i64 << (32 - self.net.prefix_len())) - 2;
        let taken = 1 + i64::from(self.dns != self.gateway && is_host_of(&self.net, self.dns));
        (hosts - taken) as i32
    }
}

/// Whether `addr` is a host of `net`: inside it, neither its network nor
/// its broadcast address.
fn is_host_of(net: &Ipv4Net, addr: Ipv4Addr) -> bool {
    net.contains(&addr) && addr != net.network() && addr != net.broadcast()
}

/// Adds a LAN (admins): `409` for a name in use or a network that overlaps
/// another LAN's.
pub fn create(
    c: &mut AnyConnection,
    caller: &Caller,
    spec: &LanSpec,
    now: Millis,
) -> ApiResult<Lan> {
    caller.require(Role::Admin)?;
    write_tx(c, |c| {
        let name = spec.name.to_string();
        if lans::find_by_name(c, &name)?.is_some() {
            return Err(ApiError::Conflict(format!(
                "a LAN named {name} exists already"
            )));
        }
        for other in lans::list_with_use(c)? {
            let overlaps = other
                .lan
                .cidr
                .parse::<Ipv4Net>()
                .is_ok_and(|o| o.contains(&spec.net) || spec.net.contains(&o));
            if overlaps {
                return Err(ApiError::Conflict(format!(
                    "{} overlaps {} of LAN {}",
                    spec.net, other.lan.cidr, other.lan.name
                )));
            }
        }
        let (cidr, gateway, dns) = (
            spec.net.to_string(),
            spec.gateway.to_string(),
            spec.dns.to_string(),
        );
        let new = NewLan {
            name: &name,
            cidr: &cidr,
            gateway: &gateway,
            dns: &dns,
            capacity: spec.capacity(),
        };
        lans::insert(c, &new, now)?;
        audit(
            c,
            caller,
            "lan.create",
            Target::Named(&name),
            Outcome::Success,
            Some(&cidr),
            now,
        )?;
        lans::find_by_name(c, &name)?
            .ok_or_else(|| ApiError::Internal(format!("LAN {name} vanished")))
    })
}

/// Removes a LAN (admins): `404` for none of that name, `409` while a
/// guest (pooled, being made, anyone's) holds an address on it.
pub fn remove(c: &mut AnyConnection, caller: &Caller, name: &str, now: Millis) -> ApiResult<()> {
    caller.require(Role::Admin)?;
    write_tx(c, |c| {
        let lan = lans::find_by_name(c, name)?
            .ok_or_else(|| ApiError::NotFound(format!("no LAN named {name}")))?;
        let held = lans::addresses_held(c, lan.id)?;
        if held > 0 {
            return Err(ApiError::Conflict(format!(
                "{held} guests hold addresses on {name}: decommission them (or shrink the pool) first"
            )));
        }
        lans::remove(c, &lan, now)?;
        audit(
            c,
            caller,
            "lan.delete",
            Target::Named(name),
            Outcome::Success,
            None,
            now,
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::LanSpec;

    #[test]
    fn a_lan_is_an_ipv4_network_with_a_gateway_among_its_hosts() {
        let lan = LanSpec::parse("LNXLAN2", "10.20.0.0/24", None, None).unwrap();
        assert_eq!(lan.gateway.to_string(), "10.20.0.1");
        assert_eq!(lan.dns, lan.gateway);
        assert_eq!(lan.capacity(), 253);
        let own_dns = LanSpec::parse(
            "LNXLAN2",
            "10.20.0.0/24",
            Some("10.20.0.254"),
            Some("10.20.0.2"),
        )
        .unwrap();
        assert_eq!(own_dns.capacity(), 252);
        let outside_dns =
            LanSpec::parse("LNXLAN2", "10.20.0.0/24", None, Some("192.0.2.53")).unwrap();
        assert_eq!(outside_dns.capacity(), 253);
        assert_eq!(
            LanSpec::parse("L", "10.20.0.0/16", None, None)
                .unwrap()
                .capacity(),
            65_533
        );
        assert_eq!(
            LanSpec::parse("L", "10.20.0.0/30", None, None)
                .unwrap()
                .capacity(),
            1
        );
        for (cidr, gateway) in [
            ("10.20.0.7/24", None),
            ("2001:db8::/64", None),
            ("10.20.0.0/31", None),
            ("10.0.0.0/8", None),
            ("10.20.0.0/24", Some("10.21.0.1")),
            ("10.20.0.0/24", Some("10.20.0.255")),
            ("10.20.0.0/24", Some("gateway")),
        ] {
            assert!(
                LanSpec::parse("LNXLAN2", cidr, gateway, None).is_err(),
                "{cidr} {gateway:?}"
            );
        }
        assert!(LanSpec::parse("lan with spaces", "10.20.0.0/24", None, None).is_err());
    }
}
