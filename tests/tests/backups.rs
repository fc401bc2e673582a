//! Backup and restore (SPEC §12), on SQLite: a backup taken while a batch
//! is being provisioned (the server writing all along) restores into an
//! empty data directory; the restored server starts, reconciles, holds
//! every guest that was finished when the backup began, resumes the batch,
//! and leaves nothing orphaned on the host.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use herd_tests::{json, Db, Layout, TestServer, Value};

const SETTLE: Duration = Duration::from_secs(90);

fn server(fixture: Option<&Path>) -> Option<TestServer> {
    let mut b = TestServer::builder(Db::Sqlite)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", "0")
        .env("HERD_POOL_COPY_METHOD", "ddr")
        .env("HERD_PROVISION_CONCURRENCY", "1")
        .env("HERD_IMAGE_SIZE_MB", "8")
        .env("HERD_IMAGE_SEGMENT_SIZE_MB", "4");
    if let Some(dir) = fixture {
        b = b.from_fixture(dir);
    }
    b.start()
}

fn guests(srv: &TestServer, admin: &str) -> Vec<Value> {
    let page = srv.get("/api/v1/guests?limit=500", Some(admin)).ok(200);
    page["items"].as_array().expect("items").clone()
}

/// Guests a saga finished making (not provisioning, failed or gone).
fn finished(guests: &[Value]) -> BTreeSet<String> {
    guests
        .iter()
        .filter(|g| {
            !matches!(
                g["state"].as_str(),
                Some("provisioning" | "failed" | "decommissioning" | "decommissioned")
            )
        })
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

fn batch(srv: &TestServer, token: &str, id: &Value) -> Value {
    srv.get(&format!("/api/v1/provisioning/batches/{id}"), Some(token))
        .ok(200)
}

#[test]
fn a_backup_taken_during_a_batch_restores_with_every_finished_guest() {
    let Some(mut srv) = server(None) else { return };
    let staff = srv.login("bob", "bob-pw");
    let admin = srv.admin_token();
    let b = srv
        .post_json(
            "/api/v1/provisioning/batches",
            Some(&staff),
            &json!({ "ldap_group": "course-101", "guests_per_user": 2 }),
        )
        .ok(202);
    let id = b["id"].clone();
    // back up once some guests are made and others are still being copied
    let deadline = Instant::now() + SETTLE;
    let before = loop {
        let made = finished(&guests(&srv, &admin));
        if !made.is_empty() {
            break made;
        }
        assert!(Instant::now() < deadline, "no guest made");
        std::thread::sleep(Duration::from_millis(5));
    };
    let work = tempfile::tempdir().unwrap();
    let backup = work.path().join("backup");
    let out = srv.run_command(&["backup", backup.to_str().unwrap()]);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "backup: {said}");
    let running = batch(&srv, &staff, &id);
    assert!(
        running["status"] == "running" || running["status"] == "queued",
        "the batch ended before the backup did: make it slower ({running})"
    );
    // a backup directory is not filled twice
    let again = srv.run_command(&["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    srv.stop();

    // restore into an empty data directory, then start there
    let fixture = work.path().join("fixture");
    let data = fixture.join("data");
    let out = srv.run_command_with(
        &["restore", backup.to_str().unwrap()],
        &[
            ("HERD_DATA_DIR", data.to_str().unwrap()),
            ("HERD_DATABASE_URL", data.join("herd.db").to_str().unwrap()),
        ],
    );
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "restore: {said}");
    // and never over a data directory in use
    let over = srv.run_command_with(
        &["restore", backup.to_str().unwrap()],
        &[
            ("HERD_DATA_DIR", data.to_str().unwrap()),
            ("HERD_DATABASE_URL", data.join("herd.db").to_str().unwrap()),
        ],
    );
    assert!(!over.status.success());
    assert!(String::from_utf8_lossy(&over.stderr).contains("not empty"));

    let restored = server(Some(&fixture)).expect("the restored server starts");
    let admin = restored.admin_token();
    let differences = restored.reconcile();
    assert!(differences.is_empty(), "{differences:#?}");
    let now = finished(&guests(&restored, &admin));
    let lost: Vec<_> = before.difference(&now).collect();
    assert!(
        lost.is_empty(),
        "guests finished before the backup are gone: {lost:?}"
    );

    // the batch resumes once the dead worker's claims are stale, and ends
    // with every guest on the host and nothing else there
    restored.advance_clock(Duration::from_secs(61));
    let staff = restored.login("bob", "bob-pw");
    let done = restored.wait_for("the restored batch to end", SETTLE, || {
        let b = batch(&restored, &staff, &id);
        (b["status"] != "queued" && b["status"] != "running").then_some(b)
    });
    assert_eq!(done["status"], "succeeded", "{done}");
    let all: BTreeSet<String> = guests(&restored, &admin)
        .iter()
        .filter(|g| g["state"] != "decommissioned")
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 14, "{all:?}");
    restored.assert_hypervisor_holds(&all);
}
