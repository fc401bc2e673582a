//! Batch provisioning through the API (SPEC §4 provisioning rows, §5 batch
//! provisioning): a course group from the directory in both membership
//! layouts, a dry run that changes nothing, a batch, and a repeat that skips
//! everyone; cancelling a batch midway; retrying items whose clones failed;
//! a batch that survives a SIGKILL of the server. After each, the fleet is
//! checked the way an operator would: every address once, the hypervisor
//! holding exactly the live guests, `herd-server reconcile` finding nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use herd_tests::{db_tests, json, ldap_db_tests, Db, Fault, Layout, TestServer, Value};

ldap_db_tests!(a_course_group_gets_its_guests_once);
db_tests!(
    cancel_keeps_what_is_done_and_makes_nothing_more,
    retry_clones_the_failed_items_once,
    killed_server_resumes_a_batch,
);

/// The fixture's `course-101`: alice, dave and s01–s05.
const COURSE: &str = "course-101";
const MEMBERS: usize = 7;
/// Every user of the fixture directory.
const EVERYONE: [&str; 9] = [
    "alice", "bob", "carol", "dave", "s01", "s02", "s03", "s04", "s05",
];
/// Wall time a batch (or the jobs it left) may take to settle.
const SETTLE: Duration = Duration::from_secs(60);

fn batch(srv: &TestServer, token: &str, body: &Value) -> Value {
    srv.post_json("/api/v1/provisioning/batches", Some(token), body)
        .ok(202)
}

fn get_batch(srv: &TestServer, token: &str, id: i64) -> Value {
    srv.get(&format!("/api/v1/provisioning/batches/{id}"), Some(token))
        .ok(200)
}

fn finished(srv: &TestServer, token: &str, id: i64) -> Value {
    srv.wait_for("the batch to finish", SETTLE, || {
        let b = get_batch(srv, token, id);
        (b["status"] != "queued" && b["status"] != "running").then_some(b)
    })
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id: {v}"))
}

fn items(b: &Value) -> &Vec<Value> {
    b["items"].as_array().expect("batch items")
}

/// The batch's items by user name.
fn items_by_user(b: &Value) -> BTreeMap<String, Value> {
    items(b)
        .iter()
        .map(|i| (i["username"].as_str().unwrap().to_owned(), i.clone()))
        .collect()
}

fn guest_names(item: &Value) -> BTreeSet<String> {
    item["guests"]
        .as_array()
        .unwrap_or_else(|| panic!("item without guests: {item}"))
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect()
}

/// The usernames of the items in one status.
fn users_in(b: &Value, status: &str) -> BTreeSet<String> {
    items(b)
        .iter()
        .filter(|i| i["status"] == status)
        .map(|i| i["username"].as_str().unwrap().to_owned())
        .collect()
}

/// Every guest that is not decommissioned (one page: these tests make
/// fewer than 500).
fn live_guests(srv: &TestServer, token: &str) -> Vec<Value> {
    let page = srv.get("/api/v1/guests?limit=500", Some(token)).ok(200);
    assert!(page["next_cursor"].is_null(), "more than one page: {page}");
    page["items"].as_array().expect("items").clone()
}

/// Live guests by owner (pool guests left out).
fn holdings(guests: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_owner: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for g in guests.iter().filter(|g| !g["owner"].is_null()) {
        by_owner
            .entry(g["owner"].as_str().unwrap().to_owned())
            .or_default()
            .insert(g["name"].as_str().unwrap().to_owned());
    }
    by_owner
}

/// Waits until no job is queued or running; answers every job.
fn jobs_settled(srv: &TestServer, admin: &str) -> Vec<Value> {
    srv.wait_for("every job to finish", SETTLE, || {
        let jobs = srv.get("/api/v1/jobs?limit=500", Some(admin)).ok(200);
        let all = jobs["items"].as_array().unwrap().clone();
        all.iter()
            .all(|j| !matches!(j["status"].as_str(), Some("queued" | "running")))
            .then_some(all)
    })
}

/// How many `provision` jobs ended in each status.
fn provision_outcomes(jobs: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for j in jobs.iter().filter(|j| j["kind"] == "provision") {
        *counts
            .entry(j["status"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

/// What an operator checks after a batch: nothing half made, every address
/// given once and counted on the LAN, the hypervisor holding exactly the
/// live guests (no orphaned directory entry, disk or grant), and
/// `herd-server reconcile` finding no difference. Answers the live guests.
fn assert_fleet_consistent(srv: &TestServer, admin: &str) -> Vec<Value> {
    let live = live_guests(srv, admin);
    let in_flight: Vec<&Value> = live
        .iter()
        .filter(|g| {
            matches!(
                g["state"].as_str(),
                Some("provisioning" | "decommissioning")
            )
        })
        .collect();
    assert!(
        in_flight.is_empty(),
        "guests still in flight: {in_flight:?}"
    );
    let addresses: BTreeSet<&str> = live
        .iter()
        .map(|g| {
            g["ip_address"]
                .as_str()
                .unwrap_or_else(|| panic!("live guest without address: {g}"))
        })
        .collect();
    assert_eq!(
        addresses.len(),
        live.len(),
        "an address given twice: {live:?}"
    );
    let lans = srv.get("/api/v1/lans", Some(admin)).ok(200);
    let used: u64 = lans["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["used"].as_u64().unwrap())
        .sum();
    assert_eq!(
        used,
        live.len() as u64,
        "addresses held vs live guests: {lans}"
    );
    let names: BTreeSet<String> = live
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    srv.assert_hypervisor_holds(&names);
    let differences = srv.reconcile();
    assert!(
        differences.is_empty(),
        "herd-server reconcile found differences: {differences:#?}"
    );
    live
}

/// A server with the fixture directory and these settings.
fn server(db: Db, settings: &[(&str, &str)]) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .envs(settings.iter().copied())
        .start()
}

fn set_pool(srv: &TestServer, admin: &str, target: u32, method: &str) {
    srv.put_json(
        "/api/v1/pool",
        Some(admin),
        &json!({ "target_size": target, "copy_method": method }),
    )
    .ok(200);
}

fn a_course_group_gets_its_guests_once(layout: Layout, db: Db) {
    let Some(srv) = TestServer::builder(db)
        .with_ldap(layout)
        .env("HERD_POOL_TARGET_SIZE", "3")
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
    else {
        return;
    };
    let staff = srv.login("bob", "bob-pw");
    let student = srv.login("alice", "alice-pw");
    let body = json!({ "ldap_group": COURSE, "guests_per_user": 1 });
    srv.post_json("/api/v1/provisioning/batches", Some(&student), &body)
        .problem(403);

    let plan = srv
        .post_json(
            "/api/v1/provisioning/batches",
            Some(&staff),
            &json!({ "ldap_group": COURSE, "guests_per_user": 1, "dry_run": true }),
        )
        .ok(200);
    assert_eq!(plan["users"].as_array().unwrap().len(), MEMBERS, "{plan}");
    assert_eq!(plan["capacity"]["guests_needed"], MEMBERS, "{plan}");
    assert_eq!(plan["capacity"]["fits"], true, "{plan}");
    let listed = srv.get("/api/v1/guests?limit=500", Some(&staff)).ok(200);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["owner"].is_null()),
        "a dry run assigned guests: {listed}"
    );

    // The pool is full before the batch, so that its guests come first.
    let admin = srv.admin_token();
    srv.wait_for("the pool to fill", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"] == 3).then_some(())
    });
    // Time passes between the pool's filling and the batch, and between
    // batches: what a batch made is told apart by when it was assigned.
    srv.advance_clock(Duration::from_secs(1));
    let started = batch(&srv, &staff, &body);
    let done = finished(&srv, &staff, started["id"].as_i64().unwrap());
    assert_eq!(done["status"], "succeeded", "{done}");
    let items = done["items"].as_array().unwrap();
    assert_eq!(items.len(), MEMBERS, "{done}");
    let mut names = BTreeSet::new();
    for item in items {
        assert!(
            matches!(item["status"].as_str(), Some("assigned" | "cloned")),
            "{item}"
        );
        let guests = item["guests"].as_array().unwrap();
        assert_eq!(guests.len(), 1, "{item}");
        names.insert(guests[0].as_str().unwrap().to_owned());
    }
    assert_eq!(names.len(), MEMBERS, "a guest went to two users: {done}");
    assert!(
        done["totals"]["assigned"].as_u64().unwrap() >= 1,
        "pool guests come first: {done}"
    );

    srv.advance_clock(Duration::from_secs(1));
    let again = finished(
        &srv,
        &staff,
        batch(&srv, &staff, &body)["id"].as_i64().unwrap(),
    );
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(
        again["totals"]["skipped"], MEMBERS,
        "a repeated batch makes nothing: {again}"
    );

    let owned = srv.get("/api/v1/guests?limit=500", Some(&staff)).ok(200);
    let owned: Vec<&Value> = owned["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !g["owner"].is_null())
        .collect();
    assert_eq!(owned.len(), MEMBERS, "exactly one guest each");
    let addresses: BTreeSet<&str> = owned
        .iter()
        .map(|g| g["ip_address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses.len(), MEMBERS, "addresses are unique");
    let mine = srv.get("/api/v1/guests", Some(&student)).ok(200);
    assert_eq!(
        mine["items"].as_array().unwrap().len(),
        1,
        "alice sees her one guest: {mine}"
    );

    // End of term: the same group's guests go, after a dry run that lists them.
    let reclaim = json!({ "ldap_group": COURSE, "dry_run": true });
    let plan = srv
        .post_json("/api/v1/provisioning/reclaims", Some(&staff), &reclaim)
        .ok(200);
    let planned: BTreeSet<String> = plan["guests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(planned, names, "{plan}");
    let job = srv
        .post_json(
            "/api/v1/provisioning/reclaims",
            Some(&staff),
            &json!({ "ldap_group": COURSE }),
        )
        .ok(202);
    let id = job["id"].as_i64().unwrap();
    let job = srv.wait_for("the reclaim to finish", Duration::from_secs(60), || {
        let j = srv.get(&format!("/api/v1/jobs/{id}"), Some(&staff)).ok(200);
        (j["status"] == "succeeded" || j["status"] == "failed").then_some(j)
    });
    assert_eq!(job["status"], "succeeded", "{job}");
    let gone = srv
        .get(
            "/api/v1/guests?state=decommissioned&limit=500",
            Some(&staff),
        )
        .ok(200);
    let gone: BTreeSet<String> = gone["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.is_subset(&gone),
        "every course guest is decommissioned: {gone:?}"
    );
}

// ---------------------------------------------------------------------------
// cancel
// ---------------------------------------------------------------------------

/// A batch cancelled while its clones are being copied: what was handed
/// out stays, clones already being copied finish, the rest are never made
/// (no guest, no address, nothing on the hypervisor), the batch ends
/// `cancelled`, and the cancelled users get their guests from a later batch.
fn cancel_keeps_what_is_done_and_makes_nothing_more(db: Db) {
    // DDR copies of a 16 MiB image one at a time: 24 clones take far longer
    // than the cancel request.
    let Some(srv) = server(
        db,
        &[
            ("HERD_POOL_TARGET_SIZE", "3"),
            ("HERD_POOL_COPY_METHOD", "ddr"),
            ("HERD_PROVISION_CONCURRENCY", "1"),
            ("HERD_IMAGE_SIZE_MB", "16"),
        ],
    ) else {
        return;
    };
    let admin = srv.admin_token();
    let staff = srv.login("bob", "bob-pw");
    let student = srv.login("alice", "alice-pw");
    // Three pooled guests, all for the first user (alice); no refills, so
    // everyone else's guests are clones.
    srv.wait_for("the pool to fill", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"] == 3 && p["provisioning"] == 0).then_some(())
    });
    set_pool(&srv, &admin, 0, "ddr");
    srv.advance_clock(Duration::from_secs(1));

    let per_user = 3;
    let started = batch(
        &srv,
        &staff,
        &json!({ "users": EVERYONE, "guests_per_user": per_user }),
    );
    let id = id_of(&started);
    let path = format!("/api/v1/provisioning/batches/{id}/cancel");
    // Cancel once every guest is placed (pool guests handed out, clones
    // queued) and the clones are being copied.
    let deadline = Instant::now() + SETTLE;
    loop {
        let owned = live_guests(&srv, &admin)
            .iter()
            .filter(|g| !g["owner"].is_null())
            .count();
        if owned == EVERYONE.len() * per_user {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the batch placed {owned} guests in {SETTLE:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    srv.post_json(&path, Some(&student), &json!({}))
        .problem(403);
    let at_cancel = srv.post_json(&path, Some(&staff), &json!({})).ok(200);
    println!("at cancel: {at_cancel}");
    let cancelled = users_in(&at_cancel, "cancelled");
    assert!(
        !cancelled.is_empty(),
        "24 DDR clones cannot all have started already: {at_cancel}"
    );
    assert_eq!(
        items_by_user(&at_cancel)["alice"]["status"],
        "assigned",
        "pool guests are handed out at once: {at_cancel}"
    );
    assert!(
        cancelled
            .iter()
            .all(|u| guest_names(&items_by_user(&at_cancel)[u]).is_empty()),
        "a cancelled item names guests: {at_cancel}"
    );

    let done = finished(&srv, &staff, id);
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(
        done["progress"]["done"], done["progress"]["total"],
        "{done}"
    );
    assert_eq!(
        users_in(&done, "cancelled"),
        cancelled,
        "only the items cancelled at once end cancelled: {done}"
    );
    let job = srv
        .get(&format!("/api/v1/jobs/{}", done["job_id"]), Some(&staff))
        .ok(200);
    assert_eq!(job["status"], "cancelled", "{job}");

    let jobs = jobs_settled(&srv, &admin);
    let live = assert_fleet_consistent(&srv, &admin);
    let held = holdings(&live);
    for (user, item) in items_by_user(&done) {
        let names = guest_names(&item);
        let has = held.get(&user).cloned().unwrap_or_default();
        match item["status"].as_str() {
            // finished ones stay: exactly the guests the item names
            Some("assigned" | "cloned") => {
                assert_eq!(names.len(), per_user, "{item}");
                assert_eq!(has, names, "{user} holds other guests than {item}");
            }
            // and nothing more is made for the others
            Some("cancelled") => {
                assert!(names.is_empty(), "{item}");
                assert!(
                    has.is_empty(),
                    "{user} got guests after the cancel: {has:?}"
                );
            }
            _ => panic!("item neither done nor cancelled: {item}"),
        }
    }
    let outcomes = provision_outcomes(&jobs);
    assert_eq!(
        outcomes.get("cancelled").copied().unwrap_or(0),
        cancelled.len() * per_user,
        "the cancelled items' clones are cancelled jobs: {outcomes:?}"
    );
    assert!(!outcomes.contains_key("failed"), "{outcomes:?}");
    let cancelled_guests = srv
        .get(
            "/api/v1/guests?state=decommissioned&limit=500",
            Some(&admin),
        )
        .ok(200);
    for g in cancelled_guests["items"].as_array().unwrap() {
        assert!(g["ip_address"].is_null(), "address not released: {g}");
    }

    // The same batch again: the cancelled users get theirs, nobody a
    // second set.
    set_pool(&srv, &admin, 0, "flashcopy");
    srv.advance_clock(Duration::from_secs(1));
    let again = finished(
        &srv,
        &staff,
        id_of(&batch(
            &srv,
            &staff,
            &json!({ "users": EVERYONE, "guests_per_user": per_user }),
        )),
    );
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(users_in(&again, "cloned"), cancelled, "{again}");
    assert_eq!(
        again["totals"]["skipped"].as_u64(),
        Some((EVERYONE.len() - cancelled.len()) as u64),
        "{again}"
    );
    jobs_settled(&srv, &admin);
    let live = assert_fleet_consistent(&srv, &admin);
    let held = holdings(&live);
    for user in EVERYONE {
        assert_eq!(
            held.get(user).map(BTreeSet::len),
            Some(per_user),
            "{user}: {held:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// retry
// ---------------------------------------------------------------------------

/// Two clones of a batch fail on the hypervisor (scripted copy faults):
/// their items are `failed` with the error, their sagas leave nothing
/// behind; a retry clones exactly those two again, once.
fn retry_clones_the_failed_items_once(db: Db) {
    let Some(srv) = server(
        db,
        &[
            ("HERD_POOL_TARGET_SIZE", "0"),
            ("HERD_PROVISION_CONCURRENCY", "2"),
            ("HERD_IMAGE_SIZE_MB", "4"),
        ],
    ) else {
        return;
    };
    let admin = srv.admin_token();
    let staff = srv.login("bob", "bob-pw");
    let student = srv.login("alice", "alice-pw");
    for _ in 0..2 {
        srv.inject_fault(Fault::CopyFails {
            target: None,
            at_fraction: 0.5,
        });
    }
    srv.advance_clock(Duration::from_secs(1));
    let body = json!({ "users": EVERYONE, "guests_per_user": 1 });
    let id = id_of(&batch(&srv, &staff, &body));
    let first = finished(&srv, &staff, id);
    assert_eq!(first["status"], "failed", "{first}");
    assert_eq!(first["totals"]["failed"], 2, "{first}");
    assert_eq!(first["totals"]["cloned"], EVERYONE.len() - 2, "{first}");
    let job = srv
        .get(&format!("/api/v1/jobs/{}", first["job_id"]), Some(&staff))
        .ok(200);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"].as_str().is_some_and(|e| e.contains("2 of 9")),
        "{job}"
    );
    let failed = users_in(&first, "failed");
    for user in &failed {
        let item = &items_by_user(&first)[user];
        assert!(guest_names(item).is_empty(), "{item}");
        assert!(
            item["error"].as_str().is_some_and(|e| !e.is_empty()),
            "a failed item tells why: {item}"
        );
    }
    jobs_settled(&srv, &admin);
    let live = assert_fleet_consistent(&srv, &admin);
    let before = holdings(&live);
    assert!(
        failed.iter().all(|u| !before.contains_key(u)),
        "a failed user holds a guest: {before:?}"
    );
    assert_eq!(live.len(), EVERYONE.len() - 2);
    let retired = srv
        .get(
            "/api/v1/guests?state=decommissioned&limit=500",
            Some(&admin),
        )
        .ok(200);
    let retired = retired["items"].as_array().unwrap();
    assert_eq!(
        retired.len(),
        2,
        "the failed clones are retired: {retired:?}"
    );
    assert!(
        retired.iter().all(|g| g["ip_address"].is_null()),
        "{retired:?}"
    );

    let path = format!("/api/v1/provisioning/batches/{id}/retry");
    srv.post_json(&path, Some(&student), &json!({}))
        .problem(403);
    let retried = srv.post_json(&path, Some(&staff), &json!({})).ok(202);
    assert_eq!(users_in(&retried, "pending"), failed, "{retried}");
    let second = finished(&srv, &staff, id);
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["totals"]["cloned"], EVERYONE.len(), "{second}");
    assert_eq!(second["totals"]["failed"], 0, "{second}");
    let job = srv
        .get(&format!("/api/v1/jobs/{}", second["job_id"]), Some(&staff))
        .ok(200);
    assert_eq!(job["status"], "succeeded", "{job}");
    assert!(job["error"].is_null(), "{job}");
    // nothing left to retry
    srv.post_json(&path, Some(&staff), &json!({})).problem(409);

    let jobs = jobs_settled(&srv, &admin);
    let outcomes = provision_outcomes(&jobs);
    assert_eq!(
        outcomes,
        BTreeMap::from([("failed".to_owned(), 2), ("succeeded".to_owned(), 9)]),
        "one clone per user, plus the two that failed"
    );
    let live = assert_fleet_consistent(&srv, &admin);
    let after = holdings(&live);
    for (user, item) in items_by_user(&second) {
        let names = guest_names(&item);
        assert_eq!(names.len(), 1, "{item}");
        assert_eq!(after.get(&user), Some(&names), "{user}: {after:?}");
        if let Some(had) = before.get(&user) {
            assert_eq!(had, &names, "{user}'s guest changed in the retry");
        }
    }
}

// ---------------------------------------------------------------------------
// kill and resume
// ---------------------------------------------------------------------------

/// SIGKILL in the middle of a batch (some users done, clones being
/// copied), then a restart on the same data directory and database: the
/// batch finishes with every user holding exactly `guests_per_user` guests
/// (no clone made twice), every address once, nothing orphaned.
fn killed_server_resumes_a_batch(db: Db) {
    let Some(mut srv) = server(
        db,
        &[
            ("HERD_POOL_TARGET_SIZE", "0"),
            ("HERD_POOL_COPY_METHOD", "ddr"),
            ("HERD_PROVISION_CONCURRENCY", "1"),
            ("HERD_IMAGE_SIZE_MB", "16"),
        ],
    ) else {
        return;
    };
    let staff = srv.login("bob", "bob-pw");
    let per_user = 4;
    srv.advance_clock(Duration::from_secs(1));
    let id = id_of(&batch(
        &srv,
        &staff,
        &json!({ "ldap_group": COURSE, "guests_per_user": per_user }),
    ));
    // kill once some users are done while others' clones are still queued
    // or being copied
    let deadline = Instant::now() + SETTLE;
    let at_kill = loop {
        let b = get_batch(&srv, &staff, id);
        let done = b["progress"]["done"].as_u64().unwrap();
        if done >= 1 {
            assert!(
                done < MEMBERS as u64,
                "the batch finished before it could be killed: {b}"
            );
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "no user done after {SETTLE:?}: {b}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    srv.kill();
    println!("killed with the batch at {at_kill}");

    srv.restart();
    // the dead worker's claims are taken over once they are stale
    srv.advance_clock(Duration::from_secs(61));
    let staff = srv.login("bob", "bob-pw");
    let admin = srv.admin_token();
    let done = finished(&srv, &staff, id);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["totals"]["cloned"], MEMBERS, "{done}");
    let job = srv
        .get(&format!("/api/v1/jobs/{}", done["job_id"]), Some(&staff))
        .ok(200);
    assert_eq!(job["status"], "succeeded", "{job}");
    for (user, item) in items_by_user(&at_kill) {
        if item["status"] == "cloned" {
            assert_eq!(
                items_by_user(&done)[&user]["guests"],
                item["guests"],
                "a user done before the kill got other guests"
            );
        }
    }

    let jobs = jobs_settled(&srv, &admin);
    assert_eq!(
        provision_outcomes(&jobs),
        BTreeMap::from([("succeeded".to_owned(), MEMBERS * per_user)]),
        "a clone queued twice, or failed"
    );
    let live = assert_fleet_consistent(&srv, &admin);
    assert_eq!(live.len(), MEMBERS * per_user, "{live:?}");
    let held = holdings(&live);
    let mut seen = BTreeSet::new();
    for (user, item) in items_by_user(&done) {
        let names = guest_names(&item);
        assert_eq!(names.len(), per_user, "{item}");
        assert_eq!(held.get(&user), Some(&names), "{user}: {held:?}");
        assert!(names.iter().all(|n| seen.insert(n.clone())), "{done}");
    }
    // the restart found nothing to repair behind the sagas' backs
    let log = srv.stderr_tail(100_000);
    let repaired: Vec<&str> = log.lines().filter(|l| l.contains("reconciled")).collect();
    assert!(
        repaired.is_empty(),
        "the restart had to repair: {repaired:#?}"
    );
}
