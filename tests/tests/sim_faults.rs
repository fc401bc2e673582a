//! Trying faults by hand (SPEC §11): `herd-server sim faults list|add|clear`,
//! run as its own process with the settings of a running server (same data
//! directory, same clock file), arms scripted faults of the simulated
//! hypervisor that the server meets at their next occasion.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use herd_tests::{json, Db, TestServer, Value};

/// Wall time a background step (clone, boot, monitor sweep) may take.
const SETTLE: Duration = Duration::from_secs(30);

/// Every fault kind `add` accepts: each must be named when input is refused.
const KINDS: [&str; 6] = [
    "copy_fails",
    "ipl_fails",
    "fails",
    "hangs",
    "service_dies",
    "root_breaks",
];

fn server(pool_target: u32) -> Option<TestServer> {
    TestServer::builder(Db::Sqlite)
        .env("HERD_POOL_TARGET_SIZE", pool_target.to_string())
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
}

fn faults(srv: &TestServer, args: &[&str]) -> Output {
    let mut all = vec!["sim", "faults"];
    all.extend_from_slice(args);
    srv.run_command(&all)
}

fn show(args: &[&str], out: &Output) -> String {
    format!(
        "herd-server sim faults {args:?}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `sim faults ARGS…`, asserts it succeeded and answers its stdout.
fn ok(srv: &TestServer, args: &[&str]) -> String {
    let out = faults(srv, args);
    assert!(out.status.success(), "{}", show(args, &out));
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs `sim faults ARGS…`, asserts it failed without a panic and printed
/// nothing on stdout; answers its stderr.
fn refused(srv: &TestServer, args: &[&str]) -> String {
    let out = faults(srv, args);
    let what = show(args, &out);
    assert!(!out.status.success(), "{what}");
    assert_ne!(out.status.code(), Some(101), "a panic: {what}");
    assert!(out.stdout.is_empty(), "{what}");
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert!(!stderr.contains("panicked"), "{what}");
    stderr
}

/// `list`, each line parsed as JSON.
fn listed(srv: &TestServer) -> Vec<Value> {
    ok(srv, &["list"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?} is not JSON: {e}")))
        .collect()
}

fn request_guest(srv: &TestServer, admin: &str) -> herd_tests::Reply {
    srv.post_json("/api/v1/guests", Some(admin), &json!({}))
}

/// Waits until job `id` has finished; answers it.
fn finished_job(srv: &TestServer, admin: &str, id: &Value) -> Value {
    let path = format!("/api/v1/jobs/{id}");
    srv.wait_for(&format!("job {id} to finish"), SETTLE, || {
        let j = srv.get(&path, Some(admin)).ok(200);
        matches!(
            j["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        )
        .then_some(j)
    })
}

fn state_of(srv: &TestServer, admin: &str, name: &str) -> String {
    let g = srv
        .get(&format!("/api/v1/guests/{name}"), Some(admin))
        .ok(200);
    g["state"].as_str().expect("state").to_owned()
}

/// Moves the clock on in 3 s steps (polling in between) until the guest runs.
fn wait_running(srv: &TestServer, admin: &str, name: &str) {
    srv.wait_for(&format!("{name} to run"), SETTLE, || {
        srv.advance_clock(Duration::from_secs(3));
        let until = std::time::Instant::now() + Duration::from_millis(1500);
        while std::time::Instant::now() < until {
            if state_of(srv, admin, name) == "running" {
                return Some(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    });
}

/// The monitor's events about a guest, oldest first.
fn monitor_events(srv: &TestServer, admin: &str, name: &str) -> Vec<Value> {
    let page = srv
        .get(
            &format!("/api/v1/events?limit=500&guest={name}&kind=monitor"),
            Some(admin),
        )
        .ok(200);
    let mut items = page["items"].as_array().expect("items").clone();
    items.reverse();
    items
}

fn actions(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Names and sizes of the files of the simulated host.
fn zvm_files(data_dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<(String, u64)> = fs::read_dir(data_dir.join("zvm"))
        .expect("read <data dir>/zvm")
        .map(|e| {
            let e = e.expect("dir entry");
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            (e.file_name().to_string_lossy().into_owned(), len)
        })
        .collect();
    files.sort();
    files
}

/// `{"copy_fails": {}}` armed from the command line: listed until it fires,
/// the next clone fails (its job `failed`), and only that one.
#[test]
fn a_copy_fault_fails_the_next_clone_once() {
    let Some(srv) = server(0) else { return };
    let admin = srv.admin_token();
    assert!(listed(&srv).is_empty(), "no fault armed at first");

    let out = ok(&srv, &["add", r#"{"copy_fails": {}}"#]);
    assert!(out.starts_with("armed: "), "{out}");
    let armed = vec![json!({ "copy_fails": { "at_fraction": 0.5 } })];
    assert_eq!(listed(&srv), armed);
    // the server's own state file holds it: any process sees it
    assert_eq!(srv.zvm_state()["faults"].as_array().map(Vec::len), Some(1));

    let started = request_guest(&srv, &admin).ok(202);
    let job = finished_job(&srv, &admin, &started["job"]["id"]);
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["error"]
            .as_str()
            .is_some_and(|e| e.contains("injected fault")),
        "a failed job tells why: {job}"
    );
    assert!(listed(&srv).is_empty(), "the fault fired: it is gone");

    let started = request_guest(&srv, &admin).ok(202);
    let job = finished_job(&srv, &admin, &started["job"]["id"]);
    assert_eq!(job["status"], "succeeded", "a fault fires once: {job}");
}

/// `list` answers in the shape `add` takes (so it can be fed back), touches
/// nothing; `clear` disarms everything and says how many; bad input is
/// refused with a message naming the accepted shapes, and arms nothing.
#[test]
fn list_add_clear_and_bad_input() {
    let Some(srv) = server(0) else { return };
    assert_eq!(ok(&srv, &["clear"]).trim(), "cleared 0 fault(s)");
    assert_eq!(ok(&srv, &["list"]), "", "nothing armed: nothing printed");

    ok(&srv, &["add", r#"{"ipl_fails": {}}"#]);
    ok(
        &srv,
        &["add", r#"{"fails": {"op": "grant", "guest": "lx000009"}}"#],
    );
    ok(
        &srv,
        &[
            "add",
            r#"{"copy_fails": {"guest": "LX000008", "at_fraction": 0.25}}"#,
        ],
    );
    let expected = vec![
        json!({ "ipl_fails": {} }),
        json!({ "fails": { "op": "grant", "guest": "LX000009" } }),
        json!({ "copy_fails": { "guest": "LX000008", "at_fraction": 0.25 } }),
    ];
    assert_eq!(listed(&srv), expected);

    // `list` changes nothing in the host's files
    let before = zvm_files(&srv.data_dir());
    listed(&srv);
    assert_eq!(zvm_files(&srv.data_dir()), before);

    // a listed line is accepted by `add` as it is
    let lines = ok(&srv, &["list"]);
    let second = lines.lines().nth(1).expect("a second line");
    ok(&srv, &["add", second]);
    assert_eq!(listed(&srv).len(), 4);
    assert_eq!(listed(&srv)[3], expected[1]);

    assert_eq!(ok(&srv, &["clear"]).trim(), "cleared 4 fault(s)");
    assert!(listed(&srv).is_empty());

    let bad = [
        ("not json", "not JSON"),
        (r#"{"copy_fail": {}}"#, "unknown fault `copy_fail`"),
        (
            r#"{"copy_fails": {"gust": "LX000007"}}"#,
            "unknown field `gust`",
        ),
        (r#"{"copy_fails": {"guest": "LX-7"}}"#, "not a z/VM user id"),
        (r#"{"copy_fails": {"at_fraction": 1.5}}"#, "at_fraction"),
        (r#"{"hangs": {}}"#, "missing field `guest`"),
        (
            r#"{"hangs": {"guest": "LX000007", "after_seconds": -3}}"#,
            "after_seconds",
        ),
        (r#"{"fails": {"op": "format"}}"#, "unknown variant `format`"),
        (r#"{}"#, "exactly one key"),
        (
            r#"{"root_breaks": {"image": "golden", "version": 2}}"#,
            "missing field `service`",
        ),
        (
            r#"{"root_breaks": {"image": "golden", "version": 0, "service": "apache"}}"#,
            "numbered from 1",
        ),
    ];
    for (input, problem) in bad {
        let stderr = refused(&srv, &["add", input]);
        assert!(stderr.contains(problem), "{input}: {stderr}");
        for kind in KINDS {
            assert!(
                stderr.contains(&format!("\"{kind}\"")),
                "{input}: the message does not show the `{kind}` shape: {stderr}"
            );
        }
    }
    // faults aimed at a guest the host does not have
    let stderr = refused(&srv, &["add", r#"{"hangs": {"guest": "LX000099"}}"#]);
    assert!(stderr.contains("LX000099 not found"), "{stderr}");
    let stderr = refused(
        &srv,
        &[
            "add",
            r#"{"service_dies": {"guest": "LX000099", "service": "apache"}}"#,
        ],
    );
    assert!(stderr.contains("LX000099 not found"), "{stderr}");
    assert!(listed(&srv).is_empty(), "refused input armed nothing");
}

/// Without a simulated host in the data directory the command says so
/// (and creates nothing).
#[test]
fn no_host_in_the_data_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(herd_tests::server_binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HERD_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(["sim", "faults", "list"])
        .env("HERD_DATA_DIR", dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run herd-server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("not found"), "{stderr}");
    assert!(
        !dir.path().join("zvm").exists(),
        "list made a host: {stderr}"
    );
}

/// `{"hangs": {"guest": NAME}}` on a running guest: its heartbeat stops,
/// the monitor finds it unresponsive after 5 minutes, HALTs it (no answer),
/// FORCEs it after the grace, boots it again — and it runs normally.
#[test]
fn a_hang_makes_the_monitor_act() {
    let Some(srv) = server(1) else { return };
    let admin = srv.admin_token();
    srv.wait_for("a pooled guest", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"].as_u64() >= Some(1)).then_some(())
    });
    let g = request_guest(&srv, &admin).ok(201);
    let name = g["name"].as_str().expect("guest name").to_owned();
    wait_running(&srv, &admin, &name);

    let hang = json!({ "hangs": { "guest": name } }).to_string();
    let out = ok(&srv, &["add", &hang]);
    assert!(
        out.starts_with("scheduled"),
        "a running guest hangs at once: {out}"
    );
    assert!(listed(&srv).is_empty(), "{out}");

    // past the 5 minutes without a heartbeat (SPEC §5)
    srv.advance_clock(Duration::from_secs(301));
    srv.wait_for(&format!("{name} to be unresponsive"), SETTLE, || {
        (state_of(&srv, &admin, &name) == "unresponsive").then_some(())
    });
    let events = monitor_events(&srv, &admin, &name);
    let halt = events
        .iter()
        .find(|e| e["action"] == "monitor.halt")
        .unwrap_or_else(|| panic!("no monitor.halt: {events:?}"));
    assert!(
        halt["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no answer")),
        "a hung guest ignores the HALT: {halt}"
    );

    // still unresponsive after the grace: FORCE, then IPL
    srv.advance_clock(Duration::from_secs(121));
    srv.wait_for("the monitor's FORCE and IPL", SETTLE, || {
        let done = actions(&monitor_events(&srv, &admin, &name));
        (done.iter().any(|a| a == "monitor.force") && done.iter().any(|a| a == "monitor.ipl"))
            .then_some(done)
    });
    wait_running(&srv, &admin, &name);
    let status = srv.zvm_state()["users"][&name]["power"].clone();
    assert!(
        status["Running"]["hang_at"].is_null(),
        "the hang fired once; after the reboot {name} runs normally: {status}"
    );
}
