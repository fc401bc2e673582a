//! A fleet of 10,000 guests over 20 LANs on a real `herd-server`, on SQLite
//! and on PostgreSQL, built as staff would build it: 19 LANs added to the
//! configured one (`POST /api/v1/lans`), then a batch giving 9,998 students
//! a guest each and one giving a last student two
//! (`POST /api/v1/provisioning/batches`; the students are known users, as a
//! directory would have made them), then a firewall lease on every guest.
//! Measured on that fleet, 50 clients at once unless said otherwise: admins
//! walking the guest list a page of 100 at a time, the student listing their
//! two guests, authenticated `GET /api/v1/guests/{name}`, one whole cursor
//! walk, the ruleset and the DNS zone; and the server's peak memory. Last,
//! a staged start of 10,000 guests over 20 LANs at library level, adaptive,
//! on the simulated clock (as the `staged` benchmark).
//! Baseline: the bare actix-web handler (`load.rs`) answering
//! `GET /api/v1/guests/{name}`, hit by the same clients the same way.

use std::error::Error;
use std::time::{Duration, Instant};

use herd_core::domain::{GuestState, Role};
use herd_core::store::guests;
use herd_core::store::users::{self, NewLocalUser};
use herd_core::store::{write_tx, Store};
use herd_provisioner::staged::Pace;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::batch::Db;
use crate::load::{expect, load, Baseline, Latencies};
use crate::server::HerdServer;
use crate::staged;
use crate::{emit, emit_skipped, BenchResult, Env};

const GUESTS: usize = 10_000;
/// The configured LAN and 19 more, a /22 (1021 guests) each.
const LANS: usize = 20;
const STUDENT: &str = "scale-student";
const STUDENT_PASSWORD: &str = "scale-student-password";
const CLIENTS: usize = 50;
const PAGE: usize = 100;
/// Per client, after one warm-up request.
const LIST_REQUESTS: usize = 40;
const GET_REQUESTS: usize = 200;
const BATCH_TIMEOUT: Duration = Duration::from_secs(900);

fn record(metric: &str, value: f64, unit: &str) {
    emit("scale", metric, value, unit);
}

pub fn run(env: &Env) -> BenchResult {
    let baseline = {
        let server = Baseline::start()?;
        let url = format!("{}/LX000001", server.url);
        let result = load(
            CLIENTS,
            1,
            GET_REQUESTS,
            |_| (),
            |http, ()| expect(http.get(&url), StatusCode::OK).map(drop),
        );
        server.stop();
        result?
    };
    record("baseline_get_p99_ms", baseline.percentile_ms(99.0), "ms");
    record("baseline_get_requests_per_s", baseline.per_s(), "1/s");

    fleet("sqlite", Db::Sqlite, &baseline)?;
    match env.postgres() {
        Ok(pg) => fleet("postgres", Db::Postgres(pg.fresh_database()?), &baseline)?,
        Err(why) => emit_skipped("scale", "postgres_skipped", why),
    }
    staged_start()
}

/// The staged start of the whole fleet at library level (as the `staged`
/// benchmark, on the simulated clock): simulated seconds, and the most
/// guests in transition at once against the host's stall threshold.
fn staged_start() -> BenchResult {
    let mut most = 0;
    let threshold = staged::staged_starts(GUESTS, LANS, &[Pace::Adaptive], |_, seconds, m| {
        record("sqlite_scale_staged_start_s", seconds, "s (simulated)");
        most = m;
    })?;
    record(
        "sqlite_scale_staged_most_in_transition",
        most as f64,
        "guests",
    );
    record("stall_threshold", f64::from(threshold), "guests");
    record(
        "sqlite_scale_staged_most_vs_threshold",
        most as f64 / f64::from(threshold),
        "ratio (at most 1)",
    );
    Ok(())
}

/// Builds the fleet on `db` and measures it; metrics named `{label}_scale_…`.
fn fleet(label: &str, db: Db, baseline: &Latencies) -> BenchResult {
    let server = HerdServer::start(
        db,
        &[
            ("HERD_POOL_TARGET_SIZE", "0".into()),
            ("HERD_IMAGE_SIZE_MB", "16".into()),
        ],
    )?;
    let metric = |name: &str| format!("{label}_scale_{name}");
    let http = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()?;
    let admin = server.login(&http)?;
    let base = server.url.clone();
    let api = move |path: &str| format!("{base}/api/v1/{path}");
    let fail = |e: Box<dyn Error>| -> Box<dyn Error> {
        format!("{e}\n{}", server.log_tail("server.log")).into()
    };

    for i in 1..LANS {
        let lan =
            json!({ "name": format!("SCALE{i:02}"), "cidr": format!("10.{}.0.0/22", 10 + i) });
        expect(
            http.post(api("lans")).bearer_auth(&admin).json(&lan),
            StatusCode::CREATED,
        )?;
    }
    let store = Store::open(&server.database_url(), 1)?;
    let students = add_students(&store, GUESTS - 2)?;

    let began = Instant::now();
    run_batch(&http, &api, &admin, &students, 1).map_err(fail)?;
    let batch_s = began.elapsed().as_secs_f64();
    record(&metric("batch_s"), batch_s, "s");
    record(
        &metric("batch_guests_per_s"),
        (GUESTS - 2) as f64 / batch_s,
        "1/s",
    );
    run_batch(&http, &api, &admin, &[STUDENT.to_owned()], 2).map_err(fail)?;
    // The host boots the new guests a hundred at a time, 2 s each with
    // contention: the fleet takes about ten minutes to be up, and is
    // measured while it boots (the power follower and the monitor at work).
    let running = guests::in_states(&mut *store.conn()?, &[GuestState::Running])?.len();
    record(&metric("running_at_start"), running as f64, "guests");

    // One admin walks the whole list, as a portal syncing the fleet would.
    let began = Instant::now();
    let Walk { names, cursors } = walk(&http, &api("guests"), &admin)?;
    record(&metric("walk_s"), began.elapsed().as_secs_f64(), "s");
    if names.len() != GUESTS {
        return Err(format!("the walk found {} guests, not {GUESTS}", names.len()).into());
    }

    open_leases(&api, &admin, &names).map_err(fail)?;

    // Each admin starts at a page of its own; past the last, at the first.
    let lists = load(
        CLIENTS,
        1,
        LIST_REQUESTS,
        |i| cursors[i * cursors.len() / CLIENTS].clone(),
        |http, cursor| {
            let page = list_page(http, &api("guests"), &admin, cursor.as_deref())?;
            *cursor = page.next_cursor;
            Ok(())
        },
    )?;
    report_latencies(&metric("list"), &lists, baseline);

    let student = server.login_as(&http, STUDENT, STUDENT_PASSWORD)?;
    let own = load(
        CLIENTS,
        1,
        LIST_REQUESTS,
        |_| (),
        |http, ()| {
            let page = list_page(http, &api("guests"), &student, None)?;
            match page.items.len() {
                2 => Ok(()),
                n => Err(format!("the student sees {n} guests, not 2")),
            }
        },
    )?;
    report_latencies(&metric("student_list"), &own, baseline);

    let gets = load(
        CLIENTS,
        1,
        GET_REQUESTS,
        |i| i * 7919,
        |http, n| {
            *n = (*n + 1) % GUESTS;
            let url = api(&format!("guests/{}", names[*n]));
            expect(http.get(&url).bearer_auth(&admin), StatusCode::OK).map(drop)
        },
    )?;
    report_latencies(&metric("get"), &gets, baseline);
    record(
        &metric("get_vs_bare"),
        gets.per_s() / baseline.per_s(),
        "ratio",
    );

    for (name, path) in [("ruleset", "firewall/ruleset"), ("zone", "dns/zone")] {
        let (ms, bytes) = fetch_text(&http, &api(path), &admin)?;
        record(&metric(&format!("{name}_ms")), ms, "ms");
        record(&metric(&format!("{name}_bytes")), bytes as f64, "bytes");
        record(
            &metric(&format!("{name}_vs_bare_p50")),
            ms / baseline.percentile_ms(50.0),
            "ratio",
        );
    }
    record(&metric("rss_mb"), server.peak_rss_mib()?, "MiB (peak)");
    Ok(())
}

fn report_latencies(metric: &str, l: &Latencies, baseline: &Latencies) {
    for p in [50.0, 99.0] {
        let ms = l.percentile_ms(p);
        record(&format!("{metric}_p{p}_ms"), ms, "ms");
        let ratio = ms / baseline.percentile_ms(p);
        record(&format!("{metric}_p{p}_vs_bare"), ratio, "ratio");
    }
    record(&format!("{metric}_requests_per_s"), l.per_s(), "1/s");
}

/// `count` students, known to herd as a directory login would have made
/// them, and the student who logs in: one transaction.
fn add_students(store: &Store, count: usize) -> Result<Vec<String>, Box<dyn Error>> {
    let hash = herd_api::auth::password::hash(STUDENT_PASSWORD).map_err(|e| e.to_string())?;
    let names: Vec<String> = (0..count).map(|i| format!("s{i:05}")).collect();
    let now = herd_core::clock::Clock::now_ms(&herd_core::clock::SystemClock);
    let logins = std::iter::once((STUDENT, hash.as_str()))
        .chain(names.iter().map(|n| (n.as_str(), "no login")));
    write_tx(&mut *store.conn()?, |c| {
        for (username, password_hash) in logins {
            let new = NewLocalUser {
                username,
                display_name: username,
                role: Role::Student,
                password_hash,
            };
            users::create_local(c, &new, now)?;
        }
        Ok::<_, herd_core::store::StoreError>(())
    })?;
    Ok(names)
}

/// Gives each of `users` at least `per_user` guests and waits for the
/// batch's job to succeed.
fn run_batch(
    http: &Client,
    api: &dyn Fn(&str) -> String,
    admin: &str,
    users: &[String],
    per_user: u32,
) -> BenchResult {
    let body = json!({ "users": users, "guests_per_user": per_user });
    let batch: Value = serde_json::from_slice(&expect(
        http.post(api("provisioning/batches"))
            .bearer_auth(admin)
            .json(&body),
        StatusCode::ACCEPTED,
    )?)?;
    let job = batch["job_id"].as_i64().ok_or("no job_id in the batch")?;
    let began = Instant::now();
    loop {
        let status: Value = serde_json::from_slice(&expect(
            http.get(api(&format!("jobs/{job}"))).bearer_auth(admin),
            StatusCode::OK,
        )?)?;
        match status["status"].as_str() {
            Some("succeeded") => return Ok(()),
            Some("failed" | "cancelled") => return Err(format!("batch job: {status}").into()),
            _ if began.elapsed() > BATCH_TIMEOUT => {
                return Err(format!("batch job after {BATCH_TIMEOUT:?}: {status}").into())
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// What the clients read of a page: serde skips the rest, as a portal
/// reading a few fields would.
#[derive(Deserialize)]
struct ListPage {
    items: Vec<Named>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

fn list_page(
    http: &Client,
    url: &str,
    token: &str,
    cursor: Option<&str>,
) -> Result<ListPage, String> {
    // Cursors are URL-safe base64: nothing to escape.
    let url = match cursor {
        Some(cursor) => format!("{url}?limit={PAGE}&cursor={cursor}"),
        None => format!("{url}?limit={PAGE}"),
    };
    let body = expect(http.get(url).bearer_auth(token), StatusCode::OK)?;
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

/// Every guest's name, and the cursor that starts each page (`None`: the
/// first).
struct Walk {
    names: Vec<String>,
    cursors: Vec<Option<String>>,
}

fn walk(http: &Client, url: &str, token: &str) -> Result<Walk, Box<dyn Error>> {
    let (mut names, mut cursors) = (Vec::new(), vec![None]);
    loop {
        let page = list_page(http, url, token, cursors.last().and_then(Option::as_deref))?;
        names.extend(page.items.into_iter().map(|g| g.name));
        match page.next_cursor {
            Some(next) => cursors.push(Some(next)),
            None => return Ok(Walk { names, cursors }),
        }
    }
}

/// Opens port 80 on every guest, 50 clients at once.
fn open_leases(
    api: &(dyn Fn(&str) -> String + Sync),
    admin: &str,
    names: &[String],
) -> BenchResult {
    let per_client = names.len().div_ceil(CLIENTS);
    load(
        CLIENTS,
        0,
        per_client,
        |i| i * per_client,
        |http, n| {
            let Some(name) = names.get(*n) else {
                return Ok(());
            };
            *n += 1;
            let url = api(&format!("guests/{name}/firewall/leases"));
            let lease = json!({ "protocol": "tcp", "port": 80 });
            expect(
                http.post(&url).bearer_auth(admin).json(&lease),
                StatusCode::CREATED,
            )
            .map(drop)
        },
    )?;
    Ok(())
}

/// The fastest of five fetches of a text document, in milliseconds, and its size.
fn fetch_text(http: &Client, url: &str, token: &str) -> Result<(f64, usize), Box<dyn Error>> {
    let mut best = (f64::INFINITY, 0);
    for _ in 0..5 {
        let began = Instant::now();
        let body = expect(http.get(url).bearer_auth(token), StatusCode::OK)?;
        let ms = began.elapsed().as_secs_f64() * 1e3;
        if ms < best.0 {
            best = (ms, body.len());
        }
    }
    Ok(best)
}
