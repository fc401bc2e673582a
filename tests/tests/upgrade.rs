//! Upgrade in place (SPEC §7): an installation made by the release before
//! shared roots (`tests/fixtures/upgrade-from-0.1`, SQLite and PostgreSQL,
//! guests in every settled state) starts with this release, migrates, and
//! keeps every guest: each becomes a guest of root version 1, boots, and
//! reads back what it wrote.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{FileClock, SharedClock};
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use herd_provisioner::backend::{DiskId, Storage};
use herd_tests::{db_tests, json, Db, Layout, TestServer, Value};

db_tests!(an_installation_from_before_shared_roots_upgrades_in_place);

const SETTLE: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_secs(2);

fn fixture(db: Db) -> PathBuf {
    let which = match db {
        Db::Sqlite => "sqlite",
        Db::Postgres => "postgres",
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/upgrade-from-0.1")
        .join(which)
}

fn guests(srv: &TestServer, admin: &str) -> Vec<Value> {
    let page = srv.get("/api/v1/guests?limit=500", Some(admin)).ok(200);
    let mut all = page["items"].as_array().unwrap().clone();
    let gone = srv
        .get("/api/v1/guests?state=decommissioned", Some(admin))
        .ok(200);
    all.extend(gone["items"].as_array().unwrap().iter().cloned());
    all
}

fn by_state<'a>(all: &'a [Value], state: &str) -> Vec<&'a Value> {
    all.iter().filter(|g| g["state"] == state).collect()
}

fn state_of(srv: &TestServer, admin: &str, name: &str) -> Value {
    srv.get(&format!("/api/v1/guests/{name}"), Some(admin))
        .ok(200)
}

/// Steps the clock until `name` is in `state`.
fn wait_state(srv: &TestServer, admin: &str, name: &str, state: &str) -> Value {
    srv.step_until(&format!("{name} {state}"), STEP, SETTLE, || {
        let g = state_of(srv, admin, name);
        (g["state"] == state).then_some(g)
    })
}

fn written(srv: &TestServer, name: &str) -> String {
    let clock: SharedClock = Arc::new(FileClock::new(srv.clock_path()));
    let sim = SimBackend::attach(&srv.data_dir(), clock, SimSettings::default()).expect("attach");
    let disk = DiskId::segment_of(&name.parse().unwrap());
    let line = format!("written by {name} before the upgrade\n");
    let bytes = sim
        .read_disk(&disk, 512 * 1024, line.len())
        .expect("read the segment");
    String::from_utf8_lossy(&bytes).into_owned()
}

fn an_installation_from_before_shared_roots_upgrades_in_place(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", "2")
        .env("HERD_IMAGE_SIZE_MB", "1")
        .from_fixture(&fixture(db))
        .start()
    else {
        return;
    };
    let admin = srv.admin_token();
    let all = guests(&srv, &admin);
    for state in ["pooled", "running", "stopped", "decommissioned"] {
        assert!(
            !by_state(&all, state).is_empty(),
            "no {state} guest in {all:?}"
        );
    }
    // the old golden disk is root version 1; a segment template is new
    let images = srv.get("/api/v1/images", Some(&admin)).ok(200);
    let golden = &images["items"][0];
    assert_eq!(
        (
            golden["root_version"].clone(),
            golden["latest_version"].clone()
        ),
        (json!(1), json!(1)),
        "{golden}"
    );
    let zvm = srv.zvm_state();
    assert!(
        zvm["disks"].get("root:golden@1").is_some(),
        "{}",
        zvm["disks"]
    );
    assert!(
        zvm["disks"].get("image:golden").is_some(),
        "{}",
        zvm["disks"]
    );
    let versions = srv
        .get("/api/v1/images/golden/versions", Some(&admin))
        .ok(200);
    assert!(
        versions["items"][0]["checksum"]
            .as_str()
            .is_some_and(|c| c.len() == 64),
        "{versions}"
    );

    // every guest is a guest of root version 1, and what it wrote is there
    for g in all.iter().filter(|g| g["state"] != "decommissioned") {
        let name = g["name"].as_str().unwrap();
        assert_eq!(g["target_root_version"], 1, "{g}");
        let booted = if g["state"] == "pooled" {
            json!(null)
        } else {
            json!(1)
        };
        assert_eq!(g["root_version"], booted, "{g}");
        assert_eq!(
            written(&srv, name),
            format!("written by {name} before the upgrade\n")
        );
    }
    for g in by_state(&all, "running")
        .iter()
        .chain(&by_state(&all, "stopped"))
    {
        let owner = g["owner"].as_str().unwrap();
        assert_eq!(g["description"], format!("{owner}'s server"), "{g}");
    }

    // every guest still boots, on root version 1
    let stopped = by_state(&all, "stopped")[0]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let running = by_state(&all, "running")[0]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.post_json(
        &format!("/api/v1/guests/{stopped}/power"),
        Some(&admin),
        &json!({"action": "start"}),
    )
    .expect(202);
    srv.post_json(
        &format!("/api/v1/guests/{running}/power"),
        Some(&admin),
        &json!({"action": "restart"}),
    )
    .expect(202);
    srv.login("carol", "carol-pw");
    let taken = srv
        .post_json("/api/v1/guests", Some(&admin), &json!({"owner": "carol"}))
        .ok(201);
    let pooled = taken["name"].as_str().unwrap().to_owned();
    for name in [&stopped, &pooled] {
        let g = wait_state(&srv, &admin, name, "running");
        assert_eq!(g["root_version"], 1, "{g}");
    }
    let zvm = srv.zvm_state();
    for name in [&stopped, &pooled] {
        assert_eq!(
            zvm["users"][name.as_str()]["booted_root"],
            "root:golden@1",
            "{name}"
        );
    }
    srv.step_until("the restart on root version 1", STEP, SETTLE, || {
        let booted = &srv.zvm_state()["users"][running.as_str()]["booted_root"];
        (*booted == "root:golden@1").then_some(())
    });
    wait_state(&srv, &admin, &running, "running");
    for name in [&stopped, &pooled, &running] {
        assert_eq!(
            written(&srv, name),
            format!("written by {name} before the upgrade\n")
        );
    }
    assert!(
        srv.reconcile().is_empty(),
        "the database and the host agree after the upgrade"
    );

    // and the old guests take the next root version like any other
    let publish = srv
        .post_json(
            "/api/v1/images/golden/versions",
            Some(&admin),
            &json!({"label": "first patch"}),
        )
        .ok(202);
    srv.wait_for("the publication", SETTLE, || {
        let j = srv
            .get(&format!("/api/v1/jobs/{}", publish["id"]), Some(&admin))
            .ok(200);
        (j["status"] == "succeeded").then_some(())
    });
    let rollout = srv
        .post_json(
            "/api/v1/images/golden/rollouts",
            Some(&admin),
            &json!({"version": 2, "batch_size": 3, "min_healthy_percent": 0}),
        )
        .ok(202);
    let done = srv.step_until("the rollout", STEP, SETTLE, || {
        let j = srv
            .get(&format!("/api/v1/jobs/{}", rollout["id"]), Some(&admin))
            .ok(200);
        j["finished_at"].is_string().then_some(j)
    });
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["updated"], 3, "{done}");
    for name in [&stopped, &pooled, &running] {
        assert_eq!(state_of(&srv, &admin, name)["root_version"], 2, "{name}");
        assert_eq!(
            written(&srv, name),
            format!("written by {name} before the upgrade\n")
        );
    }
}
