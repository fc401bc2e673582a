//! `herd`: the command-line tool for the herd API, on the generated
//! `herd-client` crate.
//!
//! Exit codes: 0 success, 1 API or connection error (the problem's title and
//! detail go to stderr), 2 usage error.

mod output;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, CommandFactory, Parser, Subcommand, ValueEnum};
use herd_client::{types, Client};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use output::{print_table, Out};

#[derive(Parser)]
#[command(
    name = "herd",
    version,
    about = "Command-line tool for the herd guest manager",
    long_about = "Command-line tool for the herd guest manager.\n\n\
        Log in once with `herd login --server URL --username U`; the token is kept in \
        the user's config directory. HERD_URL and HERD_TOKEN override the saved server \
        and token.\n\nExit codes: 0 success, 1 API error (problem on stderr), 2 usage error."
)]
struct Cli {
    /// Output format (default: table on a terminal, json otherwise)
    #[arg(long, short = 'o', global = true, value_enum)]
    output: Option<Format>,

    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Cmd {
    /// Log in and save the token (password from HERD_PASSWORD or a prompt)
    Login {
        /// Server base URL, e.g. https://herd.example.edu
        #[arg(long, env = "HERD_URL")]
        server: String,
        /// User name
        #[arg(long, short = 'u')]
        username: String,
        /// Token lifetime in seconds (server default when left out)
        #[arg(long)]
        ttl_seconds: Option<std::num::NonZeroU64>,
    },
    /// Revoke the saved token and forget it
    Logout,
    /// Who am I (user, role, quota)
    Whoami,
    /// Guests: list, request, show, delete, power
    #[command(subcommand)]
    Guests(GuestsCmd),
    /// Services on a guest
    #[command(subcommand)]
    Services(ServicesCmd),
    /// Timed firewall openings (ports) of a guest
    #[command(subcommand)]
    Ports(PortsCmd),
    /// The warm pool (admin)
    #[command(subcommand)]
    Pool(PoolCmd),
    /// Provisioning batches (staff, admin)
    #[command(subcommand)]
    Batch(BatchCmd),
    /// Fleet operations (admin)
    #[command(subcommand)]
    Ops(OpsCmd),
    /// Images and their root versions (publishing, retiring: admin)
    #[command(subcommand)]
    Images(ImagesCmd),
    /// Rolling a root version out to an image's guests (admin)
    #[command(subcommand)]
    Rollouts(RolloutsCmd),
    /// Your tokens: list them, revoke one (an admin: all of a user's)
    #[command(subcommand)]
    Tokens(TokensCmd),
    /// Guest LANs with their capacity and use (adding, deleting: admin)
    #[command(subcommand)]
    Lans(LansCmd),
    /// The service itself (admin)
    #[command(subcommand)]
    System(SystemCmd),
    /// Monitor, lifecycle and audit events (your guests'; all for admins)
    Events {
        /// Only this guest's
        #[arg(long)]
        guest: Option<String>,
        /// Only this kind: audit, monitor, lifecycle, provisioning, firewall
        #[arg(long)]
        kind: Option<String>,
        /// The newest this many (without --follow)
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print events as they happen, until interrupted (reconnects
        /// where it left off)
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum GuestsCmd {
    /// List guests (your own; staff and admins see all)
    List {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        state: Option<String>,
    },
    /// Request a guest (from the pool at once, or provisioned)
    Request {
        /// Owner (staff, admin only; default: yourself)
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        image: Option<String>,
        #[arg(long)]
        lan: Option<String>,
        /// Wait until a provisioned guest is ready
        #[arg(long)]
        wait: bool,
    },
    /// Show one guest
    Show { name: String },
    /// Decommission a guest
    Delete {
        name: String,
        #[arg(long)]
        wait: bool,
    },
    /// Start a guest
    Start {
        name: String,
        #[arg(long)]
        wait: bool,
    },
    /// Stop a guest (--force: force off)
    Stop {
        name: String,
        #[arg(long)]
        force: bool,
        #[arg(long)]
        wait: bool,
    },
    /// Restart a guest
    Restart {
        name: String,
        #[arg(long)]
        wait: bool,
    },
    /// Reset a guest to a fresh copy of its image, keeping its name, address,
    /// open ports, service settings and SSH host key; undo within days with
    /// reset-undo
    Reset {
        name: String,
        /// Make a new SSH host key instead of keeping the guest's
        #[arg(long)]
        new_host_key: bool,
        /// Do not ask to type the guest's name
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        wait: bool,
    },
    /// Put back what a guest had before its last reset
    ResetUndo {
        name: String,
        #[arg(long)]
        wait: bool,
    },
    /// known_hosts lines of a guest's SSH host key (all guests' for staff and
    /// admins without GUEST): `herd guests known-hosts LX000042 >> ~/.ssh/known_hosts`
    KnownHosts { name: Option<String> },
}

#[derive(Subcommand)]
enum ServicesCmd {
    /// List the catalog services of a guest with their state
    List { guest: String },
    /// Start a service
    Start(ServiceArgs),
    /// Stop a service
    Stop(ServiceArgs),
    /// Restart a service
    Restart(ServiceArgs),
    /// Enable a service at boot
    Enable { guest: String, service: String },
    /// Disable a service at boot
    Disable { guest: String, service: String },
}

#[derive(clap::Args)]
struct ServiceArgs {
    guest: String,
    service: String,
    /// Wait until the command has run on the guest
    #[arg(long)]
    wait: bool,
}

#[derive(Subcommand)]
enum PortsCmd {
    /// List open ports with the minutes they stay open (all leases when no guest is given; admin)
    List { guest: Option<String> },
    /// Open a port for a while
    Open {
        guest: String,
        /// Port number (the server checks it against the policy)
        #[arg(allow_negative_numbers = true)]
        port: i64,
        /// UDP instead of TCP
        #[arg(long)]
        udp: bool,
        /// How long, in minutes (server default when left out)
        #[arg(long)]
        minutes: Option<i64>,
        /// Only this source network may connect (default: anyone)
        #[arg(long = "from", value_name = "CIDR")]
        from: Option<String>,
    },
    /// Close an open port: by lease id, or GUEST PORT [--udp]
    Close {
        /// Lease id, or a guest name followed by PORT
        target: String,
        port: Option<i64>,
        #[arg(long)]
        udp: bool,
    },
}

#[derive(Subcommand)]
enum PoolCmd {
    /// Pool status
    Show,
    /// Change the pool settings
    Set {
        #[arg(long)]
        target_size: Option<i32>,
        #[arg(long, value_parser = ["flashcopy", "ddr"])]
        copy_method: Option<String>,
    },
}

#[derive(Subcommand)]
enum BatchCmd {
    /// Make sure every user has at least N guests
    #[command(group(ArgGroup::new("who").required(true).args(["group", "users"])))]
    Create {
        /// Directory group whose members get guests
        #[arg(long)]
        group: Option<String>,
        /// Comma-separated user names
        #[arg(long, value_delimiter = ',')]
        users: Option<Vec<String>>,
        /// Guests each user should have
        #[arg(long)]
        per_user: i32,
        #[arg(long)]
        image: Option<String>,
        /// RFC 3339 expiry of the guests
        #[arg(long)]
        expires_at: Option<String>,
        /// Only show the plan and the capacity check
        #[arg(long)]
        dry_run: bool,
        /// Wait until the batch has finished (progress bar)
        #[arg(long)]
        wait: bool,
    },
    /// Show a batch with its items
    Show { id: i64 },
}

#[derive(Subcommand)]
enum OpsCmd {
    /// Start all auto-boot guests in batches
    StagedStart(StagedArgs),
    /// Stop all running guests in batches
    StagedStop(StagedArgs),
}

#[derive(Subcommand)]
enum ImagesCmd {
    /// List images with the root version new guests boot and the latest
    List,
    /// List the root versions of an image, with the guests on each
    Versions { image: String },
    /// Publish a new root version (latest + 1); changes no guest
    Publish {
        image: String,
        /// What the version brings, e.g. the patches in it
        #[arg(long)]
        label: String,
        /// Wait until it is published and print its version
        #[arg(long)]
        wait: bool,
    },
    /// Retire a root version and free its disk (not the latest, not in use)
    Retire {
        image: String,
        version: std::num::NonZeroU32,
    },
}

#[derive(Subcommand)]
enum RolloutsCmd {
    /// Bring an image's guests to a root version, restarting the running
    /// ones in batches (the first is the canary)
    Start {
        image: String,
        /// The root version to roll out
        #[arg(long)]
        version: std::num::NonZeroU32,
        /// Most guests restarting at once (server default 15)
        #[arg(long)]
        batch_size: Option<i32>,
        /// Share of the running guests that stays healthy (server default 90)
        #[arg(long)]
        min_healthy_percent: Option<i32>,
        /// How long a restarted guest has to be healthy (server default 300)
        #[arg(long)]
        health_timeout_seconds: Option<i32>,
        /// adaptive (default): go on once a batch is healthy; fixed: wait
        /// --interval-seconds between batches
        #[arg(long, value_parser = ["fixed", "adaptive"])]
        pace: Option<String>,
        /// Seconds between batches with --pace fixed (server default 30)
        #[arg(long)]
        interval_seconds: Option<i32>,
        /// Wait until the rollout has ended (progress bar on a terminal)
        #[arg(long)]
        wait: bool,
    },
    /// Cancel a rollout: no more restarts; guests not restarted keep their version
    Cancel { job: i64 },
    /// Show a rollout job with its counts
    Status { job: i64 },
}

#[derive(Subcommand)]
enum LansCmd {
    /// Every LAN: network, gateway, DNS, capacity and addresses in use
    List,
    /// Add a LAN; new guests go to the one with the most free addresses
    Add {
        /// 1–8 characters, as CP names LANs (e.g. LNXLAN2)
        name: String,
        /// An IPv4 network, e.g. 10.20.0.0/22
        cidr: String,
        /// A host address of the network [its first]
        #[arg(long)]
        gateway: Option<std::net::Ipv4Addr>,
        /// The guests' DNS server [the gateway]
        #[arg(long)]
        dns: Option<std::net::Ipv4Addr>,
    },
    /// Delete a LAN no guest holds an address on
    Delete { name: String },
}

#[derive(Subcommand)]
enum TokensCmd {
    /// Your live tokens: where each was made, when last used, which is this one
    List,
    /// Revoke one of your tokens by id, or (admin) all of a user's
    Revoke {
        /// The token's id, from `herd tokens list`
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        id: Option<i64>,
        /// Every token of this user (admin)
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
enum SystemCmd {
    /// Background tasks of every process: runs, failures, last error
    Tasks,
}

#[derive(clap::Args)]
struct StagedArgs {
    #[arg(long)]
    batch_size: Option<i32>,
    #[arg(long)]
    interval_seconds: Option<i32>,
    #[arg(long)]
    wait: bool,
}

// ---------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------

/// What ends a command with exit code 1.
enum Failure {
    /// The API answered with a problem.
    Problem {
        status: u16,
        title: String,
        detail: String,
    },
    /// Anything else (connection, configuration).
    Other(String),
}

type Res<T> = Result<T, Failure>;

impl<E: std::fmt::Debug> From<herd_client::Error<E>> for Failure
where
    E: serde::Serialize,
{
    fn from(e: herd_client::Error<E>) -> Self {
        match e {
            herd_client::Error::ErrorResponse(rv) => {
                let status = rv.status().as_u16();
                let v = serde_json::to_value(rv.into_inner()).unwrap_or(Value::Null);
                Failure::Problem {
                    status,
                    title: v["title"].as_str().unwrap_or("error").to_string(),
                    detail: v["detail"].as_str().unwrap_or("").to_string(),
                }
            }
            herd_client::Error::UnexpectedResponse(r) => {
                let status = r.status();
                Failure::Problem {
                    status: status.as_u16(),
                    title: status.canonical_reason().unwrap_or("error").to_string(),
                    detail: format!("unexpected response from {}", r.url()),
                }
            }
            other => Failure::Other(other.to_string()),
        }
    }
}

/// A positive count for the API (`0` and negative numbers are refused here).
fn nonzero(n: i32, what: &str) -> Res<std::num::NonZeroU32> {
    u32::try_from(n)
        .ok()
        .and_then(std::num::NonZeroU32::new)
        .ok_or_else(|| other(format!("{what} must be at least 1")))
}

fn other(msg: impl Into<String>) -> Failure {
    Failure::Other(msg.into())
}

// ---------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Default)]
struct Config {
    server: Option<String>,
    token: Option<String>,
    username: Option<String>,
}

fn config_path() -> Res<PathBuf> {
    if let Some(dir) = std::env::var_os("HERD_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir).join("config.json"));
    }
    let dir = dirs::config_dir().ok_or_else(|| other("no config directory for this user"))?;
    Ok(dir.join("herd").join("config.json"))
}

fn load_config() -> Config {
    config_path()
        .ok()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_config(cfg: &Config) -> Res<PathBuf> {
    let path = config_path()?;
    let dir = path.parent().expect("config path has a parent");
    std::fs::create_dir_all(dir).map_err(|e| other(format!("{}: {e}", dir.display())))?;
    let data = serde_json::to_vec_pretty(cfg).expect("config serializes");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&path)
        .map_err(|e| other(format!("{}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| other(format!("{}: {e}", path.display())))?;
    }
    f.write_all(&data)
        .map_err(|e| other(format!("{}: {e}", path.display())))?;
    Ok(path)
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn server_url(cfg: &Config) -> Res<String> {
    env_nonempty("HERD_URL")
        .or_else(|| cfg.server.clone())
        .ok_or_else(|| {
            other("no server: run `herd login --server URL --username U` or set HERD_URL")
        })
}

/// The server and token to use: saved by `herd login`, or from the
/// environment.
fn credentials() -> Res<(String, String)> {
    let cfg = load_config();
    let server = server_url(&cfg)?;
    let token = env_nonempty("HERD_TOKEN")
        .or(cfg.token)
        .ok_or_else(|| other("not logged in: run `herd login` or set HERD_TOKEN"))?;
    Ok((server, token))
}

fn client() -> Res<Client> {
    let (server, token) = credentials()?;
    Client::with_token(&server, &token).map_err(|e| other(e.to_string()))
}

const EVENT_COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("AT", "at"),
    ("KIND", "kind"),
    ("ACTOR", "actor"),
    ("ACTION", "action"),
    ("TARGET", "target"),
    ("OUTCOME", "outcome"),
    ("DETAIL", "detail"),
];

/// `herd events --follow`: the server-sent events of
/// `GET /api/v1/events/stream`, one line each; after a dropped connection
/// it reconnects with `Last-Event-ID`, so nothing is missed or repeated.
async fn follow_events(guest: Option<String>, kind: Option<types::EventKind>, out: Out) -> Res<()> {
    use herd_client::reqwest;
    let (server, token) = credentials()?;
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(g) = guest {
        query.push(("guest", g));
    }
    if let Some(k) = kind {
        query.push(("kind", k.to_string()));
    }
    let http = reqwest::Client::new();
    let mut last_id: Option<String> = None;
    loop {
        let mut req = http
            .get(format!("{server}/api/v1/events/stream"))
            .bearer_auth(&token)
            .query(&query);
        if let Some(id) = &last_id {
            req = req.header("Last-Event-ID", id);
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                read_events(resp, &mut last_id, out).await;
            }
            Ok(resp) => {
                let status = resp.status();
                let body = resp.text().await.unwrap_or_default();
                let detail = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|p| p["detail"].as_str().map(str::to_owned))
                    .unwrap_or(body);
                return Err(other(format!("{status}: {detail}")));
            }
            Err(e) => eprintln!("herd: events stream: {e}; reconnecting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A `text/plain` answer of the API (the generated client hands those out
/// as byte streams), or the problem's detail.
async fn get_text(path: &str) -> Res<String> {
    use herd_client::reqwest;
    let (server, token) = credentials()?;
    let resp = reqwest::Client::new()
        .get(format!("{server}{path}"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| other(e.to_string()))?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| other(e.to_string()))?;
    if status.is_success() {
        return Ok(body);
    }
    let detail = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|p| p["detail"].as_str().map(str::to_owned))
        .unwrap_or(body);
    Err(other(format!("{status}: {detail}")))
}

/// Prints the stream's events until it ends, keeping the last id.
async fn read_events(
    mut resp: herd_client::reqwest::Response,
    last_id: &mut Option<String>,
    out: Out,
) {
    let mut buf = String::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let message: String = buf.drain(..end + 2).collect();
            let (mut id, mut data) = (None, String::new());
            for line in message.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            let Ok(event) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            if id.is_some() {
                *last_id = id;
            }
            if out.json {
                outln!("{event}");
            } else {
                let cells: Vec<String> = EVENT_COLUMNS.iter().map(|(_, k)| s(&event[*k])).collect();
                outln!("{}", cells.join("  "));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out {
        json: match cli.output {
            Some(Format::Json) => true,
            Some(Format::Table) => false,
            None => !std::io::stdout().is_terminal(),
        },
    };
    if let Cmd::Completions { shell } = cli.command {
        let mut cmd = Cli::command();
        clap_complete::generate(shell, &mut cmd, "herd", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(cli.command, out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Problem {
            status,
            title,
            detail,
        }) => {
            if detail.is_empty() {
                eprintln!("error: {title} ({status})");
            } else {
                eprintln!("error: {title} ({status}): {detail}");
            }
            ExitCode::from(1)
        }
        Err(Failure::Other(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

async fn run(cmd: Cmd, out: Out) -> Res<()> {
    match cmd {
        Cmd::Login {
            server,
            username,
            ttl_seconds,
        } => login(&server, &username, ttl_seconds, out).await,
        Cmd::Logout => {
            let mut cfg = load_config();
            if cfg.token.is_some() {
                if let Ok(c) = client() {
                    // A token that is already invalid is fine to forget.
                    let _ = c.revoke_current_token().send().await;
                }
                cfg.token = None;
                save_config(&cfg)?;
            }
            out.message("logged out");
            Ok(())
        }
        Cmd::Whoami => {
            let me = client()?.me().send().await?.into_inner();
            out.object(&me, |v| {
                vec![
                    ("username", s(&v["username"])),
                    ("name", s(&v["display_name"])),
                    ("role", s(&v["role"])),
                    ("email", s(&v["email"])),
                    (
                        "guests",
                        format!("{} of {}", s(&v["quota"]["used"]), {
                            let m = s(&v["quota"]["max_guests"]);
                            if m.is_empty() {
                                "unlimited".to_string()
                            } else {
                                m
                            }
                        }),
                    ),
                ]
            });
            Ok(())
        }
        Cmd::Guests(c) => guests(c, out).await,
        Cmd::Services(c) => services(c, out).await,
        Cmd::Ports(c) => ports(c, out).await,
        Cmd::Pool(c) => pool(c, out).await,
        Cmd::Batch(c) => batch(c, out).await,
        Cmd::Ops(c) => ops(c, out).await,
        Cmd::Images(c) => images(c, out).await,
        Cmd::Rollouts(c) => rollouts(c, out).await,
        Cmd::Tokens(c) => tokens(c, out).await,
        Cmd::Lans(c) => lans(c, out).await,
        Cmd::System(SystemCmd::Tasks) => {
            let c = client()?;
            let items = all_pages(|cursor| {
                let mut req = c.system_tasks().limit(500);
                if let Some(cur) = cursor {
                    req = req.cursor(cur);
                }
                async move {
                    let page = req.send().await?.into_inner();
                    Ok((page.items, page.next_cursor))
                }
            })
            .await?;
            out.list(&items, TASK_COLUMNS);
            Ok(())
        }
        Cmd::Events {
            guest,
            kind,
            limit,
            follow,
        } => {
            let kind = kind
                .map(|k| {
                    k.parse::<types::EventKind>()
                        .map_err(|_| other(format!("unknown event kind {k:?}")))
                })
                .transpose()?;
            if follow {
                return follow_events(guest, kind, out).await;
            }
            let c = client()?;
            let mut req = c.list_events().limit(limit);
            if let Some(g) = guest {
                req = req.guest(g);
            }
            if let Some(k) = kind {
                req = req.kind(k);
            }
            let page = req.send().await?.into_inner();
            out.list(&page.items, EVENT_COLUMNS);
            Ok(())
        }
        Cmd::Completions { .. } => unreachable!("handled in main"),
    }
}

/// A JSON value as a table cell (`""` for null).
fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(x) => x.clone(),
        other => other.to_string(),
    }
}

async fn login(
    server: &str,
    username: &str,
    ttl_seconds: Option<std::num::NonZeroU64>,
    out: Out,
) -> Res<()> {
    let password = match env_nonempty("HERD_PASSWORD") {
        Some(p) => p,
        None => rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| other(format!("cannot read the password: {e}")))?,
    };
    let c = Client::anonymous(server).map_err(|e| other(e.to_string()))?;
    let resp = c
        .create_token()
        .body(types::TokenRequest {
            username: username.to_string(),
            password,
            ttl_seconds,
        })
        .send()
        .await?
        .into_inner();
    let mut cfg = load_config();
    cfg.server = Some(server.trim_end_matches('/').to_string());
    cfg.token = Some(resp.token.clone());
    cfg.username = Some(username.to_string());
    let path = save_config(&cfg)?;
    if out.json {
        out.json_value(&json!({
            "username": username,
            "server": cfg.server,
            "expires_at": resp.expires_at,
            "config": path,
        }));
    } else {
        outln!(
            "logged in as {username} ({}), token valid until {}, saved in {}",
            resp.user.role,
            resp.expires_at,
            path.display()
        );
    }
    Ok(())
}

const GUEST_COLUMNS: &[(&str, &str)] = &[
    ("NAME", "name"),
    ("OWNER", "owner"),
    ("STATE", "state"),
    ("HOSTNAME", "hostname"),
    ("IP", "ip_address"),
    ("LAN", "lan"),
    ("IMAGE", "image"),
];

fn guest_fields(v: &Value) -> Vec<(&'static str, String)> {
    [
        "name",
        "owner",
        "state",
        "hostname",
        "ip_address",
        "lan",
        "image",
        "memory_mb",
        "auto_boot",
        "root_version",
        "target_root_version",
        "description",
        "created_at",
        "assigned_at",
        "expires_at",
    ]
    .into_iter()
    .map(|k| (k, s(&v[k])))
    .chain([("ssh_fingerprint", s(&v["ssh_host_key"]["fingerprint"]))])
    .collect()
}

async fn guests(cmd: GuestsCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        GuestsCmd::List { owner, state } => {
            let state = match state {
                Some(st) => Some(
                    st.parse::<types::GuestState>()
                        .map_err(|_| other(format!("unknown guest state {st:?}")))?,
                ),
                None => None,
            };
            let items = all_pages(|cursor| {
                let mut req = c.list_guests();
                if let Some(o) = &owner {
                    req = req.owner(o.clone());
                }
                if let Some(st) = state {
                    req = req.state(st);
                }
                if let Some(cur) = cursor {
                    req = req.cursor(cur);
                }
                async move {
                    let page = req.send().await?.into_inner();
                    Ok((page.items, page.next_cursor))
                }
            })
            .await?;
            out.list(&items, GUEST_COLUMNS);
            Ok(())
        }
        GuestsCmd::Request {
            owner,
            image,
            lan,
            wait,
        } => {
            let resp = c
                .request_guest()
                .idempotency_key(new_idempotency_key())
                .body(types::GuestRequest { owner, image, lan })
                .send()
                .await?;
            match resp.into_inner() {
                types::RequestGuestResponse::Guest(g) => {
                    out.object(&g, guest_fields);
                }
                types::RequestGuestResponse::ProvisioningStarted(p) => {
                    if wait {
                        let name = String::from(p.guest.clone());
                        wait_job(&c, p.job.id, &format!("provisioning {name}")).await?;
                        let g = c.get_guest().name(name).send().await?.into_inner();
                        out.object(&g, guest_fields);
                    } else {
                        out.object(&p, |v| {
                            vec![
                                ("guest", s(&v["guest"])),
                                ("job", s(&v["job"]["id"])),
                                ("status", s(&v["job"]["status"])),
                            ]
                        });
                    }
                }
            }
            Ok(())
        }
        GuestsCmd::KnownHosts { name } => {
            let path = match name {
                Some(n) => format!("/api/v1/guests/{n}/known_hosts"),
                None => "/api/v1/ssh/known_hosts".to_owned(),
            };
            print!("{}", get_text(&path).await?);
            Ok(())
        }
        GuestsCmd::Show { name } => {
            let g = c.get_guest().name(name).send().await?.into_inner();
            out.object(&g, guest_fields);
            Ok(())
        }
        GuestsCmd::Delete { name, wait } => {
            let job = c
                .delete_guest()
                .name(name.clone())
                .send()
                .await?
                .into_inner();
            finish_job(&c, job, wait, &format!("decommissioning {name}"), out).await
        }
        GuestsCmd::Reset {
            name,
            new_host_key,
            yes,
            wait,
        } => {
            let confirm = if yes {
                name.clone()
            } else {
                typed_name(&name)?
            };
            let job = c
                .reset_guest()
                .name(name.clone())
                .idempotency_key(new_idempotency_key())
                .body(types::ResetRequest {
                    confirm,
                    new_host_key: Some(new_host_key),
                })
                .send()
                .await?
                .into_inner();
            finish_job(&c, job, wait, &format!("resetting {name}"), out).await
        }
        GuestsCmd::ResetUndo { name, wait } => {
            let job = c
                .undo_reset()
                .name(name.clone())
                .idempotency_key(new_idempotency_key())
                .send()
                .await?
                .into_inner();
            finish_job(&c, job, wait, &format!("undoing the reset of {name}"), out).await
        }
        GuestsCmd::Start { name, wait } => {
            power(&c, name, types::PowerAction::Start, wait, out).await
        }
        GuestsCmd::Stop { name, force, wait } => {
            let action = if force {
                types::PowerAction::ForceOff
            } else {
                types::PowerAction::Stop
            };
            power(&c, name, action, wait, out).await
        }
        GuestsCmd::Restart { name, wait } => {
            power(&c, name, types::PowerAction::Restart, wait, out).await
        }
    }
}

/// Every item of a list, page after page: `page` fetches the page after
/// a cursor and answers its items and `next_cursor`.
async fn all_pages<T, F, Fut>(mut page: F) -> Res<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Res<(Vec<T>, Option<String>)>>,
{
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let (mut got, next) = page(cursor.take()).await?;
        items.append(&mut got);
        match next {
            Some(n) if !n.is_empty() => cursor = Some(n),
            _ => return Ok(items),
        }
    }
}

const TOKEN_COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("CREATED", "created_at"),
    ("EXPIRES", "expires_at"),
    ("LAST USED", "last_used_at"),
    ("FROM", "client_address"),
    ("CURRENT", "current"),
];

const LAN_COLUMNS: &[(&str, &str)] = &[
    ("NAME", "name"),
    ("CIDR", "cidr"),
    ("GATEWAY", "gateway"),
    ("DNS", "dns"),
    ("CAPACITY", "capacity"),
    ("USED", "used"),
];

async fn lans(cmd: LansCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        LansCmd::List => {
            let items = all_pages(|cursor| {
                let mut req = c.list_lans().limit(500);
                if let Some(cur) = cursor {
                    req = req.cursor(cur);
                }
                async move {
                    let page = req.send().await?.into_inner();
                    Ok((page.items, page.next_cursor))
                }
            })
            .await?;
            out.list(&items, LAN_COLUMNS);
        }
        LansCmd::Add {
            name,
            cidr,
            gateway,
            dns,
        } => {
            let lan = c
                .create_lan()
                .body(types::NewLan {
                    name,
                    cidr,
                    gateway,
                    dns,
                })
                .send()
                .await?
                .into_inner();
            out.list(std::slice::from_ref(&lan), LAN_COLUMNS);
        }
        LansCmd::Delete { name } => {
            c.delete_lan().name(name.clone()).send().await?;
            eprintln!("LAN {name} deleted");
        }
    }
    Ok(())
}

async fn tokens(cmd: TokensCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        TokensCmd::List => {
            let items = all_pages(|cursor| {
                let mut req = c.list_tokens().limit(500);
                if let Some(cur) = cursor {
                    req = req.cursor(cur);
                }
                async move {
                    let page = req.send().await?.into_inner();
                    Ok((page.items, page.next_cursor))
                }
            })
            .await?;
            out.list(&items, TOKEN_COLUMNS);
        }
        TokensCmd::Revoke { id: Some(id), .. } => {
            c.revoke_token().id(id).send().await?;
            eprintln!("token {id} revoked");
        }
        TokensCmd::Revoke {
            user: Some(user), ..
        } => {
            c.revoke_user_tokens().username(user.clone()).send().await?;
            eprintln!("every token of {user} revoked");
        }
        TokensCmd::Revoke { .. } => return Err(other("give a token id or --user")),
    }
    Ok(())
}

/// Shows a job just started, or with `wait` as it ended.
async fn finish_job(c: &Client, job: types::JobView, wait: bool, msg: &str, out: Out) -> Res<()> {
    let job = if wait {
        wait_job(c, job.id, msg).await?
    } else {
        job
    };
    out.object(&job, job_fields);
    Ok(())
}

/// Asks the user to type the guest's name, as the API's `confirm` wants
/// it: a reset throws the guest's changes away.
fn typed_name(name: &str) -> Res<String> {
    eprint!("Resetting {name} replaces everything changed on it since it was made. Type its name to go on: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| other(format!("reading the confirmation: {e}")))?;
    let typed = line.trim();
    if !typed.eq_ignore_ascii_case(name) {
        return Err(other(format!("not reset: `{typed}` is not {name}")));
    }
    Ok(typed.to_owned())
}

/// An `Idempotency-Key` for one intended change, so that the server does
/// it once however often the request reaches it (a proxy's resend, say).
fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// How long one request holds out for a command (the server's maximum).
const COMMAND_WAIT_SECONDS: u64 = 30;

fn command_wait(wait: bool) -> u64 {
    if wait {
        COMMAND_WAIT_SECONDS
    } else {
        0
    }
}

async fn power(
    c: &Client,
    name: String,
    action: types::PowerAction,
    wait: bool,
    out: Out,
) -> Res<()> {
    let cmd = c
        .power()
        .name(name)
        .wait(command_wait(wait))
        .body(types::PowerRequest { action })
        .send()
        .await?
        .into_inner();
    finish_command(c, cmd, wait, out).await
}

fn command_fields(v: &Value) -> Vec<(&'static str, String)> {
    [
        "command_id",
        "status",
        "text",
        "result",
        "created_at",
        "finished_at",
    ]
    .into_iter()
    .map(|k| (k, s(&v[k])))
    .collect()
}

fn job_fields(v: &Value) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("job", s(&v["id"])),
        ("kind", s(&v["kind"])),
        ("status", s(&v["status"])),
        (
            "progress",
            format!(
                "{}/{}",
                s(&v["progress"]["done"]),
                s(&v["progress"]["total"])
            ),
        ),
        ("target", s(&v["target"])),
        ("error", s(&v["error"])),
    ];
    if let Some(result) = v["result"].as_object() {
        let text = if v["kind"] == "rollout" {
            rollout_counts(&v["result"])
        } else {
            result
                .iter()
                .map(|(k, x)| format!("{k} {}", s(x)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        fields.push(("result", text));
    }
    fields
}

/// `updated U, rolled back R, pending P` from a rollout's `result`.
fn rollout_counts(result: &Value) -> String {
    let n = |k: &str| result[k].as_i64().unwrap_or(0);
    format!(
        "updated {}, rolled back {}, pending {}",
        n("updated"),
        n("rolled_back"),
        n("pending")
    )
}

async fn finish_command(c: &Client, cmd: types::CommandView, wait: bool, out: Out) -> Res<()> {
    let mut cmd = cmd;
    if wait {
        // The server holds each request until the command has finished
        // (`?wait=`), so this asks again only after a long wait ran out.
        let bar = spinner(&format!("command {}", cmd.command_id));
        while matches!(
            cmd.status,
            types::CommandStatus::Queued | types::CommandStatus::Dispatched
        ) {
            bar.set_message(format!("command {}: {}", cmd.command_id, cmd.status));
            cmd = c
                .get_command()
                .id(cmd.command_id)
                .wait(COMMAND_WAIT_SECONDS)
                .send()
                .await?
                .into_inner();
        }
        bar.finish_and_clear();
    }
    let failed = cmd.status == types::CommandStatus::Failed;
    out.object(&cmd, command_fields);
    if failed {
        return Err(other(format!(
            "command {} failed: {}",
            cmd.command_id,
            cmd.result.unwrap_or_default()
        )));
    }
    Ok(())
}

fn spinner(msg: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn progress_bar(msg: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
            .expect("progress template")
            .progress_chars("=> "),
    );
    bar.set_message(msg.to_string());
    bar
}

fn is_finished(status: types::JobStatus) -> bool {
    use types::JobStatus::*;
    matches!(status, Succeeded | Failed | Cancelled)
}

/// Polls a job until it has ended, with a progress bar; a failed or
/// cancelled job is an error.
async fn wait_job(c: &Client, id: i64, msg: &str) -> Res<types::JobView> {
    let bar = progress_bar(msg);
    loop {
        let job = c.get_job().id(id).send().await?.into_inner();
        bar.set_length(job.progress.total.max(0) as u64);
        bar.set_position(job.progress.done.max(0) as u64);
        if is_finished(job.status) {
            bar.finish_and_clear();
            if job.status != types::JobStatus::Succeeded {
                return Err(other(format!(
                    "job {id} {}: {}",
                    job.status,
                    job.error.clone().unwrap_or_default()
                )));
            }
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn services(cmd: ServicesCmd, out: Out) -> Res<()> {
    let c = client()?;
    let (args, action) = match cmd {
        ServicesCmd::List { guest } => {
            let page = c.list_services().name(guest).send().await?.into_inner();
            out.list(
                &page.items,
                &[
                    ("SERVICE", "name"),
                    ("ENABLED", "enabled"),
                    ("STATE", "state"),
                    ("PRIORITY", "priority"),
                ],
            );
            return Ok(());
        }
        ServicesCmd::Enable { guest, service } => {
            return set_enabled(&c, guest, service, true, out).await
        }
        ServicesCmd::Disable { guest, service } => {
            return set_enabled(&c, guest, service, false, out).await
        }
        ServicesCmd::Start(a) => (a, types::ServiceAction::Start),
        ServicesCmd::Stop(a) => (a, types::ServiceAction::Stop),
        ServicesCmd::Restart(a) => (a, types::ServiceAction::Restart),
    };
    let cmd = c
        .service_action()
        .name(args.guest)
        .service(args.service)
        .wait(command_wait(args.wait))
        .body(types::ServiceActionRequest { action })
        .send()
        .await?
        .into_inner();
    finish_command(&c, cmd, args.wait, out).await
}

async fn set_enabled(
    c: &Client,
    guest: String,
    service: String,
    enabled: bool,
    out: Out,
) -> Res<()> {
    let svc = c
        .patch_service()
        .name(guest)
        .service(service)
        .body(types::ServicePatch { enabled })
        .send()
        .await?
        .into_inner();
    out.object(&svc, |v| {
        ["name", "enabled", "state", "priority"]
            .into_iter()
            .map(|k| (k, s(&v[k])))
            .collect()
    });
    Ok(())
}

fn lease_rows(leases: &[types::Lease]) -> Vec<Value> {
    leases
        .iter()
        .map(|l| {
            let mut v = serde_json::to_value(l).expect("lease serializes");
            let secs = l.remaining_seconds.max(0);
            v["remaining"] = json!(format!("{}m {:02}s", secs / 60, secs % 60));
            v
        })
        .collect()
}

const LEASE_COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("GUEST", "guest"),
    ("PROTO", "protocol"),
    ("PORT", "port"),
    ("FROM", "source_cidr"),
    ("REMAINING", "remaining"),
    ("EXPIRES", "expires_at"),
];

async fn ports(cmd: PortsCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        PortsCmd::List { guest } => {
            let page = match guest {
                Some(g) => c.list_guest_leases().name(g).send().await?.into_inner(),
                None => c.list_leases().send().await?.into_inner(),
            };
            if out.json {
                out.json_value(&serde_json::to_value(&page.items).expect("serializes"));
            } else {
                print_table(&lease_rows(&page.items), LEASE_COLUMNS);
            }
            Ok(())
        }
        PortsCmd::Open {
            guest,
            port,
            udp,
            minutes,
            from,
        } => {
            let source_cidr = from
                .map(|f| {
                    f.parse::<types::OpenLeaseSourceCidr>().map_err(|_| {
                        other(format!("--from {f:?} is not an IPv4 network or address"))
                    })
                })
                .transpose()?;
            let lease = c
                .open_lease()
                .name(guest)
                .idempotency_key(new_idempotency_key())
                .body(types::OpenLease {
                    port: u64::try_from(port)
                        .ok()
                        .and_then(std::num::NonZeroU64::new)
                        .ok_or_else(|| {
                            other(format!("invalid port {port}: ports are 1 to 65535"))
                        })?,
                    protocol: if udp {
                        types::Protocol::Udp
                    } else {
                        types::Protocol::Tcp
                    },
                    duration_minutes: minutes,
                    source_cidr,
                })
                .send()
                .await?
                .into_inner();
            if out.json {
                out.json_value(&serde_json::to_value(&lease).expect("serializes"));
            } else {
                print_table(&lease_rows(std::slice::from_ref(&lease)), LEASE_COLUMNS);
            }
            Ok(())
        }
        PortsCmd::Close { target, port, udp } => {
            let id = match (target.parse::<i64>(), port) {
                (Ok(id), None) => id,
                (_, Some(port)) => {
                    let proto = if udp { "udp" } else { "tcp" };
                    let page = c
                        .list_guest_leases()
                        .name(target.clone())
                        .send()
                        .await?
                        .into_inner();
                    page.items
                        .iter()
                        .find(|l| {
                            i64::from(l.port.get()) == port && l.protocol.to_string() == proto
                        })
                        .map(|l| l.id)
                        .ok_or_else(|| other(format!("{target} has no open {proto} port {port}")))?
                }
                (Err(_), None) => {
                    return Err(other(
                        "give a lease id, or a guest and a port: herd ports close GUEST PORT",
                    ))
                }
            };
            c.close_lease().id(id).send().await?;
            out.message(&format!("closed lease {id}"));
            Ok(())
        }
    }
}

const TASK_COLUMNS: &[(&str, &str)] = &[
    ("PROCESS", "process"),
    ("TASK", "name"),
    ("RUNS", "runs"),
    ("FAILURES", "failures"),
    ("FAILING", "failing"),
    ("LAST SUCCESS", "last_succeeded_at"),
    ("LAST ERROR", "last_error"),
];

fn pool_fields(v: &Value) -> Vec<(&'static str, String)> {
    ["target_size", "available", "provisioning", "copy_method"]
        .into_iter()
        .map(|k| (k, s(&v[k])))
        .collect()
}

async fn pool(cmd: PoolCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        PoolCmd::Show => {
            let p = c.get_pool().send().await?.into_inner();
            out.object(&p, pool_fields);
        }
        PoolCmd::Set {
            target_size,
            copy_method,
        } => {
            if target_size.is_none() && copy_method.is_none() {
                return Err(other(
                    "nothing to change: give --target-size and/or --copy-method",
                ));
            }
            let cur = c.get_pool().send().await?.into_inner();
            let copy_method = match copy_method.as_deref() {
                Some("ddr") => types::PoolCopyMethod::Ddr,
                Some(_) => types::PoolCopyMethod::Flashcopy,
                None => cur.copy_method,
            };
            let p = c
                .put_pool()
                .body(types::PoolUpdate {
                    target_size: target_size.unwrap_or(cur.target_size),
                    copy_method,
                })
                .send()
                .await?
                .into_inner();
            out.object(&p, pool_fields);
        }
    }
    Ok(())
}

fn batch_fields(v: &Value) -> Vec<(&'static str, String)> {
    let t = &v["totals"];
    vec![
        ("batch", s(&v["id"])),
        ("job", s(&v["job_id"])),
        ("status", s(&v["status"])),
        ("group", s(&v["ldap_group"])),
        ("guests_per_user", s(&v["guests_per_user"])),
        (
            "progress",
            format!(
                "{}/{}",
                s(&v["progress"]["done"]),
                s(&v["progress"]["total"])
            ),
        ),
        (
            "totals",
            format!(
                "users {}, guests {}, assigned {}, cloned {}, skipped {}, pending {}, failed {}",
                s(&t["users"]),
                s(&t["guests"]),
                s(&t["assigned"]),
                s(&t["cloned"]),
                s(&t["skipped"]),
                s(&t["pending"]),
                s(&t["failed"])
            ),
        ),
    ]
}

fn show_batch(b: &types::BatchView, out: Out) {
    if out.json {
        out.json_value(&serde_json::to_value(b).expect("serializes"));
        return;
    }
    let v = serde_json::to_value(b).expect("serializes");
    for (k, val) in batch_fields(&v) {
        outln!("{k:<16} {val}");
    }
    if !b.items.is_empty() {
        outln!();
        let rows: Vec<Value> = b
            .items
            .iter()
            .map(|i| {
                json!({
                    "username": i.username,
                    "status": i.status,
                    "guests": i.guests.join(","),
                    "error": i.error,
                })
            })
            .collect();
        print_table(
            &rows,
            &[
                ("USER", "username"),
                ("STATUS", "status"),
                ("GUESTS", "guests"),
                ("ERROR", "error"),
            ],
        );
    }
}

async fn batch(cmd: BatchCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        BatchCmd::Create {
            group,
            users,
            per_user,
            image,
            expires_at,
            dry_run,
            wait,
        } => {
            let expires_at = expires_at
                .map(|e| {
                    e.parse::<chrono::DateTime<chrono::Utc>>()
                        .map_err(|_| other(format!("--expires-at {e:?} is not an RFC 3339 time")))
                })
                .transpose()?;
            let resp = c
                .create_batch()
                .idempotency_key(new_idempotency_key())
                .body(types::BatchRequest {
                    users,
                    ldap_group: group,
                    guests_per_user: nonzero(per_user, "--per-user")?,
                    image,
                    expires_at,
                    dry_run: Some(dry_run),
                })
                .send()
                .await?
                .into_inner();
            match resp {
                types::CreateBatchResponse::Plan(plan) => {
                    if out.json {
                        out.json_value(&serde_json::to_value(&plan).expect("serializes"));
                    } else {
                        let cap = &plan.capacity;
                        outln!(
                            "plan: {} guests needed ({} from the pool, {} to clone), {} users skipped, fits: {}",
                            cap.guests_needed, cap.from_pool, cap.to_clone, plan.skipped, cap.fits
                        );
                        let rows: Vec<Value> = plan
                            .users
                            .iter()
                            .map(|u| serde_json::to_value(u).expect("serializes"))
                            .collect();
                        print_table(
                            &rows,
                            &[
                                ("USER", "username"),
                                ("KNOWN", "known"),
                                ("HAS", "has"),
                                ("NEEDS", "needs"),
                            ],
                        );
                    }
                    Ok(())
                }
                types::CreateBatchResponse::View(b) => {
                    if !wait {
                        show_batch(&b, out);
                        return Ok(());
                    }
                    let bar = progress_bar(&format!("batch {}", b.id));
                    let mut b = b;
                    loop {
                        bar.set_length(b.progress.total.max(0) as u64);
                        bar.set_position(b.progress.done.max(0) as u64);
                        if is_finished(b.status) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        b = c.get_batch().id(b.id).send().await?.into_inner();
                    }
                    bar.finish_and_clear();
                    show_batch(&b, out);
                    if b.status != types::JobStatus::Succeeded {
                        return Err(other(format!("batch {} {}", b.id, b.status)));
                    }
                    Ok(())
                }
            }
        }
        BatchCmd::Show { id } => {
            let b = c.get_batch().id(id).send().await?.into_inner();
            show_batch(&b, out);
            Ok(())
        }
    }
}

async fn ops(cmd: OpsCmd, out: Out) -> Res<()> {
    let c = client()?;
    let (args, stop) = match cmd {
        OpsCmd::StagedStart(a) => (a, false),
        OpsCmd::StagedStop(a) => (a, true),
    };
    let body = types::StagedRequest {
        batch_size: match args.batch_size {
            Some(n) => Some(nonzero(n, "--batch-size")?),
            None => None,
        },
        interval_seconds: args.interval_seconds,
        pace: None,
    };
    let job = if stop {
        c.staged_stop().body(body).send().await?.into_inner()
    } else {
        c.staged_start().body(body).send().await?.into_inner()
    };
    let what = if stop { "staged stop" } else { "staged start" };
    finish_job(&c, job, args.wait, what, out).await
}

const IMAGE_COLUMNS: &[(&str, &str)] = &[
    ("NAME", "name"),
    ("ROOT", "root_version"),
    ("LATEST", "latest_version"),
    ("ROOT MB", "root_size_mb"),
    ("SEGMENT MB", "segment_size_mb"),
    ("DESCRIPTION", "description"),
];

const VERSION_COLUMNS: &[(&str, &str)] = &[
    ("VERSION", "version"),
    ("LABEL", "label"),
    ("STATE", "state"),
    ("GUESTS", "guests"),
    ("CREATED", "created_at"),
    ("CHECKSUM", "checksum"),
];

/// Hex digits of a checksum shown in tables (JSON has all of it).
const SHORT_CHECKSUM: usize = 12;

async fn images(cmd: ImagesCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        ImagesCmd::List => {
            let items = all_pages(|cursor| {
                let mut req = c.list_images().limit(500);
                if let Some(cur) = cursor {
                    req = req.cursor(cur);
                }
                async move {
                    let page = req.send().await?.into_inner();
                    Ok((page.items, page.next_cursor))
                }
            })
            .await?;
            out.list(&items, IMAGE_COLUMNS);
        }
        ImagesCmd::Versions { image } => {
            let items = all_pages(|cursor| {
                let mut req = c.list_versions().name(image.clone()).limit(500);
                if let Some(cur) = cursor {
                    req = req.cursor(cur);
                }
                async move {
                    let page = req.send().await?.into_inner();
                    Ok((page.items, page.next_cursor))
                }
            })
            .await?;
            if out.json {
                out.json_value(&serde_json::to_value(&items).expect("serializes"));
            } else {
                let rows: Vec<Value> = items
                    .iter()
                    .map(|v| {
                        let mut row = serde_json::to_value(v).expect("serializes");
                        if let Some(sum) = &v.checksum {
                            row["checksum"] =
                                json!(sum.chars().take(SHORT_CHECKSUM).collect::<String>());
                        }
                        row
                    })
                    .collect();
                print_table(&rows, VERSION_COLUMNS);
            }
        }
        ImagesCmd::Publish { image, label, wait } => {
            let label = label
                .parse::<types::PublishRequestLabel>()
                .map_err(|_| other("--label must be 1 to 200 characters"))?;
            let job = c
                .publish_version()
                .name(image.clone())
                .body(types::PublishRequest { label })
                .send()
                .await?
                .into_inner();
            if !wait {
                out.object(&job, job_fields);
                return Ok(());
            }
            let job = wait_job(&c, job.id, &format!("publishing a root of {image}")).await?;
            if out.json {
                out.json_value(&serde_json::to_value(&job).expect("serializes"));
            } else {
                let version = job
                    .result
                    .as_ref()
                    .and_then(|r| r.get("version"))
                    .map(s)
                    .unwrap_or_else(|| "?".to_string());
                outln!("published {image} root version {version} (job {})", job.id);
            }
        }
        ImagesCmd::Retire { image, version } => {
            c.retire_version()
                .name(image.clone())
                .version(version)
                .send()
                .await?;
            out.message(&format!("retired {image} root version {version}"));
        }
    }
    Ok(())
}

async fn rollouts(cmd: RolloutsCmd, out: Out) -> Res<()> {
    let c = client()?;
    match cmd {
        RolloutsCmd::Start {
            image,
            version,
            batch_size,
            min_healthy_percent,
            health_timeout_seconds,
            pace,
            interval_seconds,
            wait,
        } => {
            let pace = pace
                .map(|p| {
                    p.parse::<types::Pace>()
                        .map_err(|_| other(format!("unknown pace {p:?}")))
                })
                .transpose()?;
            let body = types::RolloutRequest {
                version,
                batch_size: batch_size.map(|n| nonzero(n, "--batch-size")).transpose()?,
                min_healthy_percent,
                health_timeout_seconds: health_timeout_seconds
                    .map(|n| nonzero(n, "--health-timeout-seconds"))
                    .transpose()?,
                pace,
                interval_seconds,
            };
            let job = c
                .start_rollout()
                .name(image.clone())
                .body(body)
                .send()
                .await?
                .into_inner();
            if !wait {
                out.object(&job, job_fields);
                return Ok(());
            }
            let bar = (!out.json && std::io::stdout().is_terminal())
                .then(|| progress_bar(&format!("{image} to v{version}: starting")));
            let mut job = job;
            loop {
                if let Some(bar) = &bar {
                    bar.set_length(job.progress.total.max(0) as u64);
                    bar.set_position(job.progress.done.max(0) as u64);
                    if let Some(r) = &job.result {
                        bar.set_message(format!(
                            "{image} to v{version}: {}",
                            rollout_counts(&Value::Object(r.clone()))
                        ));
                    }
                }
                if is_finished(job.status) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                job = c.get_job().id(job.id).send().await?.into_inner();
            }
            let counts = rollout_counts(&job.result.clone().map(Value::Object).unwrap_or_default());
            match bar {
                Some(bar) => {
                    bar.finish_and_clear();
                    outln!(
                        "rollout {} of {image} to root version {version} {}: {counts}",
                        job.id,
                        job.status
                    );
                }
                None => out.object(&job, job_fields),
            }
            if job.status != types::JobStatus::Succeeded {
                return Err(match &job.error {
                    Some(e) if !e.is_empty() => {
                        other(format!("rollout {} {}: {e}", job.id, job.status))
                    }
                    _ => other(format!("rollout {} {}", job.id, job.status)),
                });
            }
        }
        RolloutsCmd::Cancel { job } => {
            let job = c.cancel_job().id(job).send().await?.into_inner();
            out.object(&job, job_fields);
        }
        RolloutsCmd::Status { job } => {
            let job = c.get_job().id(job).send().await?.into_inner();
            out.object(&job, job_fields);
        }
    }
    Ok(())
}
