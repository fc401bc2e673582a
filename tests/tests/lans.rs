//! Guest LANs (SPEC §1, §4): an admin adds one, new guests go to the LAN
//! with the most free addresses unless they ask for one, the privileged
//! side defines the new LAN on the hypervisor before its first grant, and a
//! LAN is removed only when no guest holds an address on it.

use std::time::Duration;

use herd_tests::{db_tests, Db, Layout, TestServer, Value};
use serde_json::json;

db_tests!(
    an_admin_adds_a_lan_and_bad_ones_are_refused,
    new_guests_go_to_the_lan_with_the_most_free_addresses,
);

const STEP: Duration = Duration::from_secs(2);
const SETTLE: Duration = Duration::from_secs(60);

fn server(db: Db) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_IMAGE_SEGMENT_SIZE_MB", "1")
        .env("HERD_POOL_TARGET_SIZE", "0")
        .start()
}

fn lans(srv: &TestServer, token: &str) -> Vec<Value> {
    srv.get("/api/v1/lans", Some(token)).ok(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

fn add(srv: &TestServer, token: &str, body: Value) -> herd_tests::Reply {
    srv.post_json("/api/v1/lans", Some(token), &body)
}

fn an_admin_adds_a_lan_and_bad_ones_are_refused(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = srv.admin_token();
    let lan = add(
        &srv,
        &admin,
        json!({ "name": "LNXLAN2", "cidr": "10.20.0.0/24" }),
    )
    .ok(201);
    assert_eq!(lan["gateway"], "10.20.0.1", "{lan}");
    assert_eq!(lan["dns"], "10.20.0.1", "{lan}");
    assert_eq!(lan["capacity"], 253, "{lan}");
    assert_eq!(lan["used"], 0, "{lan}");
    let names: Vec<String> = lans(&srv, &admin)
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["LNXLAN1", "LNXLAN2"]);

    for (body, status, says) in [
        (
            json!({ "name": "LNXLAN2", "cidr": "10.30.0.0/24" }),
            409,
            "exists",
        ),
        (
            json!({ "name": "LNXLAN3", "cidr": "10.10.1.0/24" }),
            409,
            "LNXLAN1",
        ),
        (
            json!({ "name": "LNXLAN3", "cidr": "10.10.0.0/16" }),
            409,
            "LNXLAN1",
        ),
        (
            json!({ "name": "LNXLAN3", "cidr": "10.30.0.7/24" }),
            422,
            "host bits",
        ),
        (
            json!({ "name": "LNXLAN3", "cidr": "2001:db8::/64" }),
            422,
            "IPv6",
        ),
        (
            json!({ "name": "LNXLAN3", "cidr": "10.30.0.0/24", "gateway": "10.31.0.1" }),
            422,
            "gateway",
        ),
        (
            json!({ "name": "a lan", "cidr": "10.30.0.0/24" }),
            422,
            "LAN name",
        ),
    ] {
        let p = add(&srv, &admin, body.clone()).problem(status);
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    let alice = srv.login("alice", "alice-pw");
    add(
        &srv,
        &alice,
        json!({ "name": "LNXLAN3", "cidr": "10.30.0.0/24" }),
    )
    .problem(403);
    srv.delete("/api/v1/lans/LNXLAN2", Some(&alice))
        .problem(403);
    srv.delete("/api/v1/lans/NOSUCH", Some(&admin)).problem(404);
    assert_eq!(lans(&srv, &admin).len(), 2, "a refused LAN was recorded");
}

/// Requests a guest for `owner` (cloned: the pool is empty) and waits
/// until it runs; answers the guest.
fn cloned_for(srv: &TestServer, admin: &str, owner: &str, lan: Option<&str>) -> Value {
    let mut body = json!({ "owner": owner });
    if let Some(lan) = lan {
        body["lan"] = json!(lan);
    }
    let started = srv.post_json("/api/v1/guests", Some(admin), &body).ok(202);
    let name = started["guest"].as_str().unwrap().to_owned();
    srv.step_until(&format!("{name} running"), STEP, SETTLE, || {
        let g = srv
            .get(&format!("/api/v1/guests/{name}"), Some(admin))
            .ok(200);
        assert_ne!(g["state"], "failed", "{g}");
        (g["state"] == "running").then_some(g)
    })
}

fn new_guests_go_to_the_lan_with_the_most_free_addresses(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = srv.admin_token();
    srv.login("alice", "alice-pw");
    // 2045 free addresses against LNXLAN1's 1021 (a /22)
    add(
        &srv,
        &admin,
        json!({ "name": "LNXLAN2", "cidr": "10.20.0.0/21" }),
    )
    .ok(201);

    let placed = cloned_for(&srv, &admin, "alice", None);
    assert_eq!(placed["lan"], "LNXLAN2", "{placed}");
    let address = placed["ip_address"].as_str().unwrap();
    assert!(address.starts_with("10.20."), "{placed}");
    let asked = cloned_for(&srv, &admin, "alice", Some("LNXLAN1"));
    assert_eq!(asked["lan"], "LNXLAN1", "{asked}");
    // the privileged side defined LNXLAN2 and granted the guest on it
    assert_eq!(srv.reconcile(), Vec::<String>::new());
    let host = srv.zvm_state();
    assert!(
        host.to_string().contains("LNXLAN2"),
        "the hypervisor has no LNXLAN2"
    );
    let used = lans(&srv, &admin)
        .into_iter()
        .find(|l| l["name"] == "LNXLAN2")
        .unwrap();
    assert_eq!(used["used"], 1, "{used}");

    // removed only once no guest holds an address on it
    let name = placed["name"].as_str().unwrap();
    let p = srv
        .delete("/api/v1/lans/LNXLAN2", Some(&admin))
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("1 guests"), "{p}");
    srv.delete(&format!("/api/v1/guests/{name}"), Some(&admin))
        .expect(202);
    srv.step_until(&format!("{name} decommissioned"), STEP, SETTLE, || {
        let g = srv.get(&format!("/api/v1/guests/{name}"), Some(&admin));
        (g.status == 404 || g.json()["state"] == "decommissioned").then_some(())
    });
    srv.delete("/api/v1/lans/LNXLAN2", Some(&admin)).expect(204);
    assert!(lans(&srv, &admin).iter().all(|l| l["name"] != "LNXLAN2"));
    srv.delete("/api/v1/lans/LNXLAN2", Some(&admin))
        .problem(404);
    // its name and network may be used again
    add(
        &srv,
        &admin,
        json!({ "name": "LNXLAN2", "cidr": "10.20.0.0/21" }),
    )
    .ok(201);
}
