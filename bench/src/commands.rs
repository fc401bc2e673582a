//! Click to service changed (SPEC §3): how long after a client asks a real
//! `herd-server` to restart a guest's apache it sees the command
//! `succeeded`, and the same by the server's own timestamps
//! (`finished_at − created_at`). Two ways: one request
//! (`POST /api/v1/guests/{name}/services/apache/actions?wait=30`, answered
//! once the dispatcher is done), and two (the `POST` without `wait`, `202`
//! at once, then `GET /api/v1/commands/{id}?wait=30`). Loads: 1 and 50
//! clients clicking back to back, and 50 clicking together now and then
//! (see [`Load`]), each client on its own guest; on SQLite, on
//! PostgreSQL, and on PostgreSQL with the dispatcher in a separate
//! `herd-server dispatcher` process. Baseline: the bare actix-web handler (`load.rs`),
//! one request a sample, hit by the same clients the same way.

use std::error::Error;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Client;
use reqwest::StatusCode;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::batch::Db;
use crate::load::Baseline;
use crate::server::HerdServer;
use crate::{emit, emit_skipped, BenchResult, Env};

/// How clients click.
#[derive(Clone, Copy)]
enum Load {
    /// Each client clicks again as soon as it has seen its last click done:
    /// the server never rests (saturation).
    BackToBack(usize),
    /// All clients click at the same moment, wait for their clicks, rest
    /// [`PAUSE`], and again: a class pressing the button together.
    Together(usize),
}

const LOADS: [Load; 3] = [
    Load::BackToBack(1),
    Load::BackToBack(50),
    Load::Together(50),
];
const GUESTS: usize = 50;
const POOL_TARGET: usize = GUESTS + 10;
/// Rest between the clicks of [`Load::Together`].
const PAUSE: Duration = Duration::from_millis(100);

impl Load {
    fn clients(self) -> usize {
        match self {
            Load::BackToBack(n) | Load::Together(n) => n,
        }
    }

    /// In metric names.
    fn name(self) -> String {
        match self {
            Load::BackToBack(n) => format!("{n}_clients"),
            Load::Together(n) => format!("{n}_together"),
        }
    }

    /// (warm-up samples, measured samples) per client.
    fn samples(self) -> (usize, usize) {
        match self {
            Load::BackToBack(1) => (5, 200),
            Load::BackToBack(_) => (2, 100),
            Load::Together(_) => (2, 20),
        }
    }
}
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const FILL_TIMEOUT: Duration = Duration::from_secs(300);
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
/// SPEC goal for the p99.
const GOAL_MS: f64 = 50.0;

fn record(metric: &str, value: f64, unit: &str) {
    emit("commands", metric, value, unit);
}

pub fn run(env: &Env) -> BenchResult {
    let baseline = {
        let server = Baseline::start()?;
        let result: Result<Vec<_>, Box<dyn Error>> = LOADS
            .iter()
            .map(|&l| {
                let mut samples =
                    load(l, async |http, _| baseline_request(http, &server.url).await)?;
                samples.sort();
                Ok(samples)
            })
            .collect();
        server.stop();
        result?
    };
    for (l, samples) in LOADS.iter().zip(&baseline) {
        report("baseline", *l, samples, None);
    }

    if wanted("sqlite") {
        herd("sqlite", Db::Sqlite, false, &baseline)?;
    }
    if !wanted("postgres") && !wanted("postgres_separate_dispatcher") {
        return Ok(());
    }
    match env.postgres() {
        Ok(pg) => {
            for (label, separate) in [("postgres", false), ("postgres_separate_dispatcher", true)] {
                if wanted(label) {
                    herd(
                        label,
                        Db::Postgres(pg.fresh_database()?),
                        separate,
                        &baseline,
                    )?;
                }
            }
        }
        Err(why) => emit_skipped("commands", "postgres_skipped", why),
    }
    Ok(())
}

/// `HERD_BENCH_COMMANDS=sqlite,postgres` measures only those setups
/// (`sqlite`, `postgres`, `postgres_separate_dispatcher`); default all.
fn wanted(setup: &str) -> bool {
    std::env::var("HERD_BENCH_COMMANDS")
        .map(|list| list.split(',').any(|s| s.trim() == setup))
        .unwrap_or(true)
}

fn herd(label: &str, db: Db, separate_dispatcher: bool, baseline: &[Vec<Duration>]) -> BenchResult {
    let mut settings = vec![
        ("HERD_POOL_TARGET_SIZE", POOL_TARGET.to_string()),
        ("HERD_IMAGE_SIZE_MB", "4".into()),
    ];
    if separate_dispatcher {
        settings.push(("HERD_ROLES", "provisioner".into()));
    }
    let mut server = HerdServer::start(db, &settings)?;
    if separate_dispatcher {
        server.start_dispatcher()?;
    }
    let with_logs = |e: Box<dyn Error>| -> Box<dyn Error> {
        let mut msg = format!("{label}: {e}\n{}", server.log_tail("server.log"));
        if separate_dispatcher {
            msg += &format!("\n{}", server.log_tail("dispatcher.log"));
        }
        msg.into()
    };
    let client = reqwest::blocking::Client::builder().no_proxy().build()?;
    let token = server.login(&client)?;
    let guests = guests(&server, &client, &token).map_err(with_logs)?;
    for style in [Click::OneRequest, Click::TwoRequests] {
        let label = format!("{label}{}", style.suffix());
        for (&l, base) in LOADS.iter().zip(baseline) {
            let samples = load(l, async |http, i| {
                click(http, &server.url, &token, &guests[i % guests.len()], style).await
            })
            .map_err(with_logs)?;
            let (mut seen, mut recorded): (Vec<_>, Vec<_>) = samples.into_iter().unzip();
            seen.sort();
            recorded.sort();
            report(&label, l, &seen, Some(base));
            report(&format!("{label}_server_side"), l, &recorded, None);
        }
    }
    Ok(())
}

/// How a client learns that its click took effect.
#[derive(Clone, Copy)]
enum Click {
    /// `POST …/actions?wait=30`: the answer comes once the command is done.
    OneRequest,
    /// `POST …/actions` (`202` at once), then `GET /api/v1/commands/{id}?wait=30`.
    TwoRequests,
}

impl Click {
    fn suffix(self) -> &'static str {
        match self {
            Click::OneRequest => "",
            Click::TwoRequests => "_two_requests",
        }
    }
}

/// `GUESTS` running guests of admin's, taken from the warm pool.
fn guests(
    server: &HerdServer,
    client: &reqwest::blocking::Client,
    token: &str,
) -> Result<Vec<String>, Box<dyn Error>> {
    server.wait_for_pool(client, token, GUESTS, FILL_TIMEOUT)?;
    let mut names = Vec::with_capacity(GUESTS);
    for _ in 0..GUESTS {
        let guest: serde_json::Value = client
            .post(format!("{}/api/v1/guests", server.url))
            .bearer_auth(token)
            .json(&json!({ "owner": "admin" }))
            .send()?
            .error_for_status()?
            .json()?;
        let name = guest["name"].as_str().ok_or("no name in the guest")?;
        names.push(name.to_owned());
    }
    let began = Instant::now();
    for name in &names {
        loop {
            let guest: serde_json::Value = client
                .get(format!("{}/api/v1/guests/{name}", server.url))
                .bearer_auth(token)
                .send()?
                .error_for_status()?
                .json()?;
            if guest["state"] == "running" {
                break;
            }
            if began.elapsed() > BOOT_TIMEOUT {
                return Err(format!("{name} is {} after {BOOT_TIMEOUT:?}", guest["state"]).into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    eprintln!(
        "commands: {GUESTS} guests running {:.1} s after assignment",
        began.elapsed().as_secs_f64()
    );
    Ok(names)
}

/// Every client keeps one connection (opened by its warm-up samples) and
/// takes its samples as `load` says. `sample` gets the client's index.
/// Answers the measured samples. The clients are tasks on one thread: a
/// thread (and a runtime) per client would take a good part of this
/// 2-core machine from the server being measured.
fn load<F, T>(load: Load, sample: F) -> Result<Vec<T>, Box<dyn Error>>
where
    F: AsyncFn(&Client, usize) -> Result<T, String>,
{
    let (warmup, measured) = load.samples();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sample = &sample;
    runtime.block_on(async {
        let clients = join_all((0..load.clients()).map(|i| async move {
            let http = Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| e.to_string())?;
            for _ in 0..warmup {
                sample(&http, i).await?;
            }
            Ok::<_, String>(http)
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let mut samples = Vec::with_capacity(clients.len() * measured);
        match load {
            Load::BackToBack(_) => {
                let each = join_all(clients.iter().enumerate().map(|(i, http)| async move {
                    let mut mine = Vec::with_capacity(measured);
                    for _ in 0..measured {
                        mine.push(sample(http, i).await?);
                    }
                    Ok::<_, String>(mine)
                }))
                .await;
                for mine in each {
                    samples.extend(mine?);
                }
            }
            Load::Together(_) => {
                for _ in 0..measured {
                    let round = join_all(clients.iter().enumerate().map(|(i, h)| sample(h, i)));
                    for one in round.await {
                        samples.push(one?);
                    }
                    tokio::time::sleep(PAUSE).await;
                }
            }
        }
        Ok(samples)
    })
}

/// One request to the bare handler.
async fn baseline_request(http: &Client, url: &str) -> Result<Duration, String> {
    let began = Instant::now();
    let response = http
        .post(url)
        .json(&json!({ "owner": "admin" }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    response.bytes().await.map_err(|e| e.to_string())?;
    if status != StatusCode::CREATED {
        return Err(format!("baseline: {status}"));
    }
    Ok(began.elapsed())
}

/// From sending the restart to seeing its command `succeeded`, and from
/// the server recording the command to the dispatcher recording it done
/// (its own timestamps: no HTTP queueing, no polling).
async fn click(
    http: &Client,
    base: &str,
    token: &str,
    guest: &str,
    style: Click,
) -> Result<(Duration, Duration), String> {
    let began = Instant::now();
    let wait = match style {
        Click::OneRequest => "?wait=30",
        Click::TwoRequests => "",
    };
    let url = format!("{base}/api/v1/guests/{guest}/services/apache/actions{wait}");
    let response = http
        .post(&url)
        .bearer_auth(token)
        .json(&json!({ "action": "restart" }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
    if status != StatusCode::ACCEPTED {
        return Err(format!("POST {url}: {status}, expected 202: {body}"));
    }
    if body["status"] == "succeeded" {
        return Ok((began.elapsed(), recorded(&body)?));
    }
    let id = body["command_id"]
        .as_i64()
        .ok_or_else(|| format!("no command_id in {body}"))?;
    // Held by the server until the command is done: no polling load, and
    // the answer leaves as soon as the dispatcher finishes.
    let url = format!("{base}/api/v1/commands/{id}?wait=30");
    loop {
        let command: serde_json::Value = async {
            http.get(&url)
                .bearer_auth(token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        .map_err(|e: reqwest::Error| format!("GET {url}: {e}"))?;
        match command["status"].as_str() {
            Some("succeeded") => return Ok((began.elapsed(), recorded(&command)?)),
            Some("queued" | "dispatched") => {}
            _ => return Err(format!("command {id} ended: {command}")),
        }
        if began.elapsed() > COMMAND_TIMEOUT {
            return Err(format!(
                "command {id} not done after {COMMAND_TIMEOUT:?}: {command}"
            ));
        }
    }
}

/// `finished_at − created_at` of a finished command.
fn recorded(command: &serde_json::Value) -> Result<Duration, String> {
    let at = |field: &str| {
        command[field]
            .as_str()
            .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
            .ok_or_else(|| format!("no {field} in {command}"))
    };
    Ok((at("finished_at")? - at("created_at")?).unsigned_abs())
}

/// Nearest rank, of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

fn report(label: &str, load: Load, sorted: &[Duration], baseline: Option<&Vec<Duration>>) {
    let load = load.name();
    for p in [50.0, 99.0] {
        let value = percentile(sorted, p);
        let name = format!("{label}_{load}_p{p}");
        record(&format!("{name}_ms"), value, "ms");
        if let Some(base) = baseline {
            record(
                &format!("{name}_vs_baseline"),
                value / percentile(base, p),
                "ratio",
            );
        }
        if p == 99.0 && baseline.is_some() {
            let met = if value < GOAL_MS { 1.0 } else { 0.0 };
            record(
                &format!("{name}_under_50ms"),
                met,
                "bool (SPEC goal: p99 < 50 ms)",
            );
        }
    }
    record(
        &format!("{label}_{load}_samples"),
        sorted.len() as f64,
        "samples",
    );
}
