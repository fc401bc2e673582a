//! Load from many HTTP clients at once, and the bare actix-web handler that
//! every HTTP figure is measured against.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::{mpsc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use reqwest::blocking::Client;
use serde_json::json;

/// Request latencies of one load, and how long it took.
pub struct Latencies {
    /// Sorted.
    samples: Vec<Duration>,
    wall: Duration,
}

impl Latencies {
    /// Nearest rank, in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let rank = (p / 100.0 * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.clamp(1, self.samples.len()) - 1].as_secs_f64() * 1e3
    }

    pub fn per_s(&self) -> f64 {
        self.samples.len() as f64 / self.wall.as_secs_f64()
    }
}

/// `clients` threads, each with one connection (opened by its `warmup`
/// requests, not counted), send `measured` requests one after the other;
/// all start together. `request` sends one with a client's own `state`
/// (made by `init`, given the client's index).
pub fn load<S, I, R>(
    clients: usize,
    warmup: usize,
    measured: usize,
    init: I,
    request: R,
) -> Result<Latencies, Box<dyn Error>>
where
    I: Fn(usize) -> S + Sync,
    R: Fn(&Client, &mut S) -> Result<(), String> + Sync,
{
    let start = Barrier::new(clients + 1);
    let (samples, wall) = std::thread::scope(|s| {
        let threads: Vec<_> = (0..clients)
            .map(|i| {
                let (start, init, request) = (&start, &init, &request);
                s.spawn(move || client(warmup, measured, init(i), request, start))
            })
            .collect();
        start.wait();
        let began = Instant::now();
        let samples: Result<Vec<Vec<Duration>>, String> = threads
            .into_iter()
            .map(|c| c.join().map_err(|_| "a client panicked".to_owned())?)
            .collect();
        (samples, began.elapsed())
    });
    let mut samples: Vec<Duration> = samples?.into_iter().flatten().collect();
    samples.sort();
    Ok(Latencies { samples, wall })
}

fn client<S, R>(
    warmup: usize,
    measured: usize,
    mut state: S,
    request: &R,
    start: &Barrier,
) -> Result<Vec<Duration>, String>
where
    R: Fn(&Client, &mut S) -> Result<(), String>,
{
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build();
    // Every client reaches the barrier, even a failed one, or the others wait forever.
    let warmed = http.map_err(|e| e.to_string()).and_then(|http| {
        (0..warmup).try_for_each(|_| request(&http, &mut state))?;
        Ok(http)
    });
    start.wait();
    let http = warmed?;
    (0..measured)
        .map(|_| {
            let began = Instant::now();
            request(&http, &mut state)?;
            Ok(began.elapsed())
        })
        .collect()
}

/// The least a JSON endpoint costs on this machine with actix-web:
/// `POST /api/v1/guests` parses the body and answers a small object `201`,
/// `GET /api/v1/guests/{name}` answers one. Same default worker count as
/// herd-server (one per core).
pub struct Baseline {
    /// Ends in `/api/v1/guests`.
    pub url: String,
    handle: ServerHandle,
    thread: JoinHandle<std::io::Result<()>>,
}

impl Baseline {
    pub fn start() -> Result<Self, Box<dyn Error>> {
        let (tx, rx) = mpsc::channel::<(SocketAddr, ServerHandle)>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(|| {
                    App::new()
                        .route("/api/v1/guests", web::post().to(create))
                        .route("/api/v1/guests/{name}", web::get().to(show))
                })
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

async fn create(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Created()
        .json(json!({ "name": "LX000001", "state": "starting", "owner": body["owner"] }))
}

async fn show(name: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "name": *name, "state": "running", "owner": "student" }))
}

/// Sends `request` and reads the answer; an error unless its status is
/// `expected`.
pub fn expect(
    request: reqwest::blocking::RequestBuilder,
    expected: reqwest::StatusCode,
) -> Result<Vec<u8>, String> {
    let response = request.send().map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().map_err(|e| e.to_string())?;
    if status != expected {
        return Err(format!(
            "{status}, expected {expected}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    Ok(body.to_vec())
}
