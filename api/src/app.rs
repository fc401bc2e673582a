//! Builds the actix application and runs the server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware, web, App, HttpRequest, HttpResponse, HttpServer};
use herd_core::clock::{FileClock, SharedClock, SystemClock};
use herd_core::domain::JobKind;
use herd_core::store::checkpoint::Checkpointer;
use herd_core::store::commands::Finished;
use herd_core::store::{jobs, notify, seed, Store, Workload};
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use herd_provisioner::backend::{Backend, CopyMethod};
use herd_provisioner::dispatcher::Dispatcher;
use herd_provisioner::monitor::MonitorSettings;
use herd_provisioner::pool::{PoolSettings, PoolShape};
use herd_provisioner::tasks::{process_label, Driver, Task, TaskBoard};
use herd_provisioner::wake::Wake;
use herd_provisioner::worker::{Worker, WorkerSettings};
use herd_provisioner::{bootstrap, reconcile};
use utoipa_swagger_ui::SwaggerUi;

use crate::assigner::Assigner;
use crate::auth::{self, Authenticator};
use crate::config::Settings;
use crate::event_feed::EventFeed;
use crate::extract;
use crate::finishes::Finishes;
use crate::metrics::Metrics;
use crate::openapi::{allowed_methods, document};
use crate::problem::ApiError;
use crate::recorder::{Recorder, Tell};
use crate::routes;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] herd_core::store::StoreError),
    #[error("{0}")]
    Directory(#[from] auth::directory::DirectoryError),
    #[error("{0}")]
    Setup(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub fn clock(settings: &Settings) -> SharedClock {
    match &settings.clock_file {
        Some(path) => Arc::new(FileClock::new(path)),
        None => Arc::new(SystemClock),
    }
}

/// Opens (and migrates) the store, creating the data directory first.
pub fn open_store(settings: &Settings) -> Result<Store, StartError> {
    std::fs::create_dir_all(&settings.data_dir)?;
    Ok(Store::open(
        &settings.database_url(),
        settings.database_pool_size,
    )?)
}

/// First-start content: LAN, catalog, image, and the bootstrap admin.
fn seed(store: &Store, settings: &Settings, clock: &SharedClock) -> Result<(), StartError> {
    let spec = seed_spec(settings)?;
    let mut conn = store.conn()?;
    let now = clock.now_ms();
    seed::apply(&mut conn, &spec, now)?;
    let generated =
        auth::ensure_bootstrap_admin(&mut conn, settings.admin_password.as_deref(), now)
            .map_err(|e| StartError::Setup(e.to_string()))?;
    if let Some(password) = generated {
        // Printed once, at the only moment it is known.
        println!("herd-server created user `admin` with password: {password}");
    }
    Ok(())
}

/// The LAN and image a first start seeds, from the settings.
fn seed_spec(settings: &Settings) -> Result<seed::Seed, StartError> {
    let cidr = settings
        .lan_cidr
        .parse()
        .map_err(|e| StartError::Setup(format!("HERD_LAN_CIDR `{}`: {e}", settings.lan_cidr)))?;
    let dns = match &settings.lan_dns {
        Some(d) => Some(
            d.parse()
                .map_err(|e| StartError::Setup(format!("HERD_LAN_DNS `{d}`: {e}")))?,
        ),
        None => None,
    };
    let spec = seed::Seed {
        lan: seed::SeedLan {
            name: settings.lan_name.clone(),
            cidr,
            dns,
        },
        image: seed::SeedImage {
            name: settings.image_name.clone(),
            description: "golden image every clone is copied from".into(),
            size_bytes: (settings.image_size_mb * 1024 * 1024) as i64,
            segment_size_bytes: (settings.image_segment_size_mb * 1024 * 1024) as i64,
        },
    };
    Ok(spec)
}

/// `herd-server check-config`: every setting a start would refuse, then
/// the database and the directory reached (nothing changed in either).
/// Answers what was checked, a line each, or the first reason to refuse.
pub fn check_config(settings: &Settings) -> Result<Vec<String>, StartError> {
    settings.firewall_policy().map_err(StartError::Setup)?;
    settings.trusted_proxies().map_err(StartError::Setup)?;
    pool_config(settings)?;
    seed_spec(settings)?;
    let mut checked = vec!["settings: valid".to_owned()];
    if settings.tls().map_err(StartError::Setup)?.is_some() {
        checked.push("TLS: the certificate and its key load".into());
    }
    let db = Store::check_reachable(&settings.database_url())
        .map_err(|e| StartError::Setup(format!("database {:?}: {e}", DbLabel(settings))))?;
    checked.push(format!("database: reachable ({db})"));
    match auth::directory::Directory::from_settings(settings)? {
        None => checked.push("directory: none (HERD_LDAP_URL unset: local accounts only)".into()),
        Some(directory) => {
            actix_web::rt::System::new()
                .block_on(directory.check())
                .map_err(|e| StartError::Setup(format!("directory: {e}")))?;
            checked.push("directory: reachable, the service account binds".into());
        }
    }
    Ok(checked)
}

/// [`open_store`] on the blocking pool: migrations may take a while.
async fn open_store_off_thread(settings: &Arc<Settings>) -> Result<Store, StartError> {
    let s = settings.clone();
    web::block(move || open_store(&s))
        .await
        .map_err(|e| StartError::Setup(e.to_string()))?
}

pub async fn serve(settings: Settings) -> Result<(), StartError> {
    let settings = Arc::new(settings);
    let clock = clock(&settings);
    let store = open_store_off_thread(&settings).await?;
    {
        let (store, s, c) = (store.clone(), settings.clone(), clock.clone());
        web::block(move || seed(&store, &s, &c))
            .await
            .map_err(|e| StartError::Setup(e.to_string()))??;
    }
    let backend = open_backend(&settings, &clock, &store).await?;
    let (pool_shape, pool_defaults) = pool_config(&settings)?;
    let firewall = settings.firewall_policy().map_err(StartError::Setup)?;
    let trusted_proxies = web::Data::new(settings.trusted_proxies().map_err(StartError::Setup)?);
    let wake = Arc::new(Wake::default());
    let shutdown = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    if settings.has_role("provisioner") {
        let concurrency = settings.provision_concurrency.max(1);
        let worker_settings = WorkerSettings {
            concurrency,
            stale_after: Duration::from_secs(60),
            idle_wait: Duration::from_millis(500),
            pool_defaults,
            pool_shape: pool_shape.clone(),
            guest_lifetime: Duration::from_secs(u64::from(settings.guest_lifetime_days) * 86_400),
            expiry_grace: Duration::from_secs(u64::from(settings.guest_expiry_grace_days) * 86_400),
            monitor: MonitorSettings {
                unresponsive_after: Duration::from_secs(settings.monitor_unresponsive_seconds),
                halt_grace: Duration::from_secs(settings.monitor_halt_grace_seconds),
                service_retry: Duration::from_secs(settings.monitor_service_retry_seconds),
            },
        };
        // Its own connections: sagas hold one through a long copy, and
        // requests must not wait for them (nor they for requests). Room for
        // two per saga and the tick's own.
        let own = store.with_own_pool(concurrency as u32 * 2 + 2, Workload::General)?;
        let worker = Worker::new(own, backend.clone(), clock.clone(), worker_settings)
            .map_err(|e| StartError::Setup(e.to_string()))?;
        tasks.extend(Arc::new(worker).tasks(&wake));
    }
    if let Some(directory) = auth::directory::Directory::from_settings(&settings)? {
        let every = Duration::from_secs(settings.ldap_recheck_seconds.max(1));
        tasks.push(auth::recheck::task(
            store.clone(),
            clock.clone(),
            directory,
            every,
        ));
    }
    let dispatch_wake = Arc::new(Wake::default());
    let finishes = Arc::new(Finishes::default());
    let finished = {
        let finishes = finishes.clone();
        move |word: Finished| finishes.tell(word)
    };
    if settings.has_role("dispatcher") {
        let d = Dispatcher::new(dispatcher_store(&store)?, backend.clone(), clock.clone())
            .map_err(|e| StartError::Setup(e.to_string()))?
            .on_finished(Arc::new(finished));
        tasks.extend(Arc::new(d).tasks(&dispatch_wake, DISPATCHER_IDLE_WAIT));
    } else {
        let store = store.clone();
        listen(
            &settings,
            notify::Channel::CommandsFinished,
            shutdown.clone(),
            move |payloads| {
                for word in Finished::from_announcements(payloads) {
                    finished(match &word {
                        Finished::Ids(_) => match store.conn() {
                            Ok(mut conn) => word.with_rows(&mut conn),
                            Err(_) => word,
                        },
                        _ => word,
                    })
                }
            },
        )?;
    }
    let board = Arc::new(TaskBoard::new(process_label("server"), clock.clone()));
    let driver = start_tasks(&store, &board, tasks, &shutdown)?;
    let _checkpointer = checkpointer(&store)?;
    let recorder = Recorder::spawn(
        store.with_own_pool(1, Workload::Clicks)?,
        clock.clone(),
        Tell {
            dispatcher: dispatch_wake.clone(),
            others: !settings.has_role("dispatcher"),
        },
    )?;
    let assigner = Assigner::spawn(
        store.with_own_pool(1, Workload::Clicks)?,
        clock.clone(),
        crate::state::request_defaults(&settings, &pool_shape, pool_defaults),
        wake.clone(),
    )?;
    let newest_event = herd_core::store::events::newest_id(&mut *store.conn()?)?;
    let feed = EventFeed::start(store.clone(), newest_event)?;
    let state = web::Data::new(AppState {
        store,
        recorder,
        assigner,
        wake: wake.clone(),
        finishes,
        pool_shape,
        pool_defaults,
        clock,
        auth: Authenticator::new(&settings)?,
        metrics: Metrics::new().map_err(|e| StartError::Setup(e.to_string()))?,
        firewall: Arc::new(firewall),
        tasks: board,
        feed: feed.clone(),
        settings: settings.clone(),
    });

    if settings.staged_start_on_boot && settings.has_role("provisioner") {
        let job = routes::operations::queue(&state, None, JobKind::StagedStart, Default::default())
            .await
            .map_err(|e| StartError::Setup(format!("staged start: {e}")))?;
        tracing::info!(
            job = job.id,
            guests = job.progress.total,
            "staged start queued"
        );
    }
    let shutdown_state = state.clone();
    let max_body = settings.max_body_bytes;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(trusted_proxies.clone())
            .configure(|cfg| configure(cfg, max_body))
            .wrap(middleware::from_fn(crate::auth::session::guard))
            .wrap(middleware::from_fn(crate::middleware::observe))
    })
    .shutdown_timeout(settings.shutdown_timeout_seconds)
    // Our own signal handling: event streams never end by themselves, so
    // they are closed first, then the server stops gracefully.
    .disable_signals();
    if let Some(workers) = settings.workers {
        server = server.workers(workers.max(1));
    }
    let tls = settings.tls().map_err(StartError::Setup)?.map(Arc::new);
    let listen_error = |source| StartError::Listen {
        addr: settings.listen.clone(),
        source,
    };
    let (server, scheme) = match &tls {
        Some(cert) => {
            let config = cert.server_config().map_err(StartError::Setup)?;
            actix_web::rt::spawn(reload_on_sighup(cert.clone()));
            let server = server
                .bind_rustls_0_23(&settings.listen, config)
                .map_err(listen_error)?;
            (server, "https")
        }
        None => (server.bind(&settings.listen).map_err(listen_error)?, "http"),
    };
    for addr in server.addrs() {
        // Scripts and tests wait for this line (and learn the port of `:0`).
        println!("herd-server listening on {scheme}://{addr}");
    }
    tracing::info!(listen = %settings.listen, db = ?DbLabel(&settings), "herd-server started");
    // systemd's Type=notify: ready once it listens (nothing without
    // NOTIFY_SOCKET).
    if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
        tracing::warn!(error = %e, "could not tell systemd the server is ready");
    }
    let server = server.run();
    actix_web::rt::spawn(stop_on_signal(server.handle(), feed));
    server.await?;
    if settings.staged_stop_on_shutdown && settings.has_role("provisioner") {
        stop_the_fleet(&shutdown_state).await;
    }
    shutdown.store(true, Ordering::SeqCst);
    // A saga step or command in flight finishes and is recorded before we exit.
    let _ = web::block(move || driver.join()).await;
    tracing::info!("herd-server stopped");
    Ok(())
}

/// SIGHUP: the certificate files are read again (a renewal); a pair that
/// does not load leaves the one in use.
async fn reload_on_sighup(cert: Arc<crate::tls::ReloadableCert>) {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::error!("cannot listen for SIGHUP; restart the server to renew its certificate");
        return;
    };
    while hup.recv().await.is_some() {
        match cert.reload() {
            Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
            Err(e) => tracing::error!(error = %e, "SIGHUP: the certificate in use stays"),
        }
    }
}

/// SIGTERM or SIGINT (Ctrl-C): end the event streams, then stop taking
/// requests and let those in flight finish.
async fn stop_on_signal(server: actix_web::dev::ServerHandle, feed: Arc<EventFeed>) {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM and SIGINT; stop the server with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("signal received: stopping");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    feed.close();
    server.stop(true).await;
}

/// The staged stop of `HERD_STAGED_STOP_ON_SHUTDOWN`: queued once requests
/// are done, driven by the worker still running, awaited to its end. A kill
/// meanwhile leaves the job to resume at the next start (or to be
/// superseded by a staged start there).
async fn stop_the_fleet(state: &web::Data<AppState>) {
    let job = match routes::operations::queue(state, None, JobKind::StagedStop, Default::default())
        .await
    {
        Ok(job) => job,
        Err(e) => {
            tracing::error!(error = %e, "staged stop at shutdown could not be queued");
            return;
        }
    };
    tracing::info!(
        job = job.id,
        guests = job.progress.total,
        "staged stop at shutdown"
    );
    let mut reported = None;
    loop {
        let id = job.id;
        let seen = state.db(move |c| Ok(jobs::find(c, id)?)).await;
        match seen {
            Ok(Some(j)) if j.finished_at.is_some() => {
                tracing::info!(job = id, status = %j.status, "staged stop at shutdown ended");
                return;
            }
            Ok(Some(j)) => {
                if reported != Some(j.progress_done) {
                    tracing::info!(
                        job = id,
                        done = j.progress_done,
                        total = j.progress_total,
                        "staged stop at shutdown"
                    );
                    reported = Some(j.progress_done);
                }
            }
            Ok(None) => return,
            Err(e) => tracing::warn!(error = %e, "staged stop at shutdown: reading the job"),
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `herd-server dispatcher`: only the privileged dispatcher, for a web side
/// that runs with `HERD_ROLES=api`. Woken by PostgreSQL `NOTIFY`; on SQLite
/// it looks for commands every quarter second. Stops at SIGTERM or SIGINT
/// once the command in hand is done.
pub async fn run_dispatcher(settings: Settings) -> Result<(), StartError> {
    let settings = Arc::new(settings);
    let clock = clock(&settings);
    let store = open_store_off_thread(&settings).await?;
    let backend = open_backend(&settings, &clock, &store).await?;
    let wake = Arc::new(Wake::default());
    let shutdown = Arc::new(AtomicBool::new(false));
    let _checkpointer = checkpointer(&store)?;
    let dispatcher = Dispatcher::new(dispatcher_store(&store)?, backend, clock.clone())
        .map_err(|e| StartError::Setup(e.to_string()))?;
    let board = Arc::new(TaskBoard::new(process_label("dispatcher"), clock));
    let tasks = Arc::new(dispatcher).tasks(&wake, DISPATCHER_IDLE_WAIT);
    let driver = start_tasks(&store, &board, tasks, &shutdown)?;
    listen(
        &settings,
        notify::Channel::CommandsWaiting,
        shutdown.clone(),
        move |_| wake.notify(),
    )?;
    println!("herd-server dispatcher running");
    wait_for_stop_signal().await?;
    shutdown.store(true, Ordering::SeqCst);
    let _ = web::block(move || driver.join()).await;
    Ok(())
}

/// How often the dispatcher looks for commands when nothing woke it.
const DISPATCHER_IDLE_WAIT: Duration = Duration::from_millis(250);

/// Starts the background tasks, each on its own, with their status
/// published on a connection of its own.
fn start_tasks(
    store: &Store,
    board: &Arc<TaskBoard>,
    tasks: Vec<Task>,
    shutdown: &Arc<AtomicBool>,
) -> Result<Driver, StartError> {
    let publishing = store.with_own_pool(1, Workload::General)?;
    Ok(Driver::start(
        board.clone(),
        tasks,
        Some(publishing),
        shutdown.clone(),
    )?)
}

/// The dispatcher's connections: its own, so that it never waits behind
/// web requests, for clicks (see [`Workload::Clicks`]).
fn dispatcher_store(store: &Store) -> Result<Store, StartError> {
    Ok(store.with_own_pool(Dispatcher::CONNECTIONS, Workload::Clicks)?)
}

/// On SQLite, the thread that copies the write-ahead log back into the
/// database, which the clicks' connections leave to it (see
/// [`Workload::Clicks`]); it lives as long as what it returns.
fn checkpointer(store: &Store) -> Result<Option<Checkpointer>, StartError> {
    Ok(Checkpointer::spawn(
        store.with_own_pool(1, Workload::General)?,
        Duration::from_secs(1),
    )?)
}

/// On PostgreSQL, calls `then` on a thread of its own with the payloads
/// of the notifications on `channel` that arrived together (or with
/// [`notify::LOOK`] when some may have been lost), until shutdown;
/// nothing on SQLite.
fn listen(
    settings: &Settings,
    channel: notify::Channel,
    shutdown: Arc<AtomicBool>,
    then: impl Fn(&[String]) + Send + 'static,
) -> Result<(), StartError> {
    let Some(mut listening) = notify::Listening::open(&settings.database_url(), channel)? else {
        return Ok(());
    };
    std::thread::Builder::new()
        .name("herd-listen".into())
        .spawn(move || {
            // Woken by a notification at once; by the timeout only to
            // see whether the server is stopping.
            while !shutdown.load(Ordering::SeqCst) {
                let payloads = listening.wait(Duration::from_millis(250));
                if !payloads.is_empty() {
                    then(&payloads);
                }
            }
        })?;
    Ok(())
}

async fn wait_for_stop_signal() -> std::io::Result<()> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    futures_util::future::select(Box::pin(term.recv()), Box::pin(int.recv())).await;
    Ok(())
}

/// `herd-server reconcile`: reports every difference between the database
/// and the hypervisor and repairs what is safe to repair.
pub fn reconcile_once(settings: &Settings) -> Result<Vec<reconcile::Difference>, StartError> {
    let store = open_store(settings)?;
    let clock = clock(settings);
    let sim = SimBackend::open(&settings.data_dir, clock.clone(), SimSettings::default())
        .map_err(|e| StartError::Setup(format!("simulated hypervisor: {e}")))?;
    reconcile::run(&mut *store.conn()?, &sim, clock.now_ms())
        .map_err(|e| StartError::Setup(e.to_string()))
}

/// The simulated hypervisor under `<data dir>`, holding the images and
/// LANs the database names (and nothing the database does not know).
async fn open_backend(
    settings: &Arc<Settings>,
    clock: &SharedClock,
    store: &Store,
) -> Result<Arc<dyn Backend>, StartError> {
    let (settings, clock, store) = (settings.clone(), clock.clone(), store.clone());
    web::block(move || -> Result<Arc<dyn Backend>, StartError> {
        let sim = SimBackend::open(&settings.data_dir, clock.clone(), SimSettings::default())
            .map_err(|e| StartError::Setup(format!("simulated hypervisor: {e}")))?;
        let mut conn = store.conn()?;
        bootstrap::prepare(&mut conn, &sim, &settings.data_dir)
            .map_err(|e| StartError::Setup(format!("preparing the hypervisor: {e}")))?;
        for d in reconcile::run(&mut conn, &sim, clock.now_ms())
            .map_err(|e| StartError::Setup(format!("reconciling: {e}")))?
        {
            tracing::warn!(difference = %d, "reconciled");
        }
        Ok(Arc::new(sim))
    })
    .await
    .map_err(|e| StartError::Setup(e.to_string()))?
}

fn pool_config(settings: &Settings) -> Result<(PoolShape, PoolSettings), StartError> {
    let copy_method = match settings.pool_copy_method.as_str() {
        "flashcopy" => CopyMethod::FlashCopy,
        "ddr" => CopyMethod::Ddr,
        other => {
            return Err(StartError::Setup(format!(
                "HERD_POOL_COPY_METHOD `{other}`: use flashcopy or ddr"
            )))
        }
    };
    let shape = PoolShape {
        lan: None,
        image: settings.image_name.clone(),
        name_prefix: settings.guest_name_prefix.clone(),
        hostname_template: format!("{{name}}.{}", settings.guest_domain),
        memory_mb: settings.guest_memory_mb.clamp(1, i32::MAX as u32) as i32,
    };
    Ok((
        shape,
        PoolSettings {
            target_size: settings.pool_target_size,
            copy_method,
        },
    ))
}

struct DbLabel<'a>(&'a Settings);

impl std::fmt::Debug for DbLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never log a password inside a database URL.
        match herd_core::store::DbKind::of_url(&self.0.database_url()) {
            herd_core::store::DbKind::Postgres => f.write_str("postgres"),
            herd_core::store::DbKind::Sqlite => write!(f, "sqlite:{}", self.0.database_url()),
        }
    }
}

const DOCS_LANDING: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>herd API docs (Swagger UI)</title><meta http-equiv=\"refresh\" content=\"0; url=/docs/\"></head>\
<body><p><a href=\"/docs/\">herd API docs (Swagger UI)</a></p></body></html>";

/// Routes, extractor error handlers, the offline docs and the fallback.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(max_body_bytes)
            .error_handler(|e, _| extract::json_error(e).into()),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| extract::query_error(e).into()))
    .app_data(web::PathConfig::default().error_handler(|e, _| extract::path_error(e).into()))
    .configure(routes::configure)
    .configure(crate::web_page::configure)
    .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", document()))
    .route(
        "/docs",
        // A page, not a redirect, so that the document can describe it
        // with a 200; browsers move on at once.
        web::get().to(|| async {
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(DOCS_LANDING)
        }),
    )
    .default_service(web::to(fallback));
}

/// Unknown path: 404; known path, other method: 405 with `Allow`.
async fn fallback(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(match allowed_methods(req.path()) {
        Some(methods) if !methods.is_empty() => ApiError::MethodNotAllowed {
            detail: format!(
                "{} is not offered on {}; use {}",
                req.method(),
                req.path(),
                methods.join(", ")
            ),
            allow: methods.join(", "),
        },
        _ => ApiError::NotFound(format!(
            "no such endpoint: {} {}; see /openapi.json",
            req.method(),
            req.path()
        )),
    })
}
