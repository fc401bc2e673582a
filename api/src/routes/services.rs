//! A guest's services (`/api/v1/guests/{name}/services…`), power, and the
//! commands they become (`/api/v1/commands/{id}`). The web side only
//! records commands in the fixed language; the dispatcher acts (SPEC §3).

use std::time::{Duration, Instant};

use actix_web::{get, patch, post, web, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::domain::{CommandStatus, ServiceAction, ServiceName, ServiceState};
use herd_core::store::commands::{self, CommandRow};
use herd_provisioner::dispatcher::CommandOp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Page, PageQuery};
use crate::auth::{Bearer, Caller};
use crate::finishes::{Heard, Waiting};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::recorder;
use crate::rules;
use crate::rules::services::Service;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct GuestService {
    #[schema(example = "apache")]
    pub name: String,
    pub priority: i32,
    /// Started at boot.
    pub enabled: bool,
    /// As last observed.
    pub state: ServiceState,
}

fn service_view(s: Service) -> GuestService {
    GuestService {
        name: s.name,
        priority: s.priority,
        enabled: s.enabled,
        state: s.state,
    }
}

/// A guest's services
///
/// The catalog's services on this guest, by priority, with boot-time enablement
/// and last observed state. The owner, staff or an admin.
#[utoipa::path(get, path = "/api/v1/guests/{name}/services", tag = "services", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), PageQuery),
    responses(
        (status = 200, description = "Services by priority", body = Page<GuestService>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/guests/{name}/services")]
pub async fn list_services(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let rows = state
        .db(move |c| rules::services::list(c, &caller, &name))
        .await?;
    let items = rows.into_iter().map(service_view).collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    /// Start at boot.
    pub enabled: bool,
}

fn parse_service(name: &str) -> ApiResult<ServiceName> {
    name.parse()
        .map_err(|_| ApiError::NotFound(format!("no service named {name}")))
}

/// Enable or disable a service at boot
///
/// Takes effect at the guest's next IPL. The owner or an admin.
#[utoipa::path(patch, path = "/api/v1/guests/{name}/services/{service}", tag = "services", request_body = ServicePatch, security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), ("service" = String, Path, description = "Catalog service")),
    responses(
        (status = 200, description = "The service", body = GuestService),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not change other users' guests", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest or service", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/api/v1/guests/{name}/services/{service}")]
pub async fn patch_service(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: web::Json<ServicePatch>,
) -> ApiResult<HttpResponse> {
    let (name, service) = path.into_inner();
    let service = parse_service(&service)?;
    let (enabled, now) = (body.enabled, state.now_ms());
    let service = state
        .db(move |c| rules::services::set_enabled(c, &caller, &name, &service, enabled, now))
        .await?;
    Ok(HttpResponse::Ok().json(service_view(service)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceActionRequest {
    pub action: ServiceAction,
}

#[derive(Serialize, ToSchema)]
pub struct CommandView {
    pub command_id: i64,
    /// The command as recorded, e.g. `LX000042 SERVICE apache RESTART`.
    pub text: String,
    pub status: CommandStatus,
    pub result: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub dispatched_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
}

fn command_view(r: CommandRow) -> CommandView {
    CommandView {
        command_id: r.id,
        text: r.text,
        status: r.status,
        result: r.result,
        created_at: rfc3339(r.created_at),
        dispatched_at: r.dispatched_at.map(rfc3339),
        finished_at: r.finished_at.map(rfc3339),
    }
}

/// Records the commands `click` asks for and answers the last one.
///
/// With a `wait`, answers once the (last) command has finished or the
/// wait has run out: a click then costs one request instead of two. The
/// token, guest and service are looked up with the other clicks waiting
/// at the moment (see [`recorder`]).
async fn submit(
    state: &AppState,
    click: recorder::Click,
    wait: Duration,
) -> ApiResult<CommandView> {
    let deadline = Instant::now() + wait;
    // All or none: a power restart's HALT and IPL, each audited.
    let row = state
        .recorder
        .record(click)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal("no command to record".into()))?;
    let row = until_finished(state, row, deadline).await?;
    Ok(command_view(row))
}

/// The command once it has finished, or as it is at `deadline`. Woken by
/// its own command's end; looks at the database only when told to (by
/// another process, or after abandoned commands were failed) or every
/// [`RECHECK`] in case a word was lost.
async fn until_finished(
    state: &AppState,
    mut row: CommandRow,
    deadline: Instant,
) -> ApiResult<CommandRow> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if row.finished_at.is_some() || left.is_zero() {
            return Ok(row);
        }
        let id = row.id;
        match state.finishes.wait_for(id) {
            Waiting::Finished(Some(done)) => return Ok(done),
            Waiting::Finished(None) => {}
            Waiting::Until(heard) => {
                if let Ok(Ok(Heard::Done(done))) =
                    actix_web::rt::time::timeout(left.min(RECHECK), heard).await
                {
                    return Ok(done);
                }
            }
        }
        row = state
            .db(move |c| Ok(commands::find(c, id)?))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no command {id}")))?;
    }
}

/// Start, stop or restart a service now, through the command channel.
///
/// A guest that is still booting gets the command once it has booted (for
/// up to a minute); one that is logged off or does not answer fails it.
#[utoipa::path(post, path = "/api/v1/guests/{name}/services/{service}/actions", tag = "services", request_body = ServiceActionRequest, security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), ("service" = String, Path, description = "Catalog service"), CommandWait),
    responses(
        (status = 202, description = "Command queued (with `wait`: finished, unless `status` is still `queued` or `dispatched` because the wait ran out); follow it at /api/v1/commands/{id}", body = CommandView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest or service", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Action is not start, stop or restart, or `wait` is not a number of seconds from 0 to 30", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/guests/{name}/services/{service}/actions")]
pub async fn service_action(
    state: web::Data<AppState>,
    bearer: Bearer,
    path: web::Path<(String, String)>,
    query: web::Query<CommandWait>,
    body: web::Json<ServiceActionRequest>,
) -> ApiResult<HttpResponse> {
    let wait = query.duration()?;
    let (name, service) = path.into_inner();
    let action = body.action;
    let service = parse_service(&service)?;
    let click = recorder::Click {
        bearer,
        guest: name,
        service: Some(service.clone()),
        ops: vec![CommandOp::Service {
            name: service,
            action,
        }],
    };
    let view = submit(&state, click, wait).await?;
    Ok(HttpResponse::Accepted().json(view))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerRequest {
    pub action: PowerAction,
}

/// `start` (IPL), `stop` (graceful HALT), `restart` (HALT, then IPL),
/// `force_off` (FORCE).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    Start,
    Stop,
    Restart,
    ForceOff,
}

impl PowerAction {
    /// The commands the action becomes, in order.
    fn ops(self) -> Vec<CommandOp> {
        match self {
            Self::Start => vec![CommandOp::Ipl],
            Self::Stop => vec![CommandOp::Halt],
            Self::Restart => vec![CommandOp::Halt, CommandOp::Ipl],
            Self::ForceOff => vec![CommandOp::Force],
        }
    }
}

/// Power a guest on or off
///
/// Through the command channel: `start` (IPL), `stop` (graceful HALT),
/// `restart` (HALT, then IPL), `force_off` (FORCE). The owner, staff or an
/// admin.
#[utoipa::path(post, path = "/api/v1/guests/{name}/power", tag = "guests", request_body = PowerRequest, security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), CommandWait),
    responses(
        (status = 202, description = "Command queued (for restart: the IPL that follows the HALT; with `wait`: finished, unless `status` is still `queued` or `dispatched` because the wait ran out)", body = CommandView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown action, or `wait` is not a number of seconds from 0 to 30", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/guests/{name}/power")]
pub async fn power(
    state: web::Data<AppState>,
    bearer: Bearer,
    name: web::Path<String>,
    query: web::Query<CommandWait>,
    body: web::Json<PowerRequest>,
) -> ApiResult<HttpResponse> {
    let wait = query.duration()?;
    let ops = body.action.ops();
    let click = recorder::Click {
        bearer,
        guest: name.into_inner(),
        service: None,
        ops,
    };
    let view = submit(&state, click, wait).await?;
    Ok(HttpResponse::Accepted().json(view))
}

/// Longest `wait` a request may ask for.
const MAX_WAIT_SECONDS: u32 = 30;
/// Without a notification (a dispatcher in another process on SQLite), a
/// waiting request still looks again this often.
const RECHECK: Duration = Duration::from_millis(100);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommandWait {
    /// Seconds (0–30) to hold the request until the command has finished,
    /// instead of polling; answers as soon as it has. Default 0.
    // Read as text: serde's own error would not name the parameter.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 30, default = 0)]
    pub wait: Option<String>,
}

impl CommandWait {
    fn duration(&self) -> ApiResult<Duration> {
        let Some(text) = &self.wait else {
            return Ok(Duration::ZERO);
        };
        text.parse::<u32>()
            .ok()
            .filter(|s| *s <= MAX_WAIT_SECONDS)
            .map(|s| Duration::from_secs(s.into()))
            .ok_or_else(|| {
                ApiError::Unprocessable(format!(
                    "wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS}, not `{text}`"
                ))
            })
    }
}

/// A command's status and result
///
/// The requester or an admin may follow a command. With `wait`, the answer
/// comes once the command has finished, or when the wait runs out.
#[utoipa::path(get, path = "/api/v1/commands/{id}", tag = "services", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Command id"), CommandWait),
    responses(
        (status = 200, description = "The command (still `queued` or `dispatched` if `wait` ran out)", body = CommandView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such command (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`wait` is not a number of seconds from 0 to 30", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/commands/{id}")]
pub async fn get_command(
    state: web::Data<AppState>,
    bearer: Bearer,
    id: web::Path<i64>,
    query: web::Query<CommandWait>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let deadline = Instant::now() + query.duration()?;
    let now = state.now_ms();
    let row = state
        .db(move |c| {
            let caller = bearer.resolve(c, now)?;
            rules::services::command(c, &caller, id)
        })
        .await?;
    let row = until_finished(&state, row, deadline).await?;
    Ok(HttpResponse::Ok().json(command_view(row)))
}
