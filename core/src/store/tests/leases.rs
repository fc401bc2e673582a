//! Firewall leases: opening, the one-open-lease rule, closing, renewing,
//! and expiry that closes each lease exactly once, on both databases.

use std::collections::HashSet;

use super::super::events::{self, EventFilter};
use super::super::guests::{self, Guest};
use super::super::leases::{self, NewLease, OpenError};
use super::super::test_db::{self, TestDb};
use super::super::AnyConnection;
use super::guests::spec;
use super::invariants::{seeded, NOW};
use super::{assert_each_once, race};
use crate::domain::{Cidr, GuestState, Port, Protocol};

const MINUTE: i64 = 60_000;

fn guest(conn: &mut AnyConnection, state: GuestState) -> Guest {
    let spec = spec(conn, state, None);
    guests::reserve(conn, &spec, NOW).unwrap()
}

fn port(n: u16) -> Port {
    Port::try_from(n).unwrap()
}

fn new(guest_id: i64, protocol: Protocol, p: u16, expires_at: i64) -> NewLease<'static> {
    NewLease {
        guest_id,
        protocol,
        port: port(p),
        source: None,
        opened_by: None,
        expires_at,
    }
}

fn open(
    conn: &mut AnyConnection,
    guest_id: i64,
    p: u16,
    expires_at: i64,
) -> Result<leases::Lease, OpenError> {
    leases::open(
        conn,
        &new(guest_id, Protocol::Tcp, p, expires_at),
        1000,
        NOW,
    )
}

fn expiry_events(conn: &mut AnyConnection, guest_id: Option<i64>) -> usize {
    let filter = EventFilter {
        guest_id,
        kind: Some(crate::domain::EventKind::Firewall),
        action: Some("lease.expired".into()),
        limit: 10_000,
        ..EventFilter::default()
    };
    events::list(conn, &filter).unwrap().0.len()
}

#[test]
fn open_conflict_close_and_reopen() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn, GuestState::Running);
        let id = g.row.id;
        let first = open(&mut conn, id, 8080, NOW + 90 * MINUTE).unwrap();
        assert_eq!(first.guest, g.row.name, "{}", db.label);
        assert_eq!(first.address, g.row.ip_address);
        assert_eq!((first.protocol, first.port), (Protocol::Tcp, port(8080)));
        assert_eq!(first.expires_at, NOW + 90 * MINUTE);
        assert!(first.is_open(NOW));

        let again = open(&mut conn, id, 8080, NOW + MINUTE).unwrap_err();
        assert!(
            matches!(again, OpenError::AlreadyOpen { .. }),
            "{}: {again:?}",
            db.label
        );
        // the same port over the other protocol is another opening
        leases::open(
            &mut conn,
            &new(id, Protocol::Udp, 8080, NOW + MINUTE),
            1000,
            NOW,
        )
        .unwrap();
        assert_eq!(leases::count_open(&mut conn, id, NOW).unwrap(), 2);

        let closed = leases::close(&mut conn, first.id, NOW + 1)
            .unwrap()
            .unwrap();
        assert_eq!(closed.closed_at, Some(NOW + 1));
        assert_eq!(closed.close_reason.as_deref(), Some("closed"));
        assert!(leases::close(&mut conn, first.id, NOW + 2)
            .unwrap()
            .is_none());
        assert!(leases::close(&mut conn, 999_999, NOW + 2)
            .unwrap()
            .is_none());
        assert_eq!(leases::count_open(&mut conn, id, NOW).unwrap(), 1);

        let reopened = open(&mut conn, id, 8080, NOW + MINUTE).unwrap();
        assert_ne!(reopened.id, first.id);
        let open_now = leases::list_open_for_guest(&mut conn, id, NOW + 3).unwrap();
        let ports: Vec<(Protocol, u16)> = open_now
            .iter()
            .map(|l| (l.protocol, l.port.get()))
            .collect();
        assert_eq!(ports, [(Protocol::Udp, 8080), (Protocol::Tcp, 8080)]);
    }
}

#[test]
fn limits_and_retired_guests() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn, GuestState::Running);
        let id = g.row.id;
        for p in [1024, 1025] {
            leases::open(&mut conn, &new(id, Protocol::Tcp, p, NOW + MINUTE), 2, NOW).unwrap();
        }
        let err = leases::open(
            &mut conn,
            &new(id, Protocol::Tcp, 1026, NOW + MINUTE),
            2,
            NOW,
        )
        .unwrap_err();
        assert!(
            matches!(err, OpenError::TooManyOpen { open: 2 }),
            "{}: {err:?}",
            db.label
        );
        // once they have expired, they no longer count
        leases::open(
            &mut conn,
            &new(id, Protocol::Tcp, 1026, NOW + 2 * MINUTE),
            2,
            NOW + MINUTE,
        )
        .unwrap();

        let source: Cidr = "192.0.2.0/24".parse().unwrap();
        let mut with_source = new(id, Protocol::Udp, 5000, NOW + 2 * MINUTE);
        with_source.source = Some(&source);
        let l = leases::open(&mut conn, &with_source, 5, NOW).unwrap();
        assert_eq!(l.source, Some(source));

        guests::set_state(&mut conn, id, GuestState::Decommissioning, NOW).unwrap();
        let err = open(&mut conn, id, 2000, NOW + MINUTE).unwrap_err();
        assert!(
            matches!(err, OpenError::GuestUnavailable(_)),
            "{}: {err:?}",
            db.label
        );
        guests::retire(&mut conn, id, NOW + 1).unwrap();
        assert_eq!(leases::count_open(&mut conn, id, NOW).unwrap(), 0);
        let l = leases::find(&mut conn, l.id).unwrap().unwrap();
        assert_eq!(l.close_reason.as_deref(), Some("decommissioned"));
        assert_eq!(l.address, None);
    }
}

#[test]
fn renew_moves_the_end_of_open_leases_only() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let id = guest(&mut conn, GuestState::Running).row.id;
        let l = open(&mut conn, id, 8080, NOW + 10 * MINUTE).unwrap();
        let renewed = leases::renew(
            &mut conn,
            l.id,
            NOW + 5 * MINUTE + 90 * MINUTE,
            NOW + 5 * MINUTE,
        )
        .unwrap()
        .unwrap();
        assert_eq!(renewed.expires_at, NOW + 95 * MINUTE, "{}", db.label);
        // past its time (not yet swept) it cannot be revived
        assert!(
            leases::renew(&mut conn, l.id, NOW + 200 * MINUTE, NOW + 95 * MINUTE)
                .unwrap()
                .is_none()
        );
        assert!(leases::close(&mut conn, l.id, NOW + 95 * MINUTE)
            .unwrap()
            .is_none());
        let l2 = open(&mut conn, id, 8081, NOW + 10 * MINUTE).unwrap();
        leases::close(&mut conn, l2.id, NOW).unwrap().unwrap();
        assert!(leases::renew(&mut conn, l2.id, NOW + 20 * MINUTE, NOW)
            .unwrap()
            .is_none());
        assert!(leases::renew(&mut conn, 999_999, NOW + 20 * MINUTE, NOW)
            .unwrap()
            .is_none());
    }
}

#[test]
fn expiry_closes_due_leases_once_with_an_event() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn, GuestState::Running);
        let id = g.row.id;
        let soon = open(&mut conn, id, 8080, NOW + MINUTE).unwrap();
        let exact = open(&mut conn, id, 8081, NOW + 2 * MINUTE).unwrap();
        let later = open(&mut conn, id, 8082, NOW + 3 * MINUTE).unwrap();
        let early = open(&mut conn, id, 8083, NOW + MINUTE).unwrap();
        leases::close(&mut conn, early.id, NOW).unwrap().unwrap();

        // before any sweep, reads already leave out what is past its time
        let at = NOW + 2 * MINUTE;
        let listed: Vec<i64> = leases::list_open(&mut conn, at)
            .unwrap()
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(listed, [later.id], "{}", db.label);
        assert_eq!(leases::count_open(&mut conn, id, at).unwrap(), 1);

        let expired = leases::expire_due(&mut conn, at).unwrap();
        let ids: Vec<i64> = expired.iter().map(|l| l.id).collect();
        assert_eq!(ids, [soon.id, exact.id], "{}", db.label);
        assert!(expired
            .iter()
            .all(|l| l.close_reason.as_deref() == Some("expired")));
        assert!(expired.iter().all(|l| l.closed_at == Some(at)));
        assert_eq!(expiry_events(&mut conn, Some(id)), 2);
        assert!(leases::expire_due(&mut conn, at).unwrap().is_empty());
        assert_eq!(expiry_events(&mut conn, Some(id)), 2);
        // the early-closed lease keeps its reason
        let early = leases::find(&mut conn, early.id).unwrap().unwrap();
        assert_eq!(early.close_reason.as_deref(), Some("closed"));

        // reopening a port whose lease is due but not yet swept works,
        // and expires the old lease on the way (one event, not two)
        let again = open(&mut conn, id, 8082, NOW + 10 * MINUTE);
        assert!(matches!(again, Err(OpenError::AlreadyOpen { .. })));
        let reopened = leases::open(
            &mut conn,
            &new(id, Protocol::Tcp, 8082, NOW + 20 * MINUTE),
            1000,
            NOW + 3 * MINUTE,
        )
        .unwrap();
        assert_eq!(expiry_events(&mut conn, Some(id)), 3);
        let old = leases::find(&mut conn, later.id).unwrap().unwrap();
        assert_eq!(old.close_reason.as_deref(), Some("expired"));
        assert!(leases::expire_due(&mut conn, NOW + 3 * MINUTE)
            .unwrap()
            .is_empty());
        assert!(reopened.is_open(NOW + 3 * MINUTE));
    }
}

fn concurrent_sweepers(db: &TestDb) {
    let mut conn = seeded(db);
    let mut all = HashSet::new();
    for _ in 0..3 {
        let id = guest(&mut conn, GuestState::Running).row.id;
        for p in 0..20 {
            all.insert(
                open(&mut conn, id, 2000 + p, NOW + MINUTE + i64::from(p))
                    .unwrap()
                    .id,
            );
        }
    }
    drop(conn);
    // several rounds each, racing on the same due rows
    let seen: Vec<i64> = race(db, 4, |_, conn, start| {
        start.wait();
        (0..3)
            .flat_map(|_| leases::expire_due(conn, NOW + 10 * MINUTE).unwrap())
            .map(|l| l.id)
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    assert_each_once(&seen, &all, &format!("{}: a lease closed twice", db.label));
    let mut conn = db.store.conn().unwrap();
    assert_eq!(expiry_events(&mut conn, None), all.len(), "{}", db.label);
}

#[test]
fn concurrent_sweepers_close_each_lease_exactly_once() {
    for db in test_db::all() {
        concurrent_sweepers(&db);
    }
}

/// What the ruleset needs of a lease.
type RulesetInput<'a> = (i64, &'a str, Option<&'a str>, Protocol, u16, Option<Cidr>);

#[test]
fn ruleset_inputs_carry_guest_name_address_and_source() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let a = guest(&mut conn, GuestState::Running);
        let b = guest(&mut conn, GuestState::Stopped);
        let source: Cidr = "198.51.100.7".parse().unwrap();
        let mut n = new(b.row.id, Protocol::Udp, 1194, NOW + MINUTE);
        n.source = Some(&source);
        let lb = leases::open(&mut conn, &n, 5, NOW).unwrap();
        let la = open(&mut conn, a.row.id, 443, NOW + 2 * MINUTE).unwrap();
        let gone = open(&mut conn, a.row.id, 80, NOW + 2 * MINUTE).unwrap();
        leases::close(&mut conn, gone.id, NOW).unwrap();

        let rows = leases::list_open(&mut conn, NOW).unwrap();
        let seen: Vec<RulesetInput> = rows
            .iter()
            .map(|l| {
                (
                    l.id,
                    l.guest.as_str(),
                    l.address.as_deref(),
                    l.protocol,
                    l.port.get(),
                    l.source,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    lb.id,
                    b.row.name.as_str(),
                    b.row.ip_address.as_deref(),
                    Protocol::Udp,
                    1194,
                    Some(source)
                ),
                (
                    la.id,
                    a.row.name.as_str(),
                    a.row.ip_address.as_deref(),
                    Protocol::Tcp,
                    443,
                    None
                ),
            ],
            "{}",
            db.label
        );
        // to the millisecond: at its expires_at a lease is no longer open
        let later: Vec<i64> = leases::list_open(&mut conn, NOW + MINUTE)
            .unwrap()
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(later, [la.id]);
        let before: Vec<i64> = leases::list_open(&mut conn, NOW + MINUTE - 1)
            .unwrap()
            .iter()
            .map(|l| l.id)
            .collect();
        assert_eq!(before, [lb.id, la.id]);
    }
}
