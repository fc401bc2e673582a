//! The generated clients and the `herd` CLI (issue 6) against a real
//! `herd-server`:
//!
//! - the checked-in generated code matches `openapi/openapi.json`
//!   (`clients/GENERATED.sha256`, written by `clients/regenerate.sh`);
//! - the `herd` CLI (on the progenitor client `clients/rust`): login with
//!   `HERD_PASSWORD`, request a guest, restart a service, open and close a
//!   port (and have an invalid one refused), a small batch with `--wait`;
//! - the Python client: `pip install clients/python` into a throwaway venv,
//!   list guests and open a port through `AuthenticatedClient`;
//! - the TypeScript client: `tsc --strict`, then one call run with node.
//!
//! Python and node tests need `python3` and `npm`/`node` (and the package
//! registries for `pip install`/`npm ci`); without them they print
//! `skipping:` (or fail under CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use herd_tests::{services, Db, TestServer, Value, ADMIN_PASSWORD};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `target/<profile>/herd`, next to `herd-server`.
fn herd_binary() -> PathBuf {
    let server = herd_tests::server_binary();
    let bin = server.with_file_name(format!("herd{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "herd CLI not found at {}: build it first (`cargo build --workspace`)",
        bin.display()
    );
    bin
}

/// True when `cmd --version` runs; otherwise reports a skip (or panics in CI).
fn have_tool(cmd: &str) -> bool {
    let ok = Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        services::missing(&format!("`{cmd}`"), &[cmd]);
    }
    ok
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Runs `cmd`; panics with its output unless it exits with `code`.
fn expect_code(cmd: &mut Command, code: i32, what: &str) -> Output {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert_eq!(o.status.code(), Some(code), "{what}: {}", show(&o));
    o
}

// ---------------------------------------------------------------------------
// stale check
// ---------------------------------------------------------------------------

/// `clients/GENERATED.sha256` lists the checksum of `openapi/openapi.json`
/// and of every generated file at generation time: a changed document (not
/// followed by `clients/regenerate.sh`) or a hand-edited generated file fails.
#[test]
fn generated_clients_match_the_document() {
    let root = repo_root();
    let manifest = std::fs::read_to_string(root.join("clients/GENERATED.sha256"))
        .expect("clients/GENERATED.sha256 (run clients/regenerate.sh)");
    assert!(
        manifest.contains("  openapi/openapi.json\n"),
        "the manifest does not list openapi/openapi.json"
    );
    let o = Command::new("sha256sum")
        .args(["--check", "--strict", "--quiet", "clients/GENERATED.sha256"])
        .current_dir(&root)
        .output()
        .expect("run sha256sum");
    assert!(
        o.status.success(),
        "generated clients are stale or were edited by hand: run clients/regenerate.sh\n{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------
// the herd CLI
// ---------------------------------------------------------------------------

fn server() -> Option<TestServer> {
    TestServer::builder(Db::Sqlite)
        .env("HERD_POOL_TARGET_SIZE", "1")
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
}

struct Cli {
    bin: PathBuf,
    config: tempfile::TempDir,
    url: String,
}

impl Cli {
    fn new(srv: &TestServer) -> Cli {
        Cli {
            bin: herd_binary(),
            config: tempfile::tempdir().expect("temp dir"),
            url: srv.base_url().to_string(),
        }
    }

    /// `herd ARGS` with a private config dir and no inherited HERD_* settings.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HERD_") {
                c.env_remove(k);
            }
        }
        c.args(args)
            .env("HERD_CONFIG_DIR", self.config.path())
            .env("NO_COLOR", "1");
        c
    }

    fn ok(&self, args: &[&str]) -> Output {
        expect_code(&mut self.cmd(args), 0, &format!("herd {}", args.join(" ")))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let o = self.ok(&all);
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("herd {}: not JSON ({e}): {}", all.join(" "), show(&o)))
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        let o = expect_code(
            &mut self.cmd(args),
            code,
            &format!("herd {}", args.join(" ")),
        );
        text(&o.stderr)
    }
}

/// `herd events` lists, `herd events --follow` prints what happens from
/// then on, one JSON object a line.
#[test]
fn cli_lists_and_follows_events() {
    use std::io::BufRead;
    use std::time::Duration;
    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);
    let token = srv.admin_token();
    let name = requested_guest(&srv, &token);
    let mut follow = cli
        .cmd(&["events", "--follow", "--output", "json"])
        .env("HERD_URL", srv.base_url())
        .env("HERD_TOKEN", &token)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run herd events --follow");
    let stdout = follow.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    // Changes until the stream shows one (it may connect after the first).
    let seen = srv.wait_for(
        "the change in the followed stream",
        Duration::from_secs(20),
        || {
            srv.patch_json(
                &format!("/api/v1/guests/{name}"),
                Some(&token),
                &herd_tests::json!({"description": "followed"}),
            )
            .expect(200);
            // Other work (the pool keeper, the boot) has its events too.
            while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
                if line.contains("guest.update") {
                    return Some(line);
                }
            }
            None
        },
    );
    let _ = follow.kill();
    let _ = follow.wait();
    let event: Value = serde_json::from_str(&seen).expect("one JSON event a line");
    assert_eq!(event["action"], "guest.update", "{event}");
    assert_eq!(event["kind"], "audit", "{event}");

    let listed = cli
        .cmd(&["events", "--kind", "audit", "--output", "json"])
        .env("HERD_URL", srv.base_url())
        .env("HERD_TOKEN", &token)
        .output()
        .expect("run herd events");
    assert!(listed.status.success(), "{}", show(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert!(
        listed
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e["kind"] == "audit")),
        "{listed}"
    );
}

#[test]
fn cli_full_flow() {
    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);

    // help, usage errors, completions
    let help = text(&cli.ok(&["--help"]).stdout);
    for word in [
        "login", "guests", "services", "ports", "pool", "batch", "ops", "system",
    ] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
    }
    cli.fails(&["ports", "open"], 2);
    cli.fails(&["frobnicate"], 2);
    cli.fails(&["batch", "create", "--per-user", "1"], 2); // needs --group or --users
    assert!(text(&cli.ok(&["completions", "bash"]).stdout).contains("herd"));

    // not logged in yet: exit 1 with a hint
    let err = cli.fails(&["guests", "list"], 1);
    assert!(err.contains("herd login"), "{err}");

    // login: password from HERD_PASSWORD, token saved with mode 0600
    let o = expect_code(
        cli.cmd(&["login", "--server", &cli.url, "--username", "admin"])
            .env("HERD_PASSWORD", ADMIN_PASSWORD),
        0,
        "herd login",
    );
    let cfg = cli.config.path().join("config.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg)
            .expect("config file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "config mode {mode:o}; {}", show(&o));
    }
    let bad = expect_code(
        cli.cmd(&["login", "--server", &cli.url, "--username", "admin"])
            .env("HERD_PASSWORD", "wrong-password"),
        1,
        "herd login with a wrong password",
    );
    assert!(text(&bad.stderr).contains("401"), "{}", show(&bad));

    let me = cli.json(&["whoami"]);
    assert_eq!(me["role"], "admin", "{me}");

    // request a guest (--wait: pooled or provisioned, the answer is the guest)
    let g = cli.json(&["guests", "request", "--wait"]);
    let name = g["name"].as_str().expect("guest name").to_string();
    let list = cli.json(&["guests", "list"]);
    assert!(
        list.as_array()
            .expect("list is an array")
            .iter()
            .any(|x| x["name"] == name.as_str()),
        "{name} not in {list}"
    );
    // wait until it runs (the simulated boot follows the server's clock)
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = cli.json(&["guests", "show", &name]);
        if st["state"] == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "{name} never ran: {st}");
        srv.advance_clock(Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(200));
    }

    // restart a service and wait for the command
    let services = cli.json(&["services", "list", &name]);
    let svc = services[0]["name"]
        .as_str()
        .expect("a catalog service")
        .to_string();
    let cmd = cli.json(&["services", "restart", &name, &svc, "--wait"]);
    assert_eq!(cmd["status"], "succeeded", "{cmd}");

    // open a valid port, refuse invalid ones with the problem on stderr
    let lease = cli.json(&["ports", "open", &name, "8080", "--minutes", "30"]);
    assert_eq!(lease["port"], 8080, "{lease}");
    let err = cli.fails(&["ports", "open", &name, "22"], 1);
    assert!(err.contains("422") && err.contains("22"), "{err}");
    let err = cli.fails(&["ports", "open", &name, "70000"], 1);
    assert!(err.contains("422"), "{err}");
    let leases = cli.json(&["ports", "list", &name]);
    assert_eq!(leases.as_array().map(Vec::len), Some(1), "{leases}");
    let table = text(
        &cli.ok(&["ports", "list", &name, "--output", "table"])
            .stdout,
    );
    assert!(
        table.contains("REMAINING") && table.contains("8080"),
        "{table}"
    );
    cli.ok(&["ports", "close", &name, "8080"]);
    let leases = cli.json(&["ports", "list", &name]);
    assert_eq!(leases.as_array().map(Vec::len), Some(0), "{leases}");

    // HERD_URL and HERD_TOKEN override the saved settings
    let token = srv.admin_token();
    let other = Cli::new(&srv);
    let o = expect_code(
        other
            .cmd(&["guests", "show", &name, "-o", "json"])
            .env("HERD_URL", &cli.url)
            .env("HERD_TOKEN", &token),
        0,
        "herd with HERD_URL/HERD_TOKEN",
    );
    assert!(text(&o.stdout).contains(&name), "{}", show(&o));
    let bad = expect_code(
        cli.cmd(&["guests", "list"])
            .env("HERD_TOKEN", "not-a-token"),
        1,
        "herd with a bad HERD_TOKEN",
    );
    assert!(text(&bad.stderr).contains("401"), "{}", show(&bad));

    // a small batch: dry run, then for real with --wait
    let plan = cli.json(&[
        "batch",
        "create",
        "--users",
        "admin",
        "--per-user",
        "2",
        "--dry-run",
    ]);
    assert_eq!(plan["dry_run"], true, "{plan}");
    let batch = cli.json(&[
        "batch",
        "create",
        "--users",
        "admin",
        "--per-user",
        "2",
        "--wait",
    ]);
    assert_eq!(batch["status"], "succeeded", "{batch}");
    let id = batch["id"].as_i64().expect("batch id").to_string();
    let again = cli.json(&["batch", "show", &id]);
    assert_eq!(again["status"], "succeeded", "{again}");

    // pool
    let pool = cli.json(&["pool", "show"]);
    assert_eq!(pool["target_size"], 1, "{pool}");
    let pool = cli.json(&["pool", "set", "--target-size", "2"]);
    assert_eq!(pool["target_size"], 2, "{pool}");

    // background tasks: every task of the server, as a table too
    let tasks = cli.json(&["system", "tasks"]);
    let names: Vec<&str> = tasks
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for task in ["pool_keeper", "job_runner", "monitor", "dispatcher"] {
        assert!(names.contains(&task), "no {task} in {tasks}");
    }
    let table = text(&cli.ok(&["-o", "table", "system", "tasks"]).stdout);
    assert!(
        table.contains("TASK") && table.contains("pool_keeper"),
        "{table}"
    );

    // logout forgets the token
    cli.ok(&["logout"]);
    cli.fails(&["guests", "list"], 1);
}

/// SPEC §7 from the CLI: `herd images publish --wait` makes root version
/// 2, `herd images versions` lists it, `herd rollouts start --wait` brings
/// the image to it (no guest runs, so nothing restarts), and cancelling
/// the finished rollout is refused (409).
#[test]
fn cli_publishes_a_root_version_and_rolls_it_out() {
    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);
    let token = srv.admin_token();
    let herd = |args: &[&str]| {
        let mut c = cli.cmd(args);
        c.env("HERD_URL", srv.base_url()).env("HERD_TOKEN", &token);
        c
    };
    let run = |args: &[&str], code: i32| {
        expect_code(&mut herd(args), code, &format!("herd {}", args.join(" ")))
    };
    let json = |args: &[&str]| -> Value {
        let o = run(args, 0);
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("herd {}: not JSON ({e}): {}", args.join(" "), show(&o)))
    };

    let images = json(&["images", "list", "--output", "json"]);
    let golden = images
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == "golden"))
        .unwrap_or_else(|| panic!("no golden image in {images}"));
    assert_eq!(golden["root_version"], 1, "{golden}");
    assert_eq!(golden["latest_version"], 1, "{golden}");

    // publish version 2 and wait for the job
    let o = run(
        &[
            "images",
            "publish",
            "golden",
            "--label",
            "test patch",
            "--wait",
            "--output",
            "table",
        ],
        0,
    );
    let published = text(&o.stdout);
    assert!(published.contains("version 2"), "{}", show(&o));

    let versions = json(&["images", "versions", "golden", "--output", "json"]);
    let numbers: Vec<i64> = versions
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    assert_eq!(numbers, [1, 2], "{versions}");
    assert_eq!(versions[1]["label"], "test patch", "{versions}");
    assert_eq!(versions[1]["state"], "published", "{versions}");
    let table = text(&run(&["images", "versions", "golden", "--output", "table"], 0).stdout);
    assert!(
        table.contains("VERSION") && table.contains("CHECKSUM") && table.contains("test patch"),
        "{table}"
    );

    // roll it out; nothing runs, so the rollout restarts nobody
    let mut child = herd(&[
        "rollouts",
        "start",
        "golden",
        "--version",
        "2",
        "--wait",
        "--output",
        "json",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("run herd rollouts start");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait for herd").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().expect("herd output");
            panic!("herd rollouts start --wait never ended: {}", show(&o));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().expect("herd output");
    assert_eq!(o.status.code(), Some(0), "rollout: {}", show(&o));
    let job: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("rollout: not JSON ({e}): {}", show(&o)));
    assert_eq!(job["kind"], "rollout", "{job}");
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["result"]["pending"], 0, "{job}");
    let id = job["id"].as_i64().expect("job id").to_string();

    let images = json(&["images", "list", "--output", "json"]);
    let golden = images
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == "golden"))
        .unwrap_or_else(|| panic!("no golden image in {images}"));
    assert_eq!(golden["root_version"], 2, "{golden}");
    assert_eq!(golden["latest_version"], 2, "{golden}");

    let status = json(&["rollouts", "status", &id, "--output", "json"]);
    assert_eq!(status["status"], "succeeded", "{status}");

    // a finished rollout cannot be cancelled
    let o = run(&["rollouts", "cancel", &id], 1);
    let err = text(&o.stderr);
    assert!(
        err.contains("409") && err.contains("already"),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------

#[test]
fn python_client_lists_guests_and_opens_a_port() {
    if !have_tool("python3") {
        return;
    }
    let Some(srv) = server() else { return };
    let root = repo_root();
    let token = srv.admin_token();
    let g = srv
        .post_json("/api/v1/guests", Some(&token), &herd_tests::json!({}))
        .json();
    let name = g["name"]
        .as_str()
        .or_else(|| g["guest"].as_str())
        .unwrap_or_else(|| panic!("no guest in {g}"))
        .to_string();

    let venv = tempfile::tempdir().expect("temp dir");
    expect_code(
        Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(venv.path()),
        0,
        "python3 -m venv",
    );
    let bin = venv.path().join("bin");
    // pip builds in a temp copy, so clients/python stays clean
    expect_code(
        Command::new(bin.join("pip"))
            .args(["install", "-q", "--disable-pip-version-check"])
            .arg(root.join("clients/python")),
        0,
        "pip install clients/python",
    );
    let o = expect_code(
        Command::new(bin.join("python"))
            .arg(root.join("clients/tests/python_smoke.py"))
            .env("HERD_URL", srv.base_url())
            .env("HERD_PASSWORD", ADMIN_PASSWORD)
            .env("HERD_GUEST", &name),
        0,
        "python smoke",
    );
    let v: Value = serde_json::from_slice(&o.stdout).expect("smoke prints JSON");
    assert!(
        v["guests"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == name.as_str())),
        "{v}"
    );
    assert_eq!(v["lease"]["port"], 8080, "{v}");
    assert_eq!(v["refused"]["status"], 422, "{v}");
    assert_eq!(v["closed"], 204, "{v}");
    assert_eq!(v["command"]["status_is_enum"], true, "{v}");
    assert!(
        ["queued", "dispatched", "succeeded", "failed"]
            .contains(&v["command"]["status"].as_str().unwrap_or("")),
        "{v}"
    );
    assert!(
        v["command"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("IPL")),
        "a restart ends with an IPL: {v}"
    );
}

// ---------------------------------------------------------------------------
// TypeScript
// ---------------------------------------------------------------------------

#[test]
fn typescript_client_typechecks_and_calls() {
    if !have_tool("node") || !have_tool("npm") {
        return;
    }
    let ts = repo_root().join("clients/typescript");
    if !ts.join("node_modules/.bin/tsc").is_file() {
        expect_code(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&ts),
            0,
            "npm ci in clients/typescript",
        );
    }
    // Compile into a directory inside clients/typescript, so that node
    // resolves openapi-fetch from its node_modules.
    let build = ts.join(format!(".test-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&build);
    expect_code(
        Command::new(ts.join("node_modules/.bin/tsc"))
            .args(["-p", "tsconfig.json", "--strict", "--outDir"])
            .arg(&build)
            .current_dir(&ts),
        0,
        "tsc --strict",
    );
    let _cleanup = RemoveOnDrop(build.clone());
    let Some(srv) = server() else { return };
    let token = srv.admin_token();
    let g = srv
        .post_json("/api/v1/guests", Some(&token), &herd_tests::json!({}))
        .json();
    let name = g["name"]
        .as_str()
        .or_else(|| g["guest"].as_str())
        .unwrap_or_else(|| panic!("no guest in {g}"))
        .to_string();
    let o = Command::new("node")
        .arg(build.join("test/smoke.js"))
        .env("HERD_URL", srv.base_url())
        .env("HERD_PASSWORD", ADMIN_PASSWORD)
        .output()
        .expect("run node");
    assert!(o.status.success(), "node smoke: {}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("smoke prints JSON");
    assert_eq!(v["role"], "admin", "{v}");
    assert!(
        v["guests"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == name.as_str())),
        "{v}"
    );
    // the union-typed filter reached the server: only pooled guests came back
    assert!(
        v["pooledStates"]
            .as_array()
            .is_some_and(|a| a.iter().all(|s| s == "pooled")),
        "{v}"
    );
}

/// Removes a directory when dropped (also when the test panics).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A guest requested for the caller: its name (assigned or being cloned).
fn requested_guest(srv: &TestServer, token: &str) -> String {
    let g = srv
        .post_json("/api/v1/guests", Some(token), &herd_tests::json!({}))
        .json();
    g["name"]
        .as_str()
        .or_else(|| g["guest"].as_str())
        .expect("guest")
        .to_string()
}

/// `herd guests known-hosts` prints what the API serves, ready for
/// `~/.ssh/known_hosts`.
#[test]
fn cli_prints_known_hosts_lines() {
    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);
    let token = srv.admin_token();
    let name = requested_guest(&srv, &token);
    let key_of = format!("{name}'s host key");
    let line = srv.step_until(
        &key_of,
        Duration::from_secs(2),
        Duration::from_secs(60),
        || {
            let r = srv.get(&format!("/api/v1/guests/{name}/known_hosts"), Some(&token));
            (r.status == 200).then(|| r.body.clone())
        },
    );
    let run = |args: &[&str]| {
        cli.cmd(args)
            .env("HERD_URL", srv.base_url())
            .env("HERD_TOKEN", &token)
            .output()
            .expect("run herd")
    };
    let one = run(&["guests", "known-hosts", &name]);
    assert!(one.status.success(), "{}", show(&one));
    assert_eq!(text(&one.stdout), line);
    let all = run(&["guests", "known-hosts"]);
    assert!(all.status.success(), "{}", show(&all));
    assert!(text(&all.stdout).contains(&line), "{}", show(&all));
    let missing = run(&["guests", "known-hosts", "LX999999"]);
    assert!(!missing.status.success(), "{}", show(&missing));
    assert!(text(&missing.stderr).contains("404"), "{}", show(&missing));
}

/// `herd guests reset` asks for the guest's name (and refuses another),
/// `--wait` follows the job to its end, and `herd guests reset-undo` puts
/// the old segment back; nothing is left to undo after that.
#[test]
fn cli_resets_a_guest_and_undoes_it() {
    use std::io::Write;
    use std::process::Stdio;

    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);
    let token = srv.admin_token();
    let name = requested_guest(&srv, &token);
    let path = format!("/api/v1/guests/{name}");
    let guest = || srv.get(&path, Some(&token)).json();
    srv.step_until(
        &format!("{name} running"),
        Duration::from_secs(2),
        Duration::from_secs(60),
        || (guest()["state"] == "running").then_some(()),
    );
    // Runs `herd ARGS` with `typed` on its stdin, moving the server's clock
    // while it waits (a HALT takes the guest's time).
    let run = |args: &[&str], typed: &str| -> Output {
        let mut child = cli
            .cmd(args)
            .env("HERD_URL", srv.base_url())
            .env("HERD_TOKEN", &token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run herd");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(typed.as_bytes())
            .expect("type");
        let started = Instant::now();
        while child.try_wait().expect("wait").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "herd {} did not end",
                args.join(" ")
            );
            srv.advance_clock(Duration::from_secs(2));
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().expect("output")
    };

    let refused = run(&["guests", "reset", &name], "LX999999\n");
    assert!(!refused.status.success(), "{}", show(&refused));
    assert!(
        text(&refused.stderr).contains("not reset"),
        "{}",
        show(&refused)
    );
    assert_eq!(guest()["reset_undo_until"], Value::Null);

    let reset = run(&["guests", "reset", &name, "--wait"], &format!("{name}\n"));
    assert!(reset.status.success(), "{}", show(&reset));
    assert!(text(&reset.stderr).contains(&name), "{}", show(&reset));
    assert!(
        text(&reset.stdout).contains("succeeded"),
        "{}",
        show(&reset)
    );
    assert!(guest()["reset_undo_until"].is_string(), "{}", guest());

    let undo = run(&["guests", "reset-undo", &name, "--wait"], "");
    assert!(undo.status.success(), "{}", show(&undo));
    assert_eq!(guest()["reset_undo_until"], Value::Null);
    let again = run(&["guests", "reset-undo", &name], "");
    assert!(!again.status.success(), "{}", show(&again));
    assert!(text(&again.stderr).contains("404"), "{}", show(&again));

    let yes = run(&["guests", "reset", &name, "--yes", "--output", "json"], "");
    assert!(yes.status.success(), "{}", show(&yes));
    let job: Value = serde_json::from_slice(&yes.stdout).expect("a job");
    assert_eq!(job["kind"], "reset", "{job}");
}

/// `herd tokens list` shows the caller's tokens (this one marked), and
/// `herd tokens revoke ID` revokes one.
#[test]
fn cli_lists_and_revokes_tokens() {
    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);
    let other = srv.admin_token();
    let token = srv.admin_token();
    let run = |args: &[&str]| {
        cli.cmd(args)
            .env("HERD_URL", srv.base_url())
            .env("HERD_TOKEN", &token)
            .output()
            .expect("run herd")
    };
    let o = run(&["tokens", "list", "--output", "json"]);
    assert!(o.status.success(), "{}", show(&o));
    let listed: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let listed = listed.as_array().expect("a list");
    let current: Vec<&Value> = listed.iter().filter(|t| t["current"] == true).collect();
    assert_eq!(current.len(), 1, "{listed:?}");
    let victim = listed
        .iter()
        .find(|t| t["current"] == false)
        .expect("the other token")["id"]
        .to_string();
    let o = run(&["tokens", "revoke", &victim]);
    assert!(o.status.success(), "{}", show(&o));
    srv.me(&other).problem(401);
    srv.me(&token).expect(200);
    let o = run(&["tokens", "revoke", &victim]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(text(&o.stderr).contains("404"), "{}", show(&o));
}

#[test]
fn cli_adds_lists_and_deletes_lans() {
    let Some(srv) = server() else { return };
    let cli = Cli::new(&srv);
    let token = srv.admin_token();
    let run = |args: &[&str]| {
        cli.cmd(args)
            .env("HERD_URL", srv.base_url())
            .env("HERD_TOKEN", &token)
            .output()
            .expect("run herd")
    };
    let o = run(&[
        "lans",
        "add",
        "LNXLAN2",
        "10.20.0.0/24",
        "--dns",
        "192.0.2.53",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(text(&o.stdout).contains("10.20.0.1"), "{}", show(&o));
    let o = run(&["lans", "list", "--output", "json"]);
    assert!(o.status.success(), "{}", show(&o));
    let listed: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let added = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|l| l["name"] == "LNXLAN2")
        .unwrap_or_else(|| panic!("LNXLAN2 not listed: {listed}"))
        .clone();
    assert_eq!(added["dns"], "192.0.2.53", "{added}");
    assert_eq!(added["capacity"], 253, "{added}");
    let o = run(&["lans", "add", "LNXLAN3", "10.20.0.0/25"]);
    assert!(!o.status.success(), "{}", show(&o));
    assert!(text(&o.stderr).contains("overlaps"), "{}", show(&o));
    let o = run(&["lans", "delete", "LNXLAN2"]);
    assert!(o.status.success(), "{}", show(&o));
    let o = run(&["lans", "list"]);
    assert!(!text(&o.stdout).contains("LNXLAN2"), "{}", show(&o));
}
