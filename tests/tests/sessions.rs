//! The web page's sessions and its safety net (SPEC §9), over HTTP as a
//! browser would send it: the login cookie's flags, the CSRF proof every
//! change needs, other origins refused, logout that ends the session on
//! the server, the page's headers, and descriptions that cannot disguise
//! themselves. The page itself, in a real browser: `web_page.rs`.

use herd_tests::{db_tests, Db, Layout, Reply, TestServer, Value};
use reqwest::Method;
use serde_json::json;

db_tests!(
    a_browser_login_is_an_http_only_strict_cookie,
    cookie_changes_need_the_proof_and_the_page_origin,
    logout_ends_the_session_on_the_server,
    descriptions_show_what_was_typed,
);

#[test]
fn the_cookie_is_secure_when_configured() {
    let Some(srv) = TestServer::builder(Db::Sqlite)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_COOKIE_SECURE", "true")
        .start()
    else {
        return;
    };
    let (_, set_cookie) = log_in(&srv, "alice");
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
}

#[test]
fn the_page_is_served_with_its_safety_headers() {
    let Some(srv) = TestServer::builder(Db::Sqlite).start() else {
        return;
    };
    let page = srv.get("/", None).expect(200).clone();
    assert_eq!(page.content_type(), "text/html");
    let mut files = vec![("/".to_owned(), page.body.len())];
    for asset in ["/assets/app.js", "/assets/app.css"] {
        assert!(page.body.contains(asset), "the page does not load {asset}");
        let r = srv.get(asset, None).expect(200).clone();
        assert_safe(&r);
        files.push((asset.to_owned(), r.body.len()));
    }
    assert_safe(&page);
    for external in ["http://", "https://", "//"] {
        assert!(
            !page.body.contains(&format!("src=\"{external}"))
                && !page.body.contains(&format!("href=\"{external}")),
            "the page loads something from elsewhere: {}",
            page.body
        );
    }
    // Uncompressed, so certainly under 150 KB compressed.
    let total: usize = files.iter().map(|(_, n)| n).sum();
    assert!(
        total < 150 * 1024,
        "the first view is {total} bytes: {files:?}"
    );
    assert_eq!(
        srv.get("/assets/nope.js", None).status,
        404,
        "unknown assets are not the page"
    );
}

fn assert_safe(r: &Reply) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{} has no CSP", r.url));
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("no script-src in {csp}"));
    assert!(
        !script_src.contains("unsafe-inline") && !script_src.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(
        matches!(
            r.header("referrer-policy"),
            Some("no-referrer" | "same-origin")
        ),
        "{:?}",
        r.header("referrer-policy")
    );
}

fn server(db: Db) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", "1")
        .start()
}

/// A browser's login: the session body and the `Set-Cookie` it came with.
fn log_in(srv: &TestServer, user: &str) -> (Value, String) {
    let r = srv.post_json(
        "/api/v1/auth/session",
        None,
        &json!({ "username": user, "password": format!("{user}-pw") }),
    );
    let set_cookie = r
        .expect(201)
        .header("set-cookie")
        .expect("a session cookie")
        .to_owned();
    (r.json(), set_cookie)
}

struct Browser<'a> {
    srv: &'a TestServer,
    cookie: String,
    csrf: String,
}

impl Browser<'_> {
    fn request(&self, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.srv
            .client()
            .request(method, self.srv.url(path))
            .header("cookie", &self.cookie)
    }

    /// What herd's own page sends: the cookie, the proof and its origin.
    fn change(&self, method: Method, path: &str, body: &Value) -> Reply {
        self.srv.send(
            self.request(method, path)
                .header("x-csrf-token", &self.csrf)
                .header("origin", self.srv.base_url())
                .header("sec-fetch-site", "same-origin")
                .json(body),
        )
    }

    fn get(&self, path: &str) -> Reply {
        self.srv.send(self.request(Method::GET, path))
    }
}

fn browser<'a>(srv: &'a TestServer, user: &str) -> Browser<'a> {
    let (session, set_cookie) = log_in(srv, user);
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    Browser {
        srv,
        cookie,
        csrf: session["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_owned(),
    }
}

/// A pooled guest placed for `owner`.
fn guest_of(srv: &TestServer, owner: &str) -> String {
    srv.login(owner, &format!("{owner}-pw"));
    let admin = srv.admin_token();
    srv.wait_for("a pooled guest", std::time::Duration::from_secs(60), || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"].as_u64() >= Some(1)).then_some(())
    });
    let g = srv
        .post_json("/api/v1/guests", Some(&admin), &json!({ "owner": owner }))
        .ok(201);
    g["name"].as_str().unwrap().to_owned()
}

/// The guest's events (audit and monitor), as the admin sees them.
fn events(srv: &TestServer, admin: &str, guest: &str) -> Value {
    srv.get(&format!("/api/v1/events?guest={guest}"), Some(admin))
        .ok(200)["items"]
        .clone()
}

fn a_browser_login_is_an_http_only_strict_cookie(db: Db) {
    let Some(srv) = server(db) else { return };
    let (session, set_cookie) = log_in(&srv, "alice");
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("herd_session="), "{set_cookie}");
    for wanted in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            attributes.contains(&wanted),
            "{wanted} missing: {set_cookie}"
        );
    }
    assert!(
        !attributes.contains(&"Secure"),
        "plain HTTP without HERD_COOKIE_SECURE: {set_cookie}"
    );
    let secret = attributes[0].trim_start_matches("herd_session=");
    assert!(
        !session.to_string().contains(secret),
        "the page's scripts would see the secret: {session}"
    );
    assert_eq!(session["user"]["username"], "alice", "{session}");
    assert_eq!(session["user"]["role"], "student", "{session}");

    // the cookie authenticates, and a page loaded again gets the same proof
    let b = browser(&srv, "alice");
    assert_eq!(b.get("/api/v1/me").ok(200)["username"], "alice");
    let again = b.get("/api/v1/auth/session").ok(200);
    assert_eq!(again["csrf_token"], b.csrf.as_str(), "{again}");
    // a bearer token is not a session, and bearer tokens work as before
    let token = srv.login("alice", "alice-pw");
    srv.get("/api/v1/auth/session", Some(&token)).problem(401);
    srv.me(&token).expect(200);
    // the session shows among the user's tokens, where it can be revoked
    let listed = b.get("/api/v1/auth/tokens").ok(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 3, "{listed}");
}

fn cookie_changes_need_the_proof_and_the_page_origin(db: Db) {
    let Some(srv) = server(db) else { return };
    let name = guest_of(&srv, "alice");
    let b = browser(&srv, "alice");
    let path = format!("/api/v1/guests/{name}");
    let set = |text: &str| json!({ "description": text });
    let admin = srv.admin_token();
    let before = events(&srv, &admin, &name);

    let refused = [
        ("no proof", b.request(Method::PATCH, &path)),
        (
            "a wrong proof",
            b.request(Method::PATCH, &path)
                .header("x-csrf-token", "0123"),
        ),
        (
            "another origin",
            b.request(Method::PATCH, &path)
                .header("x-csrf-token", &b.csrf)
                .header("origin", "http://evil.example"),
        ),
        (
            "another site (Fetch metadata)",
            b.request(Method::PATCH, &path)
                .header("x-csrf-token", &b.csrf)
                .header("sec-fetch-site", "cross-site"),
        ),
    ];
    for (what, rb) in refused {
        let p = srv.send(rb.json(&set(what))).problem(403);
        assert!(!p["detail"].as_str().unwrap().is_empty(), "{what}: {p}");
    }
    // what an HTML form of another site can send: no proof, not JSON
    let form = srv.send(
        b.request(Method::POST, &format!("{path}/power"))
            .header("origin", "http://evil.example")
            .header("content-type", "text/plain")
            .body("{\"action\":\"stop\"}"),
    );
    form.problem(403);
    let p = srv.send(
        srv.client()
            .post(srv.url("/api/v1/auth/session"))
            .header("origin", "http://evil.example")
            .json(&json!({ "username": "alice", "password": "alice-pw" })),
    );
    p.problem(403);

    let g = srv.get(&path, Some(&admin)).ok(200);
    assert_eq!(
        g["description"], "",
        "a refused change changed the guest: {g}"
    );
    assert_eq!(
        events(&srv, &admin, &name),
        before,
        "a refused change left a trace"
    );

    // herd's own page, and a bearer client (which sends no proof) change it
    let changed = b.change(Method::PATCH, &path, &set("by the page")).ok(200);
    assert_eq!(changed["description"], "by the page");
    let token = srv.login("alice", "alice-pw");
    let r = srv.send(
        srv.request(Method::PATCH, &path, Some(&token))
            .header("origin", "http://portal.example")
            .json(&set("by a portal")),
    );
    assert_eq!(r.ok(200)["description"], "by a portal");
}

fn logout_ends_the_session_on_the_server(db: Db) {
    let Some(srv) = server(db) else { return };
    let b = browser(&srv, "alice");
    srv.send(b.request(Method::DELETE, "/api/v1/auth/session"))
        .problem(403);
    b.get("/api/v1/me").expect(200);

    // a bearer token is not logged out here
    let token = srv.login("alice", "alice-pw");
    srv.delete("/api/v1/auth/session", Some(&token))
        .problem(401);
    srv.me(&token).expect(200);

    let r = b.change(Method::DELETE, "/api/v1/auth/session", &json!({}));
    let cleared = r
        .expect(204)
        .header("set-cookie")
        .expect("a cleared cookie");
    assert!(cleared.starts_with("herd_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // the old cookie, replayed, is refused: the session ended on the server
    b.get("/api/v1/me").unauthorized();
    b.get("/api/v1/auth/session").problem(401);
}

fn descriptions_show_what_was_typed(db: Db) {
    let Some(srv) = server(db) else { return };
    let name = guest_of(&srv, "alice");
    let token = srv.login("alice", "alice-pw");
    let path = format!("/api/v1/guests/{name}");
    for (text, code) in [
        ("abc\u{202E}gpj.exe", "U+202E"),
        ("\u{2067}x", "U+2067"),
        ("bell\u{7}", "U+0007"),
        ("two\nlines", "U+000A"),
    ] {
        let p = srv
            .patch_json(&path, Some(&token), &json!({ "description": text }))
            .problem(422);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(code), "{text:?}: {detail}");
    }
    let markup = "<img src=x onerror=alert(1)> & <script>x</script>";
    let g = srv
        .patch_json(&path, Some(&token), &json!({ "description": markup }))
        .ok(200);
    assert_eq!(g["description"], markup, "text is kept as typed");
}
