//! `/api/v1/images…` (SPEC §7): images with their root versions, publishing
//! and retiring versions, and rollouts.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::domain::RootState;
use herd_core::store::{catalog, roots};
use herd_provisioner::rollout;
use herd_provisioner::staged::Pace;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{created_job, JobView};
use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::idempotency::{self, Answer, KeyHeader, Keyed};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::rules;
use crate::state::AppState;

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Serialize, ToSchema)]
pub struct Image {
    #[schema(example = "golden")]
    pub name: String,
    pub description: String,
    /// The root's size (as `root_size_mb`), in bytes.
    pub size_bytes: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The root version new guests boot: 1 at first, then the version of
    /// the last rollout that succeeded.
    #[schema(minimum = 1, example = 1)]
    pub root_version: u32,
    /// The highest version published.
    #[schema(minimum = 1, example = 2)]
    pub latest_version: u32,
    /// One root version's size, shared by every guest that boots it.
    #[schema(example = 64.0)]
    pub root_size_mb: f64,
    /// What each guest copies for itself (its writable segment).
    #[schema(example = 2.0)]
    pub segment_size_mb: f64,
}

/// Golden images
///
/// The images guests are made from: their shared root (its versions, the
/// one new guests boot) and the segment each guest copies. Any user.
#[utoipa::path(get, path = "/api/v1/images", tag = "images", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "All images", body = Page<Image>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/images")]
pub async fn list_images(
    state: web::Data<AppState>,
    _caller: Caller,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let rows = state
        .db(|c| {
            let mut out = Vec::new();
            for image in catalog::images(c)? {
                let latest = roots::latest(c, image.id)?;
                out.push((image, latest));
            }
            Ok(out)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|(i, latest)| Image {
            name: i.name,
            description: i.description,
            size_bytes: i.size_bytes.max(0) as u64,
            created_at: rfc3339(i.created_at),
            root_version: i.root_version.max(1) as u32,
            latest_version: latest.max(1) as u32,
            root_size_mb: i.size_bytes.max(0) as f64 / MIB,
            segment_size_mb: i.segment_size_bytes.max(0) as f64 / MIB,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}

#[derive(Serialize, ToSchema)]
pub struct RootVersion {
    #[schema(minimum = 1, example = 2)]
    pub version: u32,
    #[schema(example = "openssl 3.0.15")]
    pub label: String,
    pub state: RootState,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// BLAKE3 of the root's bytes (hex); `null` until the provisioner has
    /// made the disk.
    pub checksum: Option<String>,
    /// Guests (not decommissioned) whose `root_version` or
    /// `target_root_version` it is.
    pub guests: u32,
}

/// Root versions of an image
///
/// Oldest first, with how many guests boot each or will at their next IPL.
/// Any user.
#[utoipa::path(get, path = "/api/v1/images/{name}/versions", tag = "images", security(("bearer" = [])),
    params(("name" = String, Path, description = "Image name"), PageQuery),
    responses(
        (status = 200, description = "The versions", body = Page<RootVersion>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such image", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/images/{name}/versions")]
pub async fn list_versions(
    state: web::Data<AppState>,
    _caller: Caller,
    name: web::Path<String>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let name = name.into_inner();
    let rows = state
        .db(move |c| {
            let image = rules::images::image(c, &name)?;
            let mut out = Vec::new();
            for v in roots::versions(c, image.id)? {
                let guests = roots::guests_using(c, image.id, v.version)?;
                out.push((v, guests));
            }
            Ok(out)
        })
        .await?;
    let items = rows
        .into_iter()
        .map(|(v, guests)| RootVersion {
            version: v.version.max(1) as u32,
            label: v.label,
            state: v.state,
            created_at: rfc3339(v.created_at),
            checksum: v.checksum,
            guests: guests.max(0) as u32,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// What the version brings, e.g. the patches in it.
    #[schema(min_length = 1, max_length = 200, example = "openssl 3.0.15")]
    pub label: String,
}

/// Publish a root version
///
/// Queues a `root_publish` job that makes version latest + 1 (on the simulator:
/// derived from the latest with the label written into it). Publishing changes
/// no guest. Admins only. Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/images/{name}/versions", tag = "images", security(("bearer" = [])),
    params(("name" = String, Path, description = "Image name"), KeyHeader),
    request_body = PublishRequest,
    responses(
        (status = 202, description = "Publication queued; its result names the version", body = JobView),
        (status = 400, description = "Body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such image", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A publication of this image is unfinished", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid label, or an `Idempotency-Key` used before for another request", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/images/{name}/versions")]
pub async fn publish_version(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<PublishRequest>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let keyed = Keyed::of(&req, &caller, &*body, now)?;
    let label = body.into_inner().label.trim().to_owned();
    if label.is_empty() || label.chars().count() > 200 || label.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(
            "label must be 1–200 characters, without control characters".into(),
        ));
    }
    let name = name.into_inner();
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let id = rules::images::publish(c, &caller, &name, &label, now)?;
                Answer::new(StatusCode::ACCEPTED, &created_job(c, id)?)
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}

/// Retire a root version
///
/// Frees its disk. Refused for the latest version and while any guest boots it
/// or will at its next IPL. Admins only.
#[utoipa::path(delete, path = "/api/v1/images/{name}/versions/{version}", tag = "images", security(("bearer" = [])),
    params(("name" = String, Path, description = "Image name"), ("version" = u32, Path, minimum = 1, description = "Root version")),
    responses(
        (status = 204, description = "Retired"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such image or version", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The latest version, or in use", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api/v1/images/{name}/versions/{version}")]
pub async fn retire_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, u32)>,
) -> ApiResult<HttpResponse> {
    let (name, version) = path.into_inner();
    let version = i32::try_from(version)
        .map_err(|_| ApiError::NotFound(format!("image `{name}` has no version {version}")))?;
    let now = state.now_ms();
    state
        .db(move |c| rules::images::retire(c, &caller, &name, version, now))
        .await?;
    state.wake.notify();
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRequest {
    /// The root version to bring the image's guests to.
    #[schema(minimum = 1, example = 2)]
    pub version: u32,
    /// Most guests restarting at once (default 15).
    #[schema(minimum = 1, maximum = 1000, default = 15)]
    pub batch_size: Option<u32>,
    /// Share of the guests running at the start that stays running and
    /// healthy (default 90); also sets the rollback budget.
    #[schema(minimum = 0, maximum = 100, default = 90)]
    pub min_healthy_percent: Option<u32>,
    /// How long a restarted guest has to run with every enabled service up
    /// (default 300).
    #[schema(minimum = 1, maximum = 86400, default = 300)]
    pub health_timeout_seconds: Option<u32>,
    /// `adaptive` (default): the next guests go as soon as the batch is
    /// healthy and the host's load allows. `fixed`: `interval_seconds`
    /// after each batch.
    pub pace: Option<Pace>,
    /// Seconds between batches (default 30); `fixed` pace only.
    #[schema(minimum = 0, maximum = 3600, default = 30)]
    pub interval_seconds: Option<u32>,
}

/// Start a rollout
///
/// Every guest of the image gets the version as its target at once; the running
/// ones are restarted in batches, checked for health and rolled back one by one
/// when they fail; the first batch is the canary. Progress and `result`
/// (`updated`, `rolled_back`, `pending`) in the job; cancel with `POST
/// /api/v1/jobs/{id}/cancel`. Admins only. Send an `Idempotency-Key` to make
/// retries safe.
#[utoipa::path(post, path = "/api/v1/images/{name}/rollouts", tag = "images", security(("bearer" = [])),
    params(("name" = String, Path, description = "Image name"), KeyHeader),
    request_body = RolloutRequest,
    responses(
        (status = 202, description = "Rollout started", body = JobView),
        (status = 400, description = "Body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such image", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another rollout of the image is unfinished", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown or retired version, a setting out of range, or an `Idempotency-Key` used before for another request", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/images/{name}/rollouts")]
pub async fn start_rollout(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<RolloutRequest>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let keyed = Keyed::of(&req, &caller, &*body, now)?;
    let ask = rollout_ask(body.into_inner())?;
    let name = name.into_inner();
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let id = rules::images::start_rollout(c, &caller, &name, &ask, now)?;
                Answer::new(StatusCode::ACCEPTED, &created_job(c, id)?)
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}

fn rollout_ask(r: RolloutRequest) -> ApiResult<rules::images::RolloutAsk> {
    let batch_size = r.batch_size.unwrap_or(15);
    let healthy = r.min_healthy_percent.unwrap_or(90);
    let timeout = r.health_timeout_seconds.unwrap_or(300);
    let interval = r.interval_seconds.unwrap_or(30);
    let checks = [
        (
            r.version >= 1 && r.version <= i32::MAX as u32,
            "version must be 1 or more",
        ),
        (
            (1..=1000).contains(&batch_size),
            "batch_size must be 1–1000",
        ),
        (healthy <= 100, "min_healthy_percent must be 0–100"),
        (
            (1..=86_400).contains(&timeout),
            "health_timeout_seconds must be 1–86400",
        ),
        (interval <= 3600, "interval_seconds must be at most 3600"),
    ];
    if let Some((_, why)) = checks.iter().find(|(ok, _)| !ok) {
        return Err(ApiError::Unprocessable((*why).into()));
    }
    Ok(rules::images::RolloutAsk {
        version: r.version as i32,
        settings: rollout::Settings {
            batch_size,
            min_healthy_percent: healthy,
            health_timeout_ms: i64::from(timeout) * 1000,
            pace: r.pace.unwrap_or(Pace::Adaptive),
            interval_ms: i64::from(interval) * 1000,
        },
    })
}
