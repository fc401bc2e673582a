//! Makes the installation the upgrade test starts from: run once, with
//! the release being upgraded from, then checked in under
//! `tests/fixtures/upgrade-from-0.1/`:
//!
//! ```text
//! HERD_TEST_SERVER_BIN=/path/to/old/herd-server \
//! HERD_MAKE_UPGRADE_FIXTURE=tests/fixtures/upgrade-from-0.1 \
//!   scripts/test.sh --with-services cargo test -p herd-tests --test upgrade_fixture -- --ignored
//! ```
//!
//! Guests in every settled state (pooled, running, stopped, decommissioned),
//! and bytes written by each guest into its disk, on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{FileClock, SharedClock};
use herd_core::domain::GuestName;
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use herd_provisioner::backend::{DiskId, Storage};
use herd_tests::{json, Db, Layout, TestServer, Value};

const SETTLE: Duration = Duration::from_secs(60);

#[test]
#[ignore = "makes the upgrade fixture; run by hand with the old release"]
fn make_upgrade_fixture() {
    let out = PathBuf::from(std::env::var("HERD_MAKE_UPGRADE_FIXTURE").expect("output dir"));
    make(Db::Sqlite, &out.join("sqlite"));
    make(Db::Postgres, &out.join("postgres"));
}

fn state_of(srv: &TestServer, token: &str, name: &str) -> String {
    srv.get(&format!("/api/v1/guests/{name}"), Some(token))
        .json()["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn wait_state(srv: &TestServer, token: &str, name: &str, state: &str) {
    let mut step = srv.clock_stepper(Duration::from_secs(1));
    srv.wait_for(&format!("{name} {state}"), SETTLE, || {
        step();
        (state_of(srv, token, name) == state).then_some(())
    });
}

fn request(srv: &TestServer, user: &str, description: &str) -> (String, String) {
    let token = srv.login(user, &format!("{user}-pw"));
    let g = srv
        .post_json("/api/v1/guests", Some(&token), &json!({}))
        .json();
    let name = g["name"]
        .as_str()
        .or_else(|| g["guest"].as_str())
        .unwrap_or_else(|| panic!("no guest in {g}"))
        .to_owned();
    srv.wait_for("the guest row", SETTLE, || {
        srv.get(&format!("/api/v1/guests/{name}"), Some(&token))
            .status
            .eq(&200)
            .then_some(())
    });
    wait_state(srv, &token, &name, "running");
    srv.patch_json(
        &format!("/api/v1/guests/{name}"),
        Some(&token),
        &json!({ "description": description }),
    )
    .ok(200);
    (name, token)
}

fn make(db: Db, out: &Path) {
    let mut srv = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", "2")
        .env("HERD_IMAGE_SIZE_MB", "1")
        .start()
        .expect("services");
    let admin = srv.admin_token();
    let (running, _) = request(&srv, "alice", "alice's server");
    let (stopped, bob) = request(&srv, "bob", "bob's server");
    srv.post_json(
        &format!("/api/v1/guests/{stopped}/power"),
        Some(&bob),
        &json!({ "action": "stop" }),
    );
    wait_state(&srv, &bob, &stopped, "stopped");
    let (gone, dave) = request(&srv, "dave", "dave's server");
    srv.delete(&format!("/api/v1/guests/{gone}"), Some(&dave));
    wait_state(&srv, &admin, &gone, "decommissioned");
    srv.wait_for("a full pool", SETTLE, || {
        let p: Value = srv.get("/api/v1/pool", Some(&admin)).json();
        (p["available"] == 2 && p["provisioning"] == 0).then_some(())
    });
    srv.stop();

    // What each guest wrote into its disk (through the hypervisor, as the
    // guest's own writes would land).
    let clock: SharedClock = Arc::new(FileClock::new(srv.clock_path()));
    let sim = SimBackend::attach(&srv.data_dir(), clock, SimSettings::default()).expect("sim");
    let guests: Vec<Value> = {
        let state = srv.zvm_state();
        state["users"]
            .as_object()
            .expect("users")
            .keys()
            .map(|k| json!(k))
            .collect()
    };
    for g in &guests {
        let name: GuestName = g.as_str().unwrap().parse().unwrap();
        let line = format!("written by {name} before the upgrade\n");
        sim.write_disk(&DiskId::segment_of(&name), 512 * 1024, line.as_bytes())
            .expect("write");
    }
    drop(sim);

    std::fs::create_dir_all(out).expect("out dir");
    let copy = std::process::Command::new("cp")
        .arg("-a")
        .arg(srv.data_dir().join("."))
        .arg(out.join("data"))
        .status()
        .expect("cp");
    assert!(copy.success());
    std::fs::copy(srv.clock_path(), out.join("clock")).expect("clock");
    if let Some(pg) = srv.pg() {
        let dump = std::process::Command::new("pg_dump")
            .args(["--no-owner", "--no-privileges", &pg.url])
            .output()
            .expect("pg_dump");
        assert!(dump.status.success());
        std::fs::write(out.join("herd.sql"), dump.stdout).expect("write dump");
    }
    let _ = std::fs::remove_dir_all(out.join("data/images"));
    println!(
        "fixture in {}: running {running}, stopped {stopped}, decommissioned {gone}",
        out.display()
    );
}
