//! The client's address behind trusted proxies (SPEC §12): only a peer in
//! `HERD_TRUSTED_PROXIES` may name who it forwards for, in `Forwarded`
//! (RFC 7239 `for=`, which wins) or `X-Forwarded-For`. The client is then
//! the first address from the right that is not a trusted proxy (the
//! leftmost when all are): each trusted hop vouches only for the one before
//! it, so whatever a client wrote further left is ignored. Any other peer's
//! headers are ignored altogether.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use actix_web::http::header::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of networks (`10.0.0.0/8`) or addresses
    /// (`192.0.2.7`, a network of one); empty: none.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("`{s}` is not a network (10.0.0.0/8) or an address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The address a request comes from, for audit and throttling.
    pub fn client_of(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> String {
        let Some(peer) = peer.map(|p| canonical(p.ip())) else {
            return "unknown".into();
        };
        if !self.trusts(peer) {
            return peer.to_string();
        }
        let hops = forwarded_for(headers);
        for hop in hops.iter().rev() {
            match hop {
                Hop::Address(ip) if self.trusts(*ip) => continue,
                Hop::Address(ip) => return ip.to_string(),
                // An obfuscated or `unknown` node: the proxy does not say.
                Hop::Hidden(node) => return node.clone(),
            }
        }
        match hops.first() {
            Some(Hop::Address(ip)) => ip.to_string(),
            Some(Hop::Hidden(node)) => node.clone(),
            None => peer.to_string(),
        }
    }
}

/// A node a proxy names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Hop {
    Address(IpAddr),
    Hidden(String),
}

/// The nodes the request passed, client first: from `Forwarded` when the
/// request has one, else from `X-Forwarded-For`. Every instance of the
/// header counts, in order.
fn forwarded_for(headers: &HeaderMap) -> Vec<Hop> {
    let forwarded: Vec<Hop> = values(headers, &actix_web::http::header::FORWARDED)
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| node(value.trim().trim_matches('"')))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    values(headers, &X_FORWARDED_FOR)
        .flat_map(|v| v.split(',').map(|n| node(n.trim())).collect::<Vec<_>>())
        .collect()
}

fn values<'h>(headers: &'h HeaderMap, name: &HeaderName) -> impl Iterator<Item = &'h str> {
    headers.get_all(name).filter_map(|v| v.to_str().ok())
}

/// A node as RFC 7239 writes it (`192.0.2.43`, `192.0.2.43:47011`,
/// `[2001:db8::1]:4711`, `_hidden`, `unknown`), or a bare address.
fn node(text: &str) -> Hop {
    let host = match text.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None if text.matches(':').count() == 1 => text.split(':').next().unwrap_or_default(),
        None => text,
    };
    match host.parse::<IpAddr>() {
        Ok(ip) => Hop::Address(canonical(ip)),
        // Kept short: it is the key of the login throttle.
        Err(_) => Hop::Hidden(text.chars().take(64).collect()),
    }
}

/// IPv4 peers of a dual-stack listener arrive as `::ffff:a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, FORWARDED};

    use super::*;

    fn headers(pairs: &[(&HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append((*name).clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn client(trusted: &str, peer: &str, pairs: &[(&HeaderName, &str)]) -> String {
        let trusted: TrustedProxies = trusted.parse().unwrap();
        let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
        trusted.client_of(Some(peer), &headers(pairs))
    }

    #[test]
    fn an_untrusted_peer_names_no_one() {
        let xff = (&X_FORWARDED_FOR, "203.0.113.9");
        assert_eq!(client("", "198.51.100.1", &[xff]), "198.51.100.1");
        assert_eq!(client("10.0.0.0/8", "198.51.100.1", &[xff]), "198.51.100.1");
    }

    #[test]
    fn the_first_untrusted_hop_from_the_right_is_the_client() {
        let t = "10.0.0.0/8";
        // a client's own X-Forwarded-For is kept on its left by the proxy
        let xff = (&X_FORWARDED_FOR, "1.2.3.4, 203.0.113.9, 10.0.0.5");
        assert_eq!(client(t, "10.0.0.1", &[xff]), "203.0.113.9");
        let all_trusted = (&X_FORWARDED_FOR, "10.1.1.1, 10.0.0.5");
        assert_eq!(client(t, "10.0.0.1", &[all_trusted]), "10.1.1.1");
        assert_eq!(client(t, "10.0.0.1", &[]), "10.0.0.1");
        let two = [
            (&X_FORWARDED_FOR, "203.0.113.7"),
            (&X_FORWARDED_FOR, "10.0.0.9"),
        ];
        assert_eq!(client(t, "10.0.0.1", &two), "203.0.113.7");
    }

    #[test]
    fn forwarded_wins_and_is_read_as_rfc_7239_writes_it() {
        let t = "10.0.0.0/8, 2001:db8::/32";
        let both = [
            (
                &FORWARDED,
                r#"for=192.0.2.60;proto=http;by=10.0.0.1, For="[2001:db8:cafe::17]:4711""#,
            ),
            (&X_FORWARDED_FOR, "198.51.100.77"),
        ];
        assert_eq!(client(t, "10.0.0.1", &both), "192.0.2.60");
        let port = [(&FORWARDED, r#"for="192.0.2.43:47011""#)];
        assert_eq!(client(t, "10.0.0.1", &port), "192.0.2.43");
        let hidden = [(&FORWARDED, "for=_gazonk")];
        assert_eq!(client(t, "10.0.0.1", &hidden), "_gazonk");
        let mapped = [(&X_FORWARDED_FOR, "::ffff:192.0.2.1")];
        assert_eq!(client(t, "10.0.0.1", &mapped), "192.0.2.1");
    }

    #[test]
    fn a_bad_list_is_refused() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.example.edu".parse::<TrustedProxies>().is_err());
        assert!(" 10.0.0.0/8 , 192.0.2.7 ,"
            .parse::<TrustedProxies>()
            .is_ok());
    }
}
