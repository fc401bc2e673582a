//! Operational endpoints (health, readiness, metrics, OpenAPI, docs),
//! restarts and first-run seeding.

use std::collections::BTreeSet;

use herd_tests::{db_tests, Db, Layout, TestServer, Value, ADMIN_PASSWORD};

db_tests!(
    health_and_readiness,
    metrics_are_prometheus_text,
    openapi_document_and_docs_page,
    restart_keeps_users_and_tokens,
    second_start_seeds_nothing_twice,
    sigterm_stops_cleanly,
);

#[test]
fn readiness_fails_when_the_database_is_gone() {
    let Some(srv) = TestServer::builder(Db::Postgres).start() else {
        return;
    };
    srv.get("/readyz", None).expect(200);
    srv.pg()
        .unwrap()
        .drop_now()
        .expect("drop the server's database");
    srv.get("/readyz", None).problem(503);
    // liveness is not readiness
    srv.get("/healthz", None).expect(200);
}

fn health_and_readiness(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    srv.get("/healthz", None).expect(200);
    srv.get("/readyz", None).expect(200);
}

fn metrics_are_prometheus_text(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    srv.get("/healthz", None).expect(200);
    srv.login_reply("admin", "wrong", None).expect(401);
    let token = srv.login("admin", ADMIN_PASSWORD);
    srv.me(&token).expect(200);

    let r = srv.get("/metrics", None);
    r.expect(200);
    assert_eq!(r.content_type(), "text/plain", "{r:?}");
    let samples: Vec<&str> = r
        .body
        .lines()
        .filter(|l| l.starts_with("herd_http_requests_total{"))
        .collect();
    assert!(
        !samples.is_empty(),
        "no herd_http_requests_total samples:\n{}",
        r.body
    );
    for s in &samples {
        assert!(s.contains("route=\""), "sample without route label: {s}");
        assert!(s.contains("status=\""), "sample without status label: {s}");
    }
    // the requests made above are counted with their status
    assert!(
        samples.iter().any(|s| s.contains("status=\"401\"")),
        "the failed login is not counted:\n{}",
        samples.join("\n")
    );
    assert!(
        samples.iter().any(|s| s.contains("status=\"201\"")),
        "the login is not counted:\n{}",
        samples.join("\n")
    );
    // labels are route templates, not raw paths (bounded cardinality)
    let random_path = format!("/api/v1/no-such-{:x}", rand::random::<u64>());
    srv.get(&random_path, None).expect(404);
    let again = srv.get("/metrics", None);
    assert!(
        !again.body.contains(&random_path),
        "raw request path {random_path} became a metrics label"
    );
    assert!(
        r.body
            .lines()
            .any(|l| l.starts_with("herd_http_request_duration_seconds_bucket{")),
        "no herd_http_request_duration_seconds_bucket:\n{}",
        r.body
    );
}

fn openapi_document_and_docs_page(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    let doc = srv.get("/openapi.json", None).ok(200);
    assert_eq!(doc["openapi"], "3.1.0", "openapi version");
    let paths = doc["paths"].as_object().expect("paths object");
    for p in [
        "/api/v1/auth/tokens",
        "/api/v1/auth/tokens/current",
        "/api/v1/me",
    ] {
        assert!(paths.contains_key(p), "openapi.json lacks {p}");
    }
    assert!(paths["/api/v1/auth/tokens"].get("post").is_some());
    assert!(paths["/api/v1/auth/tokens/current"].get("delete").is_some());
    assert!(paths["/api/v1/me"].get("get").is_some());

    // the docs page works offline: HTML from us, its scripts from us too
    for path in ["/docs/", "/docs"] {
        let page = srv.get(path, None);
        page.expect(200);
        assert!(
            page.body.to_ascii_lowercase().contains("swagger"),
            "{path} is not the Swagger UI page"
        );
    }
    let page = srv.get("/docs/", None);
    let scripts = script_sources(&page.body);
    assert!(
        !scripts.is_empty(),
        "docs page references no scripts:\n{}",
        page.body
    );
    let mut all_js = String::new();
    for src in &scripts {
        assert!(
            !src.starts_with("http://") && !src.starts_with("https://") && !src.starts_with("//"),
            "docs page loads {src} from elsewhere (must work offline)"
        );
        let path = if src.starts_with('/') {
            src.clone()
        } else {
            format!("/docs/{}", src.trim_start_matches("./"))
        };
        let js = srv.get(&path, None);
        js.expect(200);
        assert!(!js.body.trim().is_empty(), "{path} is empty");
        all_js.push_str(&js.body);
    }
    assert!(
        all_js.contains("openapi.json"),
        "the docs page does not point at /openapi.json"
    );
}

/// The `src` attributes of the page's `<script>` elements.
fn script_sources(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<script") {
        rest = &rest[i + 7..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if let Some(j) = tag.find("src=") {
            let v = &tag[j + 4..];
            let quote = v.chars().next().unwrap_or('"');
            let v = v.trim_start_matches(['"', '\'']);
            let stop = v.find(quote).unwrap_or(v.len());
            out.push(v[..stop].to_string());
        }
    }
    out
}

fn restart_keeps_users_and_tokens(db: Db) {
    let Some(mut srv) = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .start()
    else {
        return;
    };
    let admin = srv.admin_token();
    let alice = srv.login("alice", "alice-pw");
    let revoked = srv.admin_token();
    srv.delete("/api/v1/auth/tokens/current", Some(&revoked))
        .expect(204);

    srv.restart();

    let me = srv.me(&admin).ok(200);
    assert_eq!(me["username"], "admin");
    let me = srv.me(&alice).ok(200);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["role"], "student");
    srv.me(&revoked).unauthorized();
    // the bootstrap password still works (admin not re-created differently)
    srv.admin_token();
}

/// The entries of a list answer: `{items: [...]}` (or a bare array).
fn items(list: &Value) -> Vec<Value> {
    match list.as_array() {
        Some(a) => a.clone(),
        None => list["items"]
            .as_array()
            .unwrap_or_else(|| panic!("neither an array nor {{items: [...]}}: {list}"))
            .clone(),
    }
}

fn check_seed(srv: &TestServer, token: &str) {
    let lans = items(&srv.get("/api/v1/lans", Some(token)).ok(200));
    assert_eq!(lans.len(), 1, "exactly one seeded LAN: {lans:?}");
    assert_eq!(lans[0]["name"], "LNXLAN1", "{lans:?}");
    assert_eq!(lans[0]["cidr"], "10.10.0.0/22", "{lans:?}");

    let catalog = items(&srv.get("/api/v1/service-catalog", Some(token)).ok(200));
    let got: BTreeSet<String> = catalog
        .iter()
        .map(|s| s["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let want: BTreeSet<String> = ["apache", "jakarta", "mysql"].map(String::from).into();
    assert_eq!(got, want, "{catalog:?}");
    assert_eq!(catalog.len(), 3, "catalog entries duplicated: {catalog:?}");
    for s in &catalog {
        let (prio, cmd, enabled) = match s["name"].as_str().unwrap() {
            "apache" => (50, "/etc/rc.d/init.d/httpd", true),
            "jakarta" => (55, "/etc/rc.d/init.d/tomcat", false),
            _ => (60, "/etc/rc.d/init.d/mysql", false),
        };
        assert_eq!(s["priority"], prio, "{s}");
        assert_eq!(s["command"], cmd, "{s}");
        assert_eq!(s["default_enabled"], enabled, "{s}");
    }
}

fn sigterm_stops_cleanly(db: Db) {
    let Some(mut srv) = TestServer::builder(db).start() else {
        return;
    };
    srv.admin_token();
    let status = srv
        .stop()
        .expect("herd-server did not exit within 30 s of SIGTERM");
    assert!(status.success(), "exit after SIGTERM: {status}");
}

fn second_start_seeds_nothing_twice(db: Db) {
    let Some(mut srv) = TestServer::builder(db).start() else {
        return;
    };
    let token = srv.admin_token();
    check_seed(&srv, &token);
    srv.restart();
    check_seed(&srv, &token);
    srv.restart();
    let token = srv.admin_token();
    check_seed(&srv, &token);
}
