//! Background tasks (SPEC §10): each runs on its own, so a pool keeper that
//! cannot fill its pool (a LAN with every address taken) stops nothing
//! else, and operators see why in `GET /api/v1/system/tasks` and
//! `/readyz`. Pool bounds: a target beyond what the LANs hold is `422`.

use std::time::Duration;

use herd_tests::{db_tests, json, Db, Fault, Layout, TestServer, Value};

db_tests!(
    a_full_lan_stops_only_the_pool_keeper,
    a_pool_target_beyond_the_lans_is_refused_with_the_numbers,
    tasks_are_for_admins,
    a_dry_run_sees_the_disk_space_the_privileged_side_published,
);

/// Wall time a background step (pool fill, boot, halt) may take.
const SETTLE: Duration = Duration::from_secs(30);

/// A LAN of 6 host addresses, one of them the gateway: room for 5 guests.
fn small_lan(db: Db, pool: u32) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_LAN_CIDR", "10.77.0.0/29")
        .env("HERD_POOL_TARGET_SIZE", pool.to_string())
        .env("HERD_MONITOR_UNRESPONSIVE_SECONDS", "60")
        .start()
}

fn tasks(srv: &TestServer, admin: &str) -> Vec<Value> {
    let page = srv.get("/api/v1/system/tasks", Some(admin)).ok(200);
    page["items"].as_array().expect("items").clone()
}

fn task(srv: &TestServer, admin: &str, name: &str) -> Option<Value> {
    tasks(srv, admin).into_iter().find(|t| t["name"] == name)
}

fn pool(srv: &TestServer, admin: &str) -> Value {
    srv.get("/api/v1/pool", Some(admin)).ok(200)
}

fn state_of(srv: &TestServer, token: &str, name: &str) -> String {
    let g = srv
        .get(&format!("/api/v1/guests/{name}"), Some(token))
        .ok(200);
    g["state"].as_str().expect("state").to_string()
}

/// A pooled guest for `owner`, who logs in first so the server knows them.
fn assign(srv: &TestServer, admin: &str, owner: &str) -> String {
    srv.login(owner, &format!("{owner}-pw"));
    let g = srv
        .post_json("/api/v1/guests", Some(admin), &json!({ "owner": owner }))
        .ok(201);
    g["name"].as_str().expect("name").to_string()
}

/// Moves the clock on in steps until `probe` answers.
fn with_clock<T>(srv: &TestServer, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let mut step = srv.clock_stepper(Duration::from_secs(5));
    srv.wait_for(what, SETTLE, || {
        step();
        probe()
    })
}

fn a_full_lan_stops_only_the_pool_keeper(db: Db) {
    let Some(srv) = small_lan(db, 5) else { return };
    let admin = srv.admin_token();
    srv.wait_for("the pool to fill the LAN", SETTLE, || {
        (pool(&srv, &admin)["available"] == 5).then_some(())
    });
    let lan = &srv.get("/api/v1/lans", Some(&admin)).ok(200)["items"][0];
    assert_eq!(
        (lan["capacity"].as_i64(), lan["used"].as_i64()),
        (Some(5), Some(5)),
        "{lan}"
    );

    // Two guests leave the pool: the keeper cannot replace them.
    let kept = assign(&srv, &admin, "alice");
    let gone = assign(&srv, &admin, "bob");
    let keeper = srv.wait_for("the keeper to report the shortfall", SETTLE, || {
        task(&srv, &admin, "pool_keeper").filter(|t| t["failing"] == true)
    });
    let why = keeper["last_error"].as_str().expect("last_error");
    assert!(
        why.contains("short of its target by 2") && why.contains("no free address"),
        "{keeper}"
    );
    assert!(keeper["last_error_at"].is_string(), "{keeper}");
    assert!(keeper["failures"].as_i64() >= Some(1), "{keeper}");

    // /readyz stays ready and names the failing task.
    let ready = srv.get("/readyz", None).ok(200);
    assert_eq!(ready["status"], "ready");
    let failing = ready["failing_tasks"].as_array().expect("failing_tasks");
    assert!(
        failing
            .iter()
            .any(|t| t["name"] == "pool_keeper" && t["last_error"].as_str() == Some(why)),
        "{ready}"
    );

    // Meanwhile everything else goes on: the assigned guests boot ...
    with_clock(&srv, "the assigned guests to run", || {
        [&kept, &gone]
            .iter()
            .all(|g| state_of(&srv, &admin, g) == "running")
            .then_some(())
    });
    // ... the monitor still heals a hung guest ...
    srv.inject_fault(Fault::Hang {
        guest: kept.parse().expect("guest name"),
        after: Duration::ZERO,
    });
    with_clock(&srv, "the monitor to HALT the hung guest", || {
        let page = srv
            .get(
                &format!("/api/v1/events?guest={kept}&limit=100"),
                Some(&admin),
            )
            .ok(200);
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["action"] == "monitor.halt")
            .then_some(())
    });
    // ... and a decommission finishes, its address going back to the pool,
    // which the keeper fills as far as it can (never all or nothing).
    let job = srv
        .delete(&format!("/api/v1/guests/{gone}"), Some(&admin))
        .ok(202);
    let id = job["id"].as_i64().expect("job id");
    srv.wait_for("the decommission to finish", SETTLE, || {
        let j = srv.get(&format!("/api/v1/jobs/{id}"), Some(&admin)).ok(200);
        (j["status"] == "succeeded").then_some(())
    });
    with_clock(&srv, "the keeper to clone into the freed address", || {
        (pool(&srv, &admin)["available"] == 4).then_some(())
    });
    let keeper = srv.wait_for("the keeper's new shortfall", SETTLE, || {
        task(&srv, &admin, "pool_keeper").filter(|t| {
            t["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("short of its target by 1"))
        })
    });
    assert_eq!(keeper["failing"], true, "{keeper}");

    // Every task reports, and the others succeed.
    let all = tasks(&srv, &admin);
    for name in [
        "lease_expiry",
        "lifecycle",
        "pool_keeper",
        "job_runner",
        "repopulate_follower",
        "batch_follower",
        "staged_operations",
        "power_follower",
        "monitor",
        "host_capacity",
        "dispatcher",
        "abandoned_commands",
    ] {
        let t = all
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no task {name}: {all:?}"));
        assert!(t["runs"].as_i64() >= Some(1), "{t}");
        assert!(t["process"].as_str().is_some_and(|p| !p.is_empty()), "{t}");
        if name != "pool_keeper" {
            assert_eq!(t["failing"], false, "{t}");
            assert!(t["last_succeeded_at"].is_string(), "{t}");
        }
    }

    // Prometheus sees the same runs.
    let metrics = srv.get("/metrics", None);
    let text = &metrics.body;
    assert!(
        text.contains("herd_task_runs_total{outcome=\"failure\",task=\"pool_keeper\"}"),
        "{text}"
    );
    assert!(
        text.contains("herd_task_last_success_timestamp_seconds{task=\"monitor\"}"),
        "{text}"
    );
}

fn a_pool_target_beyond_the_lans_is_refused_with_the_numbers(db: Db) {
    let Some(srv) = small_lan(db, 2) else { return };
    let admin = srv.admin_token();
    srv.wait_for("the pool to fill", SETTLE, || {
        (pool(&srv, &admin)["available"] == 2).then_some(())
    });
    assign(&srv, &admin, "alice");
    // 5 addresses: one guest owned, so the pool holds at most 4.
    let p = srv
        .put_json(
            "/api/v1/pool",
            Some(&admin),
            &json!({ "target_size": 5, "copy_method": "flashcopy" }),
        )
        .problem(422);
    let detail = p["detail"].as_str().expect("detail");
    assert!(
        detail.contains("target_size 5") && detail.contains("at most 4"),
        "{p}"
    );
    assert_eq!(pool(&srv, &admin)["target_size"], 2, "nothing changed");
    let ok = srv
        .put_json(
            "/api/v1/pool",
            Some(&admin),
            &json!({ "target_size": 4, "copy_method": "flashcopy" }),
        )
        .ok(200);
    assert_eq!(ok["target_size"], 4);
    srv.wait_for("the pool to fill the LAN", SETTLE, || {
        (pool(&srv, &admin)["available"] == 4).then_some(())
    });
    // The LAN is full: a request that needs a new clone finds no address.
    srv.put_json(
        "/api/v1/pool",
        Some(&admin),
        &json!({ "target_size": 0, "copy_method": "flashcopy" }),
    )
    .ok(200);
    for owner in ["bob", "dave", "s01", "s02"] {
        assign(&srv, &admin, owner);
    }
    srv.login("s03", "s03-pw");
    let p = srv
        .post_json("/api/v1/guests", Some(&admin), &json!({ "owner": "s03" }))
        .problem(503);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no free address")),
        "{p}"
    );
}

fn tasks_are_for_admins(db: Db) {
    let Some(srv) = small_lan(db, 0) else { return };
    let student = srv.login("alice", "alice-pw");
    srv.get("/api/v1/system/tasks", Some(&student)).problem(403);
    srv.get("/api/v1/system/tasks", None).unauthorized();

    // Pages of 5 walk the same list as one page.
    let admin = srv.admin_token();
    let whole: Vec<Value> = tasks(&srv, &admin);
    assert!(whole.len() > 5, "{whole:?}");
    let mut walked = Vec::new();
    let mut path = "/api/v1/system/tasks?limit=5".to_string();
    loop {
        let page = srv.get(&path, Some(&admin)).ok(200);
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 5, "{page}");
        walked.extend(
            items
                .iter()
                .map(|t| (t["process"].clone(), t["name"].clone())),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/system/tasks?limit=5&cursor={c}"),
            None => break,
        }
    }
    let expected: Vec<(Value, Value)> = whole
        .iter()
        .map(|t| (t["process"].clone(), t["name"].clone()))
        .collect();
    assert_eq!(walked, expected);
    srv.get("/api/v1/system/tasks?limit=0", Some(&admin))
        .problem(422);
    srv.get("/api/v1/system/tasks?cursor=nope", Some(&admin))
        .problem(422);
}

/// The web side learns the host's free disk from the privileged side's
/// `host_capacity` task, through the database.
fn a_dry_run_sees_the_disk_space_the_privileged_side_published(db: Db) {
    let Some(srv) = small_lan(db, 0) else { return };
    let admin = srv.admin_token();
    srv.wait_for("the host capacity report", SETTLE, || {
        task(&srv, &admin, "host_capacity").filter(|t| t["last_succeeded_at"].is_string())
    });
    let plan = srv
        .post_json(
            "/api/v1/provisioning/batches",
            Some(&admin),
            &json!({ "users": ["alice"], "guests_per_user": 1, "dry_run": true }),
        )
        .ok(200);
    let capacity = &plan["capacity"];
    assert!(capacity["disk_free_bytes"].as_u64() > Some(0), "{plan}");
    assert_eq!(capacity["addresses_free"], 5, "{plan}");
}
