//! `herd-server`: the herd service and its maintenance commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herd_api::{app, config::Settings, config::SETTINGS_HELP, openapi};
use herd_provisioner::backend::sim::{FaultSpec, Injected, SimBackend, SimSettings, FAULT_SHAPES};

#[derive(Parser)]
#[command(name = "herd-server", version, about = "herd: student Linux guests on a z/VM hypervisor", after_help = SETTINGS_HELP)]
struct Cli {
    /// TOML configuration file [default: ./herd.toml when present]
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Copy the database (SQLite; PostgreSQL: use pg_dump) and the simulated
    /// host into DIR (new or empty), online, while servers run
    Backup { dir: PathBuf },
    /// Fill the (empty) data directory from a backup made by `backup`
    Restore { dir: PathBuf },
    /// Check the configuration, reach the database and the directory, and
    /// exit non-zero with the reason when something is wrong
    CheckConfig,
    /// Print the OpenAPI document (what openapi/openapi.json must hold)
    Openapi,
    /// Run only the command dispatcher (the privileged side), for servers
    /// started with HERD_ROLES=api
    Dispatcher,
    /// Compare the database with the hypervisor, print every difference and
    /// repair what is safe to repair (also done at every start)
    Reconcile,
    /// The simulated hypervisor in the data directory
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Subcommand)]
enum SimCommand {
    /// Scripted faults, which running servers meet at their next occasion
    /// (shapes: docs/backend.md, "Trying faults by hand")
    Faults {
        #[command(subcommand)]
        command: FaultsCommand,
    },
}

#[derive(Subcommand)]
enum FaultsCommand {
    /// Print the armed faults, one JSON object a line, in the shape `add`
    /// takes (nothing when none)
    List,
    /// Arm one fault, e.g. '{"copy_fails": {"guest": "LX000007"}}'
    #[command(after_help = FAULT_SHAPES)]
    Add {
        /// The fault as JSON
        json: String,
    },
    /// Disarm every fault that has not fired yet
    Clear,
}

fn print_lines(lines: Vec<String>) {
    for line in lines {
        println!("{line}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", openapi::document_json());
        return ExitCode::SUCCESS;
    }
    init_logging();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let result = match cli.command {
        Some(Command::Migrate) => {
            app::open_store(&settings).map(|_| println!("migrations applied"))
        }
        Some(Command::Backup { dir }) => herd_api::backup::backup(&settings, &dir).map(print_lines),
        Some(Command::Restore { dir }) => {
            herd_api::backup::restore(&settings, &dir).map(print_lines)
        }
        Some(Command::CheckConfig) => app::check_config(&settings).map(|checked| {
            print_lines(checked);
            println!("configuration OK");
        }),
        Some(Command::Dispatcher) => {
            actix_web::rt::System::new().block_on(app::run_dispatcher(settings))
        }
        Some(Command::Sim {
            command: SimCommand::Faults { command },
        }) => return sim_faults(&settings, command),
        Some(Command::Reconcile) => app::reconcile_once(&settings).map(|found| {
            for d in &found {
                println!("difference: {d}");
            }
            println!("reconcile: {} differences found and repaired", found.len());
        }),
        _ => actix_web::rt::System::new().block_on(app::serve(settings)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// `herd-server sim faults …`: joins the simulated host the servers of this
/// configuration run (same data directory, same clock) without changing
/// anything else in it.
fn sim_faults(settings: &Settings, command: FaultsCommand) -> ExitCode {
    // Bad input is refused before the host is looked at.
    enum Action {
        List,
        Add(FaultSpec),
        Clear,
    }
    let action = match command {
        FaultsCommand::List => Action::List,
        FaultsCommand::Add { json } => match FaultSpec::parse(&json) {
            Ok(spec) => Action::Add(spec),
            Err(e) => {
                eprintln!("herd-server: sim faults add: {e}");
                return ExitCode::from(2);
            }
        },
        FaultsCommand::Clear => Action::Clear,
    };
    // The servers open the host with the default simulation settings
    // (app::open_backend) and this clock; changes are settled against them.
    let sim = match SimBackend::attach(
        &settings.data_dir,
        app::clock(settings),
        SimSettings::default(),
    ) {
        Ok(sim) => sim,
        Err(e) => {
            return fail(&format!(
                "sim faults: {e} (herd-server creates it at its first start in its data \
                 directory, here {})",
                settings.data_dir.display()
            ))
        }
    };
    let done = match action {
        Action::Add(spec) => {
            let fault = match spec.to_fault() {
                Ok(fault) => fault,
                Err(e) => return fail(&format!("sim faults add: {e}")),
            };
            sim.inject(fault).map(|injected| match injected {
                Injected::Waiting => println!("armed: {spec}"),
                Injected::Scheduled => println!(
                    "scheduled on the guest: {spec} (no longer waiting, so `list` does not \
                     show it and `clear` does not take it back)"
                ),
            })
        }
        Action::List => sim.armed_faults().map(|faults| {
            for fault in &faults {
                println!("{}", FaultSpec::from(fault));
            }
        }),
        Action::Clear => sim.clear_faults().map(|n| println!("cleared {n} fault(s)")),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("sim faults: {e}")),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("herd-server: {e}");
    ExitCode::FAILURE
}

/// Logs go to stderr (`RUST_LOG` filters them, default `info`); stdout
/// carries only what scripts read.
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
