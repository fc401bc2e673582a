//! `/api/v1/guests…`: listing, requesting (from the pool or by cloning),
//! reading, changing and decommissioning guests.

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::domain::{Description, GuestState, HostKey, Role};
use herd_core::store::events::Outcome;
use herd_core::store::guests::{self, Guest as GuestRecord, GuestFilter, GuestUpdate};
use herd_core::store::{lans, users};
use herd_provisioner::sagas;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::jobs::{created_job, JobView};
use super::{Page, PageQuery};
use crate::auth::{Bearer, Caller};
use crate::conditional::{etag_header, etag_of, IfMatch};
use crate::idempotency::{self, Answer, KeyHeader, Keyed};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::rules::audit::{audit, Target};
use crate::rules::guests::{load_guest, Access, Taken};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Guest {
    #[schema(example = "LX000042", pattern = r"^[A-Z0-9@#$]{1,8}$")]
    pub name: String,
    /// `null` while pooled.
    #[schema(example = "alice")]
    pub owner: Option<String>,
    #[schema(example = "lx000042.herd.local")]
    pub hostname: String,
    #[schema(example = "10.10.0.44", format = Ipv4)]
    pub ip_address: Option<String>,
    #[schema(example = "LNXLAN1")]
    pub lan: String,
    pub memory_mb: u32,
    #[schema(example = "golden")]
    pub image: String,
    pub auto_boot: bool,
    pub description: String,
    pub state: GuestState,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub assigned_at: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// The root version it booted at its last IPL; `null` before the first.
    #[schema(minimum = 1)]
    pub root_version: Option<u32>,
    /// The root version its next IPL boots.
    #[schema(minimum = 1)]
    pub target_root_version: u32,
    /// The SSH host key the guest made at its first boot; `null` before.
    pub ssh_host_key: Option<SshHostKey>,
    /// Until when the segment from before its last reset is kept for `POST
    /// …/reset/undo`; `null` when nothing is kept.
    #[schema(format = DateTime)]
    pub reset_undo_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SshHostKey {
    #[schema(example = "ssh-ed25519")]
    pub algorithm: String,
    #[schema(
        example = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFY88lyLdfFA9fuCYflLEARFRJjsB5HW/KOwAWdL3Qvs"
    )]
    pub public_key: String,
    /// As `ssh-keygen -l -E sha256` prints it.
    #[schema(example = "SHA256:Y6IS+1nGZdDaGUoVClmPZf/4oRpUcL1oA+qkm1f9sxE")]
    pub fingerprint: String,
}

impl SshHostKey {
    fn of(key: &HostKey) -> Self {
        Self {
            algorithm: HostKey::ALGORITHM.into(),
            public_key: key.openssh(),
            fingerprint: key.fingerprint(),
        }
    }
}

pub fn guest_view(g: GuestRecord) -> Guest {
    let state = g.state();
    let ssh_host_key = g.row.host_key().as_ref().map(SshHostKey::of);
    Guest {
        name: g.row.name,
        owner: g.owner,
        hostname: g.row.hostname,
        ip_address: g.row.ip_address,
        lan: g.lan,
        memory_mb: g.row.memory_mb.max(0) as u32,
        image: g.image,
        auto_boot: g.row.auto_boot,
        description: g.row.description,
        state,
        created_at: rfc3339(g.row.created_at),
        assigned_at: g.row.assigned_at.map(rfc3339),
        expires_at: g.row.expires_at.map(rfc3339),
        root_version: g.row.root_version.map(|v| v.max(1) as u32),
        target_root_version: g.row.target_root_version.max(1) as u32,
        ssh_host_key,
        reset_undo_until: g.row.reset_undo_until.map(rfc3339),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this user's guests (staff and admin; students always see their own).
    pub owner: Option<String>,
    /// Only guests in this state; without it, decommissioned guests are left out.
    pub state: Option<GuestState>,
}

/// List guests
///
/// In name order, a page at a time. Students see their own; staff and admins
/// see all and may filter by owner.
#[utoipa::path(get, path = "/api/v1/guests", tag = "guests", params(ListQuery, PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of guests", body = Page<Guest>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit, state or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/guests")]
pub async fn list_guests(
    state: web::Data<AppState>,
    bearer: Bearer,
    query: web::Query<ListQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = page.limit()?;
    let after = page.text_cursor()?;
    let page = state
        .db_as(bearer, move |c, caller| {
            let owner_id = match (caller.user.role, q.owner) {
                (Role::Student, _) => Some(caller.user.id),
                (_, Some(owner)) => match users::find_by_username(c, &owner)? {
                    Some(u) => Some(u.id),
                    None => return Ok((Vec::new(), false)),
                },
                (_, None) => None,
            };
            let filter = GuestFilter {
                owner_id,
                state: q.state,
                after,
                limit,
            };
            Ok(guests::list(c, &filter)?)
        })
        .await?;
    let (rows, more) = page;
    let next_cursor = more
        .then(|| rows.last().map(|g| super::text_cursor(&g.row.name)))
        .flatten();
    let items = rows.into_iter().map(guest_view).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GuestRequest {
    /// Whom the guest is for (staff and admin); default: the caller.
    pub owner: Option<String>,
    /// Image to clone; default: the configured one.
    pub image: Option<String>,
    /// Guest LAN; default: the configured one.
    pub lan: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProvisioningStarted {
    /// The guest being made; `GET /api/v1/guests/{name}` follows it.
    #[schema(example = "LX000043", pattern = r"^[A-Z0-9@#$]{1,8}$")]
    pub guest: String,
    pub job: JobView,
}

/// Request a guest
///
/// One from the warm pool at once (`201`), or, when the pool is empty, a new
/// clone (`202` with its job). Students request for themselves within their
/// quota; staff and admins for anyone. Send an `Idempotency-Key` to make
/// retries safe.
#[utoipa::path(post, path = "/api/v1/guests", tag = "guests", request_body = GuestRequest, security(("bearer" = [])),
    params(KeyHeader),
    responses(
        (status = 201, description = "A pooled guest, now yours and booting", body = Guest),
        (status = 202, description = "The pool was empty: a guest is being cloned", body = ProvisioningStarted),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Students may request guests only for themselves", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such owner, image or LAN", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Quota reached", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body, or an `Idempotency-Key` used before for another request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No address or name left", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/guests")]
pub async fn request_guest(
    state: web::Data<AppState>,
    bearer: Bearer,
    body: web::Bytes,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    // The body may be left out entirely; when present it must be valid.
    let body: GuestRequest = crate::extract::optional_json(&body)?;
    let ask = crate::rules::guests::Ask {
        owner: body.owner.clone(),
        image: body.image.clone(),
        lan: body.lan.clone(),
    };
    if !Keyed::asked(&req) {
        let answer = match state.assigner.request(bearer, ask).await? {
            Taken::Assigned(guest) => Answer::new(StatusCode::CREATED, &guest_view(*guest))?,
            cloning => state.db(move |c| answer_of(c, cloning)).await?,
        };
        return Ok(answer.into_response());
    }
    let now = state.now_ms();
    let caller = state.db(move |c| bearer.resolve(c, now)).await?;
    let keyed = Keyed::of(&req, &caller, &body, now)?;
    let defaults = state.request_defaults();
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let taken = crate::rules::guests::request(c, caller, ask, &defaults, now)?;
                answer_of(c, taken)
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}

fn answer_of(c: &mut herd_core::store::AnyConnection, taken: Taken) -> ApiResult<Answer> {
    match taken {
        Taken::Assigned(guest) => Answer::new(StatusCode::CREATED, &guest_view(*guest)),
        Taken::Cloning { guest, job } => Answer::new(
            StatusCode::ACCEPTED,
            &ProvisioningStarted {
                guest,
                job: created_job(c, job)?,
            },
        ),
    }
}

/// One guest
///
/// The owner, staff or an admin. The `ETag` names this version of the guest,
/// for `If-Match` on `PATCH`.
#[utoipa::path(get, path = "/api/v1/guests/{name}", tag = "guests", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name (z/VM user id)")),
    responses(
        (status = 200, description = "The guest", body = Guest,
            headers(("ETag" = String, description = "This version of the guest, for `If-Match` on `PATCH`"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/guests/{name}")]
pub async fn get_guest(
    state: web::Data<AppState>,
    bearer: Bearer,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let guest = state
        .db_as(bearer, move |c, caller| {
            load_guest(c, &caller, &name, Access::View)
        })
        .await?;
    tagged(guest_view(guest))
}

/// A guest answered with its `ETag`.
fn tagged(view: Guest) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag_header(&etag_of(&view))?))
        .json(view))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ChangeIf {
    /// The `ETag` of the version read: change only that version (`412`
    /// otherwise). `*` matches any.
    #[serde(rename = "If-Match")]
    #[param(rename = "If-Match")]
    pub if_match: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestPatch {
    pub auto_boot: Option<bool>,
    /// Text as typed, up to 500 characters; control characters and
    /// bidirectional controls are refused (`422`).
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Description>,
}

/// Change a guest
///
/// Sets `auto_boot` or the description. With `If-Match`, only if the guest is
/// still the version named (`412` otherwise). The owner or an admin.
#[utoipa::path(patch, path = "/api/v1/guests/{name}", tag = "guests", request_body = GuestPatch, security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), ChangeIf),
    responses(
        (status = 200, description = "The changed guest", body = Guest,
            headers(("ETag" = String, description = "The new version of the guest"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not change other users' guests", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The guest changed since the version named in `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body", body = Problem, content_type = "application/problem+json"),
    ))]
#[patch("/api/v1/guests/{name}")]
pub async fn patch_guest(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<GuestPatch>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let if_match = IfMatch::of(&req);
    let now = state.now_ms();
    let guest = state
        .db(move |c| {
            let guest = load_guest(c, &caller, &name, Access::Change)?;
            if_match.check(&etag_of(&guest_view(guest.clone())), &guest.row.name)?;
            let update = GuestUpdate {
                auto_boot: body.auto_boot,
                description: body.description.map(String::from),
            };
            guests::update(c, guest.row.id, &update, now)?;
            audit(
                c,
                &caller,
                "guest.update",
                Target::Guest(&guest.row),
                Outcome::Success,
                None,
                now,
            )?;
            Ok(guests::find_by_name(c, &guest.row.name)?.unwrap_or(guest))
        })
        .await?;
    tagged(guest_view(guest))
}

/// Decommission a guest
///
/// Halts the guest, revokes its LAN grant, releases its address, closes its
/// leases and deletes its disks and directory entry, as a job. The owner or an
/// admin.
#[utoipa::path(delete, path = "/api/v1/guests/{name}", tag = "guests", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name")),
    responses(
        (status = 202, description = "Decommissioning started", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not decommission other users' guests", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decommissioned, still being provisioned, or being reset", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api/v1/guests/{name}")]
pub async fn delete_guest(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let job = state
        .db(move |c| {
            let guest = load_guest(c, &caller, &name, Access::Change)?;
            match guest.state() {
                GuestState::Decommissioned | GuestState::Decommissioning => {
                    return Err(ApiError::Conflict(format!(
                        "{} is already decommissioned or on its way",
                        guest.row.name
                    )))
                }
                GuestState::Provisioning => {
                    return Err(ApiError::Conflict(format!(
                        "{} is still being provisioned; try again when it is done",
                        guest.row.name
                    )))
                }
                _ => {}
            }
            if let Some(job) = herd_provisioner::reset::holding(c, &guest.row.name)? {
                return Err(ApiError::Conflict(format!(
                    "{} is being reset or undone (job {job}); try again when it is done",
                    guest.row.name
                )));
            }
            let id = sagas::queue_decommission(c, &guest, Some(caller.user.id), now)?;
            audit(
                c,
                &caller,
                "guest.decommission",
                Target::Guest(&guest.row),
                Outcome::Success,
                None,
                now,
            )?;
            created_job(c, id)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Accepted().json(job))
}

/// A guest's tags
///
/// The guest's network and identity settings as key/value pairs: what the guest
/// itself reads at boot (`hcp TAG QUERY`). The owner or an admin.
#[utoipa::path(get, path = "/api/v1/guests/{name}/tags", tag = "guests", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name")),
    responses(
        (status = 200, description = "Tags", body = std::collections::BTreeMap<String, String>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not read other users' tags", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/guests/{name}/tags")]
pub async fn guest_tags(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let tags = state
        .db(move |c| {
            let guest = load_guest(c, &caller, &name, Access::Change)?;
            let lan = lans::find_by_name(c, &guest.lan)?
                .ok_or_else(|| ApiError::Internal("guest on unknown LAN".into()))?;
            Ok(herd_provisioner::sagas::tags(&guest, &lan))
        })
        .await?;
    Ok(HttpResponse::Ok().json(tags))
}
