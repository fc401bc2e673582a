//! Wake-ups across processes: a listener hears what other connections
//! notify the moment it arrives, and says so when its connection is lost
//! (so that the process falls back to looking for itself).

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;

use super::super::notify::{self, Channel, Listener, Listening};
use super::super::test_db::{self, TestDb};

/// Far longer than any wake-up may take: a listener that waited it out
/// instead of waking at the notification would fail the test.
const LONG: Duration = Duration::from_secs(20);

#[test]
fn a_listener_wakes_when_a_notification_arrives() {
    for db in test_db::all() {
        let Some(mut listener) = Listener::open(db.store.url(), Channel::CommandsWaiting).unwrap()
        else {
            assert_eq!(db.label, "sqlite");
            continue;
        };
        let mut conn = db.store.conn().unwrap();
        assert_eq!(
            listener.wait(Duration::ZERO).unwrap(),
            Vec::<String>::new(),
            "nothing yet"
        );
        let notifier = std::thread::spawn(move || {
            notify::notify(&mut conn, Channel::CommandsWaiting, "1").unwrap();
            notify::notify(
                &mut conn,
                Channel::CommandsFinished,
                "not for this listener",
            )
            .unwrap();
            notify::notify(&mut conn, Channel::CommandsWaiting, "2").unwrap();
        });
        let started = Instant::now();
        let mut heard = Vec::new();
        while heard.len() < 2 && started.elapsed() < LONG {
            heard.extend(listener.wait(LONG).unwrap());
        }
        assert!(started.elapsed() < LONG / 2, "woken by the notifications");
        assert_eq!(heard, ["1", "2"], "{}: its channel's, in order", db.label);
        notifier.join().unwrap();
    }
}

/// Ends the connections that listen on `channel` in `db`'s database, as
/// a database restart would.
fn cut_off(db: &TestDb, channel: Channel) {
    db.store
        .conn()
        .unwrap()
        .batch_execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query = 'LISTEN {}'",
            channel.name()
        ))
        .unwrap();
}

#[test]
fn a_listener_whose_connection_is_lost_says_so() {
    for db in test_db::all() {
        let Some(mut listener) = Listener::open(db.store.url(), Channel::CommandsFinished).unwrap()
        else {
            continue;
        };
        cut_off(&db, Channel::CommandsFinished);
        let started = Instant::now();
        let mut outcome = Ok(Vec::new());
        while matches!(&outcome, Ok(heard) if heard.is_empty()) && started.elapsed() < LONG {
            outcome = listener.wait(LONG);
        }
        assert!(outcome.is_err(), "{}: lost, not {outcome:?}", db.label);
    }
}

#[test]
fn a_process_listening_connects_again_and_is_told_to_look_meanwhile() {
    for db in test_db::all() {
        let Some(mut listening) =
            Listening::open(db.store.url(), Channel::CommandsWaiting).unwrap()
        else {
            continue;
        };
        cut_off(&db, Channel::CommandsWaiting);
        let started = Instant::now();
        let mut looks = 0;
        while looks < 2 && started.elapsed() < LONG {
            let heard = listening.wait(Duration::from_millis(10));
            assert!(heard.iter().all(|p| p == notify::LOOK), "{heard:?}");
            looks += heard.len();
        }
        assert_eq!(
            looks, 2,
            "{}: told to look when lost and when back",
            db.label
        );

        let mut conn = db.store.conn().unwrap();
        notify::notify(&mut conn, Channel::CommandsWaiting, "after").unwrap();
        let mut heard = Vec::new();
        while heard.is_empty() && started.elapsed() < LONG {
            heard = listening.wait(LONG);
        }
        assert_eq!(heard, ["after"], "{}: listening again", db.label);
    }
}

#[test]
fn a_database_that_cannot_be_reached_is_an_error_at_once() {
    let unreachable = "postgres://nobody@127.0.0.1:1/none?connect_timeout=5";
    assert!(Listener::open(unreachable, Channel::CommandsWaiting).is_err());
}
