//! A real `target/release/herd-server` for the HTTP benchmarks, with its
//! own data directory and database, optionally with a separate
//! `herd-server dispatcher` process sharing its settings. Both are killed
//! on drop.

use std::error::Error;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::json;

use crate::batch::Db;

pub const ADMIN_PASSWORD: &str = "bench-admin-password";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `herd-server serve` (and perhaps `herd-server dispatcher`).
pub struct HerdServer {
    pub url: String,
    child: Child,
    dispatcher: Option<Child>,
    env: Vec<(String, OsString)>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// Dropped after the processes are killed.
    _db: Db,
}

impl HerdServer {
    /// Starts `herd-server serve` on a free port with `db`, the admin
    /// password and `extra` settings (`HERD_*` name, value); only those
    /// configure it, not the caller's shell.
    pub fn start(db: Db, extra: &[(&str, String)]) -> Result<Self, Box<dyn Error>> {
        let bin = std::env::current_exe()?.with_file_name("herd-server");
        if !bin.is_file() {
            return Err(format!(
                "{} is missing: build it with `cargo build --release -p herd-api`",
                bin.display()
            )
            .into());
        }
        let dir = tempfile::Builder::new()
            .prefix("herd-bench-srv-")
            .tempdir()?;
        let mut env: Vec<(String, OsString)> = vec![
            ("HERD_LISTEN".into(), "127.0.0.1:0".into()),
            ("HERD_DATA_DIR".into(), dir.path().into()),
            ("HERD_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ];
        if let Db::Postgres(pg) = &db {
            env.push(("HERD_DATABASE_URL".into(), pg.url.clone().into()));
        }
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.into())));
        let mut child = spawn(&bin, "serve", &env, &dir, "server.log")?;
        let url = match wait_for_line(&mut child, "herd-server listening on ") {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(dir.path().join("server.log"))?;
                return Err(format!("{e}\n--- herd-server log ---\n{log}").into());
            }
        };
        Ok(Self {
            url,
            child,
            dispatcher: None,
            env,
            bin,
            dir,
            _db: db,
        })
    }

    /// Starts `herd-server dispatcher` with the same settings and waits
    /// until it says it runs.
    pub fn start_dispatcher(&mut self) -> Result<(), Box<dyn Error>> {
        let mut child = spawn(
            &self.bin,
            "dispatcher",
            &self.env,
            &self.dir,
            "dispatcher.log",
        )?;
        if let Err(e) = wait_for_line(&mut child, "herd-server dispatcher running") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{e}\n{}", self.log_tail("dispatcher.log")).into());
        }
        self.dispatcher = Some(child);
        Ok(())
    }

    /// An admin token.
    pub fn login(&self, client: &Client) -> Result<String, Box<dyn Error>> {
        self.login_as(client, "admin", ADMIN_PASSWORD)
    }

    /// A token for a user with a password.
    pub fn login_as(
        &self,
        client: &Client,
        username: &str,
        password: &str,
    ) -> Result<String, Box<dyn Error>> {
        let token: serde_json::Value = client
            .post(format!("{}/api/v1/auth/tokens", self.url))
            .json(&json!({ "username": username, "password": password }))
            .send()?
            .error_for_status()?
            .json()?;
        Ok(token["token"]
            .as_str()
            .ok_or("no token in the login answer")?
            .to_owned())
    }

    /// Waits until the warm pool holds at least `needed` guests.
    pub fn wait_for_pool(
        &self,
        client: &Client,
        token: &str,
        needed: usize,
        timeout: Duration,
    ) -> Result<(), Box<dyn Error>> {
        let began = Instant::now();
        loop {
            let pool: serde_json::Value = client
                .get(format!("{}/api/v1/pool", self.url))
                .bearer_auth(token)
                .send()?
                .error_for_status()?
                .json()?;
            let available = pool["available"].as_u64().unwrap_or(0);
            if available >= needed as u64 {
                eprintln!(
                    "pool: {available} guests pooled after {:.1} s",
                    began.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            if began.elapsed() > timeout {
                return Err(format!(
                    "the pool holds {available} of {needed} guests after {timeout:?}\n{}",
                    self.log_tail("server.log")
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The database the server uses, for the benchmark's own rows.
    pub fn database_url(&self) -> String {
        match &self._db {
            Db::Sqlite => self.dir.path().join("herd.db").display().to_string(),
            Db::Postgres(pg) => pg.url.clone(),
        }
    }

    /// The most memory `herd-server serve` has held at once (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64, Box<dyn Error>> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmHWM in /proc/<pid>/status")?;
        Ok(kib / 1024.0)
    }

    /// The last lines of `server.log` or `dispatcher.log`.
    pub fn log_tail(&self, file: &str) -> String {
        let log = std::fs::read_to_string(self.dir.path().join(file)).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "--- {file} (tail) ---\n{}",
            lines[lines.len().saturating_sub(30)..].join("\n")
        )
    }
}

impl Drop for HerdServer {
    fn drop(&mut self) {
        for child in self.dispatcher.iter_mut().chain([&mut self.child]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(
    bin: &PathBuf,
    command: &str,
    env: &[(String, OsString)],
    dir: &tempfile::TempDir,
    log: &str,
) -> Result<Child, Box<dyn Error>> {
    let mut cmd = Command::new(bin);
    cmd.arg(command);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HERD_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let log = File::create(dir.path().join(log))?;
    Ok(cmd
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()?)
}

/// Waits for the stdout line containing `marker` and answers what follows
/// it, then keeps reading stdout so that the process never blocks on a
/// full pipe.
fn wait_for_line(child: &mut Child, marker: &'static str) -> Result<String, Box<dyn Error>> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((_, rest)) = line.split_once(marker) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    let began = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(rest) => return Ok(rest),
            Err(mpsc::RecvTimeoutError::Timeout) if began.elapsed() < START_TIMEOUT => {
                if let Some(status) = child.try_wait()? {
                    return Err(format!("herd-server exited ({status}) before `{marker}`").into());
                }
            }
            Err(_) => return Err(format!("herd-server did not print `{marker}`").into()),
        }
    }
}
