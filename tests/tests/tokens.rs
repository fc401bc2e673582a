//! Token management (SPEC §12): a user lists their live tokens (never the
//! secret), sees which one is in use and when each was last used, revokes
//! one; another user's token is not theirs to see or revoke; an admin
//! revokes all of a user's at once.

use std::time::Duration;

use herd_tests::{db_tests, parse_rfc3339_utc, Db, Layout, TestServer, Value};

db_tests!(
    a_user_lists_and_revokes_their_own_tokens,
    an_admin_revokes_all_of_a_users_tokens,
);

fn server(db: Db) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .start()
}

fn login(srv: &TestServer, user: &str) -> String {
    srv.login(user, &format!("{user}-pw"))
}

fn tokens(srv: &TestServer, token: &str) -> Vec<Value> {
    let page = srv.get("/api/v1/auth/tokens", Some(token)).ok(200);
    assert_eq!(page["next_cursor"], Value::Null, "{page}");
    page["items"].as_array().expect("items").clone()
}

fn ms(v: &Value) -> i64 {
    parse_rfc3339_utc(v.as_str().unwrap_or_else(|| panic!("a time, not {v}")))
}

fn a_user_lists_and_revokes_their_own_tokens(db: Db) {
    let Some(srv) = server(db) else { return };
    let first = login(&srv, "alice");
    srv.advance_clock(Duration::from_secs(120));
    let second = login(&srv, "alice");
    let bob = login(&srv, "bob");

    let listed = tokens(&srv, &second);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let text = serde_json::to_string(&listed).unwrap();
    assert!(
        !text.contains(&first) && !text.contains(&second),
        "a token's secret is listed: {text}"
    );
    // newest first, the one in use marked, each with where it was made
    assert_eq!(listed[0]["current"], true, "{listed:?}");
    assert_eq!(listed[1]["current"], false, "{listed:?}");
    for t in &listed {
        assert_eq!(t["client_address"], "127.0.0.1", "{t}");
        assert!(ms(&t["expires_at"]) > ms(&t["created_at"]), "{t}");
    }
    let (old_id, old_used) = (listed[1]["id"].clone(), ms(&listed[1]["last_used_at"]));
    assert_eq!(old_used, ms(&listed[1]["created_at"]), "{:?}", listed[1]);

    // using a token moves its last use (to the minute)
    srv.advance_clock(Duration::from_secs(120));
    srv.me(&first).expect(200);
    let listed = tokens(&srv, &first);
    let old = listed.iter().find(|t| t["id"] == old_id).unwrap();
    assert_eq!(old["current"], true, "{old}");
    assert_eq!(ms(&old["last_used_at"]), old_used + 240_000, "{old}");

    // another user's token is not found, and stays live
    let bobs = tokens(&srv, &bob)[0]["id"].clone();
    let p = srv
        .delete(&format!("/api/v1/auth/tokens/{bobs}"), Some(&second))
        .problem(404);
    assert!(
        p["detail"].as_str().unwrap().contains(&bobs.to_string()),
        "{p}"
    );
    srv.me(&bob).expect(200);

    // revoking one leaves the others working
    srv.delete(&format!("/api/v1/auth/tokens/{old_id}"), Some(&second))
        .expect(204);
    srv.me(&first).problem(401);
    srv.me(&second).expect(200);
    let listed = tokens(&srv, &second);
    assert_eq!(listed.len(), 1, "{listed:?}");
    srv.delete(&format!("/api/v1/auth/tokens/{old_id}"), Some(&second))
        .problem(404);
    // the one in use too, as a logout
    let current = listed[0]["id"].clone();
    srv.delete(&format!("/api/v1/auth/tokens/{current}"), Some(&second))
        .expect(204);
    srv.me(&second).problem(401);

    let admin = srv.admin_token();
    let page = srv.get("/api/v1/events?kind=audit", Some(&admin)).ok(200);
    let revocations = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token.revoke" && e["actor"] == "alice")
        .count();
    assert_eq!(revocations, 2, "{page}");
}

fn an_admin_revokes_all_of_a_users_tokens(db: Db) {
    let Some(srv) = server(db) else { return };
    let bob = [login(&srv, "bob"), login(&srv, "bob")];
    let alice = login(&srv, "alice");
    // staff and students may not
    srv.delete("/api/v1/users/alice/tokens", Some(&bob[0]))
        .problem(403);
    srv.delete("/api/v1/users/bob/tokens", Some(&alice))
        .problem(403);
    let carol = login(&srv, "carol");
    srv.delete("/api/v1/users/bob/tokens", Some(&carol))
        .expect(204);
    for t in &bob {
        srv.me(t).problem(401);
    }
    srv.me(&alice).expect(200);
    srv.me(&carol).expect(200);
    let p = srv
        .delete("/api/v1/users/nobody-here/tokens", Some(&carol))
        .problem(404);
    assert!(p["detail"].as_str().unwrap().contains("nobody-here"), "{p}");
    // a new login works again
    login(&srv, "bob");
}
