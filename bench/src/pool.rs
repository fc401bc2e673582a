//! Warm-pool assignment under load: 50 clients at once ask a real
//! `herd-server` for guests (`POST /api/v1/guests`, each a fresh `201`
//! assignment), on SQLite and on PostgreSQL. Baseline: a bare actix-web
//! handler answering a small JSON, hit by the same clients the same way.

use std::error::Error;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::json;

use crate::pg::PgDatabase;
use crate::{emit, emit_skipped, BenchResult, Env};

const CLIENTS: usize = 50;
/// Per client, before the measurement: opens its connection.
const WARMUP_REQUESTS: usize = 1;
const MEASURED_REQUESTS: usize = 10;
const NEEDED: usize = CLIENTS * (WARMUP_REQUESTS + MEASURED_REQUESTS);
/// Above what the run takes, so that no request finds the pool empty.
const POOL_TARGET: usize = NEEDED + 50;
/// The server refills the pool while the clients drain it: the LAN must
/// hold both generations (the default /22 holds 1021 guests).
const LAN_CIDR: &str = "10.10.0.0/21";
const ADMIN_PASSWORD: &str = "bench-admin-password";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const FILL_TIMEOUT: Duration = Duration::from_secs(300);

fn record(metric: &str, value: f64, unit: &str) {
    emit("pool", metric, value, unit);
}

pub fn run(env: &Env) -> BenchResult {
    let baseline = {
        let server = Baseline::start()?;
        let result = load(&server.url, "unused");
        server.stop();
        result?
    };
    baseline.report("baseline", None);

    herd(Db::Sqlite)?.report("sqlite", Some(&baseline));
    match env.postgres() {
        Ok(pg) => herd(Db::Postgres(pg.fresh_database()?))?.report("postgres", Some(&baseline)),
        Err(why) => emit_skipped("pool", "postgres_skipped", why),
    }
    Ok(())
}

enum Db {
    Sqlite,
    Postgres(PgDatabase),
}

fn herd(db: Db) -> Result<Latencies, Box<dyn Error>> {
    let server = HerdServer::start(db)?;
    let client = Client::builder().no_proxy().build()?;
    let token: serde_json::Value = client
        .post(format!("{}/api/v1/auth/tokens", server.url))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()?
        .error_for_status()?
        .json()?;
    let token = token["token"]
        .as_str()
        .ok_or("no token in the login answer")?;
    server.wait_for_pool(&client, token)?;
    load(&format!("{}/api/v1/guests", server.url), token)
        .map_err(|e| format!("{e}\n--- herd-server log (tail) ---\n{}", server.log_tail()).into())
}

struct Latencies {
    /// Sorted.
    samples: Vec<Duration>,
    wall: Duration,
}

impl Latencies {
    /// Nearest rank.
    fn percentile(&self, p: f64) -> Duration {
        let rank = (p / 100.0 * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.clamp(1, self.samples.len()) - 1]
    }

    fn report(&self, label: &str, baseline: Option<&Latencies>) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        for p in [50.0, 99.0] {
            let value = ms(self.percentile(p));
            record(&format!("{label}_p{p}_ms"), value, "ms");
            if let Some(base) = baseline {
                let ratio = value / ms(base.percentile(p));
                record(&format!("{label}_p{p}_vs_baseline"), ratio, "ratio");
            }
        }
        let per_s = self.samples.len() as f64 / self.wall.as_secs_f64();
        record(&format!("{label}_requests_per_s"), per_s, "1/s");
    }
}

/// Every client keeps one connection (opened by its warm-up requests) and
/// sends its requests one after the other; all start together.
fn load(url: &str, token: &str) -> Result<Latencies, Box<dyn Error>> {
    let start = Barrier::new(CLIENTS + 1);
    let (samples, wall) = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| s.spawn(|| client(url, token, &start)))
            .collect();
        start.wait();
        let began = Instant::now();
        let samples: Result<Vec<Vec<Duration>>, String> = clients
            .into_iter()
            .map(|c| c.join().map_err(|_| "a client panicked".to_owned())?)
            .collect();
        (samples, began.elapsed())
    });
    let mut samples: Vec<Duration> = samples?.into_iter().flatten().collect();
    samples.sort();
    Ok(Latencies { samples, wall })
}

fn client(url: &str, token: &str, start: &Barrier) -> Result<Vec<Duration>, String> {
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build();
    // Every client reaches the barrier, even a failed one, or the others wait forever.
    let warmed = http.map_err(|e| e.to_string()).and_then(|http| {
        (0..WARMUP_REQUESTS).try_for_each(|_| request(&http, url, token).map(drop))?;
        Ok(http)
    });
    start.wait();
    let http = warmed?;
    (0..MEASURED_REQUESTS)
        .map(|_| request(&http, url, token))
        .collect()
}

fn request(http: &Client, url: &str, token: &str) -> Result<Duration, String> {
    let began = Instant::now();
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "owner": "admin" }))
        .send()
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().map_err(|e| e.to_string())?;
    let took = began.elapsed();
    if status != StatusCode::CREATED {
        return Err(format!(
            "POST {url}: {status}, expected 201: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(took)
}

/// The least a JSON endpoint costs on this machine with actix-web: parse the
/// body, answer a small object with the same status. Same default worker
/// count as herd-server (one per core).
struct Baseline {
    url: String,
    handle: ServerHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

impl Baseline {
    fn start() -> Result<Self, Box<dyn Error>> {
        let (tx, rx) = mpsc::channel::<(SocketAddr, ServerHandle)>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server =
                    HttpServer::new(|| App::new().route("/api/v1/guests", web::post().to(answer)))
                        .bind("127.0.0.1:0")?;
                let addr = server.addrs()[0];
                let server = server.run();
                // The receiver only goes away when start() failed already.
                let _ = tx.send((addr, server.handle()));
                server.await
            })
        });
        match rx.recv() {
            Ok((addr, handle)) => Ok(Self {
                url: format!("http://{addr}/api/v1/guests"),
                handle,
                thread,
            }),
            Err(_) => match thread.join() {
                Ok(Err(e)) => Err(format!("baseline server: {e}").into()),
                _ => Err("baseline server ended before listening".into()),
            },
        }
    }

    fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        let _ = self.thread.join();
    }
}

async fn answer(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Created()
        .json(json!({ "name": "LX000001", "state": "starting", "owner": body["owner"] }))
}

/// `target/release/herd-server` with its own data directory; killed on drop.
struct HerdServer {
    url: String,
    child: Child,
    dir: tempfile::TempDir,
    /// Dropped after the server is killed.
    _db: Db,
}

impl HerdServer {
    fn start(db: Db) -> Result<Self, Box<dyn Error>> {
        let bin = std::env::current_exe()?.with_file_name("herd-server");
        if !bin.is_file() {
            return Err(format!(
                "{} is missing: build it with `cargo build --release -p herd-api`",
                bin.display()
            )
            .into());
        }
        let dir = tempfile::Builder::new()
            .prefix("herd-bench-pool-")
            .tempdir()?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve");
        // Only what is set here configures the server, not the caller's shell.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("HERD_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("HERD_LISTEN", "127.0.0.1:0")
            .env("HERD_DATA_DIR", dir.path())
            .env("HERD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("HERD_POOL_TARGET_SIZE", POOL_TARGET.to_string())
            .env("HERD_IMAGE_SIZE_MB", "16")
            .env("HERD_LAN_CIDR", LAN_CIDR);
        if let Db::Postgres(pg) = &db {
            cmd.env("HERD_DATABASE_URL", &pg.url);
        }
        let log = File::create(dir.path().join("server.log"))?;
        let mut child = cmd
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()?;
        let url = match listening_url(&mut child) {
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
            dir,
            _db: db,
        })
    }

    fn wait_for_pool(&self, client: &Client, token: &str) -> Result<(), Box<dyn Error>> {
        let began = Instant::now();
        loop {
            let pool: serde_json::Value = client
                .get(format!("{}/api/v1/pool", self.url))
                .bearer_auth(token)
                .send()?
                .error_for_status()?
                .json()?;
            let available = pool["available"].as_u64().unwrap_or(0);
            if available >= NEEDED as u64 {
                eprintln!(
                    "pool: {available} guests pooled after {:.1} s",
                    began.elapsed().as_secs_f64()
                );
                return Ok(());
            }
            if began.elapsed() > FILL_TIMEOUT {
                return Err(format!(
                    "the pool holds {available} of {NEEDED} guests after {FILL_TIMEOUT:?}\n{}",
                    self.log_tail()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for HerdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the line the server prints once it listens, then keeps
/// reading its stdout so that the server never blocks on a full pipe.
fn listening_url(child: &mut Child) -> Result<String, Box<dyn Error>> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((_, url)) = line.split_once("herd-server listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let began = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(url) => return Ok(url),
            Err(mpsc::RecvTimeoutError::Timeout) if began.elapsed() < START_TIMEOUT => {
                if let Some(status) = child.try_wait()? {
                    return Err(format!("herd-server exited ({status}) before listening").into());
                }
            }
            Err(_) => return Err("herd-server did not print its listening line".into()),
        }
    }
}
