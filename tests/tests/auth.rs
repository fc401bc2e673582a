//! Tokens, the local bootstrap user, expiry, revocation and login throttling
//! (SPEC §3, §4 auth rows), each on SQLite and on PostgreSQL.

use std::time::Duration;

use herd_tests::{db_tests, json, parse_rfc3339_utc, Db, TestServer, ADMIN_PASSWORD};

const TOKENS: &str = "/api/v1/auth/tokens";

db_tests!(
    local_admin_login_and_me,
    wrong_credentials_are_401,
    bad_requests_are_422_or_400,
    tokens_are_random_and_not_stored_in_clear,
    me_requires_a_valid_bearer_token,
    revoke_current_token,
    token_expires_with_the_clock,
    ttl_is_clamped_to_the_maximum,
    failed_logins_throttle_per_user,
    failed_logins_throttle_per_address,
);

fn local_admin_login_and_me(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    let before = srv.now_ms();
    let v = srv.login_full("admin", ADMIN_PASSWORD, None);
    let token = v["token"].as_str().unwrap();
    assert!(token.len() >= 20, "token too short to be random: {token:?}");

    let expires = parse_rfc3339_utc(v["expires_at"].as_str().expect("expires_at string"));
    assert!(expires > before, "token already expired at issue: {v}");
    // default ttl is at most the default maximum (30 days)
    assert!(
        expires <= before + 2_592_000_000 + 10_000,
        "default ttl above the 30-day maximum: {v}"
    );

    let user = &v["user"];
    assert_eq!(user["username"], "admin", "{v}");
    assert_eq!(user["role"], "admin", "{v}");
    assert!(
        user["quota"]["max_guests"].is_null(),
        "admin has no limit: {v}"
    );
    assert_eq!(user["quota"]["used"], 0, "{v}");
    assert!(
        user.get("display_name").is_some(),
        "display_name present: {v}"
    );
    assert!(
        user.get("email").is_some(),
        "email present (may be null): {v}"
    );

    let me = srv.me(token).ok(200);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert!(me["quota"]["max_guests"].is_null(), "{me}");
    assert_eq!(me["quota"]["used"], 0, "{me}");
    assert_eq!(&me, user, "/me and the login answer agree");
}

fn wrong_credentials_are_401(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    srv.login_reply("admin", "not-the-password", None)
        .problem(401);
    srv.login_reply("admin", "", None).problem(401);
    srv.login_reply("nobody-here", "whatever", None)
        .problem(401);
    srv.login_reply("", ADMIN_PASSWORD, None).problem(401);
    // no local user may be matched by a pattern
    for name in ["*", "admin*", "a)(uid=*", "*)(|(uid=*"] {
        srv.login_reply(name, ADMIN_PASSWORD, None).problem(401);
    }
    // 8 failures in all, at most 2 per name: below both throttles, so the
    // right password still works
    srv.login("admin", ADMIN_PASSWORD);
}

fn bad_requests_are_422_or_400(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    // missing fields
    srv.post_json(TOKENS, None, &json!({ "username": "admin" }))
        .problem(422);
    srv.post_json(TOKENS, None, &json!({ "password": ADMIN_PASSWORD }))
        .problem(422);
    srv.post_json(TOKENS, None, &json!({})).problem(422);
    // wrong types
    srv.post_json(
        TOKENS,
        None,
        &json!({ "username": 5, "password": ADMIN_PASSWORD }),
    )
    .problem(422);
    srv.post_json(
        TOKENS,
        None,
        &json!({ "username": "admin", "password": ["x"] }),
    )
    .problem(422);
    srv.post_json(
        TOKENS,
        None,
        &json!({ "username": "admin", "password": ADMIN_PASSWORD, "ttl_seconds": "60" }),
    )
    .problem(422);
    srv.post_json(TOKENS, None, &json!(["admin", ADMIN_PASSWORD]))
        .problem(422);
    // ttl_seconds must be positive
    srv.login_reply("admin", ADMIN_PASSWORD, Some(0))
        .problem(422);
    srv.login_reply("admin", ADMIN_PASSWORD, Some(-5))
        .problem(422);
    // malformed JSON
    srv.post_raw(TOKENS, "application/json", r#"{"username": "admin", "#)
        .problem(400);
    srv.post_raw(TOKENS, "application/json", "not json at all")
        .problem(400);
    // none of that counted as a failed login or locked anything
    srv.login("admin", ADMIN_PASSWORD);
}

/// Tokens differ per login and the database never holds one in clear.
fn tokens_are_random_and_not_stored_in_clear(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    let t1 = srv.admin_token();
    let t2 = srv.admin_token();
    assert_ne!(t1, t2, "two logins gave the same token");
    srv.me(&t1).expect(200);
    srv.me(&t2).expect(200);

    let haystack: Vec<u8> = match db {
        Db::Sqlite => {
            // every file the server keeps (database, WAL, ...)
            let mut all = Vec::new();
            let mut stack = vec![srv.data_dir()];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                    let p = entry.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if let Ok(bytes) = std::fs::read(&p) {
                        all.extend(bytes);
                    }
                }
            }
            all
        }
        Db::Postgres => srv.pg().unwrap().dump_data().into_bytes(),
    };
    let contains = |needle: &str| {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    assert!(
        contains("admin"),
        "scan found no trace of user admin: wrong place scanned?"
    );
    for t in [&t1, &t2] {
        assert!(!contains(t), "token stored in clear");
    }
}

fn me_requires_a_valid_bearer_token(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    srv.get("/api/v1/me", None).unauthorized();
    srv.me("not-a-real-token").unauthorized();
    srv.me("").unauthorized();
    let basic = srv
        .request(herd_tests::Method::GET, "/api/v1/me", None)
        .header(
            "authorization",
            "Basic YWRtaW46YWRtaW4tdGVzdC1wdy0zMTQx", // admin:<password>
        );
    srv.send(basic).unauthorized();

    let token = srv.admin_token();
    // a token with a changed character is no token
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    srv.me(&String::from_utf8(forged).unwrap()).unauthorized();
    srv.me(&format!("{token}x")).unauthorized();
    srv.me(&token).expect(200);
}

fn revoke_current_token(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    let keep = srv.admin_token();
    let gone = srv.admin_token();
    srv.delete("/api/v1/auth/tokens/current", None)
        .unauthorized();

    let r = srv.delete("/api/v1/auth/tokens/current", Some(&gone));
    r.expect(204);
    assert!(r.body.is_empty(), "204 with a body: {:?}", r.body);

    srv.me(&gone).unauthorized();
    srv.delete("/api/v1/auth/tokens/current", Some(&gone))
        .unauthorized();
    // only the token in use was revoked
    srv.me(&keep).expect(200);
}

fn token_expires_with_the_clock(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    let issued = srv.now_ms();
    let v = srv.login_full("admin", ADMIN_PASSWORD, Some(60));
    let token = v["token"].as_str().unwrap().to_string();
    let expires = parse_rfc3339_utc(v["expires_at"].as_str().unwrap());
    assert!(
        (expires - (issued + 60_000)).abs() <= 2_000,
        "expires_at {} is not issue time + 60 s ({issued})",
        v["expires_at"]
    );

    srv.me(&token).expect(200);
    srv.advance_clock(Duration::from_secs(30));
    srv.me(&token).expect(200);
    srv.advance_clock(Duration::from_secs(31));
    srv.me(&token).unauthorized();
    // and it does not come back
    srv.me(&token).unauthorized();
    // a fresh login works at the new time
    let fresh = srv.admin_token();
    srv.me(&fresh).expect(200);
}

fn ttl_is_clamped_to_the_maximum(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .env("HERD_TOKEN_MAX_TTL_SECONDS", "3600")
        .start()
    else {
        return;
    };
    let issued = srv.now_ms();
    let v = srv.login_full("admin", ADMIN_PASSWORD, Some(100_000));
    let expires = parse_rfc3339_utc(v["expires_at"].as_str().unwrap());
    assert!(
        (expires - (issued + 3_600_000)).abs() <= 2_000,
        "ttl not clamped to 3600 s: issued {issued}, answer {v}"
    );
    // below the maximum it is honoured
    let v = srv.login_full("admin", ADMIN_PASSWORD, Some(120));
    let expires = parse_rfc3339_utc(v["expires_at"].as_str().unwrap());
    assert!(
        (expires - (issued + 120_000)).abs() <= 2_000,
        "ttl 120 not honoured: {v}"
    );
    // the clamped token really lives an hour and no longer
    let token = srv.login_full("admin", ADMIN_PASSWORD, Some(100_000))["token"]
        .as_str()
        .unwrap()
        .to_string();
    srv.advance_clock(Duration::from_secs(3590));
    srv.me(&token).expect(200);
    srv.advance_clock(Duration::from_secs(20));
    srv.me(&token).unauthorized();
}

fn assert_retry_after(r: &herd_tests::Reply) -> u64 {
    let ra = r
        .header("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {r:?}"));
    let secs: u64 = ra
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not integer seconds: {ra:?}"));
    assert!(
        (1..=60).contains(&secs),
        "Retry-After {secs} not within the minute"
    );
    secs
}

fn failed_logins_throttle_per_user(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .env("HERD_LOGIN_FAILURES_PER_USER", "5")
        .start()
    else {
        return;
    };
    for i in 0..5 {
        srv.login_reply("admin", &format!("wrong-{i}"), None)
            .problem(401);
    }
    // locked for this name, even with the right password
    let r = srv.login_reply("admin", ADMIN_PASSWORD, None);
    r.problem(429);
    assert_retry_after(&r);
    srv.login_reply("admin", "wrong-again", None).problem(429);

    // other names are not affected: still 401, not 429
    srv.login_reply("someone-else", "x", None).problem(401);

    // a minute later the name is free again
    srv.advance_clock(Duration::from_secs(61));
    let token = srv.admin_token();
    srv.me(&token).expect(200);
}

fn failed_logins_throttle_per_address(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .env("HERD_LOGIN_FAILURES_PER_ADDRESS", "3")
        .start()
    else {
        return;
    };
    let before = srv.admin_token();
    // three failures for three different names: no name reaches its own limit
    for name in ["x1", "x2", "admin"] {
        srv.login_reply(name, "wrong", None).problem(401);
    }
    // the address is now throttled, for every name, even with the right password
    let r = srv.login_reply("admin", ADMIN_PASSWORD, None);
    r.problem(429);
    assert_retry_after(&r);
    srv.login_reply("x4", "wrong", None).problem(429);
    // throttling applies to logins only: existing tokens still work
    srv.me(&before).expect(200);

    srv.advance_clock(Duration::from_secs(61));
    srv.admin_token();
}
