//! The lease-expiry sweep (SPEC §5) at library level: 10,000 firewall
//! leases (2,000 guests × 5 ports on a /20 LAN), all past their time,
//! closed by `herd_provisioner::firewall::expiry::sweep`, on SQLite and on
//! PostgreSQL. Baseline: one plain `UPDATE leases SET closed_at = …` of
//! the same rows on the same connection. Each is timed `ROUNDS` times,
//! alternating, with the leases reopened (untimed) before each; the
//! medians are reported.

use std::error::Error;
use std::time::{Duration, Instant};

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use herd_core::clock::{Clock, Millis, SystemClock};
use herd_core::domain::{GuestState, Port, Protocol};
use herd_core::store::guests::{self, GuestSpec};
use herd_core::store::leases::{self, NewLease};
use herd_core::store::seed::{self, Seed, SeedImage, SeedLan};
use herd_core::store::{catalog, lans, AnyConnection, Store};
use herd_provisioner::firewall::expiry;

use crate::batch::Db;
use crate::{emit, emit_skipped, BenchResult, Env};

const GUESTS: usize = 2_000;
const PORTS_PER_GUEST: u16 = 5;
const LEASES: usize = GUESTS * PORTS_PER_GUEST as usize;
const ROUNDS: usize = 3;
const LAN: &str = "LNXLAN1";
const IMAGE: &str = "golden";
const LEASE_MS: Millis = 60_000;

fn record(metric: &str, value: f64, unit: &str) {
    emit("leases", metric, value, unit);
}

pub fn run(env: &Env) -> BenchResult {
    bench("sqlite", Db::Sqlite)?;
    match env.postgres() {
        Ok(pg) => bench("postgres", Db::Postgres(pg.fresh_database()?))?,
        Err(why) => emit_skipped("leases", "postgres_skipped", why),
    }
    Ok(())
}

fn bench(label: &str, db: Db) -> BenchResult {
    let dir = tempfile::Builder::new()
        .prefix("herd-bench-leases-")
        .tempdir()?;
    let url = match &db {
        Db::Sqlite => dir.path().join("herd.db").display().to_string(),
        Db::Postgres(pg) => pg.url.clone(),
    };
    let store = Store::open(&url, 2)?;
    let mut conn = store.conn()?;
    let conn: &mut AnyConnection = &mut conn;
    let opened_at = SystemClock.now_ms();
    let began = Instant::now();
    populate(conn, opened_at)?;
    eprintln!(
        "leases ({label}): {LEASES} leases opened in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    // Past every expiry.
    let now = opened_at + 2 * LEASE_MS;

    let (mut swept, mut updated) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        reopen(conn)?;
        let began = Instant::now();
        let n = plain_update(conn, now)?;
        updated.push(began.elapsed());
        check("the baseline UPDATE", n)?;

        reopen(conn)?;
        let began = Instant::now();
        let n = expiry::sweep(conn, now)?;
        swept.push(began.elapsed());
        check("the sweep", n)?;
    }
    let (sweep, update) = (median(&mut swept), median(&mut updated));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    record(&format!("{label}_sweep_10000_ms"), ms(sweep), "ms");
    record(
        &format!("{label}_sweep_leases_per_s"),
        LEASES as f64 / sweep.as_secs_f64(),
        "1/s",
    );
    record(&format!("{label}_update_10000_ms"), ms(update), "ms");
    record(
        &format!("{label}_sweep_vs_update"),
        ms(sweep) / ms(update),
        "ratio",
    );
    drop(store);
    drop(db);
    Ok(())
}

fn check(what: &str, closed: usize) -> BenchResult {
    if closed == LEASES {
        Ok(())
    } else {
        Err(format!("{what} closed {closed} leases, expected {LEASES}").into())
    }
}

fn median(d: &mut [Duration]) -> Duration {
    d.sort();
    d[d.len() / 2]
}

/// The seed, `GUESTS` running guests and `PORTS_PER_GUEST` open tcp
/// leases on each, through the store's own functions.
fn populate(conn: &mut AnyConnection, now: Millis) -> BenchResult {
    let seed = Seed {
        lan: SeedLan {
            name: LAN.into(),
            cidr: "10.20.0.0/20".parse()?,
            dns: None,
        },
        image: SeedImage {
            name: IMAGE.into(),
            description: String::new(),
            size_bytes: 4 << 20,
            segment_size_bytes: 1 << 20,
        },
    };
    seed::apply(conn, &seed, now)?;
    let lan_id = lans::find_by_name(conn, LAN)?
        .ok_or("the seeded LAN is missing")?
        .id;
    let image_id = catalog::images(conn)?
        .into_iter()
        .find(|i| i.name == IMAGE)
        .ok_or("the seeded image is missing")?
        .id;
    let spec = GuestSpec {
        name_prefix: "LX".into(),
        hostname_template: "{name}.example.edu".into(),
        lan_id,
        image_id,
        memory_mb: 64,
        auto_boot: false,
        owner_id: None,
        state: GuestState::Running,
        expires_at: None,
    };
    for _ in 0..GUESTS {
        let guest = guests::reserve(conn, &spec, now)?;
        for p in 0..PORTS_PER_GUEST {
            let lease = NewLease {
                guest_id: guest.row.id,
                protocol: Protocol::Tcp,
                port: Port::try_from(8000 + p)?,
                source: None,
                opened_by: None,
                expires_at: now + LEASE_MS,
            };
            leases::open(conn, &lease, u32::from(PORTS_PER_GUEST), now)?;
        }
    }
    Ok(())
}

/// Opens every lease again (untimed), so that the next timed operation
/// finds the same 10,000 due rows; PostgreSQL's dead row versions are
/// vacuumed away so that each round starts alike.
fn reopen(conn: &mut AnyConnection) -> BenchResult {
    const SQL: &str = "UPDATE leases SET closed_at = NULL, close_reason = NULL \
                       WHERE closed_at IS NOT NULL";
    match conn {
        AnyConnection::Sqlite(c) => {
            diesel::sql_query(SQL).execute(c)?;
        }
        AnyConnection::Postgresql(c) => {
            diesel::sql_query(SQL).execute(c)?;
            diesel::sql_query("VACUUM ANALYZE leases").execute(c)?;
        }
    }
    Ok(())
}

/// The baseline: one `UPDATE` closing the due leases, nothing else.
fn plain_update(conn: &mut AnyConnection, now: Millis) -> Result<usize, Box<dyn Error>> {
    let n = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "UPDATE leases SET closed_at = ?, close_reason = 'expired' \
             WHERE closed_at IS NULL AND expires_at <= ?",
        )
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(now)
        .execute(c)?,
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "UPDATE leases SET closed_at = $1, close_reason = 'expired' \
             WHERE closed_at IS NULL AND expires_at <= $1",
        )
        .bind::<BigInt, _>(now)
        .execute(c)?,
    };
    Ok(n)
}
