//! Operations on guests (SPEC §3, §4, §5): services and power through the
//! command channel, commands, staged start/stop of the fleet, events, the DNS
//! zone, and the dispatcher in a process of its own, on SQLite and
//! PostgreSQL.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use herd_tests::{db_tests, json, parse_rfc3339_utc, Db, Layout, Method, Reply, TestServer, Value};

db_tests!(
    service_actions_run_at_once,
    a_command_can_be_awaited_instead_of_polled,
    who_may_act_on_services_and_commands,
    clicks_at_the_same_moment_are_each_judged_on_their_own,
    enablement_applies_at_the_next_boot,
    power_stop_start_restart_and_force_off,
    who_may_power_guests,
    staged_stop_and_start_go_in_batches,
    who_may_run_staged_operations,
    staged_start_on_boot_boots_auto_boot_guests,
    staged_stop_on_shutdown_stops_the_fleet_then_exits,
    a_staged_start_supersedes_an_unfinished_stop,
    events_are_audited_and_scoped_to_the_owner,
    events_about_a_guest_include_its_audit_trail,
    dns_zone_lists_assigned_guests,
    dns_zone_uses_the_guest_domain,
);

/// Wall time a background step (pool fill, boot, halt) may take.
const SETTLE: Duration = Duration::from_secs(30);
/// Wall time from a click to a finished command (SPEC: event-driven).
const CLICK: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

fn builder(db: Db) -> herd_tests::ServerBuilder {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
}

fn server(db: Db) -> Option<TestServer> {
    builder(db).start()
}

fn login(srv: &TestServer, user: &str) -> String {
    if user == "admin" {
        srv.admin_token()
    } else {
        srv.login(user, &format!("{user}-pw"))
    }
}

/// A pooled guest for `owner` (placed by `admin`; the owner logs in once
/// first so that the server knows them): waits for the pool first.
fn take_for(srv: &TestServer, admin: &str, owner: &str) -> String {
    login(srv, owner);
    srv.wait_for("a pooled guest", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(admin)).ok(200);
        (p["available"].as_u64() >= Some(1)).then_some(())
    });
    let g = srv
        .post_json("/api/v1/guests", Some(admin), &json!({ "owner": owner }))
        .ok(201);
    assert_eq!(g["state"], "starting", "{g}");
    assert_eq!(g["owner"], owner, "{g}");
    g["name"].as_str().expect("guest name").to_string()
}

fn guest(srv: &TestServer, token: &str, name: &str) -> Value {
    srv.get(&format!("/api/v1/guests/{name}"), Some(token))
        .ok(200)
}

fn state_of(srv: &TestServer, token: &str, name: &str) -> String {
    guest(srv, token, name)["state"]
        .as_str()
        .expect("state")
        .to_string()
}

/// Moves the clock forward in `step`s (polling in between) until every one
/// of `names` is in `state`.
fn wait_states(srv: &TestServer, token: &str, names: &[&str], state: &str, step: Duration) {
    let deadline = Instant::now() + SETTLE;
    loop {
        srv.advance_clock(step);
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            if names.iter().all(|n| state_of(srv, token, n) == state) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let now: Vec<String> = names
            .iter()
            .map(|n| format!("{n}={}", state_of(srv, token, n)))
            .collect();
        assert!(
            Instant::now() < deadline,
            "guests never all reached {state}: {now:?}\n{}",
            srv.stderr_tail(40)
        );
    }
}

fn wait_running(srv: &TestServer, token: &str, names: &[&str]) {
    wait_states(srv, token, names, "running", Duration::from_secs(5));
}

/// Polls (every 50 ms of wall time, without touching the clock) until the
/// guest is in `state`.
fn wait_state_now(srv: &TestServer, token: &str, name: &str, state: &str) {
    srv.wait_for(&format!("{name} to be {state}"), SETTLE, || {
        (state_of(srv, token, name) == state).then_some(())
    });
}

fn services_path(guest: &str) -> String {
    format!("/api/v1/guests/{guest}/services")
}

fn services(srv: &TestServer, token: &str, guest: &str) -> Vec<Value> {
    let page = srv.get(&services_path(guest), Some(token)).ok(200);
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().expect("items").clone()
}

fn service(srv: &TestServer, token: &str, guest: &str, name: &str) -> Value {
    services(srv, token, guest)
        .into_iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no service {name} on {guest}"))
}

fn service_action(
    srv: &TestServer,
    token: Option<&str>,
    guest: &str,
    svc: &str,
    action: &str,
) -> Reply {
    act(
        srv,
        token,
        &format!("/api/v1/guests/{guest}/services/{svc}/actions"),
        action,
    )
}

/// `POST {path} {"action": …}`: a service action or power, perhaps with a
/// query.
fn act(srv: &TestServer, token: Option<&str>, path: &str, action: &str) -> Reply {
    srv.post_json(path, token, &json!({ "action": action }))
}

fn patch_service(
    srv: &TestServer,
    token: Option<&str>,
    guest: &str,
    svc: &str,
    enabled: bool,
) -> Reply {
    srv.patch_json(
        &format!("/api/v1/guests/{guest}/services/{svc}"),
        token,
        &json!({ "enabled": enabled }),
    )
}

fn power(srv: &TestServer, token: Option<&str>, guest: &str, action: &str) -> Reply {
    act(srv, token, &format!("/api/v1/guests/{guest}/power"), action)
}

fn command(srv: &TestServer, token: &str, id: &Value) -> Reply {
    srv.get(&format!("/api/v1/commands/{id}"), Some(token))
}

/// One `GET /api/v1/commands/{id}?wait=…`, and how long it was held.
fn awaited(srv: &TestServer, token: &str, id: &Value, wait: &str) -> (Reply, Duration) {
    let t0 = Instant::now();
    let reply = srv.get(&format!("/api/v1/commands/{id}?wait={wait}"), Some(token));
    (reply, t0.elapsed())
}

/// Checks the shape of a freshly recorded command.
fn check_command(c: &Value, guest: &str, text: &str) {
    assert!(c["command_id"].as_i64().is_some_and(|i| i > 0), "{c}");
    assert_eq!(c["text"], format!("{guest} {text}"), "{c}");
    assert!(
        matches!(
            c["status"].as_str(),
            Some("queued" | "dispatched" | "succeeded")
        ),
        "{c}"
    );
    parse_rfc3339_utc(c["created_at"].as_str().expect("created_at"));
    for k in ["result", "dispatched_at", "finished_at"] {
        assert!(c.get(k).is_some(), "command without `{k}`: {c}");
    }
}

/// Polls a command tightly (10 ms) until it finished; answers it and the
/// wall time since `since`.
fn wait_command(srv: &TestServer, token: &str, id: &Value, since: Instant) -> (Value, Duration) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let c = command(srv, token, id).ok(200);
        if matches!(c["status"].as_str(), Some("succeeded" | "failed")) {
            return (c, since.elapsed());
        }
        assert!(
            Instant::now() < deadline,
            "command {id} never finished: {c}\n{}",
            srv.stderr_tail(40)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts a finished command succeeded, with its result and timestamps.
fn assert_succeeded(c: &Value) {
    assert_eq!(c["status"], "succeeded", "{c}");
    assert!(
        c["result"].as_str().is_some_and(|r| !r.trim().is_empty()),
        "succeeded without a result: {c}"
    );
    let created = parse_rfc3339_utc(c["created_at"].as_str().expect("created_at"));
    let dispatched = parse_rfc3339_utc(c["dispatched_at"].as_str().expect("dispatched_at"));
    let finished = parse_rfc3339_utc(c["finished_at"].as_str().expect("finished_at"));
    assert!(created <= dispatched && dispatched <= finished, "{c}");
}

/// Clicks a service action and waits for it: `202`, then `succeeded` within
/// [`CLICK`] of wall time. Answers the finished command.
fn click(srv: &TestServer, token: &str, guest: &str, svc: &str, action: &str) -> Value {
    let t0 = Instant::now();
    let c = service_action(srv, Some(token), guest, svc, action).ok(202);
    check_command(
        &c,
        guest,
        &format!("SERVICE {svc} {}", action.to_ascii_uppercase()),
    );
    let (done, took) = wait_command(srv, token, &c["command_id"], t0);
    println!(
        "{guest} {svc} {action}: click -> {} in {took:?}",
        done["status"]
    );
    assert_succeeded(&done);
    assert!(
        took < CLICK,
        "{svc} {action} took {took:?} from click to succeeded (limit {CLICK:?}): {done}"
    );
    done
}

fn job(srv: &TestServer, token: &str, id: &Value) -> Value {
    srv.get(&format!("/api/v1/jobs/{id}"), Some(token)).ok(200)
}

/// Every event a query shows, newest first, following `next_cursor`.
fn events(srv: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("/api/v1/events?limit=500{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = srv.get(&path, Some(token)).ok(200);
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
    panic!("more than 100 pages of events");
}

fn check_event_shape(e: &Value) {
    assert!(e["id"].as_i64().is_some(), "{e}");
    parse_rfc3339_utc(e["at"].as_str().expect("at"));
    for k in ["kind", "actor", "action", "outcome"] {
        assert!(e[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {e}");
    }
    assert!(
        matches!(
            e["outcome"].as_str(),
            Some("success" | "failure" | "info" | "warning")
        ),
        "{e}"
    );
    for k in ["target", "client_addr", "detail"] {
        assert!(
            e[k].is_null() || e[k].is_string(),
            "`{k}` is neither null nor a string: {e}"
        );
    }
}

fn assert_newest_first(items: &[Value]) {
    let ids: Vec<i64> = items
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "events are not newest first: {ids:?}"
    );
}

/// `named-checkzone`, or `None` (after a skip line) when it is missing;
/// under CI a missing tool fails the test.
fn named_checkzone() -> Option<PathBuf> {
    for dir in [
        "/usr/bin",
        "/usr/sbin",
        "/bin",
        "/sbin",
        "/usr/local/bin",
        "/usr/local/sbin",
    ] {
        let p = PathBuf::from(dir).join("named-checkzone");
        if p.is_file() {
            return Some(p);
        }
    }
    if let Ok(out) = Command::new("named-checkzone").arg("-v").output() {
        if out.status.success() {
            return Some(PathBuf::from("named-checkzone"));
        }
    }
    let msg = "named-checkzone not found (package bind9-utils, which scripts/test.sh installs)";
    assert!(!herd_tests::services::in_ci(), "{msg}");
    eprintln!("skipping zone validation: {msg}");
    None
}

/// Validates a zone text with `named-checkzone ORIGIN FILE`.
fn check_zone(srv: &TestServer, origin: &str, zone: &str) {
    let Some(tool) = named_checkzone() else {
        return;
    };
    let file = srv.dir().join(format!("{origin}.zone"));
    std::fs::write(&file, zone).expect("write zone file");
    let out = Command::new(tool)
        .args([origin, &file.display().to_string()])
        .output()
        .expect("run named-checkzone");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("OK"),
        "named-checkzone {origin} rejected the zone:\n{text}\n--- zone ---\n{zone}"
    );
}

/// The `(host, address)` pairs of the zone's A records.
fn a_records(zone: &str) -> Vec<(String, String)> {
    zone.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                [host, "IN", "A", ip] => Some((host.to_string(), ip.to_string())),
                [host, _ttl, "IN", "A", ip] => Some((host.to_string(), ip.to_string())),
                _ => None,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// services and commands
// ---------------------------------------------------------------------------

fn service_actions_run_at_once(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);

    // the catalog on the guest: apache enabled and up, the others off
    let list = services(&srv, &alice, &g);
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    for want in ["apache", "jakarta", "mysql"] {
        assert!(names.contains(&want), "no {want} in {list:?}");
    }
    for s in &list {
        assert!(s["priority"].is_i64(), "{s}");
        assert!(s["enabled"].is_boolean(), "{s}");
        assert!(
            matches!(s["state"].as_str(), Some("up" | "down" | "unknown")),
            "{s}"
        );
    }
    let prios: Vec<i64> = list
        .iter()
        .map(|s| s["priority"].as_i64().unwrap())
        .collect();
    assert!(
        prios.windows(2).all(|w| w[0] <= w[1]),
        "not by priority: {list:?}"
    );
    let apache = service(&srv, &alice, &g, "apache");
    assert_eq!(
        (apache["enabled"].clone(), apache["state"].clone()),
        (json!(true), json!("up")),
        "{apache}"
    );
    for off in ["jakarta", "mysql"] {
        let s = service(&srv, &alice, &g, off);
        assert_eq!(
            (s["enabled"].clone(), s["state"].clone()),
            (json!(false), json!("down")),
            "{s}"
        );
    }

    // restart apache: done within a second of the click
    let done = click(&srv, &alice, &g, "apache", "restart");
    assert_eq!(done["text"], format!("{g} SERVICE apache RESTART"));
    assert_eq!(service(&srv, &alice, &g, "apache")["state"], "up");

    // mysql: start, then stop
    click(&srv, &alice, &g, "mysql", "start");
    let mysql = service(&srv, &alice, &g, "mysql");
    assert_eq!(mysql["state"], "up", "{mysql}");
    assert_eq!(mysql["enabled"], false, "starting is not enabling: {mysql}");
    click(&srv, &alice, &g, "mysql", "stop");
    assert_eq!(service(&srv, &alice, &g, "mysql")["state"], "down");

    // several clicks in a row are each quick
    for _ in 0..3 {
        click(&srv, &alice, &g, "apache", "restart");
    }

    // boot-time enablement
    let s = patch_service(&srv, Some(&alice), &g, "mysql", true).ok(200);
    assert_eq!(s["name"], "mysql", "{s}");
    assert_eq!(s["enabled"], true, "{s}");
    assert_eq!(service(&srv, &alice, &g, "mysql")["enabled"], true);
    let s = patch_service(&srv, Some(&admin), &g, "mysql", false).ok(200);
    assert_eq!(s["enabled"], false, "{s}");
    assert_eq!(service(&srv, &alice, &g, "mysql")["enabled"], false);
    // the body is checked
    srv.patch_json(
        &format!("/api/v1/guests/{g}/services/mysql"),
        Some(&alice),
        &json!({ "enabled": "yes" }),
    )
    .problem(422);
}

/// Clicks that arrive together are recorded together (one write for all):
/// each still gets its own answer, a refused one does not spoil the
/// others, and each accepted command is its own, for its own guest.
fn clicks_at_the_same_moment_are_each_judged_on_their_own(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let g = take_for(&srv, &admin, "alice");
    let d = take_for(&srv, &admin, "dave");
    wait_running(&srv, &alice, &[&g]);
    wait_running(&srv, &dave, &[&d]);

    type Expect = Box<dyn Fn(Reply) -> Option<(String, Value)> + Send + Sync>;
    let accepted = |guest: &str, text: &str| -> Expect {
        let text = format!("{guest} {text}");
        Box::new(move |r: Reply| Some((text.clone(), r.ok(202))))
    };
    let refused = |status: u16| -> Expect {
        Box::new(move |r: Reply| {
            if status == 401 {
                r.unauthorized();
            } else {
                r.problem(status);
            }
            None
        })
    };
    let clicks: Vec<(Box<dyn Fn() -> Reply + Send + Sync>, Expect)> = vec![
        (
            Box::new(|| service_action(&srv, Some(&alice), &g, "apache", "restart")),
            accepted(&g, "SERVICE apache RESTART"),
        ),
        (
            Box::new(|| service_action(&srv, Some(&dave), &g, "apache", "restart")),
            refused(404),
        ),
        (
            Box::new(|| service_action(&srv, Some(&alice), &g, "nginx", "restart")),
            refused(404),
        ),
        (
            Box::new(|| service_action(&srv, Some("not-a-token"), &g, "apache", "restart")),
            refused(401),
        ),
        (
            Box::new(|| service_action(&srv, Some(&dave), &d, "mysql", "start")),
            accepted(&d, "SERVICE mysql START"),
        ),
        (
            Box::new(|| power(&srv, Some(&alice), "LX999999", "stop")),
            refused(404),
        ),
        (
            Box::new(|| power(&srv, Some(&admin), &d, "start")),
            accepted(&d, "IPL"),
        ),
        (
            Box::new(|| service_action(&srv, Some(&alice), &g, "mysql", "start")),
            accepted(&g, "SERVICE mysql START"),
        ),
    ];
    let start = std::sync::Barrier::new(clicks.len());
    let answers: Vec<Option<(String, Value)>> = std::thread::scope(|s| {
        let running: Vec<_> = clicks
            .iter()
            .map(|(click, expect)| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    expect(click())
                })
            })
            .collect();
        running.into_iter().map(|t| t.join().unwrap()).collect()
    });

    let mut ids = BTreeSet::new();
    for (text, c) in answers.into_iter().flatten() {
        assert_eq!(c["text"], text, "{c}");
        assert!(
            ids.insert(c["command_id"].as_i64().unwrap()),
            "one id a command: {c}"
        );
        let (c, _) = wait_command(&srv, &admin, &c["command_id"], Instant::now());
        assert_succeeded(&c);
    }
    assert_eq!(ids.len(), 4, "the four accepted clicks, each recorded once");
    assert_eq!(service(&srv, &alice, &g, "mysql")["state"], "up");
}

fn who_may_act_on_services_and_commands(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let bob = login(&srv, "bob");
    let carol = login(&srv, "carol");
    let g = take_for(&srv, &admin, "alice");
    let d = take_for(&srv, &admin, "dave");
    wait_running(&srv, &alice, &[&g]);

    // no token: 401 everywhere
    srv.get(&services_path(&g), None).unauthorized();
    service_action(&srv, None, &g, "apache", "restart").unauthorized();
    patch_service(&srv, None, &g, "mysql", true).unauthorized();
    srv.get("/api/v1/commands/1", None).unauthorized();
    srv.get(&services_path(&g), Some("not-a-token"))
        .unauthorized();

    // another student: the guest does not exist for them
    srv.get(&services_path(&g), Some(&dave)).problem(404);
    service_action(&srv, Some(&dave), &g, "apache", "restart").problem(404);
    patch_service(&srv, Some(&dave), &g, "mysql", true).problem(404);
    // … and alice's own request does not leak dave's guest either
    srv.get(&services_path(&d), Some(&alice)).problem(404);

    // unknown guest, unknown service, bad action
    srv.get(&services_path("LX999999"), Some(&admin))
        .problem(404);
    service_action(&srv, Some(&alice), "LX999999", "apache", "restart").problem(404);
    service_action(&srv, Some(&alice), &g, "nginx", "restart").problem(404);
    service_action(&srv, Some(&alice), &g, "Apache", "restart").problem(404);
    patch_service(&srv, Some(&alice), &g, "nginx", true).problem(404);
    service_action(&srv, Some(&alice), &g, "apache", "explode").problem(422);
    service_action(&srv, Some(&alice), &g, "apache", "RESTART").problem(422);
    srv.post_json(
        &format!("/api/v1/guests/{g}/services/apache/actions"),
        Some(&alice),
        &json!({}),
    )
    .problem(422);
    srv.post_json(
        &format!("/api/v1/guests/{g}/services/apache/actions"),
        Some(&alice),
        &json!({ "action": "restart", "shell": "; rm -rf /" }),
    )
    .problem(422);

    // staff: may view and act on others' guests, not change enablement
    assert_eq!(
        services(&srv, &bob, &g).len(),
        services(&srv, &alice, &g).len()
    );
    let t0 = Instant::now();
    let staff_cmd = service_action(&srv, Some(&bob), &g, "apache", "restart").ok(202);
    check_command(&staff_cmd, &g, "SERVICE apache RESTART");
    let (c, took) = wait_command(&srv, &bob, &staff_cmd["command_id"], t0);
    println!("staff restart: {took:?}");
    assert_succeeded(&c);
    patch_service(&srv, Some(&bob), &g, "mysql", true).problem(403);
    assert_eq!(service(&srv, &alice, &g, "mysql")["enabled"], false);

    // admin (directory group) may do everything
    services(&srv, &carol, &g);
    service_action(&srv, Some(&carol), &g, "apache", "restart").ok(202);
    patch_service(&srv, Some(&carol), &g, "jakarta", true).ok(200);

    // commands: the requester and admins see them, nobody else
    let mine = click(&srv, &alice, &g, "apache", "restart");
    let id = &mine["command_id"];
    command(&srv, &alice, id).ok(200);
    let seen = command(&srv, &admin, id).ok(200);
    assert_eq!(seen["text"], mine["text"]);
    command(&srv, &carol, id).ok(200);
    command(&srv, &dave, id).problem(404);
    command(&srv, &bob, id).problem(404);
    // the staff member's own command is theirs, not the owner's
    command(&srv, &bob, &staff_cmd["command_id"]).ok(200);
    command(&srv, &alice, &staff_cmd["command_id"]).problem(404);
    command(&srv, &admin, &json!(999_999_999)).problem(404);
    let bad = srv.get("/api/v1/commands/abc", Some(&admin));
    assert!(
        matches!(bad.status, 400 | 404 | 422),
        "GET /api/v1/commands/abc -> {}",
        bad.status
    );
    bad.problem(bad.status);
}

/// `PATCH …/services/{service} {enabled}` is boot-time enablement: the next
/// boot starts exactly the enabled services, whoever boots the guest (its
/// owner through the command channel, or a staged start).
fn enablement_applies_at_the_next_boot(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);
    let states = |srv: &TestServer| -> Vec<(String, String)> {
        services(srv, &alice, &g)
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };

    // through the owner's restart (HALT + IPL)
    patch_service(&srv, Some(&alice), &g, "mysql", true).ok(200);
    let c = power(&srv, Some(&alice), &g, "restart").ok(202);
    srv.wait_for("the restart to halt the guest", SETTLE, || {
        (state_of(&srv, &alice, &g) != "running").then_some(())
    });
    wait_running(&srv, &alice, &[&g]);
    assert_succeeded(&wait_command(&srv, &alice, &c["command_id"], Instant::now()).0);
    let after_restart = states(&srv);
    assert_eq!(
        service(&srv, &alice, &g, "mysql")["state"],
        "up",
        "mysql enabled, then the guest restarted: {after_restart:?}\nevents: {:?}\n\
         hypervisor: {}",
        events(&srv, &admin, &format!("&guest={g}")),
        srv.zvm_state()["users"][&g]
    );
    assert_eq!(service(&srv, &alice, &g, "apache")["state"], "up");
    assert_eq!(service(&srv, &alice, &g, "jakarta")["state"], "down");

    // through a staged stop and start
    patch_service(&srv, Some(&alice), &g, "mysql", false).ok(200);
    patch_service(&srv, Some(&alice), &g, "jakarta", true).ok(200);
    let body = json!({ "batch_size": 5, "interval_seconds": 1 });
    let j = staged(&srv, Some(&admin), "staged-stop", Some(body.clone())).ok(202);
    drive_job(&srv, &admin, &j["id"], Duration::from_secs(2));
    wait_states(&srv, &alice, &[&g], "stopped", Duration::from_secs(1));
    let j = staged(&srv, Some(&admin), "staged-start", Some(body)).ok(202);
    assert_eq!(j["progress"]["total"], 1, "{j}");
    drive_job(&srv, &admin, &j["id"], Duration::from_secs(2));
    wait_running(&srv, &alice, &[&g]);
    let after_staged = states(&srv);
    assert_eq!(
        (
            service(&srv, &alice, &g, "jakarta")["state"].clone(),
            service(&srv, &alice, &g, "mysql")["state"].clone()
        ),
        (json!("up"), json!("down")),
        "jakarta enabled and mysql disabled, then a staged stop and start: {after_staged:?}"
    );
}

// ---------------------------------------------------------------------------
// power
// ---------------------------------------------------------------------------

fn power_stop_start_restart_and_force_off(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);

    // stop: HALT, stopping until the halt time has passed on the clock
    let t0 = Instant::now();
    let c = power(&srv, Some(&alice), &g, "stop").ok(202);
    check_command(&c, &g, "HALT");
    let (done, took) = wait_command(&srv, &alice, &c["command_id"], t0);
    println!("HALT: {took:?}");
    assert_succeeded(&done);
    assert!(took < CLICK, "HALT took {took:?}");
    wait_state_now(&srv, &alice, &g, "stopping");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        state_of(&srv, &alice, &g),
        "stopping",
        "stopped without the clock moving"
    );
    wait_states(&srv, &alice, &[&g], "stopped", Duration::from_secs(2));
    for s in services(&srv, &alice, &g) {
        assert_ne!(s["state"], "up", "a stopped guest runs {s}");
    }

    // stopping a stopped guest changes nothing: it stays stopped
    let c = power(&srv, Some(&alice), &g, "stop").ok(202);
    let (again, _) = wait_command(&srv, &alice, &c["command_id"], Instant::now());
    assert!(again["result"].is_string(), "{again}");
    srv.advance_clock(Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        state_of(&srv, &alice, &g),
        "stopped",
        "after a HALT of a stopped guest ({again})"
    );

    // start: IPL, starting, then running once apache is up
    let t0 = Instant::now();
    let c = power(&srv, Some(&alice), &g, "start").ok(202);
    check_command(&c, &g, "IPL");
    let (done, _) = wait_command(&srv, &alice, &c["command_id"], t0);
    assert_succeeded(&done);
    wait_state_now(&srv, &alice, &g, "starting");
    // a click while it boots waits for the boot instead of failing
    let early = service_action(&srv, Some(&alice), &g, "mysql", "start").ok(202);
    std::thread::sleep(Duration::from_millis(600));
    let held = command(&srv, &alice, &early["command_id"]).ok(200);
    assert!(
        matches!(held["status"].as_str(), Some("queued" | "dispatched")),
        "a service command for a booting guest, before the clock moved: {held}"
    );
    wait_running(&srv, &alice, &[&g]);
    let (early, _) = wait_command(&srv, &alice, &early["command_id"], Instant::now());
    assert_succeeded(&early);
    assert_eq!(service(&srv, &alice, &g, "apache")["state"], "up");
    assert_eq!(service(&srv, &alice, &g, "mysql")["state"], "up");

    // start again while running: nothing to do, still succeeds
    let c = power(&srv, Some(&alice), &g, "start").ok(202);
    let (done, _) = wait_command(&srv, &alice, &c["command_id"], Instant::now());
    assert_succeeded(&done);
    assert_eq!(state_of(&srv, &alice, &g), "running");

    // restart: HALT then IPL; the answer is the IPL
    let c = power(&srv, Some(&alice), &g, "restart").ok(202);
    check_command(&c, &g, "IPL");
    srv.wait_for("the restart to halt the guest", SETTLE, || {
        matches!(
            state_of(&srv, &alice, &g).as_str(),
            "stopping" | "stopped" | "starting"
        )
        .then_some(())
    });
    wait_running(&srv, &alice, &[&g]);
    let (done, _) = wait_command(&srv, &alice, &c["command_id"], Instant::now());
    assert_succeeded(&done);

    // force_off: logged off at once, no clock needed
    let t0 = Instant::now();
    let c = power(&srv, Some(&alice), &g, "force_off").ok(202);
    check_command(&c, &g, "FORCE");
    let (done, took) = wait_command(&srv, &alice, &c["command_id"], t0);
    println!("FORCE: {took:?}");
    assert_succeeded(&done);
    // SPEC §5: the monitor boots guests that *should* run; one forced off
    // by its owner should not (a stale view of the guest must not undo it).
    std::thread::sleep(Duration::from_millis(600));
    let after = state_of(&srv, &alice, &g);
    assert_eq!(
        after,
        "stopped",
        "{g} is {after} right after its owner's FORCE ({done}); its monitor events: {:?}",
        events(&srv, &alice, &format!("&guest={g}&kind=monitor"))
    );
    for s in services(&srv, &alice, &g) {
        assert_eq!(s["state"], "down", "{s}");
    }

    // a logged-off guest cannot run a service command: it fails, with a reason
    let t0 = Instant::now();
    let c = service_action(&srv, Some(&alice), &g, "apache", "restart").ok(202);
    let (failed, took) = wait_command(&srv, &alice, &c["command_id"], t0);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["result"].as_str().is_some_and(|r| !r.is_empty()),
        "{failed}"
    );
    assert!(failed["finished_at"].is_string(), "{failed}");
    assert!(took < CLICK, "the refusal took {took:?}");
    assert_eq!(service(&srv, &alice, &g, "apache")["state"], "down");

    // and back up
    let c = power(&srv, Some(&alice), &g, "start").ok(202);
    assert_succeeded(&wait_command(&srv, &alice, &c["command_id"], Instant::now()).0);
    wait_running(&srv, &alice, &[&g]);
}

fn who_may_power_guests(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let bob = login(&srv, "bob");
    let carol = login(&srv, "carol");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);

    power(&srv, None, &g, "stop").unauthorized();
    power(&srv, Some(&dave), &g, "stop").problem(404);
    power(&srv, Some(&alice), "LX999999", "stop").problem(404);
    for bad in ["explode", "STOP", "off", ""] {
        power(&srv, Some(&alice), &g, bad).problem(422);
    }
    srv.post_json(
        &format!("/api/v1/guests/{g}/power"),
        Some(&alice),
        &json!({}),
    )
    .problem(422);
    // nothing was recorded by the refused requests
    assert_eq!(state_of(&srv, &alice, &g), "running");

    // staff and admins may power others' guests
    let c = power(&srv, Some(&bob), &g, "start").ok(202);
    assert_succeeded(&wait_command(&srv, &bob, &c["command_id"], Instant::now()).0);
    command(&srv, &alice, &c["command_id"]).problem(404);
    command(&srv, &dave, &c["command_id"]).problem(404);
    command(&srv, &carol, &c["command_id"]).ok(200);
    let c = power(&srv, Some(&carol), &g, "force_off").ok(202);
    assert_succeeded(&wait_command(&srv, &carol, &c["command_id"], Instant::now()).0);
    assert_eq!(state_of(&srv, &alice, &g), "stopped");
    let c = power(&srv, Some(&alice), &g, "start").ok(202);
    assert_succeeded(&wait_command(&srv, &alice, &c["command_id"], Instant::now()).0);
    command(&srv, &bob, &c["command_id"]).problem(404);
    wait_running(&srv, &alice, &[&g]);
}

// ---------------------------------------------------------------------------
// staged start and stop
// ---------------------------------------------------------------------------

fn staged(srv: &TestServer, token: Option<&str>, op: &str, body: Option<Value>) -> Reply {
    let path = format!("/api/v1/operations/{op}");
    match body {
        Some(b) => srv.post_json(&path, token, &b),
        None => srv.send(srv.request(Method::POST, &path, token)),
    }
}

/// Moves the clock in `step`s until the job has finished; asserts success.
fn drive_job(srv: &TestServer, admin: &str, id: &Value, step: Duration) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let until = Instant::now() + Duration::from_millis(1200);
        while Instant::now() < until {
            let j = job(srv, admin, id);
            if matches!(
                j["status"].as_str(),
                Some("succeeded" | "failed" | "cancelled")
            ) {
                assert_eq!(j["status"], "succeeded", "{j}");
                assert!(j["error"].is_null(), "{j}");
                assert_eq!(j["progress"]["done"], j["progress"]["total"], "{j}");
                assert!(j["finished_at"].is_string(), "{j}");
                return j;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never finished: {}\n{}",
            job(srv, admin, id),
            srv.stderr_tail(40)
        );
        srv.advance_clock(step);
    }
}

/// Scripts need not poll: `?wait=N` holds the request until the command
/// has finished (or N seconds passed), and is checked like any input.
fn a_command_can_be_awaited_instead_of_polled(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);

    let c = service_action(&srv, Some(&alice), &g, "apache", "restart").ok(202);
    let (reply, took) = awaited(&srv, &alice, &c["command_id"], "10");
    let done = reply.ok(200);
    assert_succeeded(&done);
    assert!(
        took < CLICK,
        "held {took:?} for a command done in milliseconds"
    );

    // a finished command answers at once, whatever the wait
    let (again, took) = awaited(&srv, &alice, &c["command_id"], "30");
    assert_eq!(again.ok(200), done);
    assert!(took < CLICK, "{took:?}");

    for bad in ["31", "-1", "soon"] {
        let p = awaited(&srv, &alice, &c["command_id"], bad).0.problem(422);
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains("wait")),
            "{bad}: {p}"
        );
    }
    // someone else's command stays hidden, waiting or not
    let bob = login(&srv, "bob");
    awaited(&srv, &bob, &c["command_id"], "1").0.problem(404);

    // one request: the click itself waits for its command
    let t0 = Instant::now();
    let actions = format!("/api/v1/guests/{g}/services/apache/actions");
    let power = format!("/api/v1/guests/{g}/power");
    let stop = act(&srv, Some(&alice), &format!("{actions}?wait=10"), "stop").ok(202);
    let took = t0.elapsed();
    check_command(&stop, &g, "SERVICE apache STOP");
    assert_succeeded(&stop);
    assert!(took < CLICK, "click held {took:?}: {stop}");
    assert_eq!(command(&srv, &alice, &stop["command_id"]).ok(200), stop);
    assert_eq!(service(&srv, &alice, &g, "apache")["state"], "down");
    let halt = act(&srv, Some(&alice), &format!("{power}?wait=10"), "stop").ok(202);
    check_command(&halt, &g, "HALT");
    assert_succeeded(&halt);

    // a bad wait records nothing
    let before = commands_of(&srv, &admin, &g);
    for bad in ["31", "x"] {
        for path in [&actions, &power].map(|p| format!("{p}?wait={bad}")) {
            let p = act(&srv, Some(&alice), &path, "start").problem(422);
            assert!(
                p["detail"].as_str().is_some_and(|d| d.contains("wait")),
                "{path}: {p}"
            );
        }
    }
    assert_eq!(commands_of(&srv, &admin, &g), before);
}

/// The commands recorded for a guest, from its audit trail.
fn commands_of(srv: &TestServer, admin: &str, guest: &str) -> usize {
    let events = srv
        .get(
            &format!("/api/v1/events?guest={guest}&limit=500"),
            Some(admin),
        )
        .ok(200);
    events["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "command")
        .count()
}

/// SPEC §5: "stop all guests on shutdown — in batches": with
/// `HERD_STAGED_STOP_ON_SHUTDOWN`, SIGTERM logs every running guest off
/// through a staged stop job before the process exits.
fn staged_stop_on_shutdown_stops_the_fleet_then_exits(db: Db) {
    let Some(mut srv) = builder(db)
        .env("HERD_STAGED_STOP_ON_SHUTDOWN", "true")
        .env("HERD_POOL_TARGET_SIZE", "3")
        .start()
    else {
        return;
    };
    let admin = login(&srv, "admin");
    let names = ["s01", "s02", "s03"].map(|owner| take_for(&srv, &admin, owner));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    wait_running(&srv, &admin, &names);

    let status = srv.stop_while(srv.clock_stepper(Duration::from_secs(1)));
    let status = status.expect("herd-server exits by itself once the fleet is stopped");
    assert!(status.success(), "{status}\n{}", srv.stderr_tail(40));

    srv.restart();
    let admin = login(&srv, "admin");
    for name in &names {
        assert_eq!(state_of(&srv, &admin, name), "stopped", "{name}");
    }
    let jobs = srv.get("/api/v1/jobs?limit=500", Some(&admin)).ok(200);
    let stop = jobs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|j| j["kind"] == "staged_stop")
        .unwrap_or_else(|| panic!("no staged_stop job: {jobs}"))
        .clone();
    assert_eq!(stop["status"], "succeeded", "{stop}");
    assert_eq!(stop["progress"]["total"], 3, "{stop}");
}

/// The operator's latest word wins: a staged start cancels a staged stop
/// still under way (also a stop at shutdown that a crash left unfinished,
/// met by the start at boot), and boots what that stop had halted.
fn a_staged_start_supersedes_an_unfinished_stop(db: Db) {
    let Some(srv) = builder(db).env("HERD_POOL_TARGET_SIZE", "2").start() else {
        return;
    };
    let admin = login(&srv, "admin");
    let names = ["s01", "s02"].map(|owner| take_for(&srv, &admin, owner));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    wait_running(&srv, &admin, &names);
    let slow = json!({ "batch_size": 1, "interval_seconds": 3600 });
    let stop = staged(&srv, Some(&admin), "staged-stop", Some(slow)).ok(202);
    srv.wait_for("the first batch to halt", SETTLE, || {
        (count_in(&srv, &admin, &names, "running") == 1).then_some(())
    });

    srv.advance_clock(Duration::from_secs(10));
    srv.wait_for("the halted guest to stop", SETTLE, || {
        (count_in(&srv, &admin, &names, "stopped") == 1).then_some(())
    });
    let start = staged(&srv, Some(&admin), "staged-start", None).ok(202);
    let stop = job(&srv, &admin, &stop["id"]);
    assert_eq!(stop["status"], "cancelled", "{stop}");
    assert!(
        stop["error"]
            .as_str()
            .is_some_and(|e| e.contains("superseded")),
        "{stop}"
    );
    assert_eq!(start["progress"]["total"], 1, "{start}");
    drive_job(&srv, &admin, &start["id"], Duration::from_secs(1));
    wait_running(&srv, &admin, &names);
}

fn count_in(srv: &TestServer, token: &str, names: &[&str], state: &str) -> usize {
    names
        .iter()
        .filter(|n| state_of(srv, token, n) == state)
        .count()
}

fn staged_stop_and_start_go_in_batches(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");

    // nothing stopped yet: a staged start (no body, all defaults) has nothing to do
    let j = staged(&srv, Some(&admin), "staged-start", None).ok(202);
    assert_eq!(j["kind"], "staged_start", "{j}");
    assert_eq!(j["progress"]["total"], 0, "{j}");
    drive_job(&srv, &admin, &j["id"], Duration::from_secs(1));

    let owned: Vec<String> = ["s01", "s02", "s03", "s04"]
        .iter()
        .map(|u| take_for(&srv, &admin, u))
        .collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();
    wait_running(&srv, &admin, &names);

    // staged stop: 2 a batch, 30 s apart
    let j = staged(
        &srv,
        Some(&admin),
        "staged-stop",
        Some(json!({ "batch_size": 2, "interval_seconds": 30 })),
    )
    .ok(202);
    assert_eq!(j["kind"], "staged_stop", "{j}");
    assert_eq!(j["progress"]["total"], 4, "only the 4 running guests: {j}");
    assert!(
        matches!(j["status"].as_str(), Some("queued" | "running")),
        "{j}"
    );
    let id = j["id"].clone();

    // the first batch halts; with the clock still, the rest keeps running
    srv.wait_for("the first batch to halt", SETTLE, || {
        (count_in(&srv, &admin, &names, "stopping") == 2).then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(count_in(&srv, &admin, &names, "stopping"), 2);
    assert_eq!(count_in(&srv, &admin, &names, "running"), 2);
    let mid = job(&srv, &admin, &id);
    // SPEC §4: a job at work is `running` (with `started_at`). Checked at
    // the end, so that the batching itself is still verified.
    let mut late = Vec::new();
    if mid["status"] != "running" || mid["started_at"].is_null() {
        late.push(format!(
            "a staged stop that has halted its first batch is still \
             `{}` with started_at {}: {mid}",
            mid["status"], mid["started_at"]
        ));
    }
    assert!(mid["progress"]["done"].as_u64() <= Some(2), "{mid}");

    // the halts finish; the second batch waits for its interval
    srv.advance_clock(Duration::from_secs(3));
    srv.wait_for("the first batch to log off", SETTLE, || {
        (count_in(&srv, &admin, &names, "stopped") == 2).then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        count_in(&srv, &admin, &names, "running"),
        2,
        "the second batch went before its interval"
    );
    let mid = job(&srv, &admin, &id);
    assert_eq!(mid["progress"]["done"], 2, "{mid}");

    let done = drive_job(&srv, &admin, &id, Duration::from_secs(10));
    assert_eq!(done["progress"]["total"], 4, "{done}");
    match done["started_at"].as_str() {
        Some(s) => assert!(
            parse_rfc3339_utc(s) <= parse_rfc3339_utc(done["finished_at"].as_str().unwrap()),
            "{done}"
        ),
        None => late.push(format!("a finished staged stop has no started_at: {done}")),
    }
    wait_states(&srv, &admin, &names, "stopped", Duration::from_secs(1));

    // staged start: only auto_boot guests
    let off = srv
        .patch_json(
            &format!("/api/v1/guests/{}", names[3]),
            Some(&admin),
            &json!({ "auto_boot": false }),
        )
        .ok(200);
    assert_eq!(off["auto_boot"], false, "{off}");
    let j = staged(
        &srv,
        Some(&admin),
        "staged-start",
        Some(json!({ "batch_size": 2, "interval_seconds": 30, "pace": "fixed" })),
    )
    .ok(202);
    assert_eq!(j["kind"], "staged_start", "{j}");
    assert_eq!(j["progress"]["total"], 3, "auto_boot guests only: {j}");
    let id = j["id"].clone();
    srv.wait_for("the first batch to boot", SETTLE, || {
        (count_in(&srv, &admin, &names, "starting") == 2).then_some(())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(count_in(&srv, &admin, &names, "starting"), 2);
    assert_eq!(count_in(&srv, &admin, &names, "stopped"), 2);

    let done = drive_job(&srv, &admin, &id, Duration::from_secs(10));
    assert_eq!(done["progress"]["total"], 3, "{done}");
    wait_running(&srv, &admin, &names[..3]);
    assert_eq!(state_of(&srv, &admin, names[3]), "stopped");

    // adaptive pace boots the rest as the host allows
    srv.patch_json(
        &format!("/api/v1/guests/{}", names[3]),
        Some(&admin),
        &json!({ "auto_boot": true }),
    )
    .ok(200);
    let j = staged(
        &srv,
        Some(&admin),
        "staged-start",
        Some(json!({ "batch_size": 5, "pace": "adaptive" })),
    )
    .ok(202);
    assert_eq!(j["progress"]["total"], 1, "{j}");
    drive_job(&srv, &admin, &j["id"], Duration::from_secs(5));
    wait_running(&srv, &admin, &names);

    // the operations are audited
    let audit = events(&srv, &admin, "&kind=audit");
    for kind in ["staged_stop", "staged_start"] {
        let e = audit
            .iter()
            .find(|e| e["action"] == kind)
            .unwrap_or_else(|| panic!("no audit event {kind} in {audit:?}"));
        assert_eq!(e["actor"], "admin", "{e}");
        assert_eq!(e["outcome"], "success", "{e}");
    }
    assert!(late.is_empty(), "{}", late.join("\n"));
}

fn who_may_run_staged_operations(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let bob = login(&srv, "bob");
    let carol = login(&srv, "carol");
    let body = json!({ "batch_size": 2, "interval_seconds": 30 });
    for op in ["staged-start", "staged-stop"] {
        staged(&srv, None, op, Some(body.clone())).unauthorized();
        staged(&srv, Some(&alice), op, Some(body.clone())).problem(403);
        staged(&srv, Some(&bob), op, Some(body.clone())).problem(403);
        staged(&srv, Some(&alice), op, None).problem(403);
        for bad in [
            json!({ "batch_size": 0 }),
            json!({ "batch_size": 1001 }),
            json!({ "batch_size": -1 }),
            json!({ "interval_seconds": 3601 }),
            json!({ "pace": "sometimes" }),
            json!({ "batch_size": "2" }),
            json!({ "batch": 2 }),
        ] {
            staged(&srv, Some(&admin), op, Some(bad)).problem(422);
        }
        let j = staged(&srv, Some(&carol), op, Some(body.clone())).ok(202);
        let kind = op.replace('-', "_");
        assert_eq!(j["kind"], kind, "{j}");
        for k in ["id", "status", "progress", "created_at"] {
            assert!(!j[k].is_null(), "job without `{k}`: {j}");
        }
        drive_job(&srv, &admin, &j["id"], Duration::from_secs(5));
        // the job is the requester's (and admins')
        job(&srv, &carol, &j["id"]);
        srv.get(&format!("/api/v1/jobs/{}", j["id"]), Some(&alice))
            .problem(404);
    }
    // no job was recorded for the refused requests
    let audit = events(&srv, &admin, "&kind=audit");
    let staged_events = audit
        .iter()
        .filter(|e| matches!(e["action"].as_str(), Some("staged_start" | "staged_stop")))
        .count();
    assert_eq!(staged_events, 2, "{audit:?}");
}

/// SPEC §5: staged start "on start-up (when configured)": a restarted
/// server with `HERD_STAGED_START_ON_BOOT` boots the stopped `auto_boot`
/// guests, in batches, as a job.
fn staged_start_on_boot_boots_auto_boot_guests(db: Db) {
    let Some(mut srv) = builder(db)
        .env("HERD_STAGED_START_ON_BOOT", "true")
        .env("HERD_POOL_TARGET_SIZE", "3")
        .start()
    else {
        return;
    };
    let admin = login(&srv, "admin");
    let g1 = take_for(&srv, &admin, "s01");
    let g2 = take_for(&srv, &admin, "s02");
    let g3 = take_for(&srv, &admin, "s03");
    wait_running(&srv, &admin, &[&g1, &g2, &g3]);
    srv.patch_json(
        &format!("/api/v1/guests/{g3}"),
        Some(&admin),
        &json!({ "auto_boot": false }),
    )
    .ok(200);
    for g in [&g1, &g2, &g3] {
        let c = power(&srv, Some(&admin), g, "force_off").ok(202);
        assert_succeeded(&wait_command(&srv, &admin, &c["command_id"], Instant::now()).0);
    }
    for g in [&g1, &g2, &g3] {
        assert_eq!(state_of(&srv, &admin, g), "stopped");
    }

    srv.restart();
    let admin = login(&srv, "admin");
    let jobs = srv.get("/api/v1/jobs?limit=500", Some(&admin)).ok(200);
    let job = jobs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|j| j["kind"] == "staged_start")
        .unwrap_or_else(|| panic!("no staged_start job after a restart: {jobs}"))
        .clone();
    assert_eq!(job["progress"]["total"], 2, "auto_boot guests only: {job}");
    drive_job(&srv, &admin, &job["id"], Duration::from_secs(5));
    wait_running(&srv, &admin, &[&g1, &g2]);
    assert_eq!(state_of(&srv, &admin, &g3), "stopped");
}

// ---------------------------------------------------------------------------
// events
// ---------------------------------------------------------------------------

fn events_are_audited_and_scoped_to_the_owner(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let dave = login(&srv, "dave");
    let bob = login(&srv, "bob");
    let g = take_for(&srv, &admin, "alice");
    let d = take_for(&srv, &admin, "dave");
    wait_running(&srv, &alice, &[&g]);
    wait_running(&srv, &dave, &[&d]);

    click(&srv, &alice, &g, "apache", "restart");
    patch_service(&srv, Some(&alice), &g, "mysql", true).ok(200);
    let c = power(&srv, Some(&dave), &d, "force_off").ok(202);
    assert_succeeded(&wait_command(&srv, &dave, &c["command_id"], Instant::now()).0);

    srv.get("/api/v1/events", None).unauthorized();

    // admin: everything, newest first, audit events with who/what/where
    let all = events(&srv, &admin, "");
    assert!(!all.is_empty());
    assert_newest_first(&all);
    all.iter().for_each(check_event_shape);
    let audit = events(&srv, &admin, "&kind=audit");
    assert!(audit.iter().all(|e| e["kind"] == "audit"), "{audit:?}");
    assert_newest_first(&audit);
    let restart = audit
        .iter()
        .find(|e| {
            e["actor"] == "alice"
                && e["target"] == g.as_str()
                && e["detail"] == format!("{g} SERVICE apache RESTART")
        })
        .unwrap_or_else(|| panic!("no audit event for alice's restart in {audit:?}"));
    assert_eq!(restart["outcome"], "success", "{restart}");
    assert_eq!(restart["client_addr"], "127.0.0.1", "{restart}");
    assert!(
        audit.iter().any(|e| e["actor"] == "alice"
            && e["action"] == "service.enable"
            && e["target"] == g.as_str()),
        "no audit event for the enablement in {audit:?}"
    );
    let force = audit
        .iter()
        .find(|e| e["actor"] == "dave" && e["detail"] == format!("{d} FORCE"))
        .unwrap_or_else(|| panic!("no audit event for dave's FORCE in {audit:?}"));
    assert_eq!(force["target"], d.as_str(), "{force}");
    // the newest audit event is dave's FORCE (the last change made)
    assert_eq!(audit[0]["id"], force["id"], "{audit:?}");
    let at = parse_rfc3339_utc(force["at"].as_str().unwrap());
    assert!(
        (at - srv.now_ms()).abs() < 60_000,
        "{force} vs clock {}",
        srv.now_ms()
    );

    // pages follow the cursor without gaps or repeats
    let page = srv.get("/api/v1/events?limit=2", Some(&admin)).ok(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let cursor = page["next_cursor"]
        .as_str()
        .expect("next_cursor")
        .to_string();
    let next = srv
        .get(
            &format!("/api/v1/events?limit=2&cursor={cursor}"),
            Some(&admin),
        )
        .ok(200);
    let last = page["items"][1]["id"].as_i64().unwrap();
    let first_next = next["items"][0]["id"].as_i64().expect("a second page");
    assert!(first_next < last, "{page}\n{next}");
    assert!(
        all.iter().any(|e| e["id"] == first_next),
        "the second page starts with an unknown event: {next}"
    );
    srv.get("/api/v1/events?limit=0", Some(&admin)).problem(422);
    srv.get("/api/v1/events?cursor=nonsense", Some(&admin))
        .problem(422);

    // a student: only events about their own guests
    let mine = events(&srv, &alice, "");
    assert!(!mine.is_empty(), "alice sees no events about {g}");
    assert_newest_first(&mine);
    for e in &mine {
        check_event_shape(e);
        assert_eq!(e["target"], g.as_str(), "alice sees {e}");
    }
    assert!(
        mine.iter().any(|e| e["kind"] == "provisioning"),
        "no provisioning event for {g} in {mine:?}"
    );
    let theirs = events(&srv, &dave, "");
    assert!(
        theirs.iter().all(|e| e["target"] == d.as_str()),
        "{theirs:?}"
    );
    assert!(events(&srv, &alice, "&kind=provisioning")
        .iter()
        .all(|e| e["kind"] == "provisioning"),);
    let by_guest = events(&srv, &alice, &format!("&guest={g}"));
    assert!(!by_guest.is_empty());
    assert!(by_guest.iter().all(|e| e["target"] == g.as_str()));
    // lower case names the same guest
    events(&srv, &alice, &format!("&guest={}", g.to_ascii_lowercase()));

    // someone else's guest, or no such guest: 404
    srv.get(&format!("/api/v1/events?guest={d}"), Some(&alice))
        .problem(404);
    srv.get(&format!("/api/v1/events?guest={g}"), Some(&dave))
        .problem(404);
    srv.get("/api/v1/events?guest=LX999999", Some(&admin))
        .problem(404);
    // staff own no guests: they see no events and no guest's events
    let staff = events(&srv, &bob, "");
    assert!(staff.is_empty(), "staff see {staff:?}");
    srv.get(&format!("/api/v1/events?guest={g}"), Some(&bob))
        .problem(404);

    // admin may filter by anyone's guest
    let for_d = events(&srv, &admin, &format!("&guest={d}"));
    assert!(!for_d.is_empty());
    assert!(for_d.iter().all(|e| e["target"] == d.as_str()), "{for_d:?}");
}

/// SPEC §4: `GET /api/v1/events?guest=&kind=` gives monitor *and audit*
/// events of a guest: the audit trail of a guest's commands must show up
/// when filtering by that guest, for its owner and for admins.
fn events_about_a_guest_include_its_audit_trail(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);
    click(&srv, &alice, &g, "apache", "restart");
    let text = format!("{g} SERVICE apache RESTART");

    let everything = events(&srv, &admin, "&kind=audit");
    assert!(
        everything.iter().any(|e| e["detail"] == text.as_str()),
        "no audit event for the restart at all: {everything:?}"
    );
    let admin_view = events(&srv, &admin, &format!("&guest={g}&kind=audit"));
    assert!(
        admin_view.iter().any(|e| e["detail"] == text.as_str()),
        "admin: GET /api/v1/events?guest={g}&kind=audit lacks the audit event of the \
         restart of {g} (target {g}): {admin_view:?}"
    );
    let owner_view = events(&srv, &alice, &format!("&guest={g}"));
    assert!(
        owner_view.iter().any(|e| e["detail"] == text.as_str()),
        "owner: GET /api/v1/events?guest={g} lacks the audit event of her own restart: \
         {owner_view:?}"
    );
}

// ---------------------------------------------------------------------------
// DNS
// ---------------------------------------------------------------------------

fn zone(srv: &TestServer, token: Option<&str>) -> Reply {
    srv.get("/api/v1/dns/zone", token)
}

fn dns_zone_lists_assigned_guests(db: Db) {
    let Some(srv) = server(db) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let bob = login(&srv, "bob");
    let carol = login(&srv, "carol");

    zone(&srv, None).unauthorized();
    zone(&srv, Some(&alice)).problem(403);
    zone(&srv, Some(&bob)).problem(403);

    // pooled guests have no host name yet
    srv.wait_for("the pool to fill", SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"].as_u64() >= Some(3)).then_some(())
    });
    let empty = zone(&srv, Some(&admin));
    empty.expect(200);
    assert_eq!(empty.content_type(), "text/plain", "{:?}", empty.headers);
    let records = a_records(&empty.body);
    assert!(
        records.iter().all(|(h, _)| h == "ns"),
        "unassigned guests in the zone:\n{}",
        empty.body
    );
    check_zone(&srv, "herd.local", &empty.body);

    let a = take_for(&srv, &admin, "alice");
    let b = take_for(&srv, &admin, "s01");
    let c = take_for(&srv, &admin, "s02");
    // a stopped guest keeps its name
    wait_running(&srv, &admin, &[&c]);
    let cmd = power(&srv, Some(&admin), &c, "force_off").ok(202);
    assert_succeeded(&wait_command(&srv, &admin, &cmd["command_id"], Instant::now()).0);

    let z = zone(&srv, Some(&carol));
    z.expect(200);
    assert_eq!(z.content_type(), "text/plain");
    let text = z.body.clone();
    assert!(text.contains("$ORIGIN herd.local."), "{text}");
    assert!(
        text.lines().any(|l| l.contains("IN SOA")),
        "no SOA record:\n{text}"
    );
    assert!(
        text.lines().any(|l| l.contains("IN NS")),
        "no NS record:\n{text}"
    );
    let records = a_records(&text);
    let hosts: BTreeSet<String> = records
        .iter()
        .filter(|(h, _)| h != "ns")
        .map(|(h, _)| h.clone())
        .collect();
    let mut want = BTreeSet::new();
    for name in [&a, &b, &c] {
        let gv = guest(&srv, &admin, name);
        let host = name.to_ascii_lowercase();
        assert_eq!(gv["hostname"], format!("{host}.herd.local"), "{gv}");
        let ip = gv["ip_address"].as_str().expect("ip_address");
        assert!(
            records.iter().any(|(h, i)| *h == host && i == ip),
            "no `{host} IN A {ip}` in:\n{text}"
        );
        want.insert(host);
    }
    assert_eq!(
        hosts, want,
        "the zone's hosts are not the assigned guests:\n{text}"
    );
    check_zone(&srv, "herd.local", &text);

    // the serial grows with the clock
    let serial = |t: &str| -> u64 {
        let soa = t.lines().find(|l| l.contains("IN SOA")).expect("SOA");
        let after = soa.split('(').nth(1).expect("SOA (");
        after
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no serial in {soa}"))
    };
    srv.advance_clock(Duration::from_secs(10));
    let later = zone(&srv, Some(&admin)).body;
    assert!(serial(&later) > serial(&text), "{text}\n---\n{later}");

    // a decommissioned guest leaves the zone
    let j = srv
        .delete(&format!("/api/v1/guests/{b}"), Some(&admin))
        .ok(202);
    drive_job(&srv, &admin, &j["id"], Duration::from_secs(2));
    let after = zone(&srv, Some(&admin)).body;
    let hosts: BTreeSet<String> = a_records(&after)
        .into_iter()
        .map(|(h, _)| h)
        .filter(|h| h != "ns")
        .collect();
    let gone = b.to_ascii_lowercase();
    assert!(!hosts.contains(&gone), "{gone} still in:\n{after}");
    assert_eq!(hosts.len(), 2, "{after}");
    check_zone(&srv, "herd.local", &after);
}

fn dns_zone_uses_the_guest_domain(db: Db) {
    let Some(srv) = builder(db)
        .env("HERD_GUEST_DOMAIN", "lab.example.edu")
        .env("HERD_POOL_TARGET_SIZE", "2")
        .start()
    else {
        return;
    };
    let admin = login(&srv, "admin");
    let g = take_for(&srv, &admin, "alice");
    let gv = guest(&srv, &admin, &g);
    let host = g.to_ascii_lowercase();
    assert_eq!(gv["hostname"], format!("{host}.lab.example.edu"), "{gv}");
    let z = zone(&srv, Some(&admin));
    z.expect(200);
    assert!(z.body.contains("$ORIGIN lab.example.edu."), "{}", z.body);
    let ip = gv["ip_address"].as_str().expect("ip");
    assert!(
        a_records(&z.body)
            .iter()
            .any(|(h, i)| *h == host && i == ip),
        "no `{host} IN A {ip}` in:\n{}",
        z.body
    );
    check_zone(&srv, "lab.example.edu", &z.body);
}

// ---------------------------------------------------------------------------
// the dispatcher in its own process (PostgreSQL: LISTEN/NOTIFY)
// ---------------------------------------------------------------------------

/// PostgreSQL closing the server's connections (a restart, a failover)
/// costs no click: the recorder's kept connection fails at its first
/// lookup, before anything is written, and the click is looked up again on
/// a fresh connection instead of being answered with an error.
#[test]
fn a_click_survives_the_database_closing_connections_postgres() {
    let Some(srv) = server(Db::Postgres) else {
        return;
    };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);
    // The recorder now keeps a connection.
    click(&srv, &alice, &g, "apache", "restart");

    let pg = srv.pg().expect("the server's PostgreSQL database");
    // Waiting for each to end, as a restart does before anyone can
    // connect: a backend still ending after the pool tested it would fail
    // the request it serves (503), whatever the pool does.
    pg.admin_execute(&format!(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = '{}'",
        pg.name
    ))
    .expect("close the server's connections");

    click(&srv, &alice, &g, "apache", "restart");
    click(&srv, &alice, &g, "mysql", "start");
}

#[test]
fn separate_dispatcher_process_postgres() {
    let Some(srv) = builder(Db::Postgres)
        .env("HERD_ROLES", "api,provisioner")
        .start()
    else {
        return;
    };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_for(&srv, &admin, "alice");
    wait_running(&srv, &alice, &[&g]);

    // no dispatcher anywhere: the command waits
    let waiting = service_action(&srv, Some(&alice), &g, "apache", "restart").ok(202);
    check_command(&waiting, &g, "SERVICE apache RESTART");
    std::thread::sleep(Duration::from_millis(2000));
    let still = command(&srv, &alice, &waiting["command_id"]).ok(200);
    assert_eq!(
        still["status"], "queued",
        "executed without a dispatcher: {still}"
    );
    assert!(still["dispatched_at"].is_null(), "{still}");

    // the dispatcher process picks it up
    let dispatcher = srv.spawn_dispatcher();
    let t0 = Instant::now();
    let (done, took) = wait_command(&srv, &alice, &waiting["command_id"], t0);
    println!("queued command after the dispatcher started: {took:?}");
    assert_succeeded(&done);
    assert!(
        took < Duration::from_secs(5),
        "the dispatcher took {took:?} to run a waiting command"
    );

    // and new clicks go through NOTIFY at once; so does the news that a
    // command is done, to a request waiting for it in the web process
    let c = service_action(&srv, Some(&alice), &g, "apache", "restart").ok(202);
    let (reply, took) = awaited(&srv, &alice, &c["command_id"], "10");
    assert_succeeded(&reply.ok(200));
    assert!(took < CLICK, "waited {took:?} across processes");
    for _ in 0..3 {
        click(&srv, &alice, &g, "apache", "restart");
    }
    click(&srv, &alice, &g, "mysql", "start");
    assert_eq!(service(&srv, &alice, &g, "mysql")["state"], "up");
    // power through the other process as well
    let c = power(&srv, Some(&alice), &g, "force_off").ok(202);
    let (done, took) = wait_command(&srv, &alice, &c["command_id"], Instant::now());
    println!("FORCE through the dispatcher process: {took:?}");
    assert_succeeded(&done);
    assert!(took < CLICK, "FORCE took {took:?}");
    assert_eq!(state_of(&srv, &alice, &g), "stopped");
    assert!(dispatcher.pid().is_some());
    drop(dispatcher);

    // without it again, commands wait once more: a wait runs out
    let c = power(&srv, Some(&alice), &g, "start").ok(202);
    let (reply, took) = awaited(&srv, &alice, &c["command_id"], "1");
    assert_eq!(reply.ok(200)["status"], "queued");
    assert!(took >= Duration::from_secs(1), "answered after {took:?}");
}
