//! Warm-pool assignment under load: 50 clients at once ask a real
//! `herd-server` for guests (`POST /api/v1/guests`, each a fresh `201`
//! assignment), on SQLite and on PostgreSQL. Baseline: a bare actix-web
//! handler answering a small JSON, hit by the same clients the same way.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::{mpsc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::json;

use crate::batch::Db;
use crate::server::HerdServer;
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

fn herd(db: Db) -> Result<Latencies, Box<dyn Error>> {
    let server = HerdServer::start(
        db,
        &[
            ("HERD_POOL_TARGET_SIZE", POOL_TARGET.to_string()),
            ("HERD_IMAGE_SIZE_MB", "16".into()),
            ("HERD_LAN_CIDR", LAN_CIDR.into()),
        ],
    )?;
    let client = Client::builder().no_proxy().build()?;
    let token = server.login(&client)?;
    server.wait_for_pool(&client, &token, NEEDED, FILL_TIMEOUT)?;
    load(&format!("{}/api/v1/guests", server.url), &token)
        .map_err(|e| format!("{e}\n{}", server.log_tail("server.log")).into())
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
pub struct Baseline {
    pub url: String,
    handle: ServerHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

impl Baseline {
    pub fn start() -> Result<Self, Box<dyn Error>> {
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

    pub fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        let _ = self.thread.join();
    }
}

async fn answer(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Created()
        .json(json!({ "name": "LX000001", "state": "starting", "owner": body["owner"] }))
}
