//! Resets to known good (SPEC §8): a fresh copy of the image's segment in
//! place of a guest's own while everything else about the guest stays, the
//! old segment kept for undo until it expires, who may reset what, and a
//! reset cut by SIGKILL. Real `herd-server` processes on SQLite and
//! PostgreSQL, the simulated host read and written from outside through its
//! data directory; OpenSSH's `ssh-keygen` is the oracle for fingerprints.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{FileClock, SharedClock};
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use herd_provisioner::backend::{BackendError, DiskId, Storage};
use herd_tests::{
    db_tests, json, parse_rfc3339_utc, ssh_keygen, Db, Layout, Method, Reply, TestServer, Value,
};

db_tests!(
    a_reset_keeps_the_guest_and_gives_fresh_bytes_until_undone,
    resets_are_refused_when_they_should_be,
    a_reset_with_a_new_host_key_gives_a_new_identity,
    the_kept_segment_expires_after_seven_days,
    a_reset_cut_by_sigkill_resumes,
);

/// Wall time a piece of background work may take.
const SETTLE: Duration = Duration::from_secs(60);
/// How far the clock moves between looks while driving work on.
const STEP: Duration = Duration::from_secs(2);
const DAY_MS: i64 = 86_400_000;
/// Where the tests write into a guest's segment (clear of the host key
/// region at its end).
const MARKER_AT: u64 = 4096;
/// The SSH host key region: the last 4 KiB of a segment.
const KEY_REGION: u64 = 4096;

fn server(db: Db) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_IMAGE_SEGMENT_SIZE_MB", "1")
        .env("HERD_POOL_TARGET_SIZE", "1")
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

/// Steps the clock until `done` answers.
fn drive<T>(srv: &TestServer, what: &str, done: impl FnMut() -> Option<T>) -> T {
    srv.step_until(what, STEP, SETTLE, done)
}

/// A pooled guest placed for `owner` (who logs in once first, so that the
/// server knows them); waits for the pool first.
fn take(srv: &TestServer, admin: &str, owner: &str) -> String {
    login(srv, owner);
    drive(srv, "a pooled guest", || {
        let p = srv.get("/api/v1/pool", Some(admin)).ok(200);
        (p["available"].as_u64() >= Some(1)).then_some(())
    });
    let g = srv
        .post_json("/api/v1/guests", Some(admin), &json!({ "owner": owner }))
        .ok(201);
    assert_eq!(g["owner"], owner, "{g}");
    g["name"].as_str().expect("guest name").to_owned()
}

fn running_with_key(srv: &TestServer, admin: &str, name: &str) -> Value {
    drive(srv, &format!("{name} running with a host key"), || {
        let g = guest(srv, admin, name);
        (g["state"] == "running" && g["ssh_host_key"].is_object()).then_some(g)
    })
}

fn reset(srv: &TestServer, token: Option<&str>, name: &str, body: Value) -> Reply {
    srv.post_json(&format!("/api/v1/guests/{name}/reset"), token, &body)
}

fn undo(srv: &TestServer, token: Option<&str>, name: &str) -> Reply {
    let path = format!("/api/v1/guests/{name}/reset/undo");
    srv.send(srv.request(Method::POST, &path, token))
}

/// Starts a reset (`202`) and answers its job.
fn start_reset(
    srv: &TestServer,
    token: &str,
    name: &str,
    confirm: &str,
    new_host_key: bool,
) -> Value {
    let body = json!({ "confirm": confirm, "new_host_key": new_host_key });
    let j = reset(srv, Some(token), name, body).ok(202);
    assert_eq!(j["kind"], "reset", "{j}");
    assert_eq!(j["target"], name, "{j}");
    assert!(
        matches!(j["status"].as_str(), Some("queued" | "running")),
        "{j}"
    );
    j
}

/// Starts an undo (`202`) and answers its job.
fn start_undo(srv: &TestServer, token: &str, name: &str) -> Value {
    let j = undo(srv, Some(token), name).ok(202);
    assert_eq!(j["kind"], "reset_undo", "{j}");
    assert_eq!(j["target"], name, "{j}");
    j
}

fn finished(srv: &TestServer, admin: &str, id: &Value) -> Option<Value> {
    let j = job(srv, admin, id);
    matches!(
        j["status"].as_str(),
        Some("succeeded" | "failed" | "cancelled")
    )
    .then_some(j)
}

/// Steps the clock until job `id` ends; asserts it succeeded.
fn succeeded(srv: &TestServer, admin: &str, id: &Value, what: &str) -> Value {
    let done = drive(srv, what, || finished(srv, admin, id));
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["error"], Value::Null, "{done}");
    done
}

fn sim(srv: &TestServer) -> SimBackend {
    let clock: SharedClock = Arc::new(FileClock::new(srv.clock_path()));
    SimBackend::attach(&srv.data_dir(), clock, SimSettings::default()).expect("attach the host")
}

fn segment(name: &str) -> DiskId {
    DiskId::segment_of(&name.parse().unwrap())
}

fn kept(name: &str) -> DiskId {
    DiskId::kept_segment_of(&name.parse().unwrap())
}

fn marker(name: &str) -> Vec<u8> {
    format!("{name} was here before the reset").into_bytes()
}

fn write_marker(srv: &TestServer, name: &str) {
    sim(srv)
        .write_disk(&segment(name), MARKER_AT, &marker(name))
        .expect("write into the segment");
}

/// What `disk` holds where the marker was written.
fn at_marker(srv: &TestServer, disk: &DiskId, name: &str) -> Vec<u8> {
    sim(srv)
        .read_disk(disk, MARKER_AT, marker(name).len())
        .unwrap_or_else(|e| panic!("read {disk}: {e}"))
}

/// The SSH host key region of `disk`.
fn key_region(srv: &TestServer, disk: &DiskId) -> Vec<u8> {
    let sim = sim(srv);
    let size = sim
        .disk_info(disk)
        .unwrap_or_else(|e| panic!("{disk}: {e}"))
        .size;
    sim.read_disk(disk, size - KEY_REGION, KEY_REGION as usize)
        .unwrap_or_else(|e| panic!("read {disk}: {e}"))
}

fn assert_gone(srv: &TestServer, disk: &DiskId) {
    match sim(srv).disk_info(disk) {
        Err(BackendError::NotFound(_)) => {}
        other => panic!("{disk} should be gone: {other:?}"),
    }
}

/// The host's disks of guest `name`, sorted.
fn disks_of(srv: &TestServer, name: &str) -> Vec<String> {
    let zvm = srv.zvm_state();
    let mut disks: Vec<String> = zvm["disks"]
        .as_object()
        .expect("zvm disks")
        .keys()
        .filter(|d| d.split('.').next() == Some(name))
        .cloned()
        .collect();
    disks.sort();
    disks
}

/// Every guest there is, once the pool keeper is idle.
fn all_guests(srv: &TestServer, admin: &str) -> BTreeSet<String> {
    srv.wait_for("the pool keeper to finish", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(admin)).ok(200);
        (p["provisioning"] == 0).then_some(())
    });
    let page = srv.get("/api/v1/guests?limit=500", Some(admin)).ok(200);
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Each service with its boot-time enablement.
fn enablement(srv: &TestServer, token: &str, name: &str) -> Vec<(String, bool)> {
    let page = srv
        .get(&format!("/api/v1/guests/{name}/services"), Some(token))
        .ok(200);
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["enabled"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn service_state(srv: &TestServer, token: &str, name: &str, service: &str) -> Value {
    let page = srv
        .get(&format!("/api/v1/guests/{name}/services"), Some(token))
        .ok(200);
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["name"] == service)
        .unwrap_or_else(|| panic!("no service {service} on {name}: {page}"))["state"]
        .clone()
}

/// The ids of the guest's open leases.
fn lease_ids(srv: &TestServer, token: &str, name: &str) -> Vec<Value> {
    let page = srv
        .get(
            &format!("/api/v1/guests/{name}/firewall/leases"),
            Some(token),
        )
        .ok(200);
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| l["id"].clone())
        .collect()
}

fn known_hosts(srv: &TestServer, token: &str, name: &str) -> String {
    srv.get(&format!("/api/v1/guests/{name}/known_hosts"), Some(token))
        .expect(200)
        .body
        .clone()
}

/// The guest's segment is a fresh one, what the guest wrote is in the
/// kept one.
fn assert_swapped(srv: &TestServer, name: &str) {
    assert_ne!(
        at_marker(srv, &segment(name), name),
        marker(name),
        "the segment still holds what the guest wrote"
    );
    assert_eq!(
        at_marker(srv, &kept(name), name),
        marker(name),
        "the kept segment does not hold what the guest wrote"
    );
}

fn detail(p: &Value) -> &str {
    p["detail"].as_str().expect("detail")
}

/// Asserts that a reset or undo kept what makes the guest this guest.
fn assert_same_guest(before: &Value, after: &Value) {
    for field in [
        "name",
        "owner",
        "hostname",
        "ip_address",
        "lan",
        "image",
        "auto_boot",
        "ssh_host_key",
    ] {
        assert_eq!(
            after[field], before[field],
            "{field} changed\nbefore: {before}\nafter: {after}"
        );
    }
}

/// `reset_undo_until` of a guest just reset: the job's end plus the
/// default 7 days.
fn assert_kept_for_seven_days(g: &Value, done: &Value) -> i64 {
    let until = g["reset_undo_until"]
        .as_str()
        .unwrap_or_else(|| panic!("no reset_undo_until after a reset: {g}"));
    let until = parse_rfc3339_utc(until);
    let end = parse_rfc3339_utc(done["finished_at"].as_str().expect("finished_at"));
    assert_eq!(
        until - end,
        7 * DAY_MS,
        "reset_undo_until is not 7 days after the reset's end\nguest: {g}\njob: {done}"
    );
    until
}

// ---------------------------------------------------------------------------

fn a_reset_keeps_the_guest_and_gives_fresh_bytes_until_undone(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = srv.admin_token();
    let name = take(&srv, &admin, "s01");
    let s01 = login(&srv, "s01");
    let before = running_with_key(&srv, &admin, &name);
    assert_eq!(
        before.get("reset_undo_until"),
        Some(&Value::Null),
        "never reset: {before}"
    );

    // what the owner set up: a service enabled at boot, an open port
    let mysql = srv
        .patch_json(
            &format!("/api/v1/guests/{name}/services/mysql"),
            Some(&s01),
            &json!({ "enabled": true }),
        )
        .ok(200);
    assert_eq!(mysql["enabled"], true, "{mysql}");
    let lease = srv
        .post_json(
            &format!("/api/v1/guests/{name}/firewall/leases"),
            Some(&s01),
            &json!({ "protocol": "tcp", "port": 8080 }),
        )
        .ok(201);
    let enabled = enablement(&srv, &s01, &name);
    let leases = lease_ids(&srv, &s01, &name);
    assert_eq!(leases, vec![lease["id"].clone()]);
    let line = known_hosts(&srv, &s01, &name);
    // and what the guest wrote
    write_marker(&srv, &name);

    // the name, typed in any case, confirms it
    let j = start_reset(&srv, &s01, &name, &name.to_lowercase(), false);
    assert_eq!(
        guest(&srv, &s01, &name)["state"],
        "stopping",
        "a reset halts the guest first"
    );
    let done = succeeded(&srv, &admin, &j["id"], "the reset");
    assert_eq!(done["kind"], "reset", "{done}");

    // it was running: it runs again, the same guest
    let after = running_with_key(&srv, &admin, &name);
    assert_same_guest(&before, &after);
    assert_kept_for_seven_days(&after, &done);
    assert_eq!(enablement(&srv, &s01, &name), enabled, "enablement changed");
    assert_eq!(
        service_state(&srv, &s01, &name, "mysql"),
        "up",
        "mysql is enabled: it starts at the boot after the reset"
    );
    assert_eq!(lease_ids(&srv, &s01, &name), leases, "leases changed");
    assert_eq!(known_hosts(&srv, &s01, &name), line);
    let lan = after["lan"].as_str().unwrap();
    let granted = srv.zvm_state()["lans"][lan]["granted"].clone();
    assert!(
        granted
            .as_array()
            .is_some_and(|a| a.iter().any(|g| *g == *name)),
        "{name} lost its grant to {lan}: {granted}"
    );

    // fresh bytes in the segment, the old ones kept beside it, the host key
    // carried over
    assert_swapped(&srv, &name);
    let key = key_region(&srv, &segment(&name));
    assert!(
        key.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----"),
        "{:?}",
        String::from_utf8_lossy(&key[..64])
    );
    assert!(
        key == key_region(&srv, &kept(&name)),
        "the host key was not carried over into the fresh segment"
    );
    assert_eq!(
        disks_of(&srv, &name),
        vec![format!("{name}.0100"), format!("{name}.0101")]
    );

    // the undo puts the old segment back and drops the fresh one
    let j = start_undo(&srv, &s01, &name);
    assert_eq!(guest(&srv, &s01, &name)["state"], "stopping");
    succeeded(&srv, &admin, &j["id"], "the undo");
    let back = running_with_key(&srv, &admin, &name);
    assert_same_guest(&before, &back);
    assert_eq!(
        back.get("reset_undo_until"),
        Some(&Value::Null),
        "nothing is kept after the undo: {back}"
    );
    assert_eq!(
        at_marker(&srv, &segment(&name), &name),
        marker(&name),
        "the undo did not bring back what the guest wrote"
    );
    assert_gone(&srv, &kept(&name));
    assert_eq!(enablement(&srv, &s01, &name), enabled);
    assert_eq!(lease_ids(&srv, &s01, &name), leases);
    let p = undo(&srv, Some(&s01), &name).problem(404);
    assert!(detail(&p).contains(&name), "{p}");

    // nothing left behind on the host, and the database agrees with it
    srv.assert_hypervisor_holds(&all_guests(&srv, &admin));
    let differences = srv.reconcile();
    assert!(
        differences.is_empty(),
        "herd-server reconcile found differences: {differences:#?}"
    );
}

fn resets_are_refused_when_they_should_be(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = srv.admin_token();
    let name = take(&srv, &admin, "s01");
    running_with_key(&srv, &admin, &name);
    let s01 = login(&srv, "s01");
    let s02 = login(&srv, "s02");
    let bob = login(&srv, "bob");
    let ok = json!({ "confirm": name });

    // nothing kept yet: nothing to undo
    let p = undo(&srv, Some(&s01), &name).problem(404);
    assert!(detail(&p).contains(&name), "{p}");

    // another student's guest is as if there were none; staff may look
    // but not reset; no token, no reset
    reset(&srv, Some(&s02), &name, ok.clone()).problem(404);
    undo(&srv, Some(&s02), &name).problem(404);
    let p = reset(&srv, Some(&bob), &name, ok.clone()).problem(403);
    assert!(detail(&p).contains(&name), "{p}");
    undo(&srv, Some(&bob), &name).problem(403);
    reset(&srv, None, &name, ok.clone()).unauthorized();
    undo(&srv, None, &name).unauthorized();
    reset(
        &srv,
        Some(&admin),
        "LX999999",
        json!({"confirm": "LX999999"}),
    )
    .problem(404);

    // the guest's name must be typed, exactly
    for confirm in ["", "yes", "LX999999", &name[..name.len() - 1]] {
        let p = reset(&srv, Some(&s01), &name, json!({ "confirm": confirm })).problem(422);
        assert!(
            detail(&p).contains(&name),
            "the problem should name the guest to type: {p}"
        );
    }
    reset(&srv, Some(&s01), &name, json!({})).problem(422);
    let p = reset(
        &srv,
        Some(&s01),
        &name,
        json!({ "confirm": name, "new_hostkey": true }),
    )
    .problem(422);
    assert!(detail(&p).contains("new_hostkey"), "{p}");
    let g = guest(&srv, &s01, &name);
    assert_eq!(g["state"], "running", "a refused reset halted it: {g}");
    assert_eq!(g["reset_undo_until"], Value::Null, "{g}");

    // a pooled guest is nobody's to reset
    let pooled = drive(&srv, "a pooled guest", || {
        let p = srv.get("/api/v1/guests?state=pooled", Some(&admin)).ok(200);
        p["items"].as_array().and_then(|a| a.first().cloned())
    });
    let pname = pooled["name"].as_str().unwrap();
    let p = reset(&srv, Some(&admin), pname, json!({ "confirm": pname })).problem(409);
    assert!(detail(&p).contains(pname), "{p}");

    // one reset at a time, whoever asks
    let j = start_reset(&srv, &s01, &name, &name, false);
    let id = j["id"].to_string();
    let p = reset(&srv, Some(&s01), &name, ok.clone()).problem(409);
    assert!(
        detail(&p).contains(&name) && detail(&p).contains(&id),
        "the problem should name the guest and the reset under way: {p}"
    );
    let carol = login(&srv, "carol");
    reset(&srv, Some(&carol), &name, ok.clone()).problem(409);
    // nor may anything else boot, stop or remove the guest meanwhile
    let path = format!("/api/v1/guests/{name}/power");
    let c = srv
        .post_json(&path, Some(&s01), &json!({ "action": "start" }))
        .ok(202);
    // (the clock stands still: the reset is halting the guest all along)
    let done = srv.wait_for("the start to be answered", SETTLE, || {
        let id = &c["command_id"];
        let c = srv
            .get(&format!("/api/v1/commands/{id}"), Some(&s01))
            .ok(200);
        (c["status"] == "failed").then_some(c)
    });
    assert!(
        done["result"]
            .as_str()
            .unwrap_or_default()
            .contains("being reset"),
        "{done}"
    );
    let p = srv
        .delete(&format!("/api/v1/guests/{name}"), Some(&s01))
        .problem(409);
    assert!(detail(&p).contains(&id), "{p}");
    succeeded(&srv, &admin, &j["id"], "the reset");

    // an admin may undo (and reset) anyone's guest; the guest runs first,
    // so that the undo waits for its HALT (the clock stands still) and is
    // still under way when the owner asks again
    running_with_key(&srv, &admin, &name);
    let j = start_undo(&srv, &carol, &name);
    undo(&srv, Some(&s01), &name).problem(409);
    succeeded(&srv, &admin, &j["id"], "the undo");
    undo(&srv, Some(&s01), &name).problem(404);
    let j = start_reset(&srv, &carol, &name, &name, false);
    succeeded(&srv, &admin, &j["id"], "the admin's reset");
    running_with_key(&srv, &admin, &name);
}

fn a_reset_with_a_new_host_key_gives_a_new_identity(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = srv.admin_token();
    let name = take(&srv, &admin, "s02");
    let s02 = login(&srv, "s02");
    let before = running_with_key(&srv, &admin, &name);
    let old = before["ssh_host_key"].clone();

    let j = start_reset(&srv, &s02, &name, &name, true);
    succeeded(&srv, &admin, &j["id"], "the reset");
    // the old key is no longer the guest's: not shown until the new one
    // is reported at the boot
    let between = guest(&srv, &s02, &name);
    assert_eq!(between["ssh_host_key"], Value::Null, "{between}");

    let after = running_with_key(&srv, &admin, &name);
    let new = &after["ssh_host_key"];
    assert_eq!(new["algorithm"], "ssh-ed25519", "{new}");
    assert_ne!(new["fingerprint"], old["fingerprint"], "the same host key");
    assert_ne!(new["public_key"], old["public_key"], "the same host key");
    let public = new["public_key"].as_str().unwrap();
    let listed = ssh_keygen(&["-l", "-E", "sha256", "-f"], public);
    assert_eq!(
        listed.split_whitespace().nth(1),
        new["fingerprint"].as_str(),
        "{listed}"
    );
    for field in ["hostname", "ip_address", "owner", "lan"] {
        assert_eq!(after[field], before[field], "{field} changed: {after}");
    }
    // the fresh segment holds the new private key, the kept one the old
    let fresh = key_region(&srv, &segment(&name));
    assert!(
        fresh.starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----"),
        "{:?}",
        String::from_utf8_lossy(&fresh[..64])
    );
    assert!(
        fresh != key_region(&srv, &kept(&name)),
        "the fresh segment holds the old private key"
    );
    let line = known_hosts(&srv, &s02, &name);
    assert!(line.ends_with(&format!(" {public}\n")), "{line}");

    // the undo brings back the old identity
    let j = start_undo(&srv, &s02, &name);
    succeeded(&srv, &admin, &j["id"], "the undo");
    let back = running_with_key(&srv, &admin, &name);
    assert_eq!(back["ssh_host_key"], old, "{back}");
}

fn the_kept_segment_expires_after_seven_days(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = srv.admin_token();
    let name = take(&srv, &admin, "s03");
    let s03 = login(&srv, "s03");
    running_with_key(&srv, &admin, &name);
    write_marker(&srv, &name);
    let j = start_reset(&srv, &s03, &name, &name, false);
    let done = succeeded(&srv, &admin, &j["id"], "the reset");
    let g = running_with_key(&srv, &admin, &name);
    let until = assert_kept_for_seven_days(&g, &done);
    let until_text = g["reset_undo_until"].clone();

    // a minute before its time it is still kept
    let now = srv.now_ms();
    srv.advance_clock(Duration::from_millis((until - now - 60_000) as u64));
    std::thread::sleep(Duration::from_millis(1500));
    // (tokens have expired meanwhile)
    let admin = srv.admin_token();
    let s03 = login(&srv, "s03");
    assert_eq!(guest(&srv, &s03, &name)["reset_undo_until"], until_text);
    assert_eq!(at_marker(&srv, &kept(&name), &name), marker(&name));

    // past it, it is deleted and the reset can no longer be undone
    srv.advance_clock(Duration::from_secs(120));
    drive(&srv, "the kept segment to expire", || {
        guest(&srv, &s03, &name)["reset_undo_until"]
            .is_null()
            .then_some(())
    });
    assert_gone(&srv, &kept(&name));
    assert_eq!(disks_of(&srv, &name), vec![format!("{name}.0100")]);
    assert_ne!(
        at_marker(&srv, &segment(&name), &name),
        marker(&name),
        "the guest's own segment is the fresh one still"
    );
    let p = undo(&srv, Some(&s03), &name).problem(404);
    assert!(detail(&p).contains(&name), "{p}");
    // the owner is told
    let events = srv
        .get(
            &format!("/api/v1/events?guest={name}&limit=500"),
            Some(&s03),
        )
        .ok(200);
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "guest.reset_expired"),
        "{events}"
    );
    srv.assert_hypervisor_holds(&all_guests(&srv, &admin));
}

fn a_reset_cut_by_sigkill_resumes(db: Db) {
    let Some(mut srv) = server(db) else { return };
    let admin = srv.admin_token();
    let name = take(&srv, &admin, "s04");
    let s04 = login(&srv, "s04");
    let before = running_with_key(&srv, &admin, &name);
    write_marker(&srv, &name);

    // cut while the guest halts: the clock stands still, so the HALT does
    // not end before the kill
    let j = start_reset(&srv, &s04, &name, &name, false);
    srv.wait_for("the reset to halt the guest", SETTLE, || {
        let claimed = job(&srv, &admin, &j["id"])["status"] == "running";
        let zvm = srv.zvm_state();
        let halting = zvm["users"][name.as_str()]["power"]
            .get("Stopping")
            .is_some();
        (claimed && halting).then_some(())
    });
    srv.kill();
    srv.restart();
    let admin = srv.admin_token();
    // the dead worker's claim is taken over once it is stale
    srv.advance_clock(Duration::from_secs(61));
    let done = succeeded(&srv, &admin, &j["id"], "the resumed reset");

    let after = running_with_key(&srv, &admin, &name);
    assert_same_guest(&before, &after);
    assert_kept_for_seven_days(&after, &done);
    assert_swapped(&srv, &name);
    assert!(
        key_region(&srv, &segment(&name)) == key_region(&srv, &kept(&name)),
        "the host key was not carried over"
    );
    // nothing half done left behind: the kept segment beside each guest's
    // own, nothing else, and the database agrees with the host
    // (assert_hypervisor_holds allows no kept segment)
    let guests = all_guests(&srv, &admin);
    assert!(guests.contains(&name), "{guests:?}");
    for g in &guests {
        let want = if *g == name {
            vec![format!("{g}.0100"), format!("{g}.0101")]
        } else {
            vec![format!("{g}.0100")]
        };
        assert_eq!(disks_of(&srv, g), want, "{g}");
    }
    let differences = srv.reconcile();
    assert!(
        differences.is_empty(),
        "herd-server reconcile found differences: {differences:#?}"
    );

    // and it is a good undo point
    let s04 = login(&srv, "s04");
    let j = start_undo(&srv, &s04, &name);
    succeeded(&srv, &admin, &j["id"], "the undo");
    running_with_key(&srv, &admin, &name);
    assert_eq!(at_marker(&srv, &segment(&name), &name), marker(&name));
    srv.assert_hypervisor_holds(&all_guests(&srv, &admin));
}
