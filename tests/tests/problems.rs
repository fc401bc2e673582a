//! Every error is an RFC 9457 problem (application/problem+json with `type`,
//! `title`, `status`, `detail`), whatever layer produced it.

use herd_tests::{db_tests, Db, Method, TestServer, ADMIN_PASSWORD};

const TOKENS: &str = "/api/v1/auth/tokens";

db_tests!(error_responses_are_problems);

fn error_responses_are_problems(db: Db) {
    let Some(srv) = TestServer::builder(db).start() else {
        return;
    };
    let token = srv.admin_token();

    // unknown routes, with and without a token
    srv.get("/api/v1/nope", None).problem(404);
    srv.get("/api/v1/nope", Some(&token)).problem(404);
    srv.get("/no/such/thing", None).problem(404);

    // wrong method: 405 with Allow naming the right one
    let r = srv.send(srv.request(Method::PUT, "/api/v1/me", Some(&token)));
    r.problem(405);
    let allow = r
        .header("allow")
        .unwrap_or_else(|| panic!("405 without Allow header: {r:?}"))
        .to_ascii_uppercase();
    assert!(allow.contains("GET"), "Allow {allow:?} does not list GET");
    let r = srv.send(srv.request(Method::PUT, TOKENS, None));
    r.problem(405);
    assert!(
        r.header("allow").is_some_and(|a| {
            let a = a.to_ascii_uppercase();
            a.contains("POST") && a.contains("GET")
        }),
        "Allow should list POST and GET: {r:?}"
    );

    // malformed JSON
    srv.post_raw(TOKENS, "application/json", "{").problem(400);

    // oversize body (limit 256 KiB)
    let huge = format!(
        r#"{{"username":"admin","password":"{}"}}"#,
        "x".repeat(300 * 1024)
    );
    srv.post_raw(TOKENS, "application/json", huge).problem(413);
    // a body below the limit is read (whitespace is valid JSON padding)
    let padded = format!(
        r#"{{"username":"admin",{}"password":"wrong"}}"#,
        " ".repeat(200 * 1024)
    );
    srv.post_raw(TOKENS, "application/json", padded)
        .problem(401);

    // missing or bad bearer
    srv.get("/api/v1/me", None).unauthorized();
    srv.me("garbage").unauthorized();
    srv.delete("/api/v1/auth/tokens/current", None)
        .unauthorized();

    // bad credentials and validation errors
    srv.login_reply("admin", "wrong", None).problem(401);
    srv.post_json(TOKENS, None, &serde_json::json!({ "username": "admin" }))
        .problem(422);

    // still healthy after all that
    srv.login("admin", ADMIN_PASSWORD);
}
