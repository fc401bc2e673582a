//! The command channel's table: dispatchers racing for queued commands take
//! each exactly once, in order; commands a dead dispatcher held are failed,
//! not left `dispatched` for ever. On both databases.

use std::collections::HashSet;

use super::super::commands::{self, Observed, Outcome};
use super::super::events::{self, EventFilter, NewEvent, Outcome as EventOutcome};
use super::super::guests::{self, Guest};
use super::super::notify::{Channel, Listener};
use super::super::test_db::{self, TestDb};
use super::super::{AnyConnection, Conn};
use super::guests::spec;
use super::invariants::{seeded, NOW};
use super::{assert_each_once, race};
use crate::domain::GuestState;

fn guest(conn: &mut AnyConnection) -> Guest {
    let spec = spec(conn, GuestState::Running, None);
    guests::reserve(conn, &spec, NOW).unwrap()
}

/// `n` commands of `text` for guest `g`, queued at `NOW`; their ids.
fn queue(conn: &mut AnyConnection, g: &Guest, text: &str, n: usize) -> Vec<i64> {
    (0..n)
        .map(|_| {
            commands::insert(conn, g.row.id, None, text, NOW)
                .unwrap()
                .id
        })
        .collect()
}

/// Command `id` for `g` succeeded and left apache up.
fn apache_up(id: i64, g: &Guest) -> Outcome {
    Outcome {
        id,
        guest_id: g.row.id,
        succeeded: true,
        result: "ok".into(),
        observed: Some(Observed {
            service: "apache".into(),
            state: "up",
        }),
    }
}

fn racing_claimers(db: &TestDb) {
    let mut conn = seeded(db);
    let g = guest(&mut conn);
    let name = g.row.name.as_str();
    let text = format!("{name} SERVICE apache RESTART");
    let all: HashSet<i64> = queue(&mut conn, &g, &text, 60).into_iter().collect();
    drop(conn);
    let seen: Vec<i64> = race(db, 4, |t, conn, start| {
        start.wait();
        let mut taken = Vec::new();
        loop {
            let batch = commands::claim_queued(conn, &format!("d{t}"), NOW, 7).unwrap();
            if batch.is_empty() {
                return taken;
            }
            let ids: Vec<i64> = batch.iter().map(|c| c.command.id).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "not in order: {ids:?}");
            assert!(batch
                .iter()
                .all(|c| c.command.status.as_str() == "dispatched"));
            let with = batch
                .iter()
                .map(|c| c.guest.as_ref().map(|g| g.name.as_str()));
            assert!(with.into_iter().all(|n| n == Some(name)), "with its guest");
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
        commands::finish_all(&mut conn, &[apache_up(done, &g)], NOW + 1).unwrap();

        let now = NOW + 70_000;
        assert_eq!(
            commands::fail_abandoned(&mut conn, now - 60_000, now).unwrap(),
            1,
            "{}",
            db.label
        );
        let row = commands::find(&mut conn, old).unwrap().unwrap();
        assert_eq!(row.status.as_str(), "failed", "{}", db.label);
        assert_eq!(row.finished_at, Some(now));
        assert!(row.result.unwrap().contains("interrupted"));
        let row = commands::find(&mut conn, fresh).unwrap().unwrap();
        assert_eq!(
            row.status.as_str(),
            "dispatched",
            "{}: taken 20 s ago, still at work",
            db.label
        );
        let row = commands::find(&mut conn, done).unwrap().unwrap();
        assert_eq!(
            (row.status.as_str(), row.result.as_deref()),
            ("succeeded", Some("ok"))
        );
        assert_eq!(
            apache_state(&mut conn, g.row.id).as_deref(),
            Some("up"),
            "{}: observed with the result",
            db.label
        );
    }
}

fn apache_state(conn: &mut AnyConnection, guest_id: i64) -> Option<String> {
    guests::services(conn, guest_id)
        .unwrap()
        .into_iter()
        .find(|(s, _, _)| s.name == "apache")
        .map(|(_, _, state)| state.as_str().to_owned())
}

#[test]
fn a_round_of_results_is_recorded_together_and_the_last_word_on_a_service_stands() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let (a, b) = (guest(&mut conn), guest(&mut conn));
        let mut queue = |g: &Guest, action: &str| {
            let text = format!("{} SERVICE apache {action}", g.row.name);
            commands::insert(&mut conn, g.row.id, None, &text, NOW)
                .unwrap()
                .id
        };
        let ids = [
            queue(&a, "STOP"),
            queue(&b, "STOP"),
            queue(&a, "START"),
            queue(&a, "RESTART"),
        ];
        commands::claim_queued(&mut conn, "d", NOW, 10).unwrap();
        let seen = |state| {
            Some(Observed {
                service: "apache".into(),
                state,
            })
        };
        let outcome = |id, g: &Guest, succeeded, observed| Outcome {
            id,
            guest_id: g.row.id,
            succeeded,
            result: format!("answer to {id}"),
            observed,
        };
        let outcomes = [
            outcome(ids[0], &a, true, seen("down")),
            outcome(ids[1], &b, true, seen("down")),
            outcome(ids[2], &a, true, seen("up")),
            // Failed: observed nothing, so A's apache stays as the START left it.
            outcome(ids[3], &a, false, None),
        ];
        let rows = commands::finish_all(&mut conn, &outcomes, NOW + 5).unwrap();

        let answered: Vec<i64> = rows.iter().map(|r| r.id).collect();
        assert_eq!(
            answered, ids,
            "{}: every command answered, in id order",
            db.label
        );
        for (row, o) in rows.iter().zip(&outcomes) {
            let status = if o.succeeded { "succeeded" } else { "failed" };
            assert_eq!(row.status.as_str(), status, "{}", db.label);
            assert_eq!(row.result.as_deref(), Some(o.result.as_str()));
            assert_eq!(row.finished_at, Some(NOW + 5));
            assert_eq!(
                commands::find(&mut conn, row.id).unwrap().as_ref(),
                Some(row),
                "{}: answered as stored",
                db.label
            );
        }
        assert_eq!(
            apache_state(&mut conn, a.row.id).as_deref(),
            Some("up"),
            "{}: the later START stands over the STOP before it",
            db.label
        );
        assert_eq!(apache_state(&mut conn, b.row.id).as_deref(), Some("down"));
        assert!(commands::finish_all(&mut conn, &[], NOW)
            .unwrap()
            .is_empty());
    }
}

/// The audit entry of a command for `g`, by `actor` from `addr`.
fn audit_of<'a>(g: &'a Guest, actor: &'a str, addr: &'a str) -> NewEvent<'a> {
    NewEvent {
        kind: crate::domain::EventKind::Audit,
        actor_id: None,
        actor,
        action: "command",
        target: Some(&g.row.name),
        guest_id: Some(g.row.id),
        client_addr: Some(addr),
        outcome: EventOutcome::Success,
        detail: None,
        request_id: None,
    }
}

#[test]
fn requests_recorded_together_each_get_their_commands_in_order_each_audited() {
    for db in test_db::all() {
        let mut conn = seeded(&db);
        let (g, h) = (guest(&mut conn), guest(&mut conn));
        let g_texts = [
            format!("{} HALT", g.row.name),
            format!("{} IPL", g.row.name),
        ];
        let h_texts = [format!("{} SERVICE apache RESTART", h.row.name)];
        let requests = [
            commands::Requested {
                request_id: None,
                guest_id: g.row.id,
                requested_by: None,
                texts: &g_texts,
                audit: audit_of(&g, "teacher", "192.0.2.7"),
            },
            commands::Requested {
                request_id: None,
                guest_id: h.row.id,
                requested_by: None,
                texts: &h_texts,
                audit: audit_of(&h, "student", "192.0.2.8"),
            },
        ];
        let answers = commands::record_all(&mut conn, &requests, NOW, false).unwrap();

        let texts = |rows: &[commands::CommandRow]| -> Vec<String> {
            rows.iter().map(|r| r.text.clone()).collect()
        };
        assert_eq!(answers.len(), 2, "{}: an answer a request", db.label);
        assert_eq!(
            texts(&answers[0]),
            g_texts,
            "{}: in the order given",
            db.label
        );
        assert_eq!(texts(&answers[1]), h_texts, "{}", db.label);
        let rows = answers.concat();
        assert!(
            rows.windows(2).all(|w| w[0].id < w[1].id),
            "{}: the HALT runs before the IPL",
            db.label
        );
        for row in &rows {
            assert_eq!((row.status.as_str(), row.created_at), ("queued", NOW));
            assert_eq!(
                commands::find(&mut conn, row.id).unwrap().as_ref(),
                Some(row)
            );
        }
        for (g, texts, actor, addr) in [
            (&g, &g_texts[..], "teacher", "192.0.2.7"),
            (&h, &h_texts[..], "student", "192.0.2.8"),
        ] {
            let filter = EventFilter {
                guest_id: Some(g.row.id),
                action: Some("command".into()),
                limit: 10,
                ..EventFilter::default()
            };
            let (entries, _) = events::list(&mut conn, &filter).unwrap();
            let mut details: Vec<_> = entries
                .iter()
                .map(|e| {
                    assert_eq!(
                        (
                            e.kind.as_str(),
                            e.actor.as_str(),
                            e.client_addr.as_deref(),
                            e.target.as_deref()
                        ),
                        ("audit", actor, Some(addr), Some(g.row.name.as_str())),
                        "{}",
                        db.label
                    );
                    e.detail.clone().unwrap_or_default()
                })
                .collect();
            details.sort();
            let mut expected = texts.to_vec();
            expected.sort();
            assert_eq!(details, expected, "{}: one entry a command", db.label);
        }
    }
}

/// A listener on `channel` and a seeded database with a guest; `None` on
/// SQLite, which has no other processes to tell.
fn listening(db: &TestDb, channel: Channel) -> Option<(Listener, Conn, Guest)> {
    let listener = Listener::open(db.store.url(), channel).unwrap()?;
    let mut conn = seeded(db);
    let g = guest(&mut conn);
    Some((listener, conn, g))
}

#[test]
fn recorded_commands_are_announced_to_other_processes_when_asked() {
    for db in test_db::all() {
        let Some((mut listener, mut conn, g)) = listening(&db, Channel::CommandsWaiting) else {
            continue;
        };
        let texts = [format!("{} IPL", g.row.name)];
        for announce in [false, true] {
            let requested = commands::Requested {
                request_id: None,
                guest_id: g.row.id,
                requested_by: None,
                texts: &texts,
                audit: audit_of(&g, "student", "192.0.2.10"),
            };
            let recorded = commands::record_all(&mut conn, &[requested], NOW, announce).unwrap();
            assert_eq!(recorded.concat().len(), 1, "recorded either way");
            listener.round_trip().unwrap();
            assert_eq!(
                listener.pending().unwrap().len(),
                usize::from(announce),
                "told other processes: {announce}"
            );
        }
    }
}

#[test]
fn finished_commands_are_announced_to_other_processes_as_stored() {
    for db in test_db::all() {
        let Some((mut listener, mut conn, g)) = listening(&db, Channel::CommandsFinished) else {
            continue;
        };
        let text = format!("{} SERVICE apache RESTART", g.row.name);
        let ids = queue(&mut conn, &g, &text, 3);
        commands::claim_queued(&mut conn, "d", NOW, 10).unwrap();
        // The last one's result is too long for a notification to carry.
        let long = "x".repeat(9000);
        let outcomes: Vec<Outcome> = ids
            .iter()
            .map(|&id| Outcome {
                id,
                guest_id: g.row.id,
                succeeded: true,
                result: if id == ids[2] {
                    long.clone()
                } else {
                    "ok".into()
                },
                observed: None,
            })
            .collect();
        commands::finish_all(&mut conn, &outcomes, NOW + 1).unwrap();
        let stored: Vec<_> = ids
            .iter()
            .map(|&id| commands::find(&mut conn, id).unwrap().unwrap())
            .collect();
        assert!(stored.iter().all(|c| c.status.as_str() == "succeeded"));

        listener.round_trip().unwrap();
        let heard = commands::Finished::from_announcements(&listener.pending().unwrap());
        assert_eq!(
            heard,
            vec![
                commands::Finished::Commands(stored[..2].to_vec().into()),
                commands::Finished::Ids(vec![ids[2]].into()),
            ],
            "{}: the commands as stored, or the id of one too long to carry",
            db.label
        );

        // The hearing process looks those it is only told of up at once.
        assert_eq!(
            heard[1].clone().with_rows(&mut conn),
            commands::Finished::Commands(stored[2..].to_vec().into()),
            "{}",
            db.label
        );
        // One it cannot find leaves the word as heard.
        let unknown = commands::Finished::Ids(vec![ids[0], i64::MAX].into());
        assert_eq!(
            unknown.clone().with_rows(&mut conn),
            unknown,
            "{}",
            db.label
        );
    }
}

#[test]
fn failed_abandoned_commands_tell_other_processes_to_look() {
    for db in test_db::all() {
        let Some((mut listener, mut conn, g)) = listening(&db, Channel::CommandsFinished) else {
            continue;
        };
        queue(&mut conn, &g, &format!("{} IPL", g.row.name), 1);
        commands::claim_queued(&mut conn, "d", NOW, 10).unwrap();
        assert_eq!(
            commands::fail_abandoned(&mut conn, NOW + 1, NOW + 2).unwrap(),
            1
        );
        listener.round_trip().unwrap();
        assert_eq!(
            commands::Finished::from_announcements(&listener.pending().unwrap()),
            vec![commands::Finished::Several],
            "{}",
            db.label
        );
    }
}

#[derive(diesel::QueryableByName)]
struct Prepared {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parameters: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    custom_plans: i64,
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// Every statement a click makes on PostgreSQL, through the connections
/// the recorder and the dispatcher use, keeps one plan that reads tables
/// by index, even when it was made while the tables were small and freshly
/// analysed: such a plan is kept while the tables grow, and a whole-table
/// scan of `commands` at every round is what made clicks slow under load.
#[test]
fn click_statements_keep_plans_that_read_by_index_postgres() {
    use diesel::connection::SimpleConnection;
    use diesel::RunQueryDsl;

    use super::super::{tokens, Workload};

    for db in test_db::all()
        .into_iter()
        .filter(|db| db.label == "postgres")
    {
        let mut conn = seeded(&db);
        let g = guest(&mut conn);
        let texts = [format!("{} SERVICE apache RESTART", g.row.name)];
        queue(&mut conn, &g, &texts[0], 3);
        conn.batch_execute("VACUUM ANALYZE")
            .expect("analyse the small tables");

        let store = db.store.with_own_pool(1, Workload::Clicks).unwrap();
        let mut click = store.conn().unwrap();
        tokens::live_users(&mut click, &["no such token"], NOW).unwrap();
        guests::find_by_names(&mut click, &[g.row.name.as_str()]).unwrap();
        guests::service_names(&mut click, &[g.row.id]).unwrap();
        let requested = commands::Requested {
            request_id: None,
            guest_id: g.row.id,
            requested_by: None,
            texts: &texts,
            audit: audit_of(&g, "student", "192.0.2.9"),
        };
        commands::record_all(&mut click, &[requested], NOW, true).unwrap();
        let claimed = commands::claim_queued(&mut click, "d", NOW, 10).unwrap();
        let outcomes: Vec<Outcome> = claimed
            .iter()
            .map(|c| apache_up(c.command.id, &g))
            .collect();
        commands::finish_all(&mut click, &outcomes, NOW + 1).unwrap();

        let prepared: Vec<Prepared> = diesel::sql_query(
            "SELECT name, statement, cardinality(parameter_types) AS parameters, custom_plans \
             FROM pg_prepared_statements",
        )
        .load(&mut *click)
        .unwrap();
        for kind in [
            "FROM (\"tokens\"",
            "FROM (((\"guests\"",
            "\"guest_services\"",
            "WITH rows",
            "WITH claimed",
            "WITH done",
        ] {
            assert!(
                prepared.iter().any(|p| p.statement.contains(kind)),
                "no kept statement with {kind}: {:?}",
                prepared.iter().map(|p| &p.statement).collect::<Vec<_>>()
            );
        }
        for p in &prepared {
            assert_eq!(
                p.custom_plans, 0,
                "planned again for its parameters: {}",
                p.statement
            );
            let arguments = match p.parameters {
                0 => String::new(),
                n => format!("({})", vec!["NULL"; n as usize].join(", ")),
            };
            let plan: Vec<PlanLine> =
                diesel::sql_query(format!("EXPLAIN EXECUTE {}{arguments}", p.name))
                    .load(&mut *click)
                    .unwrap();
            let plan: Vec<String> = plan.into_iter().map(|l| l.line).collect();
            assert!(
                !plan.iter().any(|l| l.contains("Seq Scan")),
                "{}\nscans a whole table:\n{}",
                p.statement,
                plan.join("\n")
            );
        }
    }
}
