//! Reserving names and addresses, listing, and taking guests from the pool.

use std::collections::HashSet;

use super::super::guests::{self, AssignError, Assignment, GuestFilter, GuestSpec};
use super::super::test_db::{self, TestDb};
use super::super::users::{self, NewLocalUser, User};
use super::super::{catalog, lans, AnyConnection};
use super::invariants::{seeded, NOW};
use super::race;
use crate::domain::{GuestState, Role};

pub(super) fn spec(
    conn: &mut AnyConnection,
    state: GuestState,
    owner_id: Option<i64>,
) -> GuestSpec {
    GuestSpec {
        name_prefix: "LX".into(),
        hostname_template: "{name}.students.example.edu".into(),
        lan_id: lans::find_by_name(conn, "LNXLAN1").unwrap().unwrap().id,
        image_id: catalog::images(conn).unwrap()[0].id,
        memory_mb: 64,
        auto_boot: true,
        owner_id,
        state,
        expires_at: None,
    }
}

fn student(conn: &mut AnyConnection, name: &str) -> User {
    let new = NewLocalUser {
        username: name,
        display_name: name,
        role: Role::Student,
        password_hash: "x",
    };
    users::create_local(conn, &new, NOW).unwrap()
}

fn assignment(conn: &mut AnyConnection, user: &User) -> Assignment {
    let s = spec(conn, GuestState::Pooled, None);
    Assignment {
        owner_id: user.id,
        max_guests: user.max_guests(),
        lan_id: Some(s.lan_id),
        image_id: s.image_id,
        expires_at: NOW + 1000,
        next_state: GuestState::Starting,
    }
}

#[test]
fn reservations_take_sequential_names_and_the_lowest_free_addresses() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let s = spec(&mut conn, GuestState::Provisioning, None);
        let a = guests::reserve(&mut conn, &s, NOW).unwrap();
        let b = guests::reserve(&mut conn, &s, NOW).unwrap();
        assert_eq!(
            (a.row.name.as_str(), b.row.name.as_str()),
            ("LX000001", "LX000002"),
            "{}",
            db.label
        );
        // .1 is the gateway (and the DNS server).
        assert_eq!(a.row.ip_address.as_deref(), Some("10.10.0.2"));
        assert_eq!(b.row.ip_address.as_deref(), Some("10.10.0.3"));
        assert_eq!(a.row.hostname, "lx000001.students.example.edu");
    }
}

fn concurrent_reservations(db: &TestDb) {
    let threads = 8;
    let per_thread = 10;
    let all: Vec<(String, String)> = race(db, threads, |_, conn, start| {
        let s = spec(conn, GuestState::Provisioning, None);
        start.wait();
        (0..per_thread)
            .map(|_| guests::reserve(conn, &s, NOW).unwrap())
            .map(|g| (g.row.name, g.row.ip_address.unwrap()))
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let names: HashSet<_> = all.iter().map(|(n, _)| n).collect();
    let addresses: HashSet<_> = all.iter().map(|(_, a)| a).collect();
    assert_eq!(
        names.len(),
        threads * per_thread,
        "{}: a name was given twice",
        db.label
    );
    assert_eq!(
        addresses.len(),
        threads * per_thread,
        "{}: an address was given twice",
        db.label
    );
}

#[test]
fn concurrent_reservations_never_share_a_name_or_an_address() {
    for db in test_db::all() {
        drop(seeded(&db));
        concurrent_reservations(&db);
    }
}

#[test]
fn listing_pages_by_name_with_a_cursor() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let s = spec(&mut conn, GuestState::Stopped, None);
        for _ in 0..5 {
            guests::reserve(&mut conn, &s, NOW).unwrap();
        }
        let mut seen = Vec::new();
        let mut filter = GuestFilter {
            limit: 2,
            ..Default::default()
        };
        loop {
            let (page, more) = guests::list(&mut conn, &filter).unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|g| g.row.name.clone()));
            if !more {
                break;
            }
            filter.after = seen.last().cloned();
        }
        assert_eq!(
            seen,
            ["LX000001", "LX000002", "LX000003", "LX000004", "LX000005"],
            "{}",
            db.label
        );
    }
}

#[test]
fn pool_assignment_gives_each_guest_once_and_holds_the_quota() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let s = spec(&mut conn, GuestState::Pooled, None);
        for _ in 0..3 {
            guests::reserve(&mut conn, &s, NOW).unwrap();
        }
        let ann = student(&mut conn, "ann");
        let a = assignment(&mut conn, &ann);
        let first = guests::assign_from_pool(&mut conn, &a, NOW)
            .unwrap()
            .unwrap();
        let second = guests::assign_from_pool(&mut conn, &a, NOW)
            .unwrap()
            .unwrap();
        assert_ne!(first, second, "{}", db.label);
        let third = guests::assign_from_pool(&mut conn, &a, NOW);
        assert!(
            matches!(third, Err(AssignError::OverQuota { used: 2, max: 2 })),
            "{}",
            db.label
        );
        let g = guests::find_by_name(&mut conn, &first).unwrap().unwrap();
        assert_eq!(g.owner.as_deref(), Some("ann"));
        assert_eq!(g.state(), GuestState::Starting);
        let bob = student(&mut conn, "bob");
        let b = assignment(&mut conn, &bob);
        assert!(guests::assign_from_pool(&mut conn, &b, NOW)
            .unwrap()
            .is_some());
        assert!(
            guests::assign_from_pool(&mut conn, &b, NOW)
                .unwrap()
                .is_none(),
            "{}: pool is empty",
            db.label
        );
    }
}

#[test]
fn concurrent_assignments_never_get_the_same_guest() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let s = spec(&mut conn, GuestState::Pooled, None);
        for _ in 0..12 {
            guests::reserve(&mut conn, &s, NOW).unwrap();
        }
        let takers: Vec<User> = (0..16)
            .map(|i| student(&mut conn, &format!("s{i:02}")))
            .collect();
        let got: Vec<String> = race(&db, takers.len(), |i, conn, start| {
            let a = assignment(conn, &takers[i]);
            start.wait();
            guests::assign_from_pool(conn, &a, NOW).unwrap()
        })
        .into_iter()
        .flatten()
        .collect();
        let distinct: HashSet<_> = got.iter().collect();
        assert_eq!(
            got.len(),
            12,
            "{}: every pooled guest is taken once",
            db.label
        );
        assert_eq!(distinct.len(), 12, "{}: a guest was given twice", db.label);
    }
}
