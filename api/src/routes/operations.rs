//! `POST /api/v1/operations/staged-start|staged-stop` (admin): boot or stop
//! the fleet in batches.

use actix_web::{post, web, HttpResponse};
use herd_core::domain::{JobKind, Role};
use herd_provisioner::staged::Pace;
use serde::Deserialize;
use utoipa::ToSchema;

use super::jobs::{created_job, JobView};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::rules;
use crate::state::AppState;

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct StagedRequest {
    /// Guests per batch (default 15).
    #[schema(minimum = 1, maximum = 1000, default = 15)]
    pub batch_size: Option<u32>,
    /// Seconds between batches (default 30); `fixed` pace only.
    #[schema(minimum = 0, maximum = 3600, default = 30)]
    pub interval_seconds: Option<u32>,
    /// `fixed` (default): the schedule above. `adaptive`: the next batch
    /// goes as soon as the host's load leaves room, never more than
    /// `batch_size` in transition.
    pub pace: Option<Pace>,
}

pub const DEFAULT_BATCH: u32 = 15;
pub const DEFAULT_INTERVAL_SECONDS: u32 = 30;

/// Queues a staged operation over the guests it concerns now.
pub async fn queue(
    state: &AppState,
    caller: Option<&Caller>,
    kind: JobKind,
    req: StagedRequest,
) -> ApiResult<JobView> {
    let batch_size = req.batch_size.unwrap_or(DEFAULT_BATCH);
    let interval = req.interval_seconds.unwrap_or(DEFAULT_INTERVAL_SECONDS);
    if !(1..=1000).contains(&batch_size) || interval > 3600 {
        return Err(ApiError::Unprocessable(
            "batch_size must be 1–1000 and interval_seconds at most 3600".into(),
        ));
    }
    let now = state.now_ms();
    let who = caller.cloned();
    let pace = req.pace.unwrap_or_default();
    let job = state
        .db(move |c| {
            let staged = rules::operations::Staged {
                kind,
                batch_size,
                interval_ms: i64::from(interval) * 1000,
                pace,
            };
            let id = rules::operations::queue(c, who.as_ref(), &staged, now)?;
            created_job(c, id)
        })
        .await?;
    state.wake.notify();
    Ok(job)
}

async fn staged_operation(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
    kind: JobKind,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let req: StagedRequest = crate::extract::optional_json(&body)?;
    Ok(HttpResponse::Accepted().json(queue(&state, Some(&caller), kind, req).await?))
}

/// Staged start
///
/// Boots every stopped `auto_boot` guest in batches, on a fixed schedule or as
/// the host's load allows. Admins only.
#[utoipa::path(post, path = "/api/v1/operations/staged-start", tag = "operations", request_body(content = StagedRequest, description = "Optional"), security(("bearer" = [])),
    responses(
        (status = 202, description = "Staged start queued; progress in the job", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid batch size or interval", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/operations/staged-start")]
pub async fn staged_start(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    staged_operation(state, caller, body, JobKind::StagedStart).await
}

/// Staged stop
///
/// Stops every running guest in batches (graceful HALT). Admins only.
#[utoipa::path(post, path = "/api/v1/operations/staged-stop", tag = "operations", request_body(content = StagedRequest, description = "Optional"), security(("bearer" = [])),
    responses(
        (status = 202, description = "Staged stop queued; progress in the job", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid batch size or interval", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/operations/staged-stop")]
pub async fn staged_stop(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    staged_operation(state, caller, body, JobKind::StagedStop).await
}
