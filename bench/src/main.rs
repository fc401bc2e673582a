//! herd's benchmarks:
//! `herd-bench [disk|pool|batch|staged|commands|leases|rollout|scale|all]` (default
//! all) prints one JSON object a line: `{"bench","metric","value","unit"}`.

mod batch;
mod commands;
mod disk;
mod leases;
mod load;
mod pg;
mod pool;
mod rollout;
mod scale;
mod server;
mod staged;

use std::cell::OnceCell;
use std::error::Error;
use std::process::ExitCode;

type BenchResult = Result<(), Box<dyn Error>>;
type Bench = (&'static str, fn(&Env) -> BenchResult);

/// Every benchmark, by the name that selects it.
const BENCHES: &[Bench] = &[
    ("disk", disk::run),
    ("pool", pool::run),
    ("batch", batch::run),
    ("staged", staged::run),
    ("commands", commands::run),
    ("leases", leases::run),
    ("rollout", rollout::run),
    ("scale", scale::run),
];

/// What several benchmarks share: one PostgreSQL server for the whole run,
/// found or started when first needed and stopped when the run ends.
#[derive(Default)]
pub struct Env {
    postgres: OnceCell<Result<pg::Postgres, String>>,
}

impl Env {
    /// The server, or why there is none.
    pub fn postgres(&self) -> Result<&pg::Postgres, &str> {
        self.postgres
            .get_or_init(pg::Postgres::find)
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Prints one measurement.
pub fn emit(bench: &str, metric: &str, value: f64, unit: &str) {
    let line =
        serde_json::json!({ "bench": bench, "metric": metric, "value": value, "unit": unit });
    println!("{line}");
}

/// Prints why a measurement was not taken, in place of its figure.
pub fn emit_skipped(bench: &str, metric: &str, why: &str) {
    let line = serde_json::json!({
        "bench": bench, "metric": metric, "value": null, "unit": null, "note": why,
    });
    println!("{line}");
}

fn main() -> ExitCode {
    let wanted = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let selected: Vec<_> = BENCHES
        .iter()
        .filter(|(name, _)| wanted == "all" || wanted == *name)
        .collect();
    if selected.is_empty() {
        let names: Vec<_> = BENCHES.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: herd-bench [{}|all]", names.join("|"));
        return ExitCode::from(2);
    }
    let env = Env::default();
    for (name, run) in selected {
        if let Err(e) = run(&env) {
            eprintln!("benchmark {name} failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
