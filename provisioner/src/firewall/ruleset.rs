//! The nftables ruleset for the central router, rendered from open leases.
//!
//! The router forwards between the outside and the guest LANs. Its `inet
//! herd` table lets a packet to or from a guest through only when
//! - it belongs to a lease: destination guest address, protocol and port
//!   (and the lease's source network, if any), or the guest's answer from
//!   that port. Every packet is matched, not just the first of a connection,
//!   so that removing the lease also stops connections opened through it
//!   (SPEC §5); or
//! - it belongs to a connection the guest itself opened towards the outside.
//!   `ct original ip saddr` names who opened a connection, which an outside
//!   client of a leased port never is, so this is not the blanket
//!   "established" accept the SPEC forbids: a connection into a guest is
//!   only ever let through by the lease rules; or
//! - it is an ICMP error about a connection conntrack knows (path MTU,
//!   unreachable), which carries no data and cannot keep a connection alive.
//!
//! Everything else to or from a guest is dropped, including guest-to-guest
//! traffic through the router without a lease. Traffic between other
//! networks, and IPv6, are accepted here and left to the router's own tables.

use std::fmt::Write;
use std::net::Ipv4Addr;

use herd_core::clock::{rfc3339, Millis};
use herd_core::domain::{Cidr, GuestName, Port, Protocol};
use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

/// One open lease, as read from the database for rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLease {
    pub lease_id: i64,
    pub guest: GuestName,
    pub address: Ipv4Addr,
    pub protocol: Protocol,
    pub port: Port,
    /// Who may connect; `None` is anyone.
    pub source: Option<Cidr>,
    pub expires_at: Millis,
}

/// The complete script for `nft -f`. Its first lines create the table if
/// needed and delete it, so loading the script replaces the table in one
/// transaction: there is no moment with the old rules gone and the new ones
/// not yet in place.
///
/// `guest_networks` are the guest LANs (all of them, leased or not): traffic
/// to them is what the table guards. The output depends on the content of
/// the inputs only, not their order, so its [`ruleset_etag`] changes exactly
/// when the rules do.
pub fn render_ruleset(guest_networks: &[Ipv4Net], leases: &[RenderedLease]) -> String {
    let mut out = String::new();
    out.push_str(PREAMBLE);
    render_guest_set(&mut out, guest_networks);
    out.push_str(CHAIN_HEAD);
    for lease in sorted(leases) {
        render_lease(&mut out, lease);
    }
    out.push_str(CHAIN_TAIL);
    out
}

/// Strong ETag value (without quotes) for a rendered ruleset: the SHA-256 of
/// its text in hex, so an operator can compare it with `sha256sum`.
pub fn ruleset_etag(ruleset: &str) -> String {
    hex::encode(Sha256::digest(ruleset.as_bytes()))
}

const PREAMBLE: &str = "\
# herd: firewall leases for the central router. Generated; do not edit.
# Load with `nft -f FILE`: the table is replaced atomically.
table inet herd
delete table inet herd

table inet herd {
";

const CHAIN_HEAD: &str = "
\tchain forward {
\t\ttype filter hook forward priority filter; policy drop;

\t\t# Not to or from a guest: none of herd's business.
\t\tmeta nfproto ipv6 accept
\t\tip saddr != @guest_networks ip daddr != @guest_networks accept

\t\t# Connections guests opened towards the outside, with their replies.
\t\tct original ip saddr @guest_networks ct original ip daddr != @guest_networks accept
\t\ticmp type { destination-unreachable, time-exceeded, parameter-problem } ct state related accept

\t\t# Leases: all packets both ways, whatever the connection state.
";

const CHAIN_TAIL: &str = "\t}
}
";

fn render_guest_set(out: &mut String, networks: &[Ipv4Net]) {
    let mut nets: Vec<Ipv4Net> = networks.iter().map(Ipv4Net::trunc).collect();
    nets.sort();
    nets.dedup();
    out.push_str("\tset guest_networks {\n\t\ttype ipv4_addr\n\t\tflags interval\n");
    // Overlapping LANs would make nft refuse the elements; merging is safe
    // because the set only ever asks "is this a guest address".
    out.push_str("\t\tauto-merge\n");
    if !nets.is_empty() {
        let list: Vec<String> = nets.iter().map(Ipv4Net::to_string).collect();
        let _ = writeln!(out, "\t\telements = {{ {} }}", list.join(", "));
    }
    out.push_str("\t}\n");
}

fn sorted(leases: &[RenderedLease]) -> Vec<&RenderedLease> {
    let mut sorted: Vec<&RenderedLease> = leases.iter().collect();
    sorted.sort_by_key(|l| (l.address, l.protocol, l.port, l.source, l.lease_id));
    sorted
}

fn render_lease(out: &mut String, lease: &RenderedLease) {
    let RenderedLease {
        lease_id,
        guest,
        address,
        protocol,
        port,
        source,
        expires_at,
    } = lease;
    let from = source.map_or_else(|| "anywhere".to_owned(), |s| s.to_string());
    let _ = writeln!(
        out,
        "\t\t# lease {lease_id}: {guest} {protocol}/{port} from {from} until {}",
        rfc3339(*expires_at)
    );
    match source {
        Some(cidr) if !cidr.is_ipv4() => {
            // Fail closed: the policy refuses such leases, and nft would
            // refuse the whole script over one rule mixing ip and ip6.
            out.push_str("\t\t# not opened: an IPv6 source cannot reach an IPv4 guest\n");
        }
        Some(cidr) => {
            let _ = writeln!(
                out,
                "\t\tip saddr {cidr} ip daddr {address} {protocol} dport {port} accept"
            );
            let _ = writeln!(
                out,
                "\t\tip saddr {address} ip daddr {cidr} {protocol} sport {port} accept"
            );
        }
        None => {
            let _ = writeln!(out, "\t\tip daddr {address} {protocol} dport {port} accept");
            let _ = writeln!(out, "\t\tip saddr {address} {protocol} sport {port} accept");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use super::*;

    const NOW: Millis = 1_790_000_000_000;

    fn lease(
        id: i64,
        guest: &str,
        addr: &str,
        proto: Protocol,
        port: u16,
        source: Option<&str>,
    ) -> RenderedLease {
        RenderedLease {
            lease_id: id,
            guest: guest.parse().unwrap(),
            address: addr.parse().unwrap(),
            protocol: proto,
            port: Port::try_from(port).unwrap(),
            source: source.map(|s| s.parse().unwrap()),
            expires_at: NOW + id * 60_000,
        }
    }

    fn lans() -> Vec<Ipv4Net> {
        vec![
            "10.10.0.0/22".parse().unwrap(),
            "10.20.0.0/24".parse().unwrap(),
        ]
    }

    fn many() -> Vec<RenderedLease> {
        vec![
            lease(
                3,
                "LX000003",
                "10.10.0.3",
                Protocol::Udp,
                5000,
                Some("198.51.100.0/24"),
            ),
            lease(1, "LX000001", "10.10.0.1", Protocol::Tcp, 80, None),
            lease(
                2,
                "LX000001",
                "10.10.0.1",
                Protocol::Tcp,
                8080,
                Some("192.0.2.7"),
            ),
            lease(
                4,
                "LX#$0004",
                "10.20.0.4",
                Protocol::Tcp,
                443,
                Some("0.0.0.0/0"),
            ),
            lease(5, "LX000001", "10.10.0.1", Protocol::Udp, 1194, None),
        ]
    }

    fn rule_lines(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .collect()
    }

    #[test]
    fn rendering_ignores_input_order() {
        let mut leases = many();
        let first = render_ruleset(&lans(), &leases);
        leases.reverse();
        let mut nets = lans();
        nets.reverse();
        nets.push(nets[0]);
        let second = render_ruleset(&nets, &leases);
        assert_eq!(first, second);
        assert_eq!(ruleset_etag(&first), ruleset_etag(&second));
    }

    #[test]
    fn leases_are_sorted_by_address_protocol_and_port() {
        let text = render_ruleset(&lans(), &many());
        let ids: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("# lease "))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(ids, ["1", "2", "5", "3", "4"]);
    }

    #[test]
    fn a_lease_appears_and_disappears_with_the_etag() {
        let open = vec![lease(
            7,
            "LX000042",
            "10.10.0.42",
            Protocol::Tcp,
            8443,
            None,
        )];
        let closed = render_ruleset(&lans(), &[]);
        let opened = render_ruleset(&lans(), &open);
        assert!(opened.contains("\t\t# lease 7: LX000042 tcp/8443 from anywhere until 2026-09-21T"));
        assert!(opened.contains("\t\tip daddr 10.10.0.42 tcp dport 8443 accept\n"));
        assert!(opened.contains("\t\tip saddr 10.10.0.42 tcp sport 8443 accept\n"));
        assert!(!closed.contains("10.10.0.42"));
        assert_ne!(ruleset_etag(&closed), ruleset_etag(&opened));
        assert_eq!(
            ruleset_etag(&closed),
            ruleset_etag(&render_ruleset(&lans(), &[]))
        );
    }

    #[test]
    fn source_networks_limit_both_directions() {
        let text = render_ruleset(&lans(), &many());
        assert!(text.contains("ip saddr 198.51.100.0/24 ip daddr 10.10.0.3 udp dport 5000 accept"));
        assert!(text.contains("ip saddr 10.10.0.3 ip daddr 198.51.100.0/24 udp sport 5000 accept"));
        assert!(text.contains("ip saddr 192.0.2.7/32 ip daddr 10.10.0.1 tcp dport 8080 accept"));
    }

    #[test]
    fn ipv6_sources_are_not_opened() {
        let v6 = lease(
            9,
            "LX000009",
            "10.10.0.9",
            Protocol::Tcp,
            80,
            Some("2001:db8::/32"),
        );
        let text = render_ruleset(&lans(), &[v6]);
        assert!(text.contains("# lease 9:"));
        assert!(!rule_lines(&text).iter().any(|l| l.contains("10.10.0.9")));
    }

    #[test]
    fn no_rule_accepts_by_connection_state_alone() {
        let text = render_ruleset(&lans(), &many());
        assert!(!text.contains("established"));
        for line in rule_lines(&text).into_iter().filter(|l| l.contains("ct ")) {
            let guest_opened = line.starts_with("ct original ip saddr @guest_networks ");
            let icmp_error =
                line.starts_with("icmp type {") && line.ends_with("ct state related accept");
            assert!(guest_opened || icmp_error, "state-based rule: {line}");
        }
    }

    #[test]
    fn lease_addresses_appear_only_in_their_own_rules() {
        let text = render_ruleset(&lans(), &many());
        for line in rule_lines(&text)
            .into_iter()
            .filter(|l| l.contains("10.10.0.1 "))
        {
            assert!(
                line.contains(" dport ") || line.contains(" sport "),
                "{line}"
            );
        }
    }

    #[test]
    fn guest_networks_are_guarded_even_without_leases() {
        let text = render_ruleset(&lans(), &[]);
        assert!(text.contains("elements = { 10.10.0.0/22, 10.20.0.0/24 }"));
        assert!(text.contains("policy drop;"));
        let no_lans = render_ruleset(&[], &[]);
        assert!(!no_lans.contains("elements"));
    }

    #[test]
    fn etag_is_sha256_hex() {
        assert_eq!(
            ruleset_etag(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    const NFT: &str = "/usr/sbin/nft";

    /// `nft -c` asks the kernel to check the batch without committing it.
    fn nft_check(text: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herd.nft");
        std::fs::write(&file, text).unwrap();
        let out = Command::new(NFT)
            .arg("-c")
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Tells a broken ruleset from a machine where nft cannot run at all (no
    /// netlink, no privileges); in CI neither may pass unnoticed.
    fn nft_usable() -> bool {
        let in_ci = std::env::var_os("CI").is_some();
        if !Path::new(NFT).exists() {
            assert!(!in_ci, "{NFT} is missing: install nftables");
            eprintln!("skipped: {NFT} is missing");
            return false;
        }
        match nft_check("table inet herd_probe {\n}\n") {
            Ok(()) => true,
            Err(e) => {
                assert!(!in_ci, "nft cannot check even an empty table here: {e}");
                eprintln!("skipped: nft cannot check even an empty table here: {e}");
                false
            }
        }
    }

    #[test]
    fn nft_accepts_the_rendered_rulesets() {
        if !nft_usable() {
            return;
        }
        let v6 = lease(
            9,
            "LX000009",
            "10.10.0.9",
            Protocol::Tcp,
            80,
            Some("2001:db8::/32"),
        );
        let cases = [
            ("empty", render_ruleset(&[], &[])),
            ("no leases", render_ruleset(&lans(), &[])),
            ("one lease", render_ruleset(&lans(), &many()[..1])),
            ("many leases", render_ruleset(&lans(), &many())),
            ("ipv6 source", render_ruleset(&lans(), &[v6])),
        ];
        for (name, text) in cases {
            if let Err(e) = nft_check(&text) {
                panic!("nft refused the {name} ruleset:\n{e}\n{text}");
            }
        }
        assert!(
            nft_check("table inet herd {\n\tbogus\n}\n").is_err(),
            "nft -c checks nothing"
        );
    }
}
