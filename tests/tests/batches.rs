//! Batch provisioning through the API (SPEC §4 provisioning rows): a course
//! group from the directory in both membership layouts, a dry run that
//! changes nothing, a batch, and a repeat that skips everyone.

use std::collections::BTreeSet;
use std::time::Duration;

use herd_tests::{json, ldap_db_tests, Db, Layout, TestServer, Value};

ldap_db_tests!(a_course_group_gets_its_guests_once);

/// The fixture's `course-101`: alice, dave and s01–s05.
const COURSE: &str = "course-101";
const MEMBERS: usize = 7;

fn batch(srv: &TestServer, token: &str, body: &Value) -> Value {
    srv.post_json("/api/v1/provisioning/batches", Some(token), body)
        .ok(202)
}

fn finished(srv: &TestServer, token: &str, id: i64) -> Value {
    srv.wait_for("the batch to finish", Duration::from_secs(60), || {
        let b = srv
            .get(&format!("/api/v1/provisioning/batches/{id}"), Some(token))
            .ok(200);
        (b["status"] != "queued" && b["status"] != "running").then_some(b)
    })
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
