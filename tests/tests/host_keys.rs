//! First-boot SSH identity (SPEC §8): each guest makes its own Ed25519 host
//! key, the API shows it, `known_hosts` lines and SSHFP records carry it.
//! OpenSSH's `ssh-keygen` and BIND's `named-checkzone` are the oracles.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{FileClock, SharedClock};
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use herd_provisioner::backend::{DiskId, Storage};
use herd_tests::{db_tests, json, ssh_keygen, Db, Layout, TestServer, Value};

db_tests!(every_guest_makes_its_own_host_key_and_keeps_it);

const SETTLE: Duration = Duration::from_secs(60);

fn guest(srv: &TestServer, token: &str, name: &str) -> Value {
    srv.get(&format!("/api/v1/guests/{name}"), Some(token))
        .ok(200)
}

/// Steps the clock until `done` answers.
fn drive<T>(srv: &TestServer, what: &str, done: impl FnMut() -> Option<T>) -> T {
    srv.step_until(what, Duration::from_secs(2), SETTLE, done)
}

fn running_with_key(srv: &TestServer, admin: &str, name: &str) -> Value {
    drive(srv, &format!("{name} running with a host key"), || {
        let g = guest(srv, admin, name);
        (g["state"] == "running" && g["ssh_host_key"].is_object()).then_some(g)
    })
}

fn take(srv: &TestServer, admin: &str, owner: &str) -> String {
    srv.login(owner, &format!("{owner}-pw"));
    drive(srv, "a pooled guest", || {
        let r = srv.post_json("/api/v1/guests", Some(admin), &json!({ "owner": owner }));
        (r.status == 201).then(|| r.json()["name"].as_str().unwrap().to_owned())
    })
}

fn every_guest_makes_its_own_host_key_and_keeps_it(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_POOL_TARGET_SIZE", "2")
        .start()
    else {
        return;
    };
    let admin = srv.admin_token();
    // a pooled guest has never booted: no key yet
    let pooled = drive(&srv, "the pool", || {
        let p = srv.get("/api/v1/guests?state=pooled", Some(&admin)).ok(200);
        p["items"].as_array().and_then(|a| a.first().cloned())
    });
    assert_eq!(pooled["ssh_host_key"], Value::Null, "{pooled}");
    let pname = pooled["name"].as_str().unwrap();
    srv.get(&format!("/api/v1/guests/{pname}/known_hosts"), Some(&admin))
        .problem(404);

    let a = take(&srv, &admin, "s01");
    let b = take(&srv, &admin, "s02");
    let ga = running_with_key(&srv, &admin, &a);
    let gb = running_with_key(&srv, &admin, &b);
    let key = ga["ssh_host_key"].clone();
    assert_eq!(key["algorithm"], "ssh-ed25519", "{key}");
    let public = key["public_key"].as_str().unwrap();
    assert!(public.starts_with("ssh-ed25519 AAAA"), "{key}");
    assert_ne!(
        key["public_key"], gb["ssh_host_key"]["public_key"],
        "two guests share a key"
    );

    // the fingerprint exactly as ssh-keygen prints it
    let listed = ssh_keygen(&["-l", "-E", "sha256", "-f"], public);
    assert_eq!(
        listed.split_whitespace().nth(1),
        key["fingerprint"].as_str(),
        "{listed}"
    );

    // the private key lives in the guest's segment
    let clock: SharedClock = Arc::new(FileClock::new(srv.clock_path()));
    let sim = SimBackend::attach(&srv.data_dir(), clock, SimSettings::default()).unwrap();
    let disk = DiskId::segment_of(&a.parse().unwrap());
    let size = sim.disk_info(&disk).unwrap().size;
    let tail = sim.read_disk(&disk, size - 4096, 64).unwrap();
    assert!(
        tail.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----"),
        "{:?}",
        String::from_utf8_lossy(&tail)
    );

    // known_hosts lines: the owner and staff, not another student
    let s01 = srv.login("s01", "s01-pw");
    let line = srv
        .get(&format!("/api/v1/guests/{a}/known_hosts"), Some(&s01))
        .expect(200)
        .body
        .clone();
    let host = ga["hostname"].as_str().unwrap();
    let ip = ga["ip_address"].as_str().unwrap();
    assert_eq!(line, format!("{host},{ip} {public}\n"));
    let s02 = srv.login("s02", "s02-pw");
    srv.get(&format!("/api/v1/guests/{a}/known_hosts"), Some(&s02))
        .problem(404);
    srv.get("/api/v1/ssh/known_hosts", Some(&s02)).problem(403);
    let bob = srv.login("bob", "bob-pw");
    let all = srv
        .get("/api/v1/ssh/known_hosts", Some(&bob))
        .expect(200)
        .body
        .clone();
    assert_eq!(all.lines().count(), 2, "{all}");
    assert!(all.contains(&line), "{all}");

    // SSHFP records as ssh-keygen -r makes them, in a zone BIND accepts
    let zone = srv
        .get("/api/v1/dns/zone", Some(&admin))
        .expect(200)
        .body
        .clone();
    let short = host.split('.').next().unwrap();
    let expected = ssh_keygen(&["-r", short, "-f"], public);
    let sha256 = expected
        .lines()
        .find(|l| l.contains(" 4 2 "))
        .expect("a type 2 record");
    assert!(zone.lines().any(|l| l == sha256), "{sha256} not in\n{zone}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zone");
    std::fs::write(&file, &zone).unwrap();
    let check = Command::new("named-checkzone")
        .arg("herd.local")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}\n{zone}",
        String::from_utf8_lossy(&check.stdout)
    );

    // it survives a reboot and a rollout
    srv.post_json(
        &format!("/api/v1/guests/{a}/power"),
        Some(&s01),
        &json!({"action": "restart"}),
    )
    .expect(202);
    drive(&srv, "the restart", || {
        let z = srv.zvm_state();
        (z["users"][a.as_str()]["power"].get("Running").is_none()).then_some(())
    });
    assert_eq!(running_with_key(&srv, &admin, &a)["ssh_host_key"], key);
    let publish = srv
        .post_json(
            "/api/v1/images/golden/versions",
            Some(&admin),
            &json!({"label": "p"}),
        )
        .ok(202);
    drive(&srv, "the publication", || {
        let j = srv
            .get(&format!("/api/v1/jobs/{}", publish["id"]), Some(&admin))
            .ok(200);
        (j["status"] == "succeeded").then_some(())
    });
    let rollout = srv
        .post_json(
            "/api/v1/images/golden/rollouts",
            Some(&admin),
            &json!({"version": 2, "min_healthy_percent": 0}),
        )
        .ok(202);
    drive(&srv, "the rollout", || {
        let j = srv
            .get(&format!("/api/v1/jobs/{}", rollout["id"]), Some(&admin))
            .ok(200);
        (j["status"] == "succeeded").then_some(())
    });
    let after = running_with_key(&srv, &admin, &a);
    assert_eq!(after["root_version"], 2, "{after}");
    assert_eq!(after["ssh_host_key"], key, "the key changed in the rollout");
}
