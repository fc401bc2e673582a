//! The self-service page in a real browser (SPEC §9, docs/web.md): the
//! Playwright tests of `tests/browser/` (Python, Debian's Chromium,
//! axe-core from npm) against a `herd-server` started here with the test
//! directory, a warm pool and a clock that moves with the wall clock.
//! Screenshots of every view go to `docs/ui/`, the click-to-result timings
//! to `target/web-bench.jsonl`. The tools are prepared as
//! `tests/browser/SETUP.md` says (scripts/test.sh does it); without them
//! this test fails, in CI and outside it: it is never skipped for them.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use herd_core::clock::FileClock;
use herd_tests::{services, Db, Layout, TestServer};

/// Debian's Chromium (package `chromium`); Playwright never downloads one.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole browser suite.
const SUITE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// The warm pool: requests are answered from it at once.
const POOL: u64 = 4;
/// Spare directory students the browser tests may give servers to.
const STUDENTS: &str = "s01,s02,s03,s04,s05";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// The venv's python, after checking everything the suite needs is there.
fn prepared_python() -> PathBuf {
    let dir = browser_dir();
    let python = dir.join(".venv/bin/python");
    let mut missing = Vec::new();
    if !python.is_file() {
        missing.push(format!(
            "{} (python3 -m venv tests/browser/.venv && \
             tests/browser/.venv/bin/pip install -r tests/browser/requirements.txt)",
            python.display()
        ));
    }
    if !Path::new(CHROMIUM).is_file() {
        missing.push(format!("{CHROMIUM} (apt-get install chromium)"));
    }
    let axe = dir.join("node_modules/axe-core/axe.min.js");
    if !axe.is_file() {
        missing.push(format!("{} (npm ci in tests/browser)", axe.display()));
    }
    assert!(
        missing.is_empty(),
        "the browser tests cannot run{}: missing\n  {}\nsee tests/browser/SETUP.md \
         (scripts/test.sh prepares them)",
        if services::in_ci() { " in CI" } else { "" },
        missing.join("\n  ")
    );
    python
}

/// Moves the server's clock file with the wall clock while it lives: the
/// harness's clock stands still unless a test moves it, and in a browser
/// boots, commands and countdowns must take the time they would.
struct WallClock {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WallClock {
    fn start(srv: &TestServer) -> WallClock {
        let path = srv.clock_path();
        let origin = srv.now_ms();
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let now = origin + started.elapsed().as_millis() as i64;
                if let Err(e) = FileClock::write(&path, now) {
                    eprintln!("web_page: cannot move the clock {}: {e}", path.display());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        WallClock {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for WallClock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn the_page_works_in_a_real_browser() {
    let python = prepared_python();
    let Some(srv) = TestServer::builder(Db::Sqlite)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_IMAGE_SIZE_MB", "4")
        .env("HERD_POOL_TARGET_SIZE", POOL.to_string())
        .start()
    else {
        return;
    };
    let _clock = WallClock::start(&srv);
    let admin = srv.admin_token();
    srv.wait_for("the warm pool", Duration::from_secs(60), || {
        let p = srv.get("/api/v1/pool", Some(&admin)).ok(200);
        (p["available"].as_u64() >= Some(POOL)).then_some(())
    });

    let root = repo_root();
    let screenshots = root.join("docs/ui");
    fs::create_dir_all(&screenshots).expect("create docs/ui");
    let bench = root.join("target/web-bench.jsonl");
    fs::create_dir_all(bench.parent().expect("target/")).expect("create target/");
    let _ = fs::remove_file(&bench);
    let log_path = srv.dir().join("pytest.log");
    let log = File::create(&log_path).expect("create the pytest log");

    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pytest", "-x", "-q"])
        .arg(browser_dir())
        .current_dir(root.as_path())
        .env("HERD_WEB_URL", srv.base_url())
        .env("HERD_WEB_SCREENSHOTS", screenshots.as_os_str())
        .env("HERD_WEB_BENCH_OUT", bench.as_os_str())
        .env("HERD_WEB_STUDENTS", STUDENTS)
        .env("HERD_WEB_STAFF", "bob")
        .env("HERD_WEB_ADMIN", "carol")
        .env("HERD_WEB_GROUP", "course-101")
        .env("HERD_WEB_CHROMIUM", CHROMIUM)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().expect("clone the log handle")))
        .stderr(Stdio::from(log));
    for proxy in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        cmd.env_remove(proxy);
    }
    // pytest (and with it Chromium) dies with the test, even when the test
    // process is killed and nothing here runs any more.
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("run {} -m pytest: {e}", python.display()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for pytest") {
            break Some(status);
        }
        if started.elapsed() > SUITE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = fs::read_to_string(log_path.as_path()).unwrap_or_default();
    println!(
        "--- pytest tests/browser ({:.0?}) ---\n{output}",
        started.elapsed()
    );
    match fs::read_to_string(&bench) {
        Ok(lines) => println!("--- {} ---\n{lines}", bench.display()),
        Err(e) => println!("--- {}: {e} ---", bench.display()),
    }
    let status = status.unwrap_or_else(|| {
        panic!("the browser tests did not end within {SUITE_TIMEOUT:?}:\n{output}")
    });
    assert!(
        status.success(),
        "the browser tests failed ({status}):\n{output}"
    );
}
