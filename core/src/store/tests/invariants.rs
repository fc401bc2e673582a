//! The database itself holds herd's invariants, on both backends.

use diesel::prelude::*;

use super::super::schema::{guests, leases};
use super::super::seed::{self, Seed, SeedImage, SeedLan};
use super::super::test_db::{self, TestDb};
use super::super::users::{self, DirectoryUser, NewLocalUser};
use super::super::{catalog, lans, tokens, AnyConnection, StoreError};
use crate::domain::Role;

pub(super) const NOW: i64 = 1_800_000_000_000;

pub(super) fn seed_spec() -> Seed {
    Seed {
        lan: SeedLan {
            name: "LNXLAN1".into(),
            cidr: "10.10.0.0/22".parse().unwrap(),
            dns: None,
        },
        image: SeedImage {
            name: "golden".into(),
            description: "test".into(),
            size_bytes: 1 << 20,
            segment_size_bytes: 32 << 10,
        },
    }
}

pub(super) fn seeded(db: &TestDb) -> super::super::Conn {
    let mut conn = db.store.conn().unwrap();
    seed::apply(&mut conn, &seed_spec(), NOW).unwrap();
    conn
}

fn insert_guest(
    conn: &mut AnyConnection,
    name: &str,
    ip: Option<&str>,
    state: &str,
) -> Result<i64, StoreError> {
    let lan = lans::find_by_name(conn, "LNXLAN1")?.unwrap();
    let image = catalog::images(conn)?.remove(0);
    Ok(diesel::insert_into(guests::table)
        .values((
            guests::name.eq(name),
            guests::hostname.eq(name.to_lowercase()),
            guests::lan_id.eq(lan.id),
            guests::ip_address.eq(ip),
            guests::memory_mb.eq(64),
            guests::image_id.eq(image.id),
            guests::state.eq(state),
            guests::created_at.eq(NOW),
            guests::updated_at.eq(NOW),
        ))
        .returning(guests::id)
        .get_result(conn)?)
}

fn open_lease(conn: &mut AnyConnection, guest_id: i64, port: i32) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(leases::table)
        .values((
            leases::guest_id.eq(guest_id),
            leases::protocol.eq("tcp"),
            leases::port.eq(port),
            leases::created_at.eq(NOW),
            leases::expires_at.eq(NOW + 90 * 60_000),
        ))
        .returning(leases::id)
        .get_result(conn)?)
}

#[test]
fn seeding_twice_seeds_once() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        seed::apply(&mut conn, &seed_spec(), NOW + 1).unwrap();
        let lans = lans::list_with_use(&mut conn).unwrap();
        assert_eq!(lans.len(), 1, "{}", db.label);
        assert_eq!(lans[0].lan.cidr, "10.10.0.0/22");
        assert_eq!(lans[0].lan.gateway, "10.10.0.1");
        assert_eq!(lans[0].lan.capacity, 1021, "1022 hosts less the gateway");
        let names: Vec<_> = catalog::services(&mut conn)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["apache", "jakarta", "mysql"], "{}", db.label);
        assert_eq!(catalog::images(&mut conn).unwrap().len(), 1);
    }
}

#[test]
fn guest_names_are_unique() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        insert_guest(&mut conn, "LX000001", Some("10.10.0.2"), "stopped").unwrap();
        let err = insert_guest(&mut conn, "LX000001", Some("10.10.0.3"), "stopped").unwrap_err();
        assert!(err.is_conflict(), "{}: {err}", db.label);
    }
}

#[test]
fn an_address_is_never_given_twice_on_one_lan() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        insert_guest(&mut conn, "LX000001", Some("10.10.0.2"), "stopped").unwrap();
        let err = insert_guest(&mut conn, "LX000002", Some("10.10.0.2"), "stopped").unwrap_err();
        assert!(err.is_conflict(), "{}: {err}", db.label);
        // Released addresses (NULL) do not collide with each other.
        insert_guest(&mut conn, "LX000003", None, "decommissioned").unwrap();
        insert_guest(&mut conn, "LX000004", None, "decommissioned").unwrap();
        let used = lans::list_with_use(&mut conn).unwrap()[0].used;
        assert_eq!(used, 1, "{}: only the addressed guest counts", db.label);
    }
}

#[test]
fn states_are_checked() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        assert!(
            insert_guest(&mut conn, "LX000001", None, "sleeping").is_err(),
            "{}",
            db.label
        );
        // A decommissioned guest holds no address.
        assert!(insert_guest(&mut conn, "LX000002", Some("10.10.0.9"), "decommissioned").is_err());
    }
}

#[test]
fn a_pooled_guest_has_no_owner() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let id = insert_guest(&mut conn, "LX000001", Some("10.10.0.2"), "pooled").unwrap();
        let owner = users::create_local(
            &mut conn,
            &NewLocalUser {
                username: "ann",
                display_name: "Ann",
                role: Role::Student,
                password_hash: "x",
            },
            NOW,
        )
        .unwrap();
        let r = diesel::update(guests::table.find(id))
            .set(guests::owner_id.eq(owner.id))
            .execute(&mut *conn);
        assert!(r.is_err(), "{}: pooled guest took an owner", db.label);
    }
}

#[test]
fn foreign_keys_are_enforced() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let err = open_lease(&mut conn, 4242, 80).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Query(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                    _
                ))
            ),
            "{}: {err}",
            db.label
        );
    }
}

#[test]
fn one_open_lease_per_guest_protocol_and_port() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let guest = insert_guest(&mut conn, "LX000001", Some("10.10.0.2"), "running").unwrap();
        let first = open_lease(&mut conn, guest, 8080).unwrap();
        assert!(
            open_lease(&mut conn, guest, 8080)
                .unwrap_err()
                .is_conflict(),
            "{}",
            db.label
        );
        open_lease(&mut conn, guest, 8081).unwrap();
        // Once closed, the same port may be opened again.
        diesel::update(leases::table.find(first))
            .set((
                leases::closed_at.eq(NOW + 1),
                leases::close_reason.eq("closed"),
            ))
            .execute(&mut *conn)
            .unwrap();
        open_lease(&mut conn, guest, 8080).unwrap();
        assert!(
            open_lease(&mut conn, guest, 0).is_err(),
            "{}: port 0 stored",
            db.label
        );
    }
}

#[test]
fn directory_users_are_created_then_refreshed() {
    for db in test_db::all() {
        let mut conn = db.store.conn().unwrap();
        let mut d = DirectoryUser {
            username: "bob".into(),
            display_name: "Bob".into(),
            email: None,
            role: Role::Student,
        };
        let first = users::upsert_directory(&mut conn, &d, NOW).unwrap();
        d.display_name = "Bob Staff".into();
        d.email = Some("bob@herd.test".into());
        d.role = Role::Staff;
        let second = users::upsert_directory(&mut conn, &d, NOW + 1).unwrap();
        assert_eq!(first.id, second.id, "{}", db.label);
        assert_eq!(second.display_name, "Bob Staff");
        assert_eq!(second.email.as_deref(), Some("bob@herd.test"));
        assert_eq!(second.max_guests(), Some(10));
    }
}

#[test]
fn tokens_expire_and_are_revoked() {
    for db in test_db::all() {
        let mut conn = db.store.conn().unwrap();
        let user = users::create_local(
            &mut conn,
            &NewLocalUser {
                username: "ann",
                display_name: "Ann",
                role: Role::Admin,
                password_hash: "x",
            },
            NOW,
        )
        .unwrap();
        tokens::insert(&mut conn, user.id, "h1", "127.0.0.1", NOW, NOW + 60_000).unwrap();
        tokens::insert(&mut conn, user.id, "h2", "127.0.0.1", NOW, NOW + 60_000).unwrap();
        assert!(
            tokens::live_user(&mut conn, "h1", NOW + 59_999)
                .unwrap()
                .is_some(),
            "{}",
            db.label
        );
        assert!(tokens::live_user(&mut conn, "h1", NOW + 60_000)
            .unwrap()
            .is_none());
        assert!(tokens::revoke(&mut conn, "h2", NOW + 1).unwrap());
        assert!(tokens::live_user(&mut conn, "h2", NOW + 2)
            .unwrap()
            .is_none());
        assert!(
            !tokens::revoke(&mut conn, "h2", NOW + 3).unwrap(),
            "revoked twice"
        );
        assert!(
            tokens::insert(&mut conn, user.id, "h1", "127.0.0.1", NOW, NOW + 1)
                .unwrap_err()
                .is_conflict()
        );
    }
}

/// The count of addresses each LAN's guests hold (what placement reads)
/// follows every write that takes, frees or moves one.
#[test]
fn the_addresses_a_lan_holds_are_counted_through_every_change() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let second = lans::insert(
            &mut conn,
            &lans::NewLan {
                name: "LNXLAN2",
                cidr: "10.20.0.0/24",
                gateway: "10.20.0.1",
                dns: "10.20.0.1",
                capacity: 253,
            },
            NOW,
        )
        .unwrap();
        let a = insert_guest(&mut conn, "LX000001", Some("10.10.0.2"), "stopped").unwrap();
        let b = insert_guest(&mut conn, "LX000002", Some("10.10.0.3"), "stopped").unwrap();
        insert_guest(&mut conn, "LX000003", None, "decommissioned").unwrap();
        let counted = |conn: &mut AnyConnection| -> Vec<(String, i64, i64)> {
            lans::list_with_use(conn)
                .unwrap()
                .into_iter()
                .map(|u| {
                    let truth = lans::addresses_held(conn, u.lan.id).unwrap();
                    (u.lan.name, u.used, truth)
                })
                .collect()
        };
        let expect = |conn: &mut AnyConnection, first: i64, second: i64, when: &str| {
            let seen = counted(conn);
            assert_eq!(
                seen,
                [
                    ("LNXLAN1".to_owned(), first, first),
                    ("LNXLAN2".to_owned(), second, second)
                ],
                "{}: {when}",
                db.label
            );
        };
        expect(&mut conn, 2, 0, "two addressed guests, one without");

        let set_address =
            |conn: &mut AnyConnection, id: i64, lan: Option<i64>, ip: Option<&str>| {
                let row = guests::table.find(id);
                match lan {
                    Some(lan) => diesel::update(row)
                        .set((guests::lan_id.eq(lan), guests::ip_address.eq(ip)))
                        .execute(conn),
                    None => diesel::update(row)
                        .set(guests::ip_address.eq(ip))
                        .execute(conn),
                }
                .unwrap();
            };
        set_address(&mut conn, a, None, None);
        expect(&mut conn, 1, 0, "an address released");
        set_address(&mut conn, a, None, Some("10.10.0.4"));
        expect(&mut conn, 2, 0, "an address taken again");
        set_address(&mut conn, b, Some(second), Some("10.20.0.2"));
        expect(&mut conn, 1, 1, "a guest moved to another LAN");
        set_address(&mut conn, b, None, Some("10.20.0.3"));
        expect(&mut conn, 1, 1, "a new address on the same LAN");
        diesel::delete(guests::table.find(b))
            .execute(&mut conn)
            .unwrap();
        expect(&mut conn, 1, 0, "a guest deleted");
    }
}
