//! A value outside its closed set read from the database (a guest state, a
//! step status) is an error naming where it was found, never read as some
//! default: on both databases.

use diesel::connection::SimpleConnection;

use super::super::guests::{self, Guest};
use super::super::jobs::{self, NewJob};
use super::super::leases::{self, NewLease, OpenError};
use super::super::test_db::{self, TestDb};
use super::super::{AnyConnection, StoreError};
use super::guests::spec;
use super::invariants::{seeded, NOW};
use crate::domain::{GuestState, JobKind, Port, Protocol};

fn guest(conn: &mut AnyConnection) -> Guest {
    let spec = spec(conn, GuestState::Stopped, None);
    guests::reserve(conn, &spec, NOW).unwrap()
}

/// Stores `state` for the guest past the check constraint, as a newer
/// release (or a hand-made fix) might.
fn store_state(db: &TestDb, conn: &mut AnyConnection, guest: &Guest, state: &str) {
    let unchecked = match db.label {
        "sqlite" => "PRAGMA ignore_check_constraints = ON;",
        _ => "ALTER TABLE guests DROP CONSTRAINT guests_state_check;",
    };
    let update = format!(
        "UPDATE guests SET state = '{state}' WHERE id = {}",
        guest.row.id
    );
    conn.batch_execute(&format!("{unchecked} {update}"))
        .unwrap();
}

fn is_corrupt(e: &StoreError, what: &str) -> bool {
    matches!(e, StoreError::Corrupt(m) if m.contains(what))
}

#[test]
fn an_unknown_guest_state_is_an_error_not_failed() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn);
        store_state(&db, &mut conn, &g, "hibernating");
        let read = guests::find_by_name(&mut conn, &g.row.name).unwrap_err();
        assert!(is_corrupt(&read, "hibernating"), "{}: {read}", db.label);
        let lease = NewLease {
            guest_id: g.row.id,
            protocol: Protocol::Tcp,
            port: Port::try_from(8080_u16).unwrap(),
            source: None,
            opened_by: None,
            expires_at: NOW + 60_000,
        };
        let opened = leases::open(&mut conn, &lease, 5, NOW).unwrap_err();
        assert!(
            matches!(&opened, OpenError::Store(e) if is_corrupt(e, "hibernating")),
            "{}: {opened}",
            db.label
        );
    }
}

#[test]
fn an_unknown_step_status_is_an_error() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn);
        let new = NewJob {
            kind: JobKind::Provision,
            requested_by: None,
            target: Some(&g.row.name),
            params: "{}",
            total: 1,
        };
        let job = jobs::create(&mut conn, &new, NOW).unwrap();
        // The schema admits `pending`; no release ever wrote it.
        let insert = format!(
            "INSERT INTO job_steps (job_id, guest_id, seq, name, status) \
             VALUES ({job}, {}, 1, 'directory_entry', 'pending')",
            g.row.id
        );
        conn.batch_execute(&insert).unwrap();
        let read = jobs::steps(&mut conn, job, g.row.id).unwrap_err();
        assert!(is_corrupt(&read, "pending"), "{}: {read}", db.label);
    }
}

#[test]
fn an_unknown_batch_item_status_is_an_error() {
    use super::super::batches::{self, NewBatch};
    use super::super::catalog;
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let image = catalog::images(&mut conn).unwrap()[0].id;
        let users = [("alice".to_owned(), None)];
        let new = NewBatch {
            requested_by: None,
            ldap_group: None,
            guests_per_user: 1,
            image_id: image,
            expires_at: None,
            users: &users,
        };
        let batch = batches::create(&mut conn, &new, JobKind::Batch, NOW).unwrap();
        let unchecked = match db.label {
            "sqlite" => "PRAGMA ignore_check_constraints = ON;",
            _ => "ALTER TABLE batch_items DROP CONSTRAINT batch_items_status_check;",
        };
        conn.batch_execute(&format!(
            "{unchecked} UPDATE batch_items SET status = 'paused' WHERE batch_id = {}",
            batch.id
        ))
        .unwrap();
        let read = batches::items(&mut conn, batch.id).unwrap_err();
        assert!(is_corrupt(&read, "paused"), "{}: {read}", db.label);
    }
}

#[test]
fn an_unknown_job_kind_is_an_error() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let new = NewJob {
            kind: JobKind::Provision,
            requested_by: None,
            target: None,
            params: "{}",
            total: 1,
        };
        let job = jobs::create(&mut conn, &new, NOW).unwrap();
        conn.batch_execute(&format!(
            "UPDATE jobs SET kind = 'defragment' WHERE id = {job}"
        ))
        .unwrap();
        let read = jobs::find(&mut conn, job).unwrap_err();
        assert!(is_corrupt(&read, "defragment"), "{}: {read}", db.label);
    }
}

#[test]
fn an_unknown_event_outcome_is_an_error() {
    use super::super::events::{self, EventFilter};
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let unchecked = match db.label {
            "sqlite" => "PRAGMA ignore_check_constraints = ON;",
            _ => "ALTER TABLE events DROP CONSTRAINT IF EXISTS events_outcome_check;",
        };
        conn.batch_execute(&format!(
            "{unchecked} INSERT INTO events (at, kind, actor, action, outcome) \
             VALUES ({NOW}, 'audit', 'admin', 'pool.update', 'meh')"
        ))
        .unwrap();
        let filter = EventFilter {
            limit: 10,
            ..Default::default()
        };
        let read = events::list(&mut conn, &filter).unwrap_err();
        assert!(is_corrupt(&read, "meh"), "{}: {read}", db.label);
    }
}

#[test]
fn an_unknown_command_status_is_an_error() {
    use super::super::commands;
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn);
        let text = format!("{} IPL", g.row.name);
        let row = commands::insert(&mut conn, g.row.id, None, &text, NOW).unwrap();
        let unchecked = match db.label {
            "sqlite" => "PRAGMA ignore_check_constraints = ON;",
            _ => "ALTER TABLE commands DROP CONSTRAINT IF EXISTS commands_status_check;",
        };
        conn.batch_execute(&format!(
            "{unchecked} UPDATE commands SET status = 'paused' WHERE id = {}",
            row.id
        ))
        .unwrap();
        let read = commands::find(&mut conn, row.id).unwrap_err();
        assert!(is_corrupt(&read, "paused"), "{}: {read}", db.label);
    }
}
