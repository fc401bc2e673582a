//! Shared roots, root versions and rollouts (SPEC §7, §11 `root_breaks`):
//! real `herd-server` processes on SQLite and PostgreSQL, the simulated
//! host watched from outside through its data directory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{FileClock, SharedClock};
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use herd_provisioner::backend::{DiskId, Storage};
use herd_tests::{db_tests, json, Db, Layout, Method, TestServer, Value};

db_tests!(
    images_show_roots_and_versions_publish,
    a_rollout_restarts_running_guests_and_leaves_stopped_ones_for_their_next_boot,
    a_failing_canary_stops_the_rollout,
    a_guest_is_rolled_back_while_the_others_update,
    rollbacks_past_the_budget_stop_the_rollout,
    a_rollout_cut_by_sigkill_resumes_within_bounds,
    a_cancelled_rollout_keeps_the_guests_it_did_not_restart,
    rollout_requests_are_checked,
);

const SETTLE: Duration = Duration::from_secs(60);

fn server(db: Db, pool: u32) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_IMAGE_SEGMENT_SIZE_MB", "1")
        .env("HERD_POOL_TARGET_SIZE", pool.to_string())
        .start()
}

fn login(srv: &TestServer, user: &str) -> String {
    srv.login(user, &format!("{user}-pw"))
}

fn guest(srv: &TestServer, token: &str, name: &str) -> Value {
    srv.get(&format!("/api/v1/guests/{name}"), Some(token))
        .ok(200)
}

fn job(srv: &TestServer, token: &str, id: &Value) -> Value {
    srv.get(&format!("/api/v1/jobs/{id}"), Some(token)).ok(200)
}

/// Steps the clock by `step` until `done` holds, calling `watch` at every
/// look.
fn drive<T>(
    srv: &TestServer,
    what: &str,
    step: Duration,
    mut watch: impl FnMut(),
    mut done: impl FnMut() -> Option<T>,
) -> T {
    srv.step_until(what, step, SETTLE, || {
        watch();
        done()
    })
}

/// `count` running guests of students s01…, from the pool.
fn running_guests(srv: &TestServer, admin: &str, count: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 1..=count {
        let owner = format!("s0{i}");
        login(srv, &owner);
        let name = drive(
            srv,
            "a pooled guest",
            Duration::from_secs(1),
            || {},
            || {
                let r = srv.post_json("/api/v1/guests", Some(admin), &json!({ "owner": owner }));
                (r.status == 201 || r.status == 202).then(|| {
                    let v = r.json();
                    v["name"]
                        .as_str()
                        .or(v["guest"].as_str())
                        .unwrap()
                        .to_owned()
                })
            },
        );
        names.push(name);
    }
    wait_states(srv, admin, &names, "running");
    names
}

fn wait_states(srv: &TestServer, admin: &str, names: &[String], state: &str) {
    drive(
        srv,
        &format!("{names:?} {state}"),
        Duration::from_secs(5),
        || {},
        || {
            names
                .iter()
                .all(|n| guest(srv, admin, n)["state"] == state)
                .then_some(())
        },
    );
}

/// Publishes the next version; answers its number once the job is done.
fn publish(srv: &TestServer, admin: &str, label: &str) -> u64 {
    let j = srv
        .post_json(
            "/api/v1/images/golden/versions",
            Some(admin),
            &json!({ "label": label }),
        )
        .ok(202);
    assert_eq!(j["kind"], "root_publish", "{j}");
    let done = srv.wait_for("the publication", SETTLE, || {
        let j = job(srv, admin, &j["id"]);
        matches!(j["status"].as_str(), Some("succeeded" | "failed")).then_some(j)
    });
    assert_eq!(done["status"], "succeeded", "{done}");
    done["result"]["version"]
        .as_u64()
        .expect("version in the result")
}

fn start_rollout(srv: &TestServer, admin: &str, body: Value) -> Value {
    let j = srv
        .post_json("/api/v1/images/golden/rollouts", Some(admin), &body)
        .ok(202);
    assert_eq!(j["kind"], "rollout", "{j}");
    j["id"].clone()
}

/// Asserts the root version a guest booted last and the one it boots next.
fn assert_versions(srv: &TestServer, admin: &str, name: &str, booted: Value, target: Value) {
    let g = guest(srv, admin, name);
    assert_eq!(
        (&g["root_version"], &g["target_root_version"]),
        (&booted, &target),
        "{g}"
    );
}

fn finished(srv: &TestServer, admin: &str, id: &Value) -> Option<Value> {
    let j = job(srv, admin, id);
    matches!(
        j["status"].as_str(),
        Some("succeeded" | "failed" | "cancelled")
    )
    .then_some(j)
}

fn sim(srv: &TestServer) -> SimBackend {
    let clock: SharedClock = Arc::new(FileClock::new(srv.clock_path()));
    SimBackend::attach(&srv.data_dir(), clock, SimSettings::default()).expect("attach the host")
}

/// Every byte of each guest's segment.
fn segments(srv: &TestServer, names: &[String]) -> BTreeMap<String, Vec<u8>> {
    let sim = sim(srv);
    names
        .iter()
        .map(|n| {
            let disk = DiskId::segment_of(&n.parse().unwrap());
            let size = sim.disk_info(&disk).expect("segment").size;
            let bytes = sim.read_disk(&disk, 0, size as usize).expect("read");
            (n.clone(), bytes)
        })
        .collect()
}

/// The guests among `names` the host has not running now. The saved state
/// holds the last decision (a boot with its end): settled here against the
/// clock, as the host does.
fn not_running(srv: &TestServer, names: &[String]) -> usize {
    let zvm = srv.zvm_state();
    let now = srv.now_ms();
    let running = |p: &Value| match p.get("Booting") {
        Some(b) => b["ready_at"].as_i64().is_some_and(|t| t <= now) && b["fails"] == false,
        None => p.get("Running").is_some(),
    };
    names
        .iter()
        .filter(|n| !running(&zvm["users"][n.as_str()]["power"]))
        .count()
}

fn events_of(srv: &TestServer, token: &str, guest: &str) -> Vec<String> {
    let page = srv
        .get(
            &format!("/api/v1/events?guest={guest}&limit=500"),
            Some(token),
        )
        .ok(200);
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Arms `root_breaks` the way an operator does: `herd-server sim faults
/// add`, from another process, while the server runs.
fn breaks(srv: &TestServer, version: u32, guests: Option<Vec<&str>>) {
    let mut spec = json!({"image": "golden", "version": version, "service": "apache"});
    if let Some(g) = guests {
        spec["guests"] = json!(g);
    }
    let fault = json!({ "root_breaks": spec }).to_string();
    let out = srv.run_command(&["sim", "faults", "add", &fault]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = srv.run_command(&["sim", "faults", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("root_breaks"));
}

// ---------------------------------------------------------------------------

fn images_show_roots_and_versions_publish(db: Db) {
    let Some(srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let student = login(&srv, "s01");
    let images = srv.get("/api/v1/images", Some(&student)).ok(200);
    let golden = &images["items"][0];
    assert_eq!(golden["name"], "golden", "{images}");
    assert_eq!(golden["root_version"], 1, "{golden}");
    assert_eq!(golden["latest_version"], 1, "{golden}");
    assert_eq!(golden["root_size_mb"], 4.0, "{golden}");
    assert_eq!(golden["segment_size_mb"], 1.0, "{golden}");

    let versions = srv
        .get("/api/v1/images/golden/versions", Some(&student))
        .ok(200);
    let v1 = &versions["items"][0];
    assert_eq!(v1["version"], 1, "{versions}");
    assert_eq!(v1["state"], "published", "{v1}");
    assert!(
        v1["checksum"].as_str().is_some_and(|c| c.len() == 64),
        "{v1}"
    );

    // students may look but not publish
    srv.post_json(
        "/api/v1/images/golden/versions",
        Some(&student),
        &json!({"label": "x"}),
    )
    .problem(403);
    srv.post_json(
        "/api/v1/images/nope/versions",
        Some(&admin),
        &json!({"label": "x"}),
    )
    .problem(404);
    srv.post_json(
        "/api/v1/images/golden/versions",
        Some(&admin),
        &json!({"label": " "}),
    )
    .problem(422);
    srv.get("/api/v1/images/nope/versions", Some(&student))
        .problem(404);

    // a pooled guest targets the version new guests boot
    let pooled = srv.wait_for("a pooled guest", SETTLE, || {
        let page = srv.get("/api/v1/guests?state=pooled", Some(&admin)).ok(200);
        page["items"].as_array().and_then(|a| a.first().cloned())
    });
    assert_eq!(pooled["target_root_version"], 1, "{pooled}");
    assert_eq!(pooled["root_version"], Value::Null, "{pooled}");

    assert_eq!(publish(&srv, &admin, "openssl fix"), 2);
    let versions = srv
        .get("/api/v1/images/golden/versions", Some(&admin))
        .ok(200);
    let items = versions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{versions}");
    assert_eq!(items[1]["label"], "openssl fix");
    assert_ne!(
        items[0]["checksum"], items[1]["checksum"],
        "the bytes differ"
    );
    let golden = &srv.get("/api/v1/images", Some(&admin)).ok(200)["items"][0];
    assert_eq!(golden["latest_version"], 2, "{golden}");
    assert_eq!(
        golden["root_version"], 1,
        "publishing alone changes nothing: {golden}"
    );
    let again = guest(&srv, &admin, pooled["name"].as_str().unwrap());
    assert_eq!(again["target_root_version"], 1, "{again}");
    // the hypervisor holds both roots and refuses writes to them
    let sim = sim(&srv);
    let root2 = DiskId::root(&"golden".parse().unwrap(), 2);
    assert!(sim.disk_info(&root2).is_ok());
    assert!(
        sim.write_disk(&root2, 0, b"x").is_err(),
        "a root is read-only"
    );

    // the latest version cannot be retired, nor one in use
    srv.delete("/api/v1/images/golden/versions/2", Some(&admin))
        .problem(409);
    let p = srv
        .delete("/api/v1/images/golden/versions/1", Some(&admin))
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("in use"), "{p}");
    srv.delete("/api/v1/images/golden/versions/7", Some(&admin))
        .problem(404);
    srv.delete("/api/v1/images/golden/versions/1", Some(&student))
        .problem(403);
}

fn a_rollout_restarts_running_guests_and_leaves_stopped_ones_for_their_next_boot(db: Db) {
    let Some(srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let names = running_guests(&srv, &admin, 4);
    let (running, stopped) = names.split_at(3);
    let s04 = login(&srv, "s04");
    srv.post_json(
        &format!("/api/v1/guests/{}/power", stopped[0]),
        Some(&s04),
        &json!({"action": "stop"}),
    );
    wait_states(&srv, &admin, stopped, "stopped");
    for n in &names {
        assert_eq!(guest(&srv, &admin, n)["root_version"], 1, "{n}");
    }
    // what each guest wrote stays
    let sim = sim(&srv);
    for n in &names {
        let disk = DiskId::segment_of(&n.parse().unwrap());
        sim.write_disk(&disk, 4096, format!("{n} was here").as_bytes())
            .unwrap();
    }
    let before = segments(&srv, &names);
    assert_eq!(publish(&srv, &admin, "kernel 6.1.99"), 2);

    let id = start_rollout(
        &srv,
        &admin,
        json!({"version": 2, "batch_size": 2, "min_healthy_percent": 0}),
    );
    // targets set at once, for every guest of the image
    for n in &names {
        assert_eq!(guest(&srv, &admin, n)["target_root_version"], 2, "{n}");
    }
    let running: Vec<String> = running.to_vec();
    let mut most = 0;
    let done = drive(
        &srv,
        "the rollout",
        Duration::from_secs(2),
        || most = most.max(not_running(&srv, &running)),
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"],
        json!({"updated": 3, "rolled_back": 0, "pending": 0}),
        "{done}"
    );
    assert_eq!(done["progress"], json!({"done": 3, "total": 3}), "{done}");
    assert!(most <= 2, "{most} guests restarting at once, batch_size 2");
    for n in &running {
        assert_versions(&srv, &admin, n, json!(2), json!(2));
    }
    let zvm = srv.zvm_state();
    for n in &running {
        assert_eq!(
            zvm["users"][n.as_str()]["booted_root"],
            "root:golden@2",
            "{n}"
        );
    }
    let golden = &srv.get("/api/v1/images", Some(&admin)).ok(200)["items"][0];
    assert_eq!(
        golden["root_version"], 2,
        "a succeeded rollout sets the image's version"
    );

    // the stopped guest was not touched; it boots the new root when started
    let g = guest(&srv, &admin, &stopped[0]);
    assert_eq!(
        (
            g["state"].clone(),
            g["root_version"].clone(),
            g["target_root_version"].clone()
        ),
        (json!("stopped"), json!(1), json!(2)),
        "{g}"
    );
    srv.post_json(
        &format!("/api/v1/guests/{}/power", stopped[0]),
        Some(&s04),
        &json!({"action": "start"}),
    );
    wait_states(&srv, &admin, stopped, "running");
    assert_eq!(guest(&srv, &admin, &stopped[0])["root_version"], 2);

    // not a byte of any segment changed
    assert!(
        before == segments(&srv, &names),
        "a rollout changed a segment"
    );

    // owners were told
    let s01 = login(&srv, "s01");
    let seen = events_of(&srv, &s01, &running[0]);
    assert!(seen.contains(&"rollout.scheduled".to_owned()), "{seen:?}");
    assert!(seen.contains(&"rollout.updated".to_owned()), "{seen:?}");
    let theirs = events_of(&srv, &s04, &stopped[0]);
    assert!(
        theirs.contains(&"rollout.scheduled".to_owned()),
        "{theirs:?}"
    );

    // version 1 is unused now: retired, and its disk freed
    let versions = srv
        .get("/api/v1/images/golden/versions", Some(&admin))
        .ok(200);
    assert_eq!(versions["items"][0]["guests"], 0, "{versions}");
    srv.delete("/api/v1/images/golden/versions/1", Some(&admin))
        .expect(204);
    let versions = srv
        .get("/api/v1/images/golden/versions", Some(&admin))
        .ok(200);
    assert_eq!(versions["items"][0]["state"], "retired", "{versions}");
    srv.wait_for("the retired root's disk to go", SETTLE, || {
        srv.zvm_state()["disks"]
            .get("root:golden@1")
            .is_none()
            .then_some(())
    });
    srv.post_json(
        "/api/v1/images/golden/rollouts",
        Some(&admin),
        &json!({"version": 1}),
    )
    .problem(422);
}

fn a_failing_canary_stops_the_rollout(db: Db) {
    let Some(srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let mut names = running_guests(&srv, &admin, 3);
    names.sort();
    assert_eq!(publish(&srv, &admin, "broken httpd"), 2);
    breaks(&srv, 2, None);
    let id = start_rollout(
        &srv,
        &admin,
        json!({"version": 2, "batch_size": 1, "health_timeout_seconds": 30}),
    );
    let done = drive(
        &srv,
        "the rollout",
        Duration::from_secs(5),
        || {},
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(error.starts_with("canary failed"), "{done}");
    assert!(
        error.contains(&names[0]) && error.contains("apache"),
        "{done}"
    );
    assert_eq!(
        done["result"],
        json!({"updated": 0, "rolled_back": 1, "pending": 2}),
        "{done}"
    );
    // the canary is back on version 1; the others never left it and keep it
    wait_states(&srv, &admin, &names, "running");
    for n in &names {
        assert_versions(&srv, &admin, n, json!(1), json!(1));
    }
    assert_eq!(
        srv.zvm_state()["users"][names[0].as_str()]["booted_root"],
        "root:golden@1"
    );
    let owner = guest(&srv, &admin, &names[0])["owner"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = login(&srv, &owner);
    let seen = events_of(&srv, &owner, &names[0]);
    assert!(seen.contains(&"rollout.rolled_back".to_owned()), "{seen:?}");
    let golden = &srv.get("/api/v1/images", Some(&admin)).ok(200)["items"][0];
    assert_eq!(golden["root_version"], 1, "{golden}");
}

fn a_guest_is_rolled_back_while_the_others_update(db: Db) {
    let Some(srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let mut names = running_guests(&srv, &admin, 4);
    // guests restart in name order
    names.sort();
    assert_eq!(publish(&srv, &admin, "v2"), 2);
    // broken on the third guest only: past the canary, within a 50 % budget
    breaks(&srv, 2, Some(vec![names[2].as_str()]));
    let id = start_rollout(
        &srv,
        &admin,
        json!({"version": 2, "batch_size": 1, "min_healthy_percent": 50, "health_timeout_seconds": 30, "pace": "fixed", "interval_seconds": 10}),
    );
    let done = drive(
        &srv,
        "the rollout",
        Duration::from_secs(5),
        || {},
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"],
        json!({"updated": 3, "rolled_back": 1, "pending": 0}),
        "{done}"
    );
    wait_states(&srv, &admin, &names, "running");
    for (i, n) in names.iter().enumerate() {
        let want = if i == 2 { 1 } else { 2 };
        assert_versions(&srv, &admin, n, json!(want), json!(want));
    }
}

fn rollbacks_past_the_budget_stop_the_rollout(db: Db) {
    let Some(srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let mut names = running_guests(&srv, &admin, 4);
    names.sort();
    assert_eq!(publish(&srv, &admin, "v2"), 2);
    // min_healthy_percent 75: one rollback of four is within the budget,
    // the second is past it; the canary (the first guest) is fine
    breaks(&srv, 2, Some(vec![names[1].as_str(), names[2].as_str()]));
    let id = start_rollout(
        &srv,
        &admin,
        json!({"version": 2, "batch_size": 1, "min_healthy_percent": 75, "health_timeout_seconds": 30}),
    );
    let done = drive(
        &srv,
        "the rollout",
        Duration::from_secs(5),
        || {},
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains("2 of 4 guests rolled back"), "{done}");
    assert_eq!(
        done["result"],
        json!({"updated": 1, "rolled_back": 2, "pending": 1}),
        "{done}"
    );
    wait_states(&srv, &admin, &names, "running");
    let want = [2, 1, 1, 1];
    for (n, want) in names.iter().zip(want) {
        assert_versions(&srv, &admin, n, json!(want), json!(want));
    }
    let golden = &srv.get("/api/v1/images", Some(&admin)).ok(200)["items"][0];
    assert_eq!(
        golden["root_version"], 1,
        "a failed rollout leaves the image's version: {golden}"
    );
}

fn a_rollout_cut_by_sigkill_resumes_within_bounds(db: Db) {
    let Some(mut srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let names = running_guests(&srv, &admin, 5);
    assert_eq!(publish(&srv, &admin, "v2"), 2);
    let before = segments(&srv, &names);
    let id = start_rollout(
        &srv,
        &admin,
        json!({"version": 2, "batch_size": 2, "min_healthy_percent": 0}),
    );
    let mut most = 0;
    drive(
        &srv,
        "the rollout to get going",
        Duration::from_secs(1),
        || most = most.max(not_running(&srv, &names)),
        || (job(&srv, &admin, &id)["progress"]["done"].as_u64() >= Some(1)).then_some(()),
    );
    srv.kill();
    srv.restart();
    let admin = srv.admin_token();
    let done = drive(
        &srv,
        "the resumed rollout",
        Duration::from_secs(1),
        || most = most.max(not_running(&srv, &names)),
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"],
        json!({"updated": 5, "rolled_back": 0, "pending": 0}),
        "{done}"
    );
    assert!(most <= 2, "{most} guests restarting at once, batch_size 2");
    for n in &names {
        assert_eq!(guest(&srv, &admin, n)["root_version"], 2, "{n}");
    }
    assert!(
        before == segments(&srv, &names),
        "a rollout changed a segment"
    );
}

fn a_cancelled_rollout_keeps_the_guests_it_did_not_restart(db: Db) {
    let Some(srv) = server(db, 1) else { return };
    let admin = srv.admin_token();
    let mut names = running_guests(&srv, &admin, 3);
    names.sort();
    assert_eq!(publish(&srv, &admin, "v2"), 2);
    let id = start_rollout(
        &srv,
        &admin,
        json!({"version": 2, "batch_size": 1, "min_healthy_percent": 0, "pace": "fixed", "interval_seconds": 3600}),
    );
    drive(
        &srv,
        "the canary",
        Duration::from_secs(2),
        || {},
        || (job(&srv, &admin, &id)["progress"]["done"] == 1).then_some(()),
    );
    // a student may not cancel it; a second rollout waits for this one
    let s01 = login(&srv, "s01");
    srv.post_json(&format!("/api/v1/jobs/{id}/cancel"), Some(&s01), &json!({}))
        .problem(404);
    srv.post_json(
        "/api/v1/images/golden/rollouts",
        Some(&admin),
        &json!({"version": 2}),
    )
    .problem(409);
    // a guest it has yet to restart is held: its owner may not reset it
    let held = &names[1];
    let owner = guest(&srv, &admin, held)["owner"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = login(&srv, &owner);
    let reset = format!("/api/v1/guests/{held}/reset");
    let p = srv
        .post_json(&reset, Some(&owner), &json!({ "confirm": held }))
        .problem(409);
    let detail = p["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&format!("rollout job {id}")), "{p}");
    srv.post_json(
        &format!("/api/v1/jobs/{id}/cancel"),
        Some(&admin),
        &json!({}),
    )
    .ok(202);
    let done = drive(
        &srv,
        "the cancel",
        Duration::from_secs(2),
        || {},
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(
        done["result"],
        json!({"updated": 1, "rolled_back": 0, "pending": 2}),
        "{done}"
    );
    assert_versions(&srv, &admin, &names[0], json!(2), json!(2));
    for n in &names[1..] {
        assert_versions(&srv, &admin, n, json!(1), json!(1));
    }
    srv.post_json(
        &format!("/api/v1/jobs/{id}/cancel"),
        Some(&admin),
        &json!({}),
    )
    .problem(409);
    // the ended rollout holds it no more
    srv.post_json(&reset, Some(&owner), &json!({ "confirm": held }))
        .ok(202);
}

fn rollout_requests_are_checked(db: Db) {
    let Some(srv) = server(db, 0) else { return };
    let admin = srv.admin_token();
    let student = login(&srv, "s01");
    let url = "/api/v1/images/golden/rollouts";
    srv.post_json(url, Some(&student), &json!({"version": 1}))
        .problem(403);
    srv.post_json(url, Some(&admin), &json!({"version": 9}))
        .problem(422);
    srv.post_json(url, Some(&admin), &json!({"version": 1, "batch_size": 0}))
        .problem(422);
    srv.post_json(
        url,
        Some(&admin),
        &json!({"version": 1, "min_healthy_percent": 101}),
    )
    .problem(422);
    srv.post_json(url, Some(&admin), &json!({"version": 1, "pace": "warp"}))
        .problem(422);
    srv.post_json(url, Some(&admin), &json!({"versoin": 1}))
        .problem(422);
    srv.post_json(
        "/api/v1/images/nope/rollouts",
        Some(&admin),
        &json!({"version": 1}),
    )
    .problem(404);
    // a rollout with nothing running succeeds at once and sets the version
    let id = start_rollout(&srv, &admin, json!({"version": 1}));
    let done = drive(
        &srv,
        "an empty rollout",
        Duration::from_secs(1),
        || {},
        || finished(&srv, &admin, &id),
    );
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"],
        json!({"updated": 0, "rolled_back": 0, "pending": 0})
    );
    // a retried request with the same Idempotency-Key starts nothing more
    let keyed = || {
        let rb = srv
            .request(Method::POST, url, Some(&admin))
            .header("idempotency-key", "rollout-7")
            .json(&json!({"version": 1, "batch_size": 3}));
        srv.send(rb)
    };
    let first = keyed();
    let job = first.ok(202);
    let again = keyed();
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.ok(202)["id"], job["id"]);
    srv.wait_for("the keyed rollout", SETTLE, || {
        finished(&srv, &admin, &job["id"])
    });
    // jobs of kinds that cannot stop halfway are not cancelled
    let publish = srv
        .post_json(
            "/api/v1/images/golden/versions",
            Some(&admin),
            &json!({"label": "x"}),
        )
        .ok(202);
    srv.wait_for("the publication", SETTLE, || {
        finished(&srv, &admin, &publish["id"])
    });
    srv.post_json(
        &format!("/api/v1/jobs/{}/cancel", publish["id"]),
        Some(&admin),
        &json!({}),
    )
    .problem(409);
    srv.post_json("/api/v1/jobs/999999/cancel", Some(&admin), &json!({}))
        .problem(404);
}
