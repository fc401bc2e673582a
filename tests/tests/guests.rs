//! Guests, the warm pool and jobs (SPEC §1, §3, §4, §5): real `herd-server`
//! processes on SQLite and PostgreSQL, LDAP users from the fixture.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use herd_tests::{db_tests, json, parse_rfc3339_utc, Db, Layout, Method, TestServer, Value};

db_tests!(
    pool_fills_and_assignment_is_instant,
    student_quota_and_placing_for_others,
    quota_holds_under_concurrent_requests,
    other_users_guests,
    empty_pool_clones_a_guest,
    pagination_and_filters,
    addresses_are_unique_and_reused,
    concurrent_assignment_never_gives_a_guest_twice,
    killed_server_resumes_its_clones,
    authorization_matrix,
    repopulate_refills_to_the_target,
    request_body_is_validated,
);

const FIVE_YEARS_MS: i64 = 1825 * 86_400_000;
/// Wall time a background step (clone, decommission, boot) may take.
const SETTLE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn password(user: &str) -> String {
    format!("{user}-pw")
}

/// A server with the fixture directory, a small image and this pool size.
fn server(db: Db, pool_target: u32) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", pool_target.to_string())
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
}

fn login(srv: &TestServer, user: &str) -> String {
    if user == "admin" {
        srv.admin_token()
    } else {
        srv.login(user, &password(user))
    }
}

fn pool(srv: &TestServer, admin: &str) -> Value {
    srv.get("/api/v1/pool", Some(admin)).ok(200)
}

/// Waits until the pool holds exactly `available` guests with nothing in
/// flight.
fn wait_pool(srv: &TestServer, admin: &str, available: u64) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let p = pool(srv, admin);
        if p["available"] == available && p["provisioning"] == 0 {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {SETTLE:?} waiting for the pool to settle at {available} \
             available; it is {p}\n{}",
            srv.stderr_tail(20)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until nothing is being cloned for the pool; answers the status.
fn wait_pool_idle(srv: &TestServer, admin: &str) -> Value {
    srv.wait_for("the pool keeper to finish", SETTLE, || {
        let p = pool(srv, admin);
        (p["provisioning"] == 0).then_some(p)
    })
}

fn set_pool(srv: &TestServer, admin: &str, target: u32, method: &str) -> Value {
    let v = srv
        .put_json(
            "/api/v1/pool",
            Some(admin),
            &json!({ "target_size": target, "copy_method": method }),
        )
        .ok(200);
    assert_eq!(v["target_size"], target, "{v}");
    assert_eq!(v["copy_method"], method, "{v}");
    v
}

fn request(srv: &TestServer, token: &str, body: &Value) -> herd_tests::Reply {
    srv.post_json("/api/v1/guests", Some(token), body)
}

/// Requests a guest from a non-empty pool: `201` with a guest.
fn take(srv: &TestServer, token: &str, body: &Value) -> Value {
    let g = request(srv, token, body).ok(201);
    assert!(g["name"].is_string(), "{g}");
    g
}

fn guest(srv: &TestServer, token: &str, name: &str) -> Value {
    srv.get(&format!("/api/v1/guests/{name}"), Some(token))
        .ok(200)
}

fn name_of(g: &Value) -> String {
    g["name"].as_str().expect("guest name").to_string()
}

/// Waits until job `id` has finished and asserts it succeeded.
fn wait_job(srv: &TestServer, token: &str, id: &Value) -> Value {
    let path = format!("/api/v1/jobs/{id}");
    let job = srv.wait_for(&format!("job {id} to finish"), SETTLE, || {
        let j = srv.get(&path, Some(token)).ok(200);
        matches!(
            j["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        )
        .then_some(j)
    });
    assert_eq!(job["status"], "succeeded", "{job}");
    assert!(job["error"].is_null(), "{job}");
    assert_eq!(job["progress"]["done"], job["progress"]["total"], "{job}");
    assert!(job["finished_at"].is_string(), "{job}");
    job
}

/// Moves the clock past the simulated boot and waits until the guest runs.
fn wait_running(srv: &TestServer, token: &str, name: &str) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        srv.advance_clock(Duration::from_secs(3));
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            let g = guest(srv, token, name);
            if g["state"] == "running" {
                return g;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            Instant::now() < deadline,
            "{name} never reached running: {}\n{}",
            guest(srv, token, name),
            srv.stderr_tail(40)
        );
    }
}

/// Every guest a query shows, following `next_cursor`.
fn list_all(srv: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let mut path = format!("/api/v1/guests?limit=500{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = srv.get(&path, Some(token)).ok(200);
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
    panic!("more than 1000 pages");
}

fn names(items: &[Value]) -> Vec<String> {
    items.iter().map(name_of).collect()
}

fn lan_used(srv: &TestServer, token: &str) -> u64 {
    let lans = srv.get("/api/v1/lans", Some(token)).ok(200);
    let lan = lans["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|l| l["name"] == "LNXLAN1")
        .unwrap_or_else(|| panic!("no LNXLAN1 in {lans}"))
        .clone();
    lan["used"].as_u64().expect("used")
}

/// The checks every guest answer must pass.
fn check_guest_shape(g: &Value) {
    let name = name_of(g);
    assert!(
        name.len() == 8 && name.starts_with("LX") && name[2..].chars().all(|c| c.is_ascii_digit()),
        "guest name {name:?} is not LX + 6 digits"
    );
    assert_eq!(
        g["hostname"],
        format!("{}.herd.local", name.to_ascii_lowercase()),
        "{g}"
    );
    assert_eq!(g["lan"], "LNXLAN1", "{g}");
    assert_eq!(g["image"], "golden", "{g}");
    assert_eq!(g["memory_mb"], 64, "{g}");
    assert!(g["auto_boot"].is_boolean(), "{g}");
    assert!(g["description"].is_string(), "{g}");
    parse_rfc3339_utc(g["created_at"].as_str().expect("created_at"));
    if g["state"] != "decommissioned" {
        let ip: Ipv4Addr = g["ip_address"]
            .as_str()
            .unwrap_or_else(|| panic!("no ip_address: {g}"))
            .parse()
            .expect("ip_address is IPv4");
        let o = ip.octets();
        assert!(
            o[0] == 10 && o[1] == 10 && o[2] < 4 && ip != Ipv4Addr::new(10, 10, 0, 1),
            "{ip} is not a host address of 10.10.0.0/22 other than the gateway"
        );
    }
}

/// An assigned guest: owner, state and dates.
fn check_assigned(g: &Value, owner: &str, now_ms: i64) {
    check_guest_shape(g);
    assert_eq!(g["owner"], owner, "{g}");
    assert!(
        matches!(g["state"].as_str(), Some("starting" | "running")),
        "{g}"
    );
    let assigned = parse_rfc3339_utc(g["assigned_at"].as_str().expect("assigned_at"));
    let expires = parse_rfc3339_utc(g["expires_at"].as_str().expect("expires_at"));
    assert!(
        (assigned - now_ms).abs() < 60_000,
        "assigned_at {assigned} is not the server's now {now_ms}: {g}"
    );
    assert!(
        (expires - assigned - FIVE_YEARS_MS).abs() < 2_000,
        "expires_at is not assigned_at + 5 years: {g}"
    );
}

// ---------------------------------------------------------------------------
// 1. the pool
// ---------------------------------------------------------------------------

fn pool_fills_and_assignment_is_instant(db: Db) {
    let Some(srv) = server(db, 3) else { return };
    let admin = srv.admin_token();
    let p = wait_pool(&srv, &admin, 3);
    assert_eq!(p["target_size"], 3, "{p}");
    assert_eq!(p["copy_method"], "flashcopy", "{p}");
    let pooled = list_all(&srv, &admin, "&state=pooled");
    assert_eq!(pooled.len(), 3, "{pooled:?}");
    for g in &pooled {
        check_guest_shape(g);
        assert!(g["owner"].is_null(), "{g}");
        assert!(g["assigned_at"].is_null(), "{g}");
    }

    let alice = login(&srv, "alice");
    let started = Instant::now();
    let reply = request(&srv, &alice, &json!({}));
    let took = started.elapsed();
    let g = reply.ok(201);
    println!("assignment from the pool took {took:?} ({db:?})");
    assert!(
        took < Duration::from_millis(1000),
        "assignment from the pool took {took:?}"
    );
    check_assigned(&g, "alice", srv.now_ms());
    assert_eq!(g["state"], "starting", "{g}");
    let name = name_of(&g);
    assert!(
        names(&pooled).contains(&name),
        "{name} was not one of the pooled guests {:?}",
        names(&pooled)
    );
    assert_eq!(guest(&srv, &alice, &name)["owner"], "alice");

    // the keeper refills the pool with a new guest
    wait_pool(&srv, &admin, 3);
    let all = list_all(&srv, &admin, "");
    assert_eq!(all.len(), 4, "{all:?}");

    // a body is optional
    let second = srv.send(srv.request(Method::POST, "/api/v1/guests", Some(&alice)));
    let g2 = match second.status {
        201 => second.ok(201),
        _ => second.ok(202)["guest"].clone(),
    };
    assert!(!g2.is_null(), "{}", second.body);

    // the assigned guest boots
    let running = wait_running(&srv, &alice, &name);
    assert_eq!(running["owner"], "alice");
}

// ---------------------------------------------------------------------------
// 2. quota
// ---------------------------------------------------------------------------

fn student_quota_and_placing_for_others(db: Db) {
    let Some(srv) = server(db, 3) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 3);
    let alice = login(&srv, "alice");
    let bob = login(&srv, "bob");
    let dave = login(&srv, "dave");

    let first = take(&srv, &alice, &json!({}));
    take(&srv, &alice, &json!({ "owner": "alice" }));
    let me = srv.me(&alice).ok(200);
    assert_eq!(me["quota"]["max_guests"], 2, "{me}");
    assert_eq!(me["quota"]["used"], 2, "{me}");
    let p = request(&srv, &alice, &json!({})).problem(409);
    println!("over quota: {p}");
    assert_eq!(list_all(&srv, &alice, "").len(), 2);

    // a student may not name another owner, existing or not
    request(&srv, &dave, &json!({ "owner": "alice" })).problem(403);
    request(&srv, &dave, &json!({ "owner": "nobody" })).problem(403);
    // staff and admin name owners who have logged in once
    request(&srv, &bob, &json!({ "owner": "nobody" })).problem(404);
    request(&srv, &bob, &json!({ "owner": "s01" })).problem(404);
    // placing for others ignores the student's quota
    wait_pool(&srv, &admin, 3);
    let placed = take(&srv, &bob, &json!({ "owner": "alice" }));
    check_assigned(&placed, "alice", srv.now_ms());
    let placed2 = take(&srv, &admin, &json!({ "owner": "alice" }));
    assert_eq!(placed2["owner"], "alice");
    assert_eq!(list_all(&srv, &alice, "").len(), 4);
    // … but her own requests still count them
    request(&srv, &alice, &json!({})).problem(409);

    // decommissioning frees quota: with one guest left, she may ask again
    for g in [&first, &placed, &placed2] {
        let job = srv
            .delete(&format!("/api/v1/guests/{}", name_of(g)), Some(&alice))
            .ok(202);
        assert_eq!(job["kind"], "decommission", "{job}");
        assert_eq!(job["target"], g["name"], "{job}");
        wait_job(&srv, &alice, &job["id"]);
    }
    assert_eq!(srv.me(&alice).ok(200)["quota"]["used"], 1);
    wait_pool(&srv, &admin, 3);
    let third = take(&srv, &alice, &json!({}));
    check_assigned(&third, "alice", srv.now_ms());
    request(&srv, &alice, &json!({})).problem(409);
}

/// The quota holds when one student sends several requests at once, from
/// the pool and when the pool is empty (cloning).
fn quota_holds_under_concurrent_requests(db: Db) {
    let Some(srv) = server(db, 4) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 4);
    set_pool(&srv, &admin, 0, "flashcopy");

    for (user, pool_empty) in [("s01", false), ("s02", true)] {
        if pool_empty {
            // take the rest of the pool away
            for _ in 0..2 {
                take(&srv, &admin, &json!({}));
            }
            assert_eq!(pool(&srv, &admin)["available"], 0);
        }
        let token = login(&srv, user);
        let barrier = Barrier::new(5);
        let statuses: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..5)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        request(&srv, &token, &json!({})).status
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let granted = statuses.iter().filter(|s| matches!(s, 201 | 202)).count();
        let refused = statuses.iter().filter(|s| **s == 409).count();
        assert_eq!(
            (granted, refused),
            (2, 3),
            "{user} (pool empty: {pool_empty}) sent 5 requests at once with a quota of 2: \
             statuses {statuses:?}"
        );
        assert_eq!(
            list_all(&srv, &token, "").len(),
            2,
            "{user} holds more than the quota"
        );
    }
}

// ---------------------------------------------------------------------------
// 3. other users' guests
// ---------------------------------------------------------------------------

fn other_users_guests(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 2);
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let bob = login(&srv, "bob");
    let carol = login(&srv, "carol");
    let g = take(&srv, &alice, &json!({}));
    let name = name_of(&g);
    let path = format!("/api/v1/guests/{name}");
    let tags = format!("{path}/tags");
    let patch = json!({ "description": "mine", "auto_boot": false });

    // another student: as if it did not exist
    let missing = srv.get("/api/v1/guests/LX999999", Some(&dave)).problem(404);
    let p = srv.get(&path, Some(&dave)).problem(404);
    assert_eq!(p["title"], missing["title"], "{p} vs {missing}");
    assert!(
        !p["detail"].as_str().unwrap_or("").contains("alice"),
        "the 404 gives the owner away: {p}"
    );
    srv.patch_json(&path, Some(&dave), &patch).problem(404);
    srv.delete(&path, Some(&dave)).problem(404);
    srv.get(&tags, Some(&dave)).problem(404);
    assert!(list_all(&srv, &dave, "").is_empty());
    // a student's owner filter does not reach others
    assert!(list_all(&srv, &dave, "&owner=alice").is_empty());
    // lower case names are the same guest
    srv.get(&path.to_ascii_lowercase(), Some(&dave))
        .problem(404);

    // staff see, but do not change
    assert_eq!(guest(&srv, &bob, &name)["owner"], "alice");
    assert_eq!(
        names(&list_all(&srv, &bob, "&owner=alice")),
        vec![name.clone()]
    );
    srv.patch_json(&path, Some(&bob), &patch).problem(403);
    srv.delete(&path, Some(&bob)).problem(403);
    srv.get(&tags, Some(&bob)).problem(403);

    // the owner
    let changed = srv.patch_json(&path, Some(&alice), &patch).ok(200);
    assert_eq!(changed["description"], "mine", "{changed}");
    assert_eq!(changed["auto_boot"], false, "{changed}");
    assert_eq!(guest(&srv, &alice, &name)["description"], "mine");
    let t = srv.get(&tags, Some(&alice)).ok(200);
    assert_eq!(t["HOSTNAME"], g["hostname"], "{t}");
    assert_eq!(t["IPADDR"], g["ip_address"], "{t}");
    assert_eq!(t["PREFIX"], "22", "{t}");
    assert_eq!(t["GATEWAY"], "10.10.0.1", "{t}");
    assert!(t["DNS"].is_string(), "{t}");
    assert_eq!(t["LAN"], "LNXLAN1", "{t}");
    assert_eq!(t["OWNER"], "alice", "{t}");
    srv.patch_json(
        &path,
        Some(&alice),
        &json!({ "description": "x".repeat(501) }),
    )
    .problem(422);
    srv.patch_json(&path, Some(&alice), &json!({ "owner": "dave" }))
        .problem(422);
    assert_eq!(guest(&srv, &alice, &name)["owner"], "alice");

    // admins (LDAP and local) may do everything
    for token in [&carol, &admin] {
        assert_eq!(guest(&srv, token, &name)["owner"], "alice");
        srv.get(&tags, Some(token)).ok(200);
    }
    let changed = srv
        .patch_json(&path, Some(&carol), &json!({ "description": "by carol" }))
        .ok(200);
    assert_eq!(changed["description"], "by carol");
    assert_eq!(
        changed["auto_boot"], false,
        "untouched field changed: {changed}"
    );
    let job = srv.delete(&path, Some(&carol)).ok(202);
    // the admin's job is the admin's; alice does not see it
    srv.get(&format!("/api/v1/jobs/{}", job["id"]), Some(&alice))
        .problem(404);
    wait_job(&srv, &carol, &job["id"]);
    assert_eq!(guest(&srv, &alice, &name)["state"], "decommissioned");
}

// ---------------------------------------------------------------------------
// 4. empty pool
// ---------------------------------------------------------------------------

fn empty_pool_clones_a_guest(db: Db) {
    let Some(srv) = server(db, 0) else { return };
    let admin = srv.admin_token();
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let bob = login(&srv, "bob");
    assert_eq!(pool(&srv, &admin)["available"], 0);

    let started = request(&srv, &alice, &json!({})).ok(202);
    let name = started["guest"].as_str().expect("guest name").to_string();
    let job = &started["job"];
    assert_eq!(job["kind"], "provision", "{started}");
    assert_eq!(job["target"], name, "{started}");
    assert!(
        matches!(
            job["status"].as_str(),
            Some("queued" | "running" | "succeeded")
        ),
        "{started}"
    );
    assert_eq!(job["progress"]["total"], 1, "{started}");
    parse_rfc3339_utc(job["created_at"].as_str().expect("created_at"));

    let g = guest(&srv, &alice, &name);
    assert_eq!(g["owner"], "alice", "{g}");
    assert!(
        matches!(
            g["state"].as_str(),
            Some("provisioning" | "starting" | "running")
        ),
        "{g}"
    );
    check_guest_shape(&g);

    // the job: requester and admin, nobody else
    let job_path = format!("/api/v1/jobs/{}", job["id"]);
    srv.get(&job_path, Some(&dave)).problem(404);
    srv.get(&job_path, Some(&bob)).problem(404);
    srv.get(&job_path, Some(&admin)).ok(200);
    srv.get("/api/v1/jobs/999999", Some(&admin)).problem(404);
    let own = srv.get("/api/v1/jobs", Some(&alice)).ok(200);
    assert!(
        own["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["id"] == job["id"]),
        "{own}"
    );
    assert!(srv.get("/api/v1/jobs", Some(&dave)).ok(200)["items"]
        .as_array()
        .unwrap()
        .is_empty());

    let done = wait_job(&srv, &alice, &job["id"]);
    assert_eq!(done["progress"]["done"], 1, "{done}");
    assert!(done["started_at"].is_string(), "{done}");
    let g = guest(&srv, &alice, &name);
    check_assigned(&g, "alice", srv.now_ms());
    wait_running(&srv, &alice, &name);

    // the pool stays empty: the clone was alice's
    let p = pool(&srv, &admin);
    assert_eq!(
        (p["available"].clone(), p["provisioning"].clone()),
        (json!(0), json!(0)),
        "{p}"
    );
    // the hypervisor has the guest, booted
    let zvm = srv.zvm_state();
    assert!(zvm["users"].get(&name).is_some(), "{name} missing in {zvm}");
}

// ---------------------------------------------------------------------------
// 5. listing
// ---------------------------------------------------------------------------

fn pagination_and_filters(db: Db) {
    let Some(srv) = server(db, 7) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 7);
    set_pool(&srv, &admin, 0, "flashcopy");
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let a1 = name_of(&take(&srv, &alice, &json!({})));
    let a2 = name_of(&take(&srv, &alice, &json!({})));
    let d1 = name_of(&take(&srv, &admin, &json!({ "owner": "dave" })));

    let mut pages = Vec::new();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/guests?limit=3&cursor={c}"),
            None => "/api/v1/guests?limit=3".to_string(),
        };
        let page = srv.get(&path, Some(&admin)).ok(200);
        let items = page["items"].as_array().unwrap().clone();
        pages.push(items.len());
        seen.extend(names(&items));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages.len() < 10, "pagination does not end: {pages:?}");
    }
    assert_eq!(pages, vec![3, 3, 1], "page sizes");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        seen, sorted,
        "not in name order, or a guest twice: {seen:?}"
    );
    assert_eq!(seen.len(), 7);
    for n in [&a1, &a2, &d1] {
        assert!(seen.contains(n), "{n} missing from {seen:?}");
    }

    // filters
    let mine = list_all(&srv, &admin, "&owner=alice");
    assert_eq!(names(&mine), {
        let mut v = vec![a1.clone(), a2.clone()];
        v.sort();
        v
    });
    assert!(mine.iter().all(|g| g["owner"] == "alice"));
    let pooled = list_all(&srv, &admin, "&state=pooled");
    assert_eq!(pooled.len(), 4, "{pooled:?}");
    assert!(pooled
        .iter()
        .all(|g| g["owner"].is_null() && g["state"] == "pooled"));
    assert!(list_all(&srv, &admin, "&owner=alice&state=pooled").is_empty());
    assert!(list_all(&srv, &admin, "&owner=nobody").is_empty());
    assert_eq!(names(&list_all(&srv, &dave, "")), vec![d1.clone()]);
    assert_eq!(
        names(&list_all(&srv, &dave, "&owner=alice")),
        vec![d1.clone()]
    );
    let bob = login(&srv, "bob");
    assert_eq!(list_all(&srv, &bob, "").len(), 7, "staff see all guests");

    // bad parameters
    for q in [
        "limit=0",
        "limit=501",
        "limit=-1",
        "limit=abc",
        "cursor=%25%25%25",
        "state=bogus",
    ] {
        srv.get(&format!("/api/v1/guests?{q}"), Some(&admin))
            .problem(422);
    }
    srv.get("/api/v1/guests?limit=500", Some(&admin)).ok(200);
    srv.get("/api/v1/jobs?limit=0", Some(&admin)).problem(422);
    srv.get("/api/v1/jobs?cursor=xyz", Some(&admin))
        .problem(422);

    // decommissioned guests are left out unless asked for
    let job = srv
        .delete(&format!("/api/v1/guests/{d1}"), Some(&dave))
        .ok(202);
    wait_job(&srv, &dave, &job["id"]);
    srv.delete(&format!("/api/v1/guests/{d1}"), Some(&dave))
        .problem(409);
    assert!(list_all(&srv, &dave, "").is_empty());
    assert!(!names(&list_all(&srv, &admin, "")).contains(&d1));
    assert_eq!(
        names(&list_all(&srv, &dave, "&state=decommissioned")),
        vec![d1.clone()]
    );

    // jobs: newest first, a page at a time, each once
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/jobs?limit=2&cursor={c}"),
            None => "/api/v1/jobs?limit=2".to_string(),
        };
        let page = srv.get(&path, Some(&admin)).ok(200);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        ids.extend(items.iter().map(|j| j["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(ids.len() < 100);
    }
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "jobs not newest first: {ids:?}"
    );
    // 7 pool clones and one decommission
    assert!(ids.len() >= 8, "{ids:?}");
    let own: Vec<Value> = srv.get("/api/v1/jobs", Some(&dave)).ok(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["id"], job["id"]);
}

// ---------------------------------------------------------------------------
// 6. addresses
// ---------------------------------------------------------------------------

fn addresses_are_unique_and_reused(db: Db) {
    let Some(srv) = server(db, 5) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 5);
    set_pool(&srv, &admin, 0, "flashcopy");
    let alice = login(&srv, "alice");
    let all = list_all(&srv, &admin, "");
    let ips: BTreeSet<String> = all
        .iter()
        .map(|g| {
            g["ip_address"]
                .as_str()
                .expect("pooled guest has an address")
                .to_string()
        })
        .collect();
    assert_eq!(ips.len(), 5, "addresses given twice: {all:?}");
    all.iter().for_each(check_guest_shape);
    assert_eq!(lan_used(&srv, &alice), 5);

    let g = take(&srv, &alice, &json!({}));
    let name = name_of(&g);
    let ip = g["ip_address"].as_str().unwrap().to_string();
    assert_eq!(lan_used(&srv, &alice), 5, "assignment keeps the address");
    assert!(srv.zvm_state()["users"].get(&name).is_some());

    let job = srv
        .delete(&format!("/api/v1/guests/{name}"), Some(&alice))
        .ok(202);
    assert_eq!(job["kind"], "decommission", "{job}");
    // while it runs, or after, a second DELETE is a conflict
    srv.delete(&format!("/api/v1/guests/{name}"), Some(&alice))
        .problem(409);
    wait_job(&srv, &alice, &job["id"]);
    let gone = guest(&srv, &alice, &name);
    assert_eq!(gone["state"], "decommissioned", "{gone}");
    assert!(gone["ip_address"].is_null(), "{gone}");
    assert_eq!(
        lan_used(&srv, &alice),
        4,
        "decommission releases the address"
    );
    srv.delete(&format!("/api/v1/guests/{name}"), Some(&alice))
        .problem(409);
    // gone from the hypervisor: directory entry and disks
    let zvm = srv.zvm_state();
    assert!(
        zvm["users"].get(&name).is_none(),
        "{name} still in {}",
        zvm["users"]
    );
    let prefix = format!("{name}.");
    assert!(
        !zvm["disks"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with(&prefix)),
        "{name} still has disks: {:?}",
        zvm["disks"].as_object().unwrap().keys().collect::<Vec<_>>()
    );

    // the next guest gets the freed address
    set_pool(&srv, &admin, 5, "flashcopy");
    wait_pool(&srv, &admin, 5);
    let after = list_all(&srv, &admin, "");
    assert_eq!(after.len(), 5);
    let new_ips: Vec<&str> = after
        .iter()
        .map(|g| g["ip_address"].as_str().expect("address"))
        .collect();
    assert_eq!(
        new_ips.iter().collect::<BTreeSet<_>>().len(),
        5,
        "addresses given twice: {new_ips:?}"
    );
    let newest = after.iter().max_by_key(|g| name_of(g)).unwrap();
    assert_eq!(
        newest["ip_address"], ip,
        "freed address not reused: {after:?}"
    );
    assert_eq!(lan_used(&srv, &alice), 5);
}

/// `POST /api/v1/pool/repopulate` right after raising the target: the
/// refill and the keeper together clone up to the target, not beyond, and
/// the job follows its clones.
fn repopulate_refills_to_the_target(db: Db) {
    let Some(srv) = server(db, 0) else { return };
    let admin = srv.admin_token();
    set_pool(&srv, &admin, 4, "flashcopy");
    let job = srv
        .post_json("/api/v1/pool/repopulate", Some(&admin), &json!({}))
        .ok(202);
    assert_eq!(job["kind"], "pool_repopulate", "{job}");
    let done = wait_job(&srv, &admin, &job["id"]);
    println!("repopulate job: {done}");
    let p = wait_pool_idle(&srv, &admin);
    let all = list_all(&srv, &admin, "");
    assert_eq!(
        (p["available"].as_u64(), all.len()),
        (Some(4), 4),
        "pool target 4 but {p}; guests {:?}",
        names(&all)
    );
    assert!(
        done["started_at"].is_string(),
        "a finished job without started_at: {done}"
    );
}

/// A malformed body is refused, not replaced by the defaults.
fn request_body_is_validated(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 2);
    let alice = login(&srv, "alice");
    let bob = login(&srv, "bob");
    request(&srv, &alice, &json!({ "image": "nope" })).problem(404);
    request(&srv, &alice, &json!({ "lan": "NOLAN" })).problem(404);
    for body in [
        json!({ "lan": 7 }),
        json!({ "bogus": true }),
        json!({ "owner": ["alice"] }),
        json!("alice"),
    ] {
        let r = request(&srv, &alice, &body);
        assert_eq!(
            r.status, 422,
            "POST /api/v1/guests {body} should be 422, got {} {}",
            r.status, r.body
        );
        r.problem(422);
    }
    // not even for staff placing for someone with a misspelt field
    request(&srv, &bob, &json!({ "ownr": "alice" })).problem(422);
    assert!(
        list_all(&srv, &admin, "&state=starting").is_empty(),
        "a refused request assigned a guest"
    );
}

// ---------------------------------------------------------------------------
// 7. concurrent assignment
// ---------------------------------------------------------------------------

const TEN_USERS: [&str; 10] = [
    "alice", "dave", "s01", "s02", "s03", "s04", "s05", "bob", "carol", "admin",
];

/// Sends one `POST /api/v1/guests` per token at once, token `i` to
/// `servers[i % servers.len()]`; answers (user, status, guest name).
fn race(servers: &[&TestServer], tokens: &[(String, String)]) -> Vec<(String, u16, String)> {
    let barrier = Barrier::new(tokens.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(i, (user, token))| {
                let srv = servers[i % servers.len()];
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let r = request(srv, token, &json!({}));
                    let name = match r.status {
                        201 => name_of(&r.ok(201)),
                        202 => r.ok(202)["guest"].as_str().unwrap_or_default().to_string(),
                        _ => String::new(),
                    };
                    if name.is_empty() {
                        eprintln!("{user}: {} {}", r.status, r.body);
                    }
                    (user.clone(), r.status, name)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// After a race of `tokens.len()` requests against a pool of `pooled`:
/// exactly `pooled` assignments, distinct names, one owner per guest.
fn check_race(srv: &TestServer, admin: &str, results: &[(String, u16, String)], pooled: usize) {
    let created = results.iter().filter(|r| r.1 == 201).count();
    let accepted = results.iter().filter(|r| r.1 == 202).count();
    assert_eq!(
        (created, accepted),
        (pooled, results.len() - pooled),
        "expected {pooled} × 201 and the rest 202: {results:?}"
    );
    let distinct: BTreeSet<&String> = results.iter().map(|r| &r.2).collect();
    assert_eq!(
        distinct.len(),
        results.len(),
        "a guest given twice: {results:?}"
    );

    // every clone finishes
    let jobs = srv.get("/api/v1/jobs?limit=500", Some(admin)).ok(200);
    for j in jobs["items"].as_array().unwrap() {
        if j["kind"] == "provision" {
            wait_job(srv, admin, &j["id"]);
        }
    }
    let all = list_all(srv, admin, "");
    assert_eq!(all.len(), results.len(), "{all:?}");
    let mut by_owner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in &all {
        check_guest_shape(g);
        by_owner
            .entry(g["owner"].as_str().unwrap_or("<none>").to_string())
            .or_default()
            .push(name_of(g));
    }
    for (user, _, name) in results {
        assert_eq!(
            by_owner.get(user),
            Some(&vec![name.clone()]),
            "{user} should own exactly {name}: {by_owner:?}"
        );
    }
    let ips: BTreeSet<&str> = all
        .iter()
        .map(|g| g["ip_address"].as_str().unwrap())
        .collect();
    assert_eq!(ips.len(), all.len(), "an address given twice: {all:?}");
}

fn concurrent_assignment_never_gives_a_guest_twice(db: Db) {
    let Some(srv) = server(db, 6) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 6);
    // no refill during the race: exactly 6 can come from the pool
    set_pool(&srv, &admin, 0, "flashcopy");
    let tokens: Vec<(String, String)> = TEN_USERS
        .iter()
        .map(|u| (u.to_string(), login(&srv, u)))
        .collect();
    let results = race(&[&srv], &tokens);
    check_race(&srv, &admin, &results, 6);
}

// ---------------------------------------------------------------------------
// 8. two replicas on one database
// ---------------------------------------------------------------------------

#[test]
fn two_replicas_never_give_a_guest_twice() {
    let Some(a) = server(Db::Postgres, 4) else {
        return;
    };
    let Some(b) = TestServer::builder(Db::Postgres)
        .sharing(&a)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", "4")
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
    else {
        return;
    };
    let admin = a.admin_token();
    // both keepers top up the same pool: it should fill to the target, not
    // beyond (checked at the end, so that the race below runs either way)
    let filled = a.wait_for("the pool to fill", SETTLE, || {
        let p = pool(&a, &admin);
        (p["available"].as_u64() >= Some(4) && p["provisioning"] == 0).then_some(p)
    });
    let pooled = list_all(&b, &admin, "");
    assert_eq!(
        filled["available"].as_u64(),
        Some(pooled.len() as u64),
        "{filled} {pooled:?}"
    );
    set_pool(&b, &admin, 0, "flashcopy");

    let tokens: Vec<(String, String)> = TEN_USERS
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let srv = if i % 2 == 0 { &a } else { &b };
            (u.to_string(), login(srv, u))
        })
        .collect();
    let results = race(&[&a, &b], &tokens);
    check_race(&a, &admin, &results, pooled.len());

    // each guest made once on the shared hypervisor
    let zvm = a.zvm_state();
    let users: BTreeSet<&String> = zvm["users"].as_object().unwrap().keys().collect();
    let made: BTreeSet<&String> = results.iter().map(|r| &r.2).collect();
    assert_eq!(users, made, "hypervisor directory differs from the guests");
    for (_, _, name) in &results {
        wait_running(&b, &admin, name);
    }
    assert_eq!(
        pooled.len(),
        4,
        "two keepers overfilled a pool of target 4: {:?}",
        names(&pooled)
    );
    drop(b);
}

// ---------------------------------------------------------------------------
// 9. crash and resume
// ---------------------------------------------------------------------------

fn killed_server_resumes_its_clones(db: Db) {
    let Some(mut srv) = TestServer::builder(db)
        .env("HERD_POOL_TARGET_SIZE", "0")
        .env("HERD_PROVISION_CONCURRENCY", "1")
        .env("HERD_IMAGE_SIZE_MB", "64")
        .start()
    else {
        return;
    };
    let admin = srv.admin_token();
    set_pool(&srv, &admin, 8, "ddr");
    // kill after the first clone is done, while others are queued or
    // being copied
    let deadline = Instant::now() + SETTLE;
    let at_kill = loop {
        let p = pool(&srv, &admin);
        if p["available"].as_u64() >= Some(1) && p["provisioning"].as_u64() >= Some(1) {
            break p;
        }
        assert!(
            p["available"].as_u64() < Some(8) && Instant::now() < deadline,
            "no moment with clones both done and pending: {p}"
        );
    };
    srv.kill();
    println!("killed with the pool at {at_kill}");

    srv.restart();
    let admin = srv.admin_token();
    let p = pool(&srv, &admin);
    println!("after restart: {p}");
    assert_eq!(p["target_size"], 8, "{p}");
    assert_eq!(p["copy_method"], "ddr", "{p}");
    // the dead worker's claims are taken over once they are stale
    srv.advance_clock(Duration::from_secs(61));
    wait_pool(&srv, &admin, 8);

    let all = list_all(&srv, &admin, "");
    assert_eq!(all.len(), 8, "{all:?}");
    let names: BTreeSet<String> = all.iter().map(name_of).collect();
    assert_eq!(names.len(), 8, "{all:?}");
    let ips: BTreeSet<&str> = all
        .iter()
        .map(|g| g["ip_address"].as_str().unwrap())
        .collect();
    assert_eq!(ips.len(), 8, "an address given twice: {all:?}");
    all.iter().for_each(check_guest_shape);

    // the hypervisor: exactly these guests, one root disk each, no orphans
    srv.assert_hypervisor_holds(&names);

    // no job is left running
    let jobs = srv.wait_for("every job to finish", SETTLE, || {
        let jobs = srv.get("/api/v1/jobs?limit=500", Some(&admin)).ok(200);
        let unfinished = jobs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| matches!(j["status"].as_str(), Some("queued" | "running")))
            .count();
        (unfinished == 0).then_some(jobs)
    });
    let items = jobs["items"].as_array().unwrap();
    let provisions = items.iter().filter(|j| j["kind"] == "provision").count();
    assert_eq!(provisions, 8, "clones queued twice: {items:?}");
    assert!(
        items.iter().all(|j| j["status"] == "succeeded"),
        "{items:?}"
    );
}

// ---------------------------------------------------------------------------
// 10. authorization
// ---------------------------------------------------------------------------

fn authorization_matrix(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = srv.admin_token();
    wait_pool(&srv, &admin, 2);
    let alice = login(&srv, "alice");
    let bob = login(&srv, "bob");
    let carol = login(&srv, "carol");
    let g = take(&srv, &alice, &json!({}));
    let name = name_of(&g);
    let job = srv.get("/api/v1/jobs?limit=1", Some(&admin)).ok(200)["items"][0]["id"].clone();
    let pool_body = json!({ "target_size": 2, "copy_method": "flashcopy" });

    // no token, or a bad one: 401 everywhere
    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/pool".into(), None),
        (Method::PUT, "/api/v1/pool".into(), Some(pool_body.clone())),
        (Method::POST, "/api/v1/pool/repopulate".into(), None),
        (Method::GET, "/api/v1/guests".into(), None),
        (Method::POST, "/api/v1/guests".into(), Some(json!({}))),
        (Method::GET, format!("/api/v1/guests/{name}"), None),
        (
            Method::PATCH,
            format!("/api/v1/guests/{name}"),
            Some(json!({ "description": "x" })),
        ),
        (Method::DELETE, format!("/api/v1/guests/{name}"), None),
        (Method::GET, format!("/api/v1/guests/{name}/tags"), None),
        (Method::GET, "/api/v1/jobs".into(), None),
        (Method::GET, format!("/api/v1/jobs/{job}"), None),
        (Method::GET, "/api/v1/lans".into(), None),
    ];
    for (method, path, body) in &endpoints {
        for token in [None, Some("not-a-token")] {
            let mut rb = srv.request(method.clone(), path, token);
            if let Some(b) = body {
                rb = rb.json(b);
            }
            srv.send(rb).unauthorized();
        }
    }

    // pool: admins only
    for token in [&alice, &bob] {
        srv.get("/api/v1/pool", Some(token)).problem(403);
        srv.put_json("/api/v1/pool", Some(token), &pool_body)
            .problem(403);
        srv.post_json("/api/v1/pool/repopulate", Some(token), &json!({}))
            .problem(403);
    }
    for token in [&carol, &admin] {
        pool(&srv, token);
    }
    srv.put_json(
        "/api/v1/pool",
        Some(&admin),
        &json!({ "target_size": 10001, "copy_method": "flashcopy" }),
    )
    .problem(422);
    srv.put_json(
        "/api/v1/pool",
        Some(&admin),
        &json!({ "target_size": 2, "copy_method": "rsync" }),
    )
    .problem(422);
    srv.put_json(
        "/api/v1/pool",
        Some(&admin),
        &json!({ "target_size": -1, "copy_method": "ddr" }),
    )
    .problem(422);
    let p = wait_pool(&srv, &admin, 2);
    assert_eq!(p["target_size"], 2, "a refused PUT changed the pool: {p}");
    set_pool(&srv, &carol, 2, "flashcopy");
    // a full pool: nothing to clone, the job ends at once
    let rep = srv
        .post_json("/api/v1/pool/repopulate", Some(&carol), &json!({}))
        .ok(202);
    assert_eq!(rep["kind"], "pool_repopulate", "{rep}");
    assert_eq!(rep["target"], "pool", "{rep}");
    let rep = wait_job(&srv, &carol, &rep["id"]);
    assert_eq!(rep["progress"]["total"], 0, "{rep}");
    srv.get("/api/v1/guests/LX999999/tags", Some(&admin))
        .problem(404);
    srv.patch_json("/api/v1/guests/LX999999", Some(&admin), &json!({}))
        .problem(404);
    srv.delete("/api/v1/guests/LX999999", Some(&admin))
        .problem(404);

    // GET one guest: owner, staff, admin
    for token in [&alice, &bob, &carol, &admin] {
        guest(&srv, token, &name);
    }
    // tags and PATCH: owner and admin
    for token in [&alice, &carol, &admin] {
        srv.get(&format!("/api/v1/guests/{name}/tags"), Some(token))
            .ok(200);
        srv.patch_json(
            &format!("/api/v1/guests/{name}"),
            Some(token),
            &json!({ "auto_boot": true }),
        )
        .ok(200);
    }
    srv.get(&format!("/api/v1/guests/{name}/tags"), Some(&bob))
        .problem(403);
    // jobs: own, or admin
    srv.get(&format!("/api/v1/jobs/{job}"), Some(&alice))
        .problem(404);
    srv.get(&format!("/api/v1/jobs/{job}"), Some(&bob))
        .problem(404);
    srv.get(&format!("/api/v1/jobs/{job}"), Some(&carol))
        .ok(200);
    for token in [&alice, &bob, &carol, &admin] {
        srv.get("/api/v1/jobs", Some(token)).ok(200);
        let lans = srv.get("/api/v1/lans", Some(token)).ok(200);
        assert!(
            lans["items"].as_array().is_some_and(|l| !l.is_empty()),
            "{lans}"
        );
    }
    // DELETE: owner and admin; staff 403 (other_users_guests covers 404)
    srv.delete(&format!("/api/v1/guests/{name}"), Some(&bob))
        .problem(403);
    let del = srv
        .delete(&format!("/api/v1/guests/{name}"), Some(&alice))
        .ok(202);
    let mine = srv
        .get(&format!("/api/v1/jobs/{}", del["id"]), Some(&alice))
        .ok(200);
    assert_eq!(mine["kind"], "decommission");
    srv.get(&format!("/api/v1/jobs/{}", del["id"]), Some(&admin))
        .ok(200);
    wait_job(&srv, &alice, &del["id"]);
    let g2 = take(&srv, &bob, &json!({ "owner": "alice" }));
    srv.delete(&format!("/api/v1/guests/{}", name_of(&g2)), Some(&admin))
        .ok(202);
}
