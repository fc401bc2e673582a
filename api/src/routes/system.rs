//! Liveness, readiness and metrics: what load balancers and Prometheus ask.

use actix_web::{get, web, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::domain::Role;
use herd_core::store::tasks::{self, TaskReport};
use serde::Serialize;
use utoipa::ToSchema;

use herd_provisioner::pool::{self, PoolSettings};

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::metrics::PoolGauges;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: String,
    /// Background tasks (of any process) whose latest run failed; they do
    /// not make the server unready.
    pub failing_tasks: Vec<FailingTask>,
}

#[derive(Serialize, ToSchema)]
pub struct FailingTask {
    pub process: String,
    pub name: String,
    pub last_error: Option<String>,
}

/// One background task of one process, as last reported by that process
/// (about every second while it runs).
#[derive(Serialize, ToSchema)]
pub struct TaskView {
    /// The process: host, process id and what it runs.
    #[schema(example = "herd1/4711/server")]
    pub process: String,
    #[schema(example = "pool_keeper")]
    pub name: String,
    #[schema(format = DateTime)]
    pub last_started_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_succeeded_at: Option<String>,
    /// Why the last failed run failed (kept after later successes).
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub last_error_at: Option<String>,
    /// Activations so far, failed ones included.
    pub runs: i64,
    pub failures: i64,
    /// The latest activation failed.
    pub failing: bool,
    /// When the process last reported: long ago means it stopped.
    #[schema(format = DateTime)]
    pub reported_at: String,
}

impl From<TaskReport> for TaskView {
    fn from(r: TaskReport) -> Self {
        Self {
            process: r.process,
            name: r.name,
            last_started_at: r.last_started_at.map(rfc3339),
            last_succeeded_at: r.last_succeeded_at.map(rfc3339),
            last_error: r.last_error,
            last_error_at: r.last_error_at.map(rfc3339),
            runs: r.runs,
            failures: r.failures,
            failing: r.failing,
            reported_at: rfc3339(r.reported_at),
        }
    }
}

/// Background tasks
///
/// Every background task of every process: when it last started and succeeded,
/// its last error, runs and failures. Admins only.
#[utoipa::path(get, path = "/api/v1/system/tasks", tag = "system", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "Each task of each process, by process and name", body = Page<TaskView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/system/tasks")]
pub async fn system_tasks(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    // The list is short and ordered by process and name.
    let reports = state.db(|c| Ok(tasks::list(c)?)).await?;
    let items = reports.into_iter().map(TaskView::from).collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &query)?))
}

/// Liveness
///
/// The process answers. Anyone; no database access.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses(
        (status = 200, description = "Alive", body = Health),
        (status = 400, description = "Not a readable HTTP request (the HTTP layer answers with an empty body)"),
    ))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness
///
/// The database answers. The body also lists the background tasks whose latest
/// run failed, which do not change the status code. Anyone.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 400, description = "Not a readable HTTP request (the HTTP layer answers with an empty body)"),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let store = state.store.clone();
    let reports = web::block(move || {
        store.ping()?;
        tasks::list(&mut *store.conn()?)
    })
    .await?
    .map_err(|e| ApiError::Unavailable(format!("database not reachable: {e}")))?;
    let failing_tasks = reports
        .into_iter()
        .filter(|r| r.failing)
        .map(|r| FailingTask {
            process: r.process,
            name: r.name,
            last_error: r.last_error,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready".into(),
        failing_tasks,
    }))
}

/// Prometheus metrics
///
/// In the text exposition format. Anyone.
#[utoipa::path(get, path = "/metrics", tag = "system", security(()),
    responses(
        (status = 200, description = "Metrics", body = String, content_type = "text/plain"),
        (status = 400, description = "Not a readable HTTP request (the HTTP layer answers with an empty body)"),
    ))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let defaults = state.pool_defaults;
    // A database that does not answer leaves the pool gauges as they were:
    // metrics must still be served.
    let pool = state
        .db(move |c| {
            let settings = PoolSettings::load(c, defaults)?;
            let status = pool::status(c)?;
            Ok(PoolGauges {
                target: settings.target_size,
                available: status.available,
                provisioning: status.provisioning,
            })
        })
        .await
        .ok();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.store, pool, &state.tasks))
}
