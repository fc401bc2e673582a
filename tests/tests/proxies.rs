//! Trusted proxies (SPEC §12): a peer in `HERD_TRUSTED_PROXIES` names the
//! client in `Forwarded` or `X-Forwarded-For`, and that address is what
//! the audit trail records and the login throttle counts; any other peer's
//! forwarding headers are ignored, so a client cannot spread its failures
//! over made-up addresses or put another's address in the audit trail.

use herd_tests::{db_tests, json, Db, Method, Reply, TestServer, Value, ADMIN_PASSWORD};

db_tests!(
    a_trusted_proxy_names_the_client_for_audit_and_throttling,
    an_untrusted_peer_cannot_name_another_address,
);

fn server(db: Db, trusted: &str) -> Option<TestServer> {
    TestServer::builder(db)
        .env("HERD_TRUSTED_PROXIES", trusted)
        .env("HERD_LOGIN_FAILURES_PER_ADDRESS", "3")
        .start()
}

/// `POST /api/v1/auth/tokens` with these headers added.
fn login(srv: &TestServer, user: &str, password: &str, headers: &[(&str, &str)]) -> Reply {
    let body = json!({ "username": user, "password": password });
    let mut rb = srv
        .request(Method::POST, "/api/v1/auth/tokens", None)
        .json(&body);
    for (name, value) in headers {
        rb = rb.header(*name, *value);
    }
    srv.send(rb)
}

/// The address the audit trail gives the newest login.
fn last_login_from(srv: &TestServer, admin: &str) -> Value {
    let page = srv.get("/api/v1/events?kind=audit", Some(admin)).ok(200);
    page["items"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["action"] == "token.create"))
        .map(|e| e["client_addr"].clone())
        .unwrap_or_else(|| panic!("no login in {page}"))
}

/// Three failures from `headers`' client, each for another name so that
/// no name's own budget is spent.
fn fail_three_times(srv: &TestServer, headers: &[&[(&str, &str)]]) {
    for (i, h) in headers.iter().enumerate() {
        login(srv, &format!("nobody{i}"), "wrong", h).problem(401);
    }
}

fn a_trusted_proxy_names_the_client_for_audit_and_throttling(db: Db) {
    // the tests reach the server from 127.0.0.1: the proxy
    let Some(srv) = server(db, "127.0.0.1, 10.0.0.0/8") else {
        return;
    };
    let xff = "X-Forwarded-For";
    // the client's own header is kept on the left by the proxy: only the
    // hop the proxy saw counts
    let t = login(
        &srv,
        "admin",
        ADMIN_PASSWORD,
        &[(xff, "192.0.2.1, 203.0.113.5")],
    )
    .ok(201);
    let admin = t["token"].as_str().unwrap().to_owned();
    assert_eq!(last_login_from(&srv, &admin), "203.0.113.5");
    // a chain of trusted proxies: the first untrusted hop from the right
    login(
        &srv,
        "admin",
        ADMIN_PASSWORD,
        &[(xff, "203.0.113.6, 10.1.2.3")],
    )
    .ok(201);
    assert_eq!(last_login_from(&srv, &admin), "203.0.113.6");
    // Forwarded wins over X-Forwarded-For
    let both = [
        ("Forwarded", r#"for="203.0.113.7:4711";proto=https"#),
        (xff, "198.51.100.9"),
    ];
    login(&srv, "admin", ADMIN_PASSWORD, &both).ok(201);
    assert_eq!(last_login_from(&srv, &admin), "203.0.113.7");
    // and an audited change made with a token carries it too
    let forwarded = [("Forwarded", "for=203.0.113.8")];
    let rb = srv
        .request(Method::PUT, "/api/v1/pool", Some(&admin))
        .json(&json!({ "target_size": 0, "copy_method": "flashcopy" }));
    let rb = forwarded.iter().fold(rb, |rb, (k, v)| rb.header(*k, *v));
    srv.send(rb).ok(200);
    let page = srv.get("/api/v1/events?kind=audit", Some(&admin)).ok(200);
    let change = &page["items"][0];
    assert_eq!(change["client_addr"], "203.0.113.8", "{change}");

    // the throttle counts per client behind the proxy, not the proxy
    let one: &[(&str, &str)] = &[(xff, "203.0.113.50")];
    fail_three_times(&srv, &[one, one, one]);
    login(&srv, "admin", ADMIN_PASSWORD, one).problem(429);
    login(&srv, "admin", ADMIN_PASSWORD, &[(xff, "203.0.113.51")]).ok(201);
    login(&srv, "admin", ADMIN_PASSWORD, &[]).ok(201);
}

fn an_untrusted_peer_cannot_name_another_address(db: Db) {
    // the proxies named are not where the tests come from
    let Some(srv) = server(db, "10.0.0.0/8, 192.0.2.7") else {
        return;
    };
    let xff = "X-Forwarded-For";
    let t = login(&srv, "admin", ADMIN_PASSWORD, &[(xff, "203.0.113.5")]).ok(201);
    let admin = t["token"].as_str().unwrap().to_owned();
    assert_eq!(last_login_from(&srv, &admin), "127.0.0.1");
    login(
        &srv,
        "admin",
        ADMIN_PASSWORD,
        &[("Forwarded", "for=203.0.113.6")],
    )
    .ok(201);
    assert_eq!(last_login_from(&srv, &admin), "127.0.0.1");

    // failures under three made-up addresses are the one peer's
    fail_three_times(
        &srv,
        &[
            &[(xff, "203.0.113.1")],
            &[(xff, "203.0.113.2")],
            &[("Forwarded", "for=203.0.113.3")],
        ],
    );
    login(&srv, "admin", ADMIN_PASSWORD, &[(xff, "203.0.113.4")]).problem(429);
    login(&srv, "admin", ADMIN_PASSWORD, &[]).problem(429);
}
