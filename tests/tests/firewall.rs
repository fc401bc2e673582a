//! Firewall leases (SPEC §1, §4, §5): opening within the policy, conflicts,
//! the router's ruleset with its ETag, expiry on the server's clock,
//! renewing, closing and who may do what, on SQLite and PostgreSQL.

use std::time::Duration;

use herd_tests::{db_tests, json, parse_rfc3339_utc, Db, Layout, Method, Reply, TestServer, Value};

db_tests!(
    leases_open_expire_renew_and_close,
    ruleset_follows_leases_with_its_etag,
    who_may_manage_leases,
    policy_limits_are_enforced,
);

const MINUTE_MS: i64 = 60_000;
/// Wall time a background step (pool fill, sweep) may take.
const SETTLE: Duration = Duration::from_secs(30);
/// Wall time the worker may take to sweep an expired lease.
const SWEEP: Duration = Duration::from_secs(5);

fn server(db: Db) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
}

fn login(srv: &TestServer, user: &str) -> String {
    if user == "admin" {
        srv.admin_token()
    } else {
        srv.login(user, &format!("{user}-pw"))
    }
}

/// A pooled guest for `token`'s user: waits for the pool to fill first.
fn take_guest(srv: &TestServer, admin: &str, token: &str) -> Value {
    srv.wait_for("a pooled guest", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(admin)).ok(200);
        (p["available"].as_u64() >= Some(1)).then_some(())
    });
    let g = srv
        .post_json("/api/v1/guests", Some(token), &json!({}))
        .ok(201);
    assert!(g["ip_address"].is_string(), "{g}");
    g
}

fn leases_path(guest: &str) -> String {
    format!("/api/v1/guests/{guest}/firewall/leases")
}

fn open(srv: &TestServer, token: &str, guest: &str, body: Value) -> Reply {
    srv.post_json(&leases_path(guest), Some(token), &body)
}

fn list(srv: &TestServer, token: &str, guest: &str) -> Vec<Value> {
    let page = srv.get(&leases_path(guest), Some(token)).ok(200);
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().expect("items").clone()
}

fn renew(srv: &TestServer, token: &str, id: &Value, body: Option<Value>) -> Reply {
    let path = format!("/api/v1/firewall/leases/{id}/renew");
    match body {
        Some(b) => srv.post_json(&path, Some(token), &b),
        None => srv.send(srv.request(Method::POST, &path, Some(token))),
    }
}

fn close(srv: &TestServer, token: &str, id: &Value) -> Reply {
    srv.delete(&format!("/api/v1/firewall/leases/{id}"), Some(token))
}

fn ruleset(srv: &TestServer, admin: &str, if_none_match: Option<&str>) -> Reply {
    let mut rb = srv.request(Method::GET, "/api/v1/firewall/ruleset", Some(admin));
    if let Some(tag) = if_none_match {
        rb = rb.header("if-none-match", tag);
    }
    srv.send(rb)
}

fn etag(r: &Reply) -> String {
    let tag = r.header("etag").expect("ETag header").to_string();
    assert!(
        tag.len() == 66 && tag.starts_with('"') && tag.ends_with('"'),
        "ETag is not a quoted sha256: {tag}"
    );
    tag
}

/// Asserts `expires_at` is `minutes` after the server's clock and
/// `remaining_seconds` agrees.
fn assert_lasts(srv: &TestServer, lease: &Value, minutes: i64) {
    let now = srv.now_ms();
    let expires = parse_rfc3339_utc(lease["expires_at"].as_str().expect("expires_at"));
    assert!(
        (expires - (now + minutes * MINUTE_MS)).abs() <= 2_000,
        "expires_at {} is not {minutes} minutes after {now}: {lease}",
        lease["expires_at"]
    );
    let remaining = lease["remaining_seconds"]
        .as_i64()
        .expect("remaining_seconds");
    assert!(
        (remaining - minutes * 60).abs() <= 2,
        "remaining_seconds is not {minutes} minutes: {lease}"
    );
}

fn expiry_events(srv: &TestServer, token: &str, guest: &str) -> Vec<Value> {
    let page = srv
        .get(
            &format!("/api/v1/events?guest={guest}&kind=firewall"),
            Some(token),
        )
        .ok(200);
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "lease.expired")
        .cloned()
        .collect()
}

fn leases_open_expire_renew_and_close(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);
    let name = g["name"].as_str().unwrap();

    let lease = open(&srv, &alice, name, json!({"protocol": "tcp", "port": 8080})).ok(201);
    assert_eq!(lease["guest"], name, "{lease}");
    assert_eq!(lease["protocol"], "tcp");
    assert_eq!(lease["port"], 8080);
    assert!(lease["source_cidr"].is_null(), "{lease}");
    assert_eq!(lease["opened_by"], "alice");
    assert!(lease["id"].is_i64(), "{lease}");
    parse_rfc3339_utc(lease["created_at"].as_str().unwrap());
    assert_lasts(&srv, &lease, 90);
    assert_eq!(lease["remaining_seconds"], 5400, "{lease}");

    let dup = open(&srv, &alice, name, json!({"protocol": "tcp", "port": 8080})).problem(409);
    assert!(dup["detail"].as_str().unwrap().contains("8080"), "{dup}");
    let items = list(&srv, &alice, name);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["id"], lease["id"]);

    // the countdown follows the server's clock
    srv.advance_clock(Duration::from_secs(10 * 60));
    let items = list(&srv, &alice, name);
    assert_eq!(items[0]["remaining_seconds"], 80 * 60, "{items:?}");

    // past its time it is gone at once, before any sweep, and the sweep
    // records it exactly once
    srv.advance_clock(Duration::from_secs(81 * 60));
    assert!(list(&srv, &alice, name).is_empty());
    renew(&srv, &alice, &lease["id"], None).problem(404);
    let events = srv.wait_for("the expiry sweep", SWEEP, || {
        let e = expiry_events(&srv, &alice, name);
        (!e.is_empty()).then_some(e)
    });
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "firewall");
    assert!(list(&srv, &alice, name).is_empty());
    close(&srv, &alice, &lease["id"]).problem(404);

    // the same port may be opened again
    let again = open(
        &srv,
        &alice,
        name,
        json!({"protocol": "tcp", "port": 8080, "duration_minutes": 30}),
    )
    .ok(201);
    assert_ne!(again["id"], lease["id"]);
    assert_lasts(&srv, &again, 30);

    // renewing extends from now, capped at the maximum
    srv.advance_clock(Duration::from_secs(20 * 60));
    let r = renew(
        &srv,
        &alice,
        &again["id"],
        Some(json!({"duration_minutes": 60})),
    )
    .ok(200);
    assert_eq!(r["id"], again["id"]);
    assert_lasts(&srv, &r, 60);
    let r = renew(
        &srv,
        &alice,
        &again["id"],
        Some(json!({"duration_minutes": 100_000})),
    )
    .ok(200);
    assert_lasts(&srv, &r, 480);
    let r = renew(&srv, &alice, &again["id"], None).ok(200);
    assert_lasts(&srv, &r, 90);
    let r = renew(&srv, &alice, &again["id"], Some(json!({}))).ok(200);
    assert_lasts(&srv, &r, 90);
    renew(
        &srv,
        &alice,
        &again["id"],
        Some(json!({"duration_minutes": 0})),
    )
    .problem(422);
    let items = list(&srv, &alice, name);
    assert_eq!(items.len(), 1);
    assert_lasts(&srv, &items[0], 90);

    // closing early
    close(&srv, &alice, &again["id"]).expect(204);
    assert!(list(&srv, &alice, name).is_empty());
    close(&srv, &alice, &again["id"]).problem(404);
    renew(&srv, &alice, &again["id"], None).problem(404);
    close(&srv, &alice, &json!(999_999)).problem(404);
    srv.delete("/api/v1/firewall/leases/abc", Some(&alice))
        .problem(404);

    // a closed lease never shows up as expired
    srv.advance_clock(Duration::from_secs(120 * 60));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(expiry_events(&srv, &alice, name).len(), 1);
}

fn ruleset_follows_leases_with_its_etag(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);
    let name = g["name"].as_str().unwrap();
    let ip = g["ip_address"].as_str().unwrap().to_string();

    let empty = ruleset(&srv, &admin, None);
    empty.expect(200);
    assert_eq!(empty.content_type(), "text/plain");
    assert!(empty.body.contains("10.10.0.0/22"), "{}", empty.body);
    assert!(!empty.body.contains(&format!("{ip} ")), "{}", empty.body);
    let e0 = etag(&empty);

    let web = open(&srv, &alice, name, json!({"protocol": "tcp", "port": 8080})).ok(201);
    let r1 = ruleset(&srv, &admin, None);
    r1.expect(200);
    assert!(
        r1.body
            .contains(&format!("ip daddr {ip} tcp dport 8080 accept")),
        "{}",
        r1.body
    );
    assert!(r1.body.contains(name), "{}", r1.body);
    let e1 = etag(&r1);
    assert_ne!(e0, e1);
    // unchanged: 304 with the same tag, no body; a list or `*` match too
    let same = ruleset(&srv, &admin, Some(&e1));
    same.expect(304);
    assert!(same.body.is_empty());
    assert_eq!(etag(&same), e1);
    ruleset(&srv, &admin, Some(&format!("\"nope\", {e1}"))).expect(304);
    ruleset(&srv, &admin, Some(&format!("W/{e1}"))).expect(304);
    ruleset(&srv, &admin, Some(&e0)).expect(200);

    let vpn = open(
        &srv,
        &alice,
        name,
        json!({"protocol": "udp", "port": 1194, "source_cidr": "198.51.100.0/24", "duration_minutes": 120}),
    )
    .ok(201);
    assert_eq!(vpn["source_cidr"], "198.51.100.0/24");
    let r2 = ruleset(&srv, &admin, Some(&e1));
    r2.expect(200);
    assert!(
        r2.body.contains(&format!(
            "ip saddr 198.51.100.0/24 ip daddr {ip} udp dport 1194 accept"
        )),
        "{}",
        r2.body
    );
    let e2 = etag(&r2);
    assert_ne!(e2, e1);

    let all = srv.get("/api/v1/firewall/leases", Some(&admin)).ok(200);
    let ids: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["id"])
        .collect();
    assert_eq!(ids, [&web["id"], &vpn["id"]], "{all}");

    // to the second: at 90 minutes the web lease is out of the ruleset,
    // whether or not the sweep has run yet
    srv.advance_clock(Duration::from_secs(90 * 60));
    let r3 = ruleset(&srv, &admin, Some(&e2));
    r3.expect(200);
    assert!(!r3.body.contains("dport 8080"), "{}", r3.body);
    assert!(r3.body.contains("dport 1194"), "{}", r3.body);
    let e3 = etag(&r3);
    srv.wait_for("the expiry sweep", SWEEP, || {
        (expiry_events(&srv, &alice, name).len() == 1).then_some(())
    });
    // the sweep changes nothing the router sees
    ruleset(&srv, &admin, Some(&e3)).expect(304);
    let all = srv.get("/api/v1/firewall/leases", Some(&admin)).ok(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");

    // closing one takes it out
    close(&srv, &alice, &vpn["id"]).expect(204);
    let r4 = ruleset(&srv, &admin, Some(&e3));
    r4.expect(200);
    assert_eq!(etag(&r4), e0, "no leases: the empty ruleset again");
}

fn who_may_manage_leases(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let bob = login(&srv, "bob");
    let g = take_guest(&srv, &admin, &alice);
    let name = g["name"].as_str().unwrap();
    let body = json!({"protocol": "tcp", "port": 8443});
    let lease = open(&srv, &alice, name, body.clone()).ok(201);
    let id = &lease["id"];

    // another student: as if neither guest nor lease existed
    srv.get(&leases_path(name), Some(&dave)).problem(404);
    open(&srv, &dave, name, body.clone()).problem(404);
    close(&srv, &dave, id).problem(404);
    renew(&srv, &dave, id, None).problem(404);
    srv.get("/api/v1/firewall/leases", Some(&dave)).problem(403);
    srv.get("/api/v1/firewall/ruleset", Some(&dave))
        .problem(403);
    // staff see guests but do not manage other users' openings
    srv.get(&leases_path(name), Some(&bob)).problem(403);
    open(&srv, &bob, name, json!({"protocol": "tcp", "port": 9000})).problem(403);
    close(&srv, &bob, id).problem(403);
    renew(&srv, &bob, id, None).problem(403);
    srv.get("/api/v1/firewall/leases", Some(&bob)).problem(403);
    srv.get("/api/v1/firewall/ruleset", Some(&bob)).problem(403);
    // everyone may read the policy
    for token in [&alice, &dave, &bob, &admin] {
        srv.get("/api/v1/firewall/policy", Some(token)).ok(200);
    }
    // no token
    srv.get("/api/v1/firewall/policy", None).unauthorized();
    srv.get(&leases_path(name), None).unauthorized();
    srv.post_json(&leases_path(name), None, &body)
        .unauthorized();
    srv.delete(&format!("/api/v1/firewall/leases/{id}"), None)
        .unauthorized();
    srv.get("/api/v1/firewall/leases", None).unauthorized();
    srv.get("/api/v1/firewall/ruleset", None).unauthorized();
    // nothing changed
    assert_eq!(list(&srv, &alice, name).len(), 1);

    // an admin may do all of it on anyone's guest
    let by_admin = open(&srv, &admin, name, json!({"protocol": "udp", "port": 5000})).ok(201);
    assert_eq!(by_admin["opened_by"], "admin");
    assert_eq!(list(&srv, &admin, name).len(), 2);
    renew(&srv, &admin, id, Some(json!({"duration_minutes": 15}))).ok(200);
    close(&srv, &admin, &by_admin["id"]).expect(204);
    close(&srv, &alice, id).expect(204);
    assert!(list(&srv, &alice, name).is_empty());

    // every change is in the audit trail
    let events = srv.get("/api/v1/events?kind=audit", Some(&admin)).ok(200);
    let actions: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == name)
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("firewall."))
        .collect();
    for want in [
        "firewall.lease.open",
        "firewall.lease.renew",
        "firewall.lease.close",
    ] {
        assert!(actions.contains(&want), "{want} missing: {events}");
    }

    // a decommissioned guest's leases are closed and it gets no new ones
    open(&srv, &alice, name, json!({"protocol": "tcp", "port": 8080})).ok(201);
    srv.delete(&format!("/api/v1/guests/{name}"), Some(&alice))
        .ok(202);
    open(&srv, &admin, name, json!({"protocol": "tcp", "port": 8081})).problem(409);
    srv.wait_for("the decommissioned guest's leases to close", SETTLE, || {
        list(&srv, &admin, name).is_empty().then_some(())
    });
}

fn policy_limits_are_enforced(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);
    let name = g["name"].as_str().unwrap();

    let policy = srv.get("/api/v1/firewall/policy", Some(&alice)).ok(200);
    assert_eq!(
        policy,
        json!({
            "tcp": [{"start": 80, "end": 80}, {"start": 443, "end": 443}, {"start": 1024, "end": 65535}],
            "udp": [{"start": 1024, "end": 65535}],
            "default_minutes": 90,
            "max_minutes": 480,
            "max_open_per_guest": 5,
        })
    );

    let refused = |body: Value, needle: &str| {
        let p = open(&srv, &alice, name, body.clone()).problem(422);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{body}: {detail}");
    };
    refused(
        json!({"protocol": "tcp", "port": 22}),
        "allowed tcp ports: 80, 443, 1024-65535",
    );
    refused(
        json!({"protocol": "udp", "port": 53}),
        "allowed udp ports: 1024-65535",
    );
    refused(json!({"protocol": "tcp", "port": 70000}), "not a port");
    refused(json!({"protocol": "tcp", "port": 0}), "not a port");
    refused(json!({"protocol": "icmp", "port": 8080}), "not a protocol");
    refused(
        json!({"protocol": "tcp", "port": 8080, "duration_minutes": 481}),
        "at most 480 minutes",
    );
    refused(
        json!({"protocol": "tcp", "port": 8080, "duration_minutes": 0}),
        "at least 1 minute",
    );
    refused(
        json!({"protocol": "tcp", "port": 8080, "duration_minutes": -5}),
        "at least 1 minute",
    );
    refused(
        json!({"protocol": "tcp", "port": 8080, "source_cidr": "2001:db8::/32"}),
        "IPv6",
    );
    refused(
        json!({"protocol": "tcp", "port": 8080, "source_cidr": "192.0.2.7/24"}),
        "host bits",
    );
    refused(
        json!({"protocol": "tcp", "port": 8080, "source_cidr": "nowhere"}),
        "not a network",
    );
    open(&srv, &alice, name, json!({"protocol": "tcp"})).problem(422);
    open(
        &srv,
        &alice,
        name,
        json!({"protocol": "tcp", "port": 8080, "color": "red"}),
    )
    .problem(422);
    assert!(list(&srv, &alice, name).is_empty());

    // the exact maximum is fine; five open ports, then no more
    let first = open(
        &srv,
        &alice,
        name,
        json!({"protocol": "tcp", "port": 80, "duration_minutes": 480}),
    )
    .ok(201);
    assert_lasts(&srv, &first, 480);
    for port in [443, 1024, 65535] {
        open(&srv, &alice, name, json!({"protocol": "tcp", "port": port})).ok(201);
    }
    open(
        &srv,
        &alice,
        name,
        json!({"protocol": "udp", "port": 1024, "source_cidr": "192.0.2.7"}),
    )
    .ok(201);
    refused(
        json!({"protocol": "udp", "port": 2000}),
        "at most 5 open ports",
    );
    close(&srv, &alice, &first["id"]).expect(204);
    open(&srv, &alice, name, json!({"protocol": "udp", "port": 2000})).ok(201);
    assert_eq!(list(&srv, &alice, name).len(), 5);
}

/// SPEC §5: expired leases close on time and exactly once with several
/// replicas. Two server processes on one PostgreSQL database and one
/// clock, both sweeping; the leases end a minute apart.
#[test]
fn two_servers_close_each_expired_lease_once_and_on_time_postgres() {
    let Some(a) = server(Db::Postgres) else {
        return;
    };
    let Some(b) = TestServer::builder(Db::Postgres)
        .sharing(&a)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
    else {
        return;
    };
    let admin = login(&a, "admin");
    let guests: Vec<String> = (0..3)
        .map(|_| {
            take_guest(&a, &admin, &admin)["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut leases = Vec::new();
    for (i, guest) in guests.iter().enumerate() {
        for j in 0..4 {
            let minutes = (i * 4 + j + 1) as i64;
            let body =
                json!({"protocol": "tcp", "port": 9000 + minutes, "duration_minutes": minutes});
            let srv = if j % 2 == 0 { &a } else { &b };
            let lease = open(srv, &admin, guest, body).ok(201);
            leases.push((minutes, lease["id"].as_i64().unwrap(), lease));
        }
    }

    let expired_ids = || -> Vec<i64> {
        let page = b
            .get("/api/v1/events?kind=firewall&limit=100", Some(&admin))
            .ok(200);
        let mut ids: Vec<i64> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|e| e["action"] == "lease.expired")
            .map(|e| {
                let detail = e["detail"].as_str().expect("detail");
                detail["lease ".len()..detail.find(':').expect("lease id")]
                    .parse()
                    .expect("lease id")
            })
            .collect();
        ids.sort_unstable();
        ids
    };
    for minute in 1..=leases.len() as i64 {
        a.advance_clock(Duration::from_secs(60));
        let mut due: Vec<i64> = leases
            .iter()
            .filter(|(m, _, _)| *m <= minute)
            .map(|(_, id, _)| *id)
            .collect();
        due.sort_unstable();
        let seen = a.wait_for(&format!("the leases due by minute {minute}"), SWEEP, || {
            let seen = expired_ids();
            (seen.len() >= due.len()).then_some(seen)
        });
        assert_eq!(
            seen, due,
            "minute {minute}: closed, each once, and no other"
        );
        let rules = ruleset(&a, &admin, None);
        let rules = &rules.expect(200).body;
        for (m, _, lease) in &leases {
            let rule = format!("tcp dport {} accept", lease["port"]);
            assert_eq!(
                rules.contains(&rule),
                *m > minute,
                "minute {minute}: {lease}\n{rules}"
            );
        }
    }
    // both sweepers keep running; nothing is closed a second time
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(expired_ids().len(), leases.len());
    drop(b);
}
