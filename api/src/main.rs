//! `herd-server`: the herd service and its maintenance commands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herd_api::{app, config::Settings, config::SETTINGS_HELP, openapi};

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
    /// Print the OpenAPI document (what openapi/openapi.json must hold)
    Openapi,
    /// Run only the command dispatcher (the privileged side), for servers
    /// started with HERD_ROLES=api
    Dispatcher,
    /// Compare the database with the hypervisor, print every difference and
    /// repair what is safe to repair (also done at every start)
    Reconcile,
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
        Some(Command::Dispatcher) => {
            actix_web::rt::System::new().block_on(app::run_dispatcher(settings))
        }
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
