//! `/api/v1/provisioning/…`: batches for whole courses and end-of-term
//! reclaims (staff and admin).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use herd_core::clock::{rfc3339, Millis};
use herd_core::domain::{ItemStatus, JobStatus, Role};
use herd_core::store::batches::{self, Batch};
use herd_core::store::users::{self, DirectoryUser};
use herd_core::store::{jobs, AnyConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{created_job, JobView, Progress};
use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::idempotency::{self, Answer, KeyHeader, Keyed};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::rules;
use crate::state::AppState;

/// More than this per user is a typo, not a course.
const MAX_PER_USER: u32 = 50;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// User ids to provision for.
    pub users: Option<Vec<String>>,
    /// A directory group whose members to provision for (`cn`).
    pub ldap_group: Option<String>,
    /// Each user ends with at least this many guests; users who already
    /// have as many get nothing.
    #[schema(minimum = 1, maximum = 50)]
    pub guests_per_user: u32,
    /// Image to clone; default: the configured one.
    pub image: Option<String>,
    /// RFC 3339; default: assignment + the configured lifetime.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Plan and check capacity only; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BatchItemView {
    pub username: String,
    pub status: ItemStatus,
    pub guests: Vec<String>,
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema, Default)]
pub struct BatchTotals {
    pub users: u32,
    pub pending: u32,
    pub skipped: u32,
    pub assigned: u32,
    pub cloned: u32,
    pub failed: u32,
    pub cancelled: u32,
    /// Guests handed out by this batch.
    pub guests: u32,
}

#[derive(Serialize, ToSchema)]
pub struct BatchView {
    pub id: i64,
    pub job_id: i64,
    /// The batch job's status: `succeeded` once every item ended skipped,
    /// assigned or cloned.
    pub status: JobStatus,
    pub guests_per_user: u32,
    pub ldap_group: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub progress: Progress,
    pub totals: BatchTotals,
    pub items: Vec<BatchItemView>,
}

fn batch_view(c: &mut AnyConnection, b: Batch) -> ApiResult<BatchView> {
    let job = jobs::find(c, b.job_id)?
        .ok_or_else(|| ApiError::Internal(format!("batch {} has no job", b.id)))?;
    let rows = batches::items(c, b.id)?;
    let mut totals = BatchTotals {
        users: rows.len() as u32,
        ..Default::default()
    };
    for i in &rows {
        totals.guests += i.guests().len() as u32;
        *match i.status {
            ItemStatus::Pending => &mut totals.pending,
            ItemStatus::Skipped => &mut totals.skipped,
            ItemStatus::Assigned => &mut totals.assigned,
            ItemStatus::Cloned => &mut totals.cloned,
            ItemStatus::Failed => &mut totals.failed,
            ItemStatus::Cancelled => &mut totals.cancelled,
        } += 1;
    }
    let items: Vec<BatchItemView> = rows
        .into_iter()
        .map(|i| BatchItemView {
            guests: i.guests(),
            username: i.username,
            status: i.status,
            error: i.error,
        })
        .collect();
    Ok(BatchView {
        id: b.id,
        job_id: b.job_id,
        status: job.status,
        guests_per_user: b.guests_per_user.max(0) as u32,
        ldap_group: b.ldap_group,
        created_at: rfc3339(b.created_at),
        progress: Progress {
            done: totals.users - totals.pending,
            total: totals.users,
        },
        totals,
        items,
    })
}

#[derive(Serialize, ToSchema)]
pub struct PlanItem {
    pub username: String,
    /// Guests the user holds now.
    pub has: u32,
    /// Guests the batch would give them.
    pub needs: u32,
    /// False for a user herd and the directory do not know.
    pub known: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Capacity {
    pub guests_needed: u32,
    pub from_pool: u32,
    pub to_clone: u32,
    pub pool_available: u32,
    pub addresses_free: u32,
    pub disk_free_bytes: u64,
    /// Disk the clones need (DDR copies the whole image; FlashCopy almost nothing).
    pub disk_needed_bytes: u64,
    /// Whether the batch fits in addresses and disk.
    pub fits: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BatchPlan {
    pub dry_run: bool,
    pub users: Vec<PlanItem>,
    pub skipped: u32,
    pub capacity: Capacity,
}

/// Who a request names: its users plus the group's members, each known to
/// herd (created from the directory on first sight) or reported unknown.
async fn resolve_users(
    state: &AppState,
    names: Option<Vec<String>>,
    group: Option<String>,
) -> ApiResult<Vec<(String, Option<i64>)>> {
    let mut wanted: Vec<String> = names.unwrap_or_default();
    if let Some(group) = &group {
        let directory = state.auth.directory().ok_or_else(|| {
            ApiError::Unprocessable(
                "ldap_group needs a configured directory (HERD_LDAP_URL)".into(),
            )
        })?;
        let members = directory
            .group_members(group)
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?
            .ok_or_else(|| ApiError::NotFound(format!("no directory group named {group}")))?;
        wanted.extend(members);
    }
    wanted.sort();
    wanted.dedup();
    if wanted.iter().any(|u| u.is_empty() || u.len() > 256) {
        return Err(ApiError::Unprocessable(
            "user names must be 1 to 256 characters".into(),
        ));
    }
    let mut resolved = Vec::with_capacity(wanted.len());
    for name in wanted {
        let lookup = name.clone();
        let known = state
            .db(move |c| Ok(users::find_by_username(c, &lookup)?))
            .await?;
        let id = match (known, state.auth.directory()) {
            (Some(u), _) => Some(u.id),
            (None, Some(directory)) => match directory
                .lookup(&name)
                .await
                .map_err(|e| ApiError::Unavailable(e.to_string()))?
            {
                Some(found) => Some(remember(state, found).await?),
                None => None,
            },
            (None, None) => None,
        };
        resolved.push((name, id));
    }
    Ok(resolved)
}

async fn remember(state: &AppState, found: DirectoryUser) -> ApiResult<i64> {
    let now = state.now_ms();
    Ok(state
        .db(move |c| Ok(users::upsert_directory(c, &found, now)?))
        .await?
        .id)
}

fn parse_expiry(s: Option<&str>, now: Millis) -> ApiResult<Option<Millis>> {
    let Some(s) = s else { return Ok(None) };
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::Unprocessable(format!("expires_at `{s}` is not RFC 3339: {e}")))?;
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as Millis;
    if ms <= now {
        return Err(ApiError::Unprocessable(
            "expires_at must be in the future".into(),
        ));
    }
    Ok(Some(ms))
}

/// Provision a course
///
/// Makes sure every listed user (or member of the directory group) has at least
/// `guests_per_user` guests: pooled guests first, then clones in parallel.
/// `dry_run` answers the plan and a capacity check and changes nothing. Staff
/// and admins. Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/provisioning/batches", tag = "provisioning", request_body = BatchRequest, security(("bearer" = [])),
    params(KeyHeader),
    responses(
        (status = 200, description = "Dry run: the plan and a capacity check; nothing changed", body = BatchPlan),
        (status = 202, description = "Batch started", body = BatchView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group or image", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The directory is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/provisioning/batches")]
pub async fn create_batch(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<BatchRequest>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let body = body.into_inner();
    let keyed = Keyed::of(&req, &caller, &body, state.now_ms())?;
    if body.users.is_none() && body.ldap_group.is_none() {
        return Err(ApiError::Unprocessable(
            "name the users (`users`) or a directory group (`ldap_group`)".into(),
        ));
    }
    if !(1..=MAX_PER_USER).contains(&body.guests_per_user) {
        return Err(ApiError::Unprocessable(format!(
            "guests_per_user must be between 1 and {MAX_PER_USER}"
        )));
    }
    let now = state.now_ms();
    let expires_at = parse_expiry(body.expires_at.as_deref(), now)?;
    let image_name = body
        .image
        .clone()
        .unwrap_or_else(|| state.pool_shape.image.clone());
    let users = resolve_users(&state, body.users, body.ldap_group.clone()).await?;
    let (shape, defaults) = (state.pool_shape.clone(), state.pool_defaults);
    let per_user = body.guests_per_user;
    if body.dry_run {
        let plan = state
            .db(move |c| {
                rules::batches::plan(
                    c,
                    &users,
                    per_user,
                    &image_name,
                    shape.lan.as_deref(),
                    defaults,
                )
            })
            .await?;
        // Nothing changed, so there is nothing to keep under a key.
        return Ok(HttpResponse::Ok().json(BatchPlan::from(plan)));
    }
    let order = rules::batches::Order {
        users,
        ldap_group: body.ldap_group,
        per_user,
        image: image_name,
        expires_at,
    };
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let batch = rules::batches::create(c, &caller, &order, now)?;
                Answer::new(StatusCode::ACCEPTED, &batch_view(c, batch)?)
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}

impl From<rules::batches::Plan> for BatchPlan {
    fn from(p: rules::batches::Plan) -> Self {
        let c = p.capacity;
        Self {
            dry_run: true,
            skipped: p.skipped,
            capacity: Capacity {
                guests_needed: c.guests_needed,
                from_pool: c.from_pool,
                to_clone: c.to_clone,
                pool_available: c.pool_available,
                addresses_free: c.addresses_free,
                disk_free_bytes: c.disk_free_bytes,
                disk_needed_bytes: c.disk_needed_bytes,
                fits: c.fits(),
            },
            users: p
                .users
                .into_iter()
                .map(|u| PlanItem {
                    username: u.username,
                    has: u.has,
                    needs: u.needs,
                    known: u.known,
                })
                .collect(),
        }
    }
}

/// List batches
///
/// Newest first, with items and totals. Staff and admins.
#[utoipa::path(get, path = "/api/v1/provisioning/batches", tag = "provisioning", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of batches", body = Page<BatchView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/provisioning/batches")]
pub async fn list_batches(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let limit = query.limit()?;
    let before = query.id_cursor()?;
    let page = state
        .db(move |c| {
            let (rows, more) = batches::list(c, before, limit)?;
            let next_cursor = more
                .then(|| rows.last().map(|b| b.id.to_string()))
                .flatten();
            let items = rows
                .into_iter()
                .map(|b| batch_view(c, b))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One batch
///
/// Its status, per-user items and totals. Staff and admins.
#[utoipa::path(get, path = "/api/v1/provisioning/batches/{id}", tag = "provisioning", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch", body = BatchView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/provisioning/batches/{id}")]
pub async fn get_batch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let id = id.into_inner();
    Ok(HttpResponse::Ok().json(
        state
            .db(move |c| {
                let b = rules::batches::load(c, id)?;
                batch_view(c, b)
            })
            .await?,
    ))
}

/// Cancel a batch
///
/// Stops the batch's pending items; finished ones stay. Staff and admins.
#[utoipa::path(post, path = "/api/v1/provisioning/batches/{id}/cancel", tag = "provisioning", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch after cancelling", body = BatchView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/provisioning/batches/{id}/cancel")]
pub async fn cancel_batch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let (id, now) = (id.into_inner(), state.now_ms());
    let view = state
        .db(move |c| {
            let batch = rules::batches::cancel(c, &caller, id, now)?;
            batch_view(c, batch)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Ok().json(view))
}

/// Retry a batch
///
/// Runs the batch's failed items again. Staff and admins.
#[utoipa::path(post, path = "/api/v1/provisioning/batches/{id}/retry", tag = "provisioning", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 202, description = "Failed items queued again", body = BatchView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such batch", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing failed", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/provisioning/batches/{id}/retry")]
pub async fn retry_batch(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let (id, now) = (id.into_inner(), state.now_ms());
    let view = state
        .db(move |c| {
            let batch = rules::batches::retry(c, &caller, id, now)?;
            batch_view(c, batch)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Accepted().json(view))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReclaimRequest {
    pub users: Option<Vec<String>>,
    pub ldap_group: Option<String>,
    /// List what would be decommissioned; change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ReclaimPlan {
    pub dry_run: bool,
    /// Guests that would be decommissioned.
    pub guests: Vec<String>,
}

/// End-of-term reclaim
///
/// Decommissions every guest of the listed users (or members of the group), as
/// a job; `dry_run` lists them and changes nothing. Staff and admins. Send an
/// `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/provisioning/reclaims", tag = "provisioning", request_body = ReclaimRequest, security(("bearer" = [])),
    params(KeyHeader),
    responses(
        (status = 200, description = "Dry run: the guests that would go", body = ReclaimPlan),
        (status = 202, description = "Decommissioning started", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The directory is unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/provisioning/reclaims")]
pub async fn reclaim(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<ReclaimRequest>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let body = body.into_inner();
    let keyed = Keyed::of(&req, &caller, &body, state.now_ms())?;
    if body.users.is_none() && body.ldap_group.is_none() {
        return Err(ApiError::Unprocessable(
            "name the users (`users`) or a directory group (`ldap_group`)".into(),
        ));
    }
    let users = resolve_users(&state, body.users, body.ldap_group.clone()).await?;
    let now = state.now_ms();
    let dry_run = body.dry_run;
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                match rules::batches::reclaim(c, &caller, &users, dry_run, now)? {
                    rules::batches::Reclaim::Planned(guests) => Answer::new(
                        StatusCode::OK,
                        &ReclaimPlan {
                            dry_run: true,
                            guests,
                        },
                    ),
                    rules::batches::Reclaim::Started(id) => {
                        Answer::new(StatusCode::ACCEPTED, &created_job(c, id)?)
                    }
                }
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}
