//! The command channel's table: dispatchers racing for queued commands take
//! each exactly once, in order; commands a dead dispatcher held are failed,
//! not left `dispatched` for ever. On both databases.

use std::collections::HashSet;

use super::super::commands::{self, Observed};
use super::super::guests::{self, Guest};
use super::super::test_db::{self, TestDb};
use super::super::AnyConnection;
use super::guests::spec;
use super::invariants::{seeded, NOW};
use super::{assert_each_once, race};
use crate::domain::GuestState;

fn guest(conn: &mut AnyConnection) -> Guest {
    let spec = spec(conn, GuestState::Running, None);
    guests::reserve(conn, &spec, NOW).unwrap()
}

fn racing_claimers(db: &TestDb) {
    let mut conn = seeded(db);
    let g = guest(&mut conn);
    let text = format!("{} SERVICE apache RESTART", g.row.name);
    let all: HashSet<i64> = (0..60)
        .map(|_| {
            commands::insert(&mut conn, g.row.id, None, &text, NOW)
                .unwrap()
                .id
        })
        .collect();
    drop(conn);
    let seen: Vec<i64> = race(db, 4, |t, conn, start| {
        start.wait();
        let mut taken = Vec::new();
        loop {
            let batch = commands::claim_queued(conn, &format!("d{t}"), NOW, 7).unwrap();
            if batch.is_empty() {
                return taken;
            }
            let ids: Vec<i64> = batch.iter().map(|c| c.id).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "not in order: {ids:?}");
            assert!(batch.iter().all(|c| c.status == "dispatched"));
            taken.extend(ids);
        }
    })
    .into_iter()
    .flatten()
    .collect();
    assert_each_once(&seen, &all, &format!("{}: a command taken twice", db.label));
}

#[test]
fn racing_dispatchers_take_each_command_once() {
    for db in test_db::all() {
        racing_claimers(&db);
    }
}

#[test]
fn commands_a_dead_dispatcher_held_fail_and_others_are_kept() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let g = guest(&mut conn);
        let text = format!("{} SERVICE apache RESTART", g.row.name);
        let old = commands::insert(&mut conn, g.row.id, None, &text, NOW)
            .unwrap()
            .id;
        assert_eq!(
            commands::claim_queued(&mut conn, "dead", NOW, 10)
                .unwrap()
                .len(),
            1
        );
        let later = NOW + 50_000;
        let fresh = commands::insert(&mut conn, g.row.id, None, &text, later)
            .unwrap()
            .id;
        assert_eq!(
            commands::claim_queued(&mut conn, "alive", later, 10)
                .unwrap()
                .len(),
            1
        );
        let done = commands::insert(&mut conn, g.row.id, None, &text, NOW)
            .unwrap()
            .id;
        commands::claim_queued(&mut conn, "alive", NOW, 10).unwrap();
        let observed = Observed {
            guest_id: g.row.id,
            service: "apache",
            state: "up",
        };
        commands::finish(&mut conn, done, true, "ok", Some(observed), NOW + 1).unwrap();

        let now = NOW + 70_000;
        assert_eq!(
            commands::fail_abandoned(&mut conn, now - 60_000, now).unwrap(),
            1,
            "{}",
            db.label
        );
        let row = commands::find(&mut conn, old).unwrap().unwrap();
        assert_eq!(row.status, "failed", "{}", db.label);
        assert_eq!(row.finished_at, Some(now));
        assert!(row.result.unwrap().contains("interrupted"));
        let row = commands::find(&mut conn, fresh).unwrap().unwrap();
        assert_eq!(
            row.status, "dispatched",
            "{}: taken 20 s ago, still at work",
            db.label
        );
        let row = commands::find(&mut conn, done).unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.result.as_deref()),
            ("succeeded", Some("ok"))
        );
        let state = guests::services(&mut conn, g.row.id)
            .unwrap()
            .into_iter()
            .find(|(s, _, _)| s.name == "apache")
            .map(|(_, _, state)| state);
        assert_eq!(
            state.as_deref(),
            Some("up"),
            "{}: observed with the result",
            db.label
        );
    }
}
