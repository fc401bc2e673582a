//! End-to-end test harness for herd.
//!
//! The tests in `tests/tests/*.rs` start the real `herd-server` binary (built by
//! `cargo build --workspace`), talk HTTP to it, and use the throwaway OpenLDAP
//! and PostgreSQL that `scripts/test.sh` starts on loopback. The script tells
//! the tests where the services are through environment variables:
//!
//! | variable | example |
//! |---|---|
//! | `HERD_TEST_LDAP_URL` | `ldap://127.0.0.1:40123` |
//! | `HERD_TEST_LDAP_BIND_DN` | `cn=herd-svc,ou=services,dc=herd,dc=test` |
//! | `HERD_TEST_LDAP_BIND_PASSWORD` | `herd-svc-pw` |
//! | `HERD_TEST_LDAP_BASE` | `dc=herd,dc=test` |
//! | `HERD_TEST_PG_URL` | `postgres://postgres@127.0.0.1:40124/postgres` (admin URL) |
//!
//! Without them (a bare `cargo test`), tests that need a service print
//! `skipping: …` and return; with `CI` set they fail instead, so that CI can
//! never pass by skipping.
//!
//! ```no_run
//! use herd_tests::{Db, TestServer};
//! let Some(srv) = TestServer::builder(Db::Sqlite).start() else { return };
//! let token = srv.login("admin", herd_tests::ADMIN_PASSWORD);
//! assert_eq!(srv.get("/api/v1/me", Some(&token)).ok(200)["role"], "admin");
//! ```

use std::collections::BTreeSet;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Scripted faults of the simulated hypervisor, for [`TestServer::inject_fault`].
pub use herd_provisioner::backend::sim::Fault;
pub use reqwest::Method;
pub use serde_json::{json, Value};

/// Password of the local bootstrap user `admin` in every test server.
pub const ADMIN_PASSWORD: &str = "admin-test-pw-3141";

/// How long a server may take from spawn to its "listening" line.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a maintenance command (`herd-server reconcile`, …) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// external services
// ---------------------------------------------------------------------------

/// Access to the services started by `scripts/test.sh`.
pub mod services {
    /// True when running under CI (env `CI` set to something other than
    /// empty, `0` or `false`): missing services are then a failure, not a skip.
    pub fn in_ci() -> bool {
        std::env::var("CI")
            .map(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
            .unwrap_or(false)
    }

    fn var(name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    /// Reports a missing service: panics under CI, otherwise prints a
    /// `skipping:` line to stderr (the caller then returns early).
    pub fn missing(what: &str, vars: &[&str]) {
        let msg = format!(
            "{what} not available ({} not set): run the tests through scripts/test.sh, \
             which starts throwaway services and sets them",
            vars.join(", ")
        );
        if in_ci() {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
    }

    /// The throwaway directory server.
    #[derive(Clone, Debug)]
    pub struct Ldap {
        pub url: String,
        pub bind_dn: String,
        pub bind_password: String,
        /// Directory suffix, e.g. `dc=herd,dc=test`.
        pub base: String,
    }

    const LDAP_VARS: [&str; 4] = [
        "HERD_TEST_LDAP_URL",
        "HERD_TEST_LDAP_BIND_DN",
        "HERD_TEST_LDAP_BIND_PASSWORD",
        "HERD_TEST_LDAP_BASE",
    ];

    /// The directory server, or `None` (after reporting) when not configured.
    pub fn ldap() -> Option<Ldap> {
        let vals: Vec<Option<String>> = LDAP_VARS.iter().map(|v| var(v)).collect();
        if vals.iter().any(Option::is_none) {
            let absent: Vec<&str> = LDAP_VARS
                .iter()
                .zip(&vals)
                .filter(|(_, v)| v.is_none())
                .map(|(n, _)| *n)
                .collect();
            missing("LDAP", &absent);
            return None;
        }
        let mut it = vals.into_iter().flatten();
        Some(Ldap {
            url: it.next()?,
            bind_dn: it.next()?,
            bind_password: it.next()?,
            base: it.next()?,
        })
    }

    /// Admin URL of the throwaway PostgreSQL cluster (database `postgres`),
    /// or `None` (after reporting) when not configured.
    pub fn pg_admin_url() -> Option<String> {
        let url = var("HERD_TEST_PG_URL");
        if url.is_none() {
            missing("PostgreSQL", &["HERD_TEST_PG_URL"]);
        }
        url
    }

    /// Everything at once.
    #[derive(Clone, Debug)]
    pub struct Services {
        pub ldap: Ldap,
        pub pg_admin_url: String,
    }

    impl Services {
        pub fn get() -> Option<Services> {
            let ldap = ldap();
            let pg = pg_admin_url();
            Some(Services {
                ldap: ldap?,
                pg_admin_url: pg?,
            })
        }
    }
}

/// Which group layout of the fixture directory the server is configured for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `ou=groups`: `groupOfNames` with `member: <user DN>`.
    GroupOfNames,
    /// `ou=posixgroups`: `posixGroup` with `memberUid: <uid>`.
    PosixGroup,
}

impl services::Ldap {
    /// The server settings (`HERD_LDAP_*`) for this directory and layout.
    pub fn server_env(&self, layout: Layout) -> Vec<(String, String)> {
        let (group_ou, member_attr) = match layout {
            Layout::GroupOfNames => ("groups", "member"),
            Layout::PosixGroup => ("posixgroups", "memberUid"),
        };
        [
            ("HERD_LDAP_URL", self.url.clone()),
            ("HERD_LDAP_BIND_DN", self.bind_dn.clone()),
            ("HERD_LDAP_BIND_PASSWORD", self.bind_password.clone()),
            ("HERD_LDAP_USER_BASE", format!("ou=people,{}", self.base)),
            (
                "HERD_LDAP_GROUP_BASE",
                format!("ou={group_ou},{}", self.base),
            ),
            ("HERD_LDAP_GROUP_MEMBER_ATTRIBUTE", member_attr.to_string()),
            ("HERD_LDAP_STAFF_GROUP", "herd-staff".to_string()),
            ("HERD_LDAP_ADMIN_GROUP", "herd-admins".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

/// A loopback URL on which nothing listens (for "directory down" tests).
pub fn closed_ldap_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = l.local_addr().expect("local addr").port();
    drop(l);
    format!("ldap://127.0.0.1:{port}")
}

// ---------------------------------------------------------------------------
// databases
// ---------------------------------------------------------------------------

/// The database a test server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    /// The embedded default: SQLite file in the data directory
    /// (`HERD_DATABASE_URL` unset).
    Sqlite,
    /// A fresh database `herd_t_<random>` in the throwaway PostgreSQL cluster.
    Postgres,
}

/// A database created for one test; dropped again when the test ends.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

impl PgDatabase {
    /// Creates `herd_t_<random>`; `None` (after reporting) without PostgreSQL.
    pub fn create() -> Option<PgDatabase> {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        let admin_url = services::pg_admin_url()?;
        let name = format!("herd_t_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("connect to test PostgreSQL {admin_url}: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let url = with_database(&admin_url, &name);
        Some(PgDatabase {
            name,
            url,
            admin_url,
        })
    }

    /// Runs one SQL statement on the admin connection (e.g. to break things).
    pub fn admin_execute(&self, sql: &str) -> Result<usize, String> {
        use diesel::{Connection, PgConnection, RunQueryDsl};
        let mut conn = PgConnection::establish(&self.admin_url).map_err(|e| e.to_string())?;
        diesel::sql_query(sql)
            .execute(&mut conn)
            .map_err(|e| e.to_string())
    }

    /// Drops the database now (terminating the server's connections).
    pub fn drop_now(&self) -> Result<usize, String> {
        self.admin_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
    }

    /// The whole database as SQL text (`pg_dump --data-only`).
    pub fn dump_data(&self) -> String {
        let out = Command::new("pg_dump")
            .args(["--data-only", "--no-owner", &self.url])
            .output()
            .expect("run pg_dump (package postgresql-client)");
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = self.drop_now();
    }
}

// ---------------------------------------------------------------------------
// HTTP replies
// ---------------------------------------------------------------------------

/// A finished HTTP exchange, fully read.
#[derive(Debug, Clone)]
pub struct Reply {
    pub method: String,
    pub url: String,
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    fn what(&self) -> String {
        format!(
            "{} {} -> {}\nheaders: {:?}\nbody: {}",
            self.method, self.url, self.status, self.headers, self.body
        )
    }

    /// A header as text (the first one of that name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Content-Type` without parameters, lower-case.
    pub fn content_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// The body as JSON (panics with the whole exchange if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}):\n{}", self.what()))
    }

    /// Asserts the status.
    pub fn expect(&self, status: u16) -> &Reply {
        assert_eq!(self.status, status, "unexpected status:\n{}", self.what());
        self
    }

    /// Asserts the status and returns the JSON body (`Null` when empty).
    pub fn ok(&self, status: u16) -> Value {
        self.expect(status);
        if self.body.trim().is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts an RFC 9457 problem with this status: content type
    /// `application/problem+json`, `type`, `title`, `status`, `detail`.
    pub fn problem(&self, status: u16) -> Value {
        self.expect(status);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "error without problem content type:\n{}",
            self.what()
        );
        let v = self.json();
        for field in ["type", "title", "detail"] {
            let s = v[field].as_str().unwrap_or_else(|| {
                panic!(
                    "problem field `{field}` missing or not a string:\n{}",
                    self.what()
                )
            });
            assert!(
                !s.trim().is_empty(),
                "problem field `{field}` is empty:\n{}",
                self.what()
            );
        }
        assert_eq!(
            v["status"].as_u64(),
            Some(status as u64),
            "problem `status` differs from the HTTP status:\n{}",
            self.what()
        );
        v
    }

    /// Asserts `401` problem with a `WWW-Authenticate: Bearer …` challenge.
    pub fn unauthorized(&self) -> Value {
        let v = self.problem(401);
        let challenge = self
            .header("www-authenticate")
            .unwrap_or_else(|| panic!("401 without WWW-Authenticate header:\n{}", self.what()));
        assert!(
            challenge
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("bearer"),
            "WWW-Authenticate is not a Bearer challenge:\n{}",
            self.what()
        );
        v
    }
}

// ---------------------------------------------------------------------------
// the server under test
// ---------------------------------------------------------------------------

/// Where `herd-server` is: next to the test executable's `deps/` directory
/// (`target/<profile>/herd-server`), or `HERD_TEST_SERVER_BIN`.
pub fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HERD_TEST_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe
        .parent()
        .expect("test executable has a directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    let bin = dir.join(format!("herd-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "herd-server binary not found at {}: build it first (`cargo build --workspace`, \
         which scripts/test.sh does)",
        bin.display()
    );
    bin
}

/// Configures a [`TestServer`] before it starts.
pub struct ServerBuilder {
    db: Db,
    env: Vec<(String, String)>,
    skip: bool,
    shared: Option<Shared>,
    fixture: Option<PathBuf>,
}

/// What a second server takes over from a first one (see
/// [`ServerBuilder::sharing`]).
struct Shared {
    data_dir: PathBuf,
    clock: PathBuf,
    db_url: Option<String>,
}

impl ServerBuilder {
    /// One extra `HERD_*` setting.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Several extra settings.
    pub fn envs<K: Into<String>, V: Into<String>>(
        mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.env
            .extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// LDAP authentication against the test directory with this group layout.
    /// Without a directory, [`start`](Self::start) then reports a skip.
    pub fn with_ldap(mut self, layout: Layout) -> Self {
        match services::ldap() {
            Some(l) => self.env.extend(l.server_env(layout)),
            None => self.skip = true,
        }
        self
    }

    /// A second replica of `other`: same data directory (simulated
    /// hypervisor, SQLite file), clock file and database, but its own port
    /// and logs. `other` keeps owning them: drop this server first.
    pub fn sharing(mut self, other: &TestServer) -> Self {
        self.db = other.db;
        self.shared = Some(Shared {
            data_dir: other.data_dir(),
            clock: other.clock_path(),
            db_url: other.pg().map(|p| p.url.clone()),
        });
        self
    }

    /// Starts on an installation made earlier: `dir/data` is copied into
    /// the data directory and, on PostgreSQL, `dir/herd.sql` (a `pg_dump`)
    /// is restored into the fresh database first.
    pub fn from_fixture(mut self, dir: &Path) -> Self {
        self.fixture = Some(dir.to_owned());
        self
    }

    /// Starts the server and waits until it listens. `None` (after a
    /// `skipping:` line) when a service the test needs is not available.
    pub fn start(self) -> Option<TestServer> {
        if self.skip {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("herd-e2e-")
            .tempdir()
            .expect("create temp dir");
        let (data_dir, clock, pg, db_url) = match self.shared {
            Some(shared) => (shared.data_dir, shared.clock, None, shared.db_url),
            None => {
                let data_dir = dir.path().join("data");
                fs::create_dir_all(&data_dir).expect("create data dir");
                let clock = dir.path().join("clock");
                herd_core::clock::FileClock::write(&clock, real_now_ms())
                    .expect("write clock file");
                let pg = match self.db {
                    Db::Sqlite => None,
                    Db::Postgres => Some(PgDatabase::create()?),
                };
                let url = pg.as_ref().map(|p| p.url.clone());
                if let Some(fixture) = &self.fixture {
                    install_fixture(fixture, &data_dir, url.as_deref());
                }
                (data_dir, clock, pg, url)
            }
        };

        let mut env: Vec<(String, String)> = vec![
            ("HERD_LISTEN".into(), "127.0.0.1:0".into()),
            ("HERD_DATA_DIR".into(), data_dir.display().to_string()),
            ("HERD_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("HERD_CLOCK_FILE".into(), clock.display().to_string()),
        ];
        if let Some(url) = db_url {
            env.push(("HERD_DATABASE_URL".into(), url));
        }
        // caller settings last: they win
        env.extend(self.env);

        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");

        let mut srv = TestServer {
            bin: server_binary(),
            db: self.db,
            env,
            child: None,
            base_url: String::new(),
            client,
            starts: 0,
            data_dir,
            clock,
            pg,
            dir,
        };
        srv.spawn();
        Some(srv)
    }
}

fn install_fixture(fixture: &Path, data_dir: &Path, db_url: Option<&str>) {
    let copied = Command::new("cp")
        .arg("-a")
        .arg(fixture.join("data").join("."))
        .arg(data_dir)
        .status()
        .expect("run cp");
    assert!(copied.success(), "copy the fixture {}", fixture.display());
    if let Some(url) = db_url {
        let out = Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(fixture.join("herd.sql"))
            .arg(url)
            .output()
            .expect("run psql (package postgresql-client)");
        assert!(
            out.status.success(),
            "restore {}: {}",
            fixture.join("herd.sql").display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn real_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// A running `herd-server serve` with its own data directory, clock file and
/// database. Killed (and its PostgreSQL database dropped) on drop.
pub struct TestServer {
    bin: PathBuf,
    db: Db,
    env: Vec<(String, String)>,
    child: Option<Child>,
    base_url: String,
    client: reqwest::blocking::Client,
    starts: u32,
    data_dir: PathBuf,
    clock: PathBuf,
    // dropped after the child is killed (field order: see Drop)
    pg: Option<PgDatabase>,
    dir: tempfile::TempDir,
}

impl TestServer {
    pub fn builder(db: Db) -> ServerBuilder {
        ServerBuilder {
            db,
            env: Vec::new(),
            skip: false,
            shared: None,
            fixture: None,
        }
    }

    /// The database this server runs on.
    pub fn db(&self) -> Db {
        self.db
    }

    /// The PostgreSQL database, for [`Db::Postgres`].
    pub fn pg(&self) -> Option<&PgDatabase> {
        self.pg.as_ref()
    }

    /// The server's `HERD_DATA_DIR`.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone()
    }

    /// The temp dir holding data dir, clock file and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash). Changes on restart.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Absolute URL for a path like `/api/v1/me`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A blocking HTTP client (no proxy, 30 s timeout).
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.stderr.log")
    }

    fn stdout_path(&self) -> PathBuf {
        self.dir.path().join("server.stdout.log")
    }

    /// The last `lines` lines of the server's stderr (all starts).
    pub fn stderr_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(self.log_path()).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Everything the server printed on stdout so far (all starts).
    pub fn stdout_text(&self) -> String {
        fs::read_to_string(self.stdout_path()).unwrap_or_default()
    }

    /// `herd-server ARGS…` with exactly this server's settings (none of the
    /// test process's own `HERD_*`), in its directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HERD_") {
                cmd.env_remove(k);
            }
        }
        // The process dies with the test, even when the test process is
        // killed (timeouts, an interrupted run) and Drop never runs.
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("open server log");
        let mut cmd = self.command(&["serve"]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::from(stderr));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));

        let stdout = child.stdout.take().expect("piped stdout");
        let stdout_log = self.stdout_path();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(stdout_log)
                .ok();
            // keep draining after the listening line so the server never blocks on stdout
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = log.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                if let Some((_, url)) = line.split_once("herd-server listening on ") {
                    let _ = tx.send(url.trim().trim_end_matches('/').to_string());
                }
            }
        });

        let started = Instant::now();
        let url = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(url) => break url,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        self.start_failed(&format!(
                            "herd-server exited ({status}) before listening"
                        ));
                    }
                    if started.elapsed() > START_TIMEOUT {
                        let _ = child.kill();
                        let _ = child.wait();
                        self.start_failed(&format!(
                            "herd-server did not print its listening line within {START_TIMEOUT:?}"
                        ));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed without the line: wait (bounded) for the exit status
                    let deadline = Instant::now() + Duration::from_secs(5);
                    let status = loop {
                        if let Ok(Some(s)) = child.try_wait() {
                            break Some(s);
                        }
                        if Instant::now() > deadline {
                            let _ = child.kill();
                            let _ = child.wait();
                            break None;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    };
                    self.start_failed(&format!(
                        "herd-server closed stdout without its listening line (exit: {status:?})"
                    ));
                }
            }
        };
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
            "unexpected listening URL {url:?}"
        );
        self.base_url = url;
        self.child = Some(child);
    }

    fn start_failed(&self, what: &str) -> ! {
        panic!(
            "{what} (start #{}, {})\n--- stdout ---\n{}\n--- stderr (tail) ---\n{}",
            self.starts,
            self.bin.display(),
            self.stdout_text(),
            self.stderr_tail(60)
        );
    }

    /// SIGTERM, wait (bounded), then SIGKILL if still running. Returns the
    /// exit status after SIGTERM, or `None` when it had to be killed (or was
    /// not running).
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        self.stop_while(|| {})
    }

    /// [`stop`](Self::stop), calling `meanwhile` while the server is still
    /// shutting down (to move its clock on, for instance).
    pub fn stop_while(&mut self, mut meanwhile: impl FnMut()) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    meanwhile();
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => break,
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Stops the server and starts it again with the same data directory,
    /// database, clock file and settings (the port changes).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// SIGKILL, as a crash would: no shutdown, no cleanup. Waits until the
    /// process is gone. [`restart`](Self::restart) starts it again.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: plain kill(2) on our own child's pid, not yet reaped.
            let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
            assert_eq!(rc, 0, "kill -KILL {}", child.id());
            let _ = child.wait();
        }
    }

    /// The process id of the running server.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    // --- clock -------------------------------------------------------------

    /// The server's clock file.
    pub fn clock_path(&self) -> PathBuf {
        self.clock.clone()
    }

    /// The server's current time (ms since the epoch) from the clock file.
    pub fn now_ms(&self) -> i64 {
        read_clock_file(&self.clock_path())
    }

    /// Moves the server's clock forward.
    pub fn advance_clock(&self, by: Duration) {
        advance_clock_file(&self.clock_path(), by);
    }

    /// A closure moving the server's clock on by `by` each call, usable
    /// while the server itself is borrowed (see [`stop_while`](Self::stop_while)).
    pub fn clock_stepper(&self, by: Duration) -> impl FnMut() {
        let path = self.clock_path();
        move || advance_clock_file(&path, by)
    }

    // --- HTTP --------------------------------------------------------------

    /// Sends a request and reads the whole reply.
    pub fn send(&self, rb: reqwest::blocking::RequestBuilder) -> Reply {
        let req = rb.build().expect("build request");
        let method = req.method().to_string();
        let url = req.url().to_string();
        let resp = self.client.execute(req).unwrap_or_else(|e| {
            panic!(
                "{method} {url}: {e}\n--- server stderr (tail) ---\n{}",
                self.stderr_tail(40)
            )
        });
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.text().unwrap_or_default();
        Reply {
            method,
            url,
            status,
            headers,
            body,
        }
    }

    /// A request builder for `path` with an optional bearer token.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::blocking::RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::GET, path, token))
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.request(Method::DELETE, path, token))
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path, token).json(body))
    }

    pub fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(self.request(Method::PUT, path, token).json(body))
    }

    pub fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(self.request(Method::PATCH, path, token).json(body))
    }

    /// Polls `probe` (every 50 ms of wall time) until it answers `Some`, for
    /// at most `timeout`; panics with `what` and the server's log otherwise.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = probe() {
                return v;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n--- server stderr (tail) ---\n{}",
                    self.stderr_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Moves the clock on by `step` until `probe` answers `Some`, for at
    /// most `timeout` of wall time. After each step the server gets up to
    /// 700 ms of wall time (`probe` asked every 50 ms) to act at that
    /// time, so that its background work keeps pace with the clock rather
    /// than seeing whole timeouts pass between two of its rounds.
    pub fn step_until<T>(
        &self,
        what: &str,
        step: Duration,
        timeout: Duration,
        mut probe: impl FnMut() -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let until = Instant::now() + Duration::from_millis(700);
            while Instant::now() < until {
                if let Some(v) = probe() {
                    return v;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n--- server stderr (tail) ---\n{}",
                    self.stderr_tail(40)
                );
            }
            self.advance_clock(step);
        }
    }

    /// The simulated hypervisor's saved state (snapshot and journal under
    /// `<data dir>/zvm`) as JSON.
    pub fn zvm_state(&self) -> Value {
        herd_provisioner::backend::sim::SimBackend::saved_state(&self.data_dir())
            .unwrap_or_else(|e| panic!("read the simulated host's state: {e}"))
    }

    /// POST with a raw body and content type (for malformed or huge bodies).
    pub fn post_raw(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.send(
            self.request(Method::POST, path, None)
                .header("content-type", content_type)
                .body(body.into()),
        )
    }

    // --- auth --------------------------------------------------------------

    /// `POST /api/v1/auth/tokens` and the raw reply.
    pub fn login_reply(&self, username: &str, password: &str, ttl_seconds: Option<i64>) -> Reply {
        let mut body = json!({ "username": username, "password": password });
        if let Some(ttl) = ttl_seconds {
            body["ttl_seconds"] = json!(ttl);
        }
        self.post_json("/api/v1/auth/tokens", None, &body)
    }

    /// Logs in (expects `201`) and returns the bearer token.
    pub fn login(&self, username: &str, password: &str) -> String {
        self.login_full(username, password, None)["token"]
            .as_str()
            .expect("token is a string")
            .to_string()
    }

    /// Logs in (expects `201`) and returns the whole JSON answer.
    pub fn login_full(&self, username: &str, password: &str, ttl_seconds: Option<i64>) -> Value {
        let v = self.login_reply(username, password, ttl_seconds).ok(201);
        assert!(
            v["token"].as_str().is_some_and(|t| !t.is_empty()),
            "login answer without token: {v}"
        );
        v
    }

    /// Logs in as the local bootstrap admin.
    pub fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD)
    }

    /// `GET /api/v1/me` with this token.
    pub fn me(&self, token: &str) -> Reply {
        self.get("/api/v1/me", Some(token))
    }
}

/// A `herd-server dispatcher` process started by
/// [`TestServer::spawn_dispatcher`]: the command dispatcher on its own, with
/// the server's settings. Killed on drop.
pub struct DispatcherProcess {
    child: Option<Child>,
    log: PathBuf,
}

impl DispatcherProcess {
    /// The last `lines` lines of the dispatcher's stderr.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for DispatcherProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- herd-server dispatcher stderr (tail, {}) ---\n{}",
                self.log.display(),
                self.stderr_tail(40)
            );
        }
    }
}

impl TestServer {
    /// Starts `herd-server dispatcher` with exactly this server's settings
    /// (database, data directory, clock file, …) and waits (60 s at most)
    /// for its `herd-server dispatcher running` line. Meant for a server
    /// started with `HERD_ROLES` that leaves the dispatcher out. Drop the
    /// answer before the server.
    pub fn spawn_dispatcher(&self) -> DispatcherProcess {
        let n = fs::read_dir(self.dir.path())
            .map(|d| d.count())
            .unwrap_or(0);
        let log = self.dir.path().join(format!("dispatcher-{n}.stderr.log"));
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open dispatcher log");
        let mut cmd = Command::new(&self.bin);
        cmd.arg("dispatcher");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HERD_") {
                cmd.env_remove(k);
            }
        }
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {} dispatcher: {e}", self.bin.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("herd-server dispatcher running") {
                    let _ = tx.send(());
                }
            }
        });
        let mut process = DispatcherProcess {
            child: Some(child),
            log,
        };
        let started = Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(()) => return process,
                Err(e) => {
                    let exited = process
                        .child
                        .as_mut()
                        .and_then(|c| c.try_wait().ok().flatten());
                    if exited.is_some()
                        || started.elapsed() > START_TIMEOUT
                        || e == mpsc::RecvTimeoutError::Disconnected
                    {
                        let tail = process.stderr_tail(60);
                        drop(process);
                        panic!(
                            "herd-server dispatcher did not start (exit: {exited:?}, \
                             after {:?})\n--- stderr (tail) ---\n{tail}",
                            started.elapsed()
                        );
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// maintenance commands and the simulated hypervisor
// ---------------------------------------------------------------------------

impl TestServer {
    /// Runs `herd-server ARGS…` with exactly this server's settings
    /// (database, data directory, clock file, …) and waits for it to exit
    /// (60 s at most; a command that does not exit by then fails the test).
    pub fn run_command(&self, args: &[&str]) -> std::process::Output {
        self.run_command_with(args, &[])
    }

    /// [`Self::run_command`] with some settings changed (or, with an empty
    /// value, unset) for this command only.
    pub fn run_command_with(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = self.command(args);
        for (k, v) in env {
            match v {
                &"" => cmd.env_remove(k),
                v => cmd.env(k, v),
            };
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {} {args:?}: {e}", self.bin.display()));
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        match rx.recv_timeout(COMMAND_TIMEOUT) {
            Ok(out) => out.unwrap_or_else(|e| panic!("herd-server {args:?}: {e}")),
            Err(_) => {
                // SAFETY: kill(2) on our own child, which has not been reaped
                // (the waiting thread still waits for it).
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                panic!("herd-server {args:?} did not exit within {COMMAND_TIMEOUT:?}");
            }
        }
    }

    /// `herd-server reconcile` against this server's database and
    /// hypervisor: asserts it ran and answers the differences it reported
    /// (and repaired), one line each. Empty means the two agree.
    pub fn reconcile(&self) -> Vec<String> {
        let out = self.run_command(&["reconcile"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "herd-server reconcile failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            out.status
        );
        assert!(
            stdout.lines().any(|l| l.starts_with("reconcile: ")),
            "herd-server reconcile printed no summary\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
        stdout
            .lines()
            .filter_map(|l| l.strip_prefix("difference: "))
            .map(str::to_owned)
            .collect()
    }

    /// Arms a scripted fault in the simulated hypervisor (e.g.
    /// `Fault::CopyFails`), the way any process of the machine may: the
    /// simulation's state is shared through its data directory, so the
    /// running server meets the fault at its next occasion.
    pub fn inject_fault(&self, fault: Fault) {
        use herd_provisioner::backend::sim::{SimBackend, SimSettings};
        let clock: herd_core::clock::SharedClock =
            Arc::new(herd_core::clock::FileClock::new(self.clock_path()));
        let sim = SimBackend::open(&self.data_dir, clock, SimSettings::default())
            .unwrap_or_else(|e| panic!("open the simulated hypervisor: {e}"));
        sim.inject(fault.clone())
            .unwrap_or_else(|e| panic!("inject {fault:?}: {e}"));
    }

    /// Asserts that the hypervisor holds exactly `guests`: one directory
    /// entry and one root disk (`NAME.0100`) each, no disk or LAN grant of
    /// anybody else (no orphans of failed, cancelled or interrupted work).
    pub fn assert_hypervisor_holds(&self, guests: &BTreeSet<String>) {
        let zvm = self.zvm_state();
        let users: BTreeSet<String> = zvm["users"]
            .as_object()
            .expect("zvm users")
            .keys()
            .cloned()
            .collect();
        let extra: Vec<&String> = users.difference(guests).collect();
        let missing: Vec<&String> = guests.difference(&users).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "the z/VM directory differs from the guests: orphaned {extra:?}, missing {missing:?}"
        );
        let disks: Vec<&String> = zvm["disks"]
            .as_object()
            .expect("zvm disks")
            .keys()
            .collect();
        for name in guests {
            let own: Vec<&&String> = disks
                .iter()
                .filter(|d| d.split('.').next() == Some(name.as_str()))
                .collect();
            assert_eq!(
                own,
                vec![&&format!("{name}.0100")],
                "{name} should have exactly one segment: {disks:?}"
            );
        }
        let orphans: Vec<&&String> = disks
            .iter()
            .filter(|d| {
                let image_disk = d.starts_with("image:") || d.starts_with("root:");
                !image_disk && !guests.contains(d.split('.').next().unwrap())
            })
            .collect();
        assert!(orphans.is_empty(), "orphaned disks: {orphans:?}");
        for (lan, state) in zvm["lans"].as_object().expect("zvm lans") {
            let granted: Vec<&str> = state["granted"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let stray: Vec<&&str> = granted.iter().filter(|g| !guests.contains(**g)).collect();
            assert!(stray.is_empty(), "{lan} grants unknown guests {stray:?}");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "--- herd-server stderr (tail, {}) ---\n{}",
                self.log_path().display(),
                self.stderr_tail(40)
            );
        }
        // then `pg` (DROP DATABASE) and `dir` are dropped
    }
}

/// Parses an RFC 3339 timestamp to ms since the epoch, asserting UTC (`Z`).
pub fn parse_rfc3339_utc(s: &str) -> i64 {
    assert!(
        s.ends_with('Z'),
        "timestamp {s:?} is not RFC 3339 UTC (must end in Z)"
    );
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("timestamp {s:?} is not RFC 3339: {e}"));
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Runs a test function once per database: `db_tests!(name, …)` makes
/// `name::sqlite` and `name::postgres` for each `fn name(db: Db)`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::Db::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name($crate::Db::Postgres)
                }
            }
        )*
    };
}

/// Runs a test function per group layout and database:
/// `ldap_db_tests!(name, …)` for each `fn name(layout: Layout, db: Db)`.
#[macro_export]
macro_rules! ldap_db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn group_of_names_sqlite() {
                    super::$name($crate::Layout::GroupOfNames, $crate::Db::Sqlite)
                }
                #[test]
                fn group_of_names_postgres() {
                    super::$name($crate::Layout::GroupOfNames, $crate::Db::Postgres)
                }
                #[test]
                fn posix_group_sqlite() {
                    super::$name($crate::Layout::PosixGroup, $crate::Db::Sqlite)
                }
                #[test]
                fn posix_group_postgres() {
                    super::$name($crate::Layout::PosixGroup, $crate::Db::Postgres)
                }
            }
        )*
    };
}

fn read_clock_file(path: &Path) -> i64 {
    fs::read_to_string(path)
        .expect("read clock file")
        .trim()
        .parse()
        .expect("clock file holds an integer")
}

fn advance_clock_file(path: &Path, by: Duration) {
    let next = read_clock_file(path) + by.as_millis() as i64;
    herd_core::clock::FileClock::write(path, next).expect("write clock file");
}

/// `ssh-keygen ARGS KEYFILE` (an outside oracle for host keys) on a public
/// key line written to a file of its own; answers what it printed.
pub fn ssh_keygen(args: &[&str], key: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("key.pub");
    fs::write(&file, format!("{key}\n")).expect("write the key");
    let out = Command::new("ssh-keygen")
        .args(args)
        .arg(&file)
        .output()
        .expect("run ssh-keygen (package openssh-client)");
    assert!(
        out.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("ssh-keygen prints text")
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn database_url_rewrite() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "herd_t_1"),
            "postgres://postgres@127.0.0.1:5432/herd_t_1"
        );
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }

    #[test]
    fn rfc3339_parse() {
        assert_eq!(parse_rfc3339_utc("1970-01-01T00:00:01.5Z"), 1_500);
    }
}
