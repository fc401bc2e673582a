//! A request's id follows a click from the request through the command
//! row, the dispatcher's log line and the audit entry; a well-formed
//! `x-request-id` from the client is kept, anything else replaced.

use std::time::Duration;

use herd_tests::{db_tests, json, Db, Layout, Method, TestServer};

db_tests!(a_clicks_request_id_follows_it_to_the_dispatcher_and_the_audit);

const SETTLE: Duration = Duration::from_secs(30);

fn a_clicks_request_id_follows_it_to_the_dispatcher_and_the_audit(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_POOL_TARGET_SIZE", "1")
        .start()
    else {
        return;
    };
    let admin = srv.admin_token();
    srv.wait_for("a pooled guest", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"] == 1).then_some(())
    });
    srv.login("alice", "alice-pw");
    let g = srv
        .post_json("/api/v1/guests", Some(&admin), &json!({ "owner": "alice" }))
        .ok(201);
    let name = g["name"].as_str().expect("name").to_string();
    // A click for a guest still booting waits for the boot: let it run.
    let mut step = srv.clock_stepper(Duration::from_secs(5));
    srv.wait_for("the guest to run", SETTLE, || {
        step();
        let g = srv
            .get(&format!("/api/v1/guests/{name}"), Some(&admin))
            .ok(200);
        (g["state"] == "running").then_some(())
    });

    let path = format!("/api/v1/guests/{name}/services/apache/actions?wait=5");
    let clicked = srv.send(
        srv.request(Method::POST, &path, Some(&admin))
            .header("x-request-id", "portal-7:click.42")
            .json(&json!({ "action": "restart" })),
    );
    assert!(matches!(clicked.status, 200 | 202), "{}", clicked.body);
    assert_eq!(clicked.header("x-request-id"), Some("portal-7:click.42"));
    let command = clicked.json()["command_id"].as_i64().expect("command id");

    let events = srv
        .get(
            &format!("/api/v1/events?guest={name}&limit=100"),
            Some(&admin),
        )
        .ok(200);
    let audited = events["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "command")
        .unwrap_or_else(|| panic!("no audit entry of the command: {events}"));
    assert_eq!(audited["request_id"], "portal-7:click.42", "{audited}");

    let logged = srv.wait_for("the dispatcher's log line", SETTLE, || {
        srv.stderr_tail(200)
            .lines()
            .find(|l| l.contains(&format!("command={command}")) && l.contains("portal-7:click.42"))
            .map(str::to_owned)
    });
    assert!(logged.contains("SERVICE apache RESTART"), "{logged}");

    // An id that is not one (spaces, markup, too long) is replaced.
    let long = "x".repeat(200);
    for bad in ["two words", "<b>", long.as_str()] {
        let r = srv.send(
            srv.request(Method::GET, "/api/v1/me", Some(&admin))
                .header("x-request-id", bad),
        );
        let given = r.header("x-request-id").expect("x-request-id").to_string();
        assert_ne!(given, bad);
        assert_eq!(given.len(), 32, "{given}");
    }
}
