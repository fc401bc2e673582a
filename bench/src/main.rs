//! herd's benchmarks: `herd-bench [disk|all]` (default all) prints one JSON
//! object a line: `{"bench","metric","value","unit"}`.

mod disk;

use std::error::Error;
use std::process::ExitCode;

type BenchResult = Result<(), Box<dyn Error>>;
type Bench = (&'static str, fn() -> BenchResult);

/// Every benchmark, by the name that selects it.
const BENCHES: &[Bench] = &[("disk", disk::run)];

/// Prints one measurement.
pub fn emit(bench: &str, metric: &str, value: f64, unit: &str) {
    let line =
        serde_json::json!({ "bench": bench, "metric": metric, "value": value, "unit": unit });
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
    for (name, run) in selected {
        if let Err(e) = run() {
            eprintln!("benchmark {name} failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
