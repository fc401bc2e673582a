//! `GET /api/v1/jobs`, `GET /api/v1/jobs/{id}`: long work and its progress.

use actix_web::{get, post, web, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::domain::{JobKind, JobStatus, Role};
use herd_core::store::jobs::{self, Job};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Progress {
    pub done: u32,
    pub total: u32,
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    /// What the job works on, e.g. a guest name.
    pub target: Option<String>,
    pub progress: Progress,
    pub error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// What the job produced, by kind: a rollout's
    /// `{updated, rolled_back, pending}` (kept up to date while it runs), a
    /// root publication's `{version}`; `null` for the others.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
}

pub fn job_view(j: Job) -> JobView {
    JobView {
        id: j.id,
        kind: j.kind,
        status: j.status,
        target: j.target,
        progress: Progress {
            done: j.progress_done.max(0) as u32,
            total: j.progress_total.max(0) as u32,
        },
        error: j.error,
        created_at: rfc3339(j.created_at),
        started_at: j.started_at.map(rfc3339),
        finished_at: j.finished_at.map(rfc3339),
        result: j.result.and_then(|r| serde_json::from_str(&r).ok()),
    }
}

/// A job just created in this transaction, as the API shows it.
pub fn created_job(c: &mut herd_core::store::AnyConnection, id: i64) -> ApiResult<JobView> {
    let job = jobs::find(c, id)?.ok_or_else(|| ApiError::Internal(format!("job {id} vanished")))?;
    Ok(job_view(job))
}

/// List jobs
///
/// Newest first: your own, or everyone's for an admin.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of jobs", body = Page<JobView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/jobs")]
pub async fn list_jobs(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = query.limit()?;
    let before = query.id_cursor()?;
    let requested_by = (caller.user.role != Role::Admin).then_some(caller.user.id);
    let (rows, more) = state
        .db(move |c| Ok(jobs::list(c, requested_by, before, limit)?))
        .await?;
    let next_cursor = more
        .then(|| rows.last().map(|j| j.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(Page {
        items: rows.into_iter().map(job_view).collect(),
        next_cursor,
    }))
}

/// One job
///
/// Kind, status, progress and error of long-running work. The requester or an
/// admin.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/jobs/{id}")]
pub async fn get_job(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let job = state
        .db(move |c| crate::rules::jobs::visible(c, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(job_view(job)))
}

/// Cancel a job
///
/// For kinds that can stop halfway: a rollout starts no more restarts, lets the
/// ones under way finish and then ends `cancelled` (the guests it had not
/// restarted keep their current version); a staged operation or a pool refill
/// ends at once. The requester or an admin.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses(
        (status = 202, description = "Cancelling; the job as it is now", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Finished already, or a kind that cannot stop halfway", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/jobs/{id}/cancel")]
pub async fn cancel_job(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.now_ms();
    let job = state
        .db(move |c| crate::rules::jobs::cancel(c, &caller, id, now))
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Accepted().json(job_view(job)))
}
