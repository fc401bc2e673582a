//! Warm-pool assignment under load: 50 clients at once ask a real
//! `herd-server` for guests (`POST /api/v1/guests`, each a fresh `201`
//! assignment), on SQLite and on PostgreSQL. Baseline: a bare actix-web
//! handler answering a small JSON, hit by the same clients the same way.

use std::error::Error;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::json;

use crate::batch::Db;
use crate::load::{expect, load, Baseline, Latencies};
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
        let result = assign(&server.url, "unused");
        server.stop();
        result?
    };
    report(&baseline, "baseline", None);

    report(&herd(Db::Sqlite)?, "sqlite_pool", Some(&baseline));
    match env.postgres() {
        Ok(pg) => report(
            &herd(Db::Postgres(pg.fresh_database()?))?,
            "postgres_pool",
            Some(&baseline),
        ),
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
    assign(&format!("{}/api/v1/guests", server.url), &token)
        .map_err(|e| format!("{e}\n{}", server.log_tail("server.log")).into())
}

fn report(latencies: &Latencies, label: &str, baseline: Option<&Latencies>) {
    for p in [50.0, 99.0] {
        let value = latencies.percentile_ms(p);
        record(&format!("{label}_p{p}_ms"), value, "ms");
        if let Some(base) = baseline {
            let ratio = value / base.percentile_ms(p);
            record(&format!("{label}_p{p}_vs_baseline"), ratio, "ratio");
        }
    }
    record(&format!("{label}_requests_per_s"), latencies.per_s(), "1/s");
    if let Some(base) = baseline {
        let ratio = latencies.per_s() / base.per_s();
        record(
            &format!("{label}_requests_per_s_vs_baseline"),
            ratio,
            "ratio",
        );
    }
}

/// Every client asks for a guest for the admin, `201` each.
fn assign(url: &str, token: &str) -> Result<Latencies, Box<dyn Error>> {
    load(
        CLIENTS,
        WARMUP_REQUESTS,
        MEASURED_REQUESTS,
        |_| (),
        |http, ()| {
            let request = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({ "owner": "admin" }));
            expect(request, StatusCode::CREATED)
                .map(drop)
                .map_err(|e| format!("POST {url}: {e}"))
        },
    )
}
