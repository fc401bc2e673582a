//! `/api/v1/pool`: the warm pool's status and settings (admin).

use actix_web::{get, post, put, web, HttpResponse};
use herd_core::domain::Role;
use herd_core::store::events::Outcome;
use herd_core::store::{jobs, write_tx};
use herd_provisioner::backend::CopyMethod;
use herd_provisioner::pool::{self, PoolSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::{audit, Target};
use super::jobs::{created_job, JobView};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum PoolCopyMethod {
    Flashcopy,
    Ddr,
}

impl From<PoolCopyMethod> for CopyMethod {
    fn from(m: PoolCopyMethod) -> Self {
        match m {
            PoolCopyMethod::Flashcopy => CopyMethod::FlashCopy,
            PoolCopyMethod::Ddr => CopyMethod::Ddr,
        }
    }
}

impl From<CopyMethod> for PoolCopyMethod {
    fn from(m: CopyMethod) -> Self {
        match m {
            CopyMethod::FlashCopy => PoolCopyMethod::Flashcopy,
            CopyMethod::Ddr => PoolCopyMethod::Ddr,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PoolView {
    pub target_size: u32,
    /// Guests ready to hand out.
    pub available: u32,
    /// Guests being cloned for the pool.
    pub provisioning: u32,
    pub copy_method: PoolCopyMethod,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolUpdate {
    #[schema(maximum = 10000)]
    pub target_size: u32,
    pub copy_method: PoolCopyMethod,
}

/// The maximum keeps a typo from cloning the whole LAN full.
const MAX_TARGET: u32 = 10_000;

fn view(
    state: &AppState,
) -> impl FnOnce(&mut herd_core::store::AnyConnection) -> ApiResult<PoolView> {
    let defaults = state.pool_defaults;
    move |c| {
        let settings = PoolSettings::load(c, defaults)?;
        let status = pool::status(c)?;
        Ok(PoolView {
            target_size: settings.target_size,
            available: status.available,
            provisioning: status.provisioning,
            copy_method: settings.copy_method.into(),
        })
    }
}

/// Pool status.
#[utoipa::path(get, path = "/api/v1/pool", tag = "pool", security(("bearer" = [])),
    responses(
        (status = 200, description = "Pool status", body = PoolView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/pool")]
pub async fn get_pool(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    Ok(HttpResponse::Ok().json(state.db(view(&state)).await?))
}

/// Change the pool's size and copy method; the keeper acts at once.
#[utoipa::path(put, path = "/api/v1/pool", tag = "pool", request_body = PoolUpdate, security(("bearer" = [])),
    responses(
        (status = 200, description = "New pool status", body = PoolView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings, or a target beyond what the LANs can hold (the detail gives the numbers)", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/api/v1/pool")]
pub async fn put_pool(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PoolUpdate>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    if body.target_size > MAX_TARGET {
        return Err(ApiError::Unprocessable(format!(
            "target_size is at most {MAX_TARGET}"
        )));
    }
    let settings = PoolSettings {
        target_size: body.target_size,
        copy_method: body.copy_method.into(),
    };
    let now = state.now_ms();
    let read = view(&state);
    let result = state
        .db(move |c| {
            // Checked and saved in one transaction: guests taken meanwhile
            // must not slip in between.
            write_tx(c, |c| {
                let room = pool::room(c)?;
                if settings.target_size > room.max_target() {
                    return Err(ApiError::Unprocessable(format!(
                        "target_size {} is more than the LANs can hold: {} free addresses \
                         plus {} pooled and {} being cloned for the pool make at most {}",
                        settings.target_size,
                        room.free_addresses,
                        room.pooled,
                        room.provisioning,
                        room.max_target()
                    )));
                }
                settings.save(c, now)?;
                Ok(())
            })?;
            let detail = format!(
                "target_size {} {}",
                settings.target_size,
                pool::copy_method_name(settings.copy_method)
            );
            audit(
                c,
                &caller,
                "pool.update",
                Target::Named("pool"),
                Outcome::Success,
                Some(&detail),
                now,
            )?;
            read(c)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Ok().json(result))
}

/// Refill the pool to its target now.
#[utoipa::path(post, path = "/api/v1/pool/repopulate", tag = "pool", security(("bearer" = [])),
    responses(
        (status = 202, description = "Refill started", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The pool is short and no name or address is left for any clone", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/pool/repopulate")]
pub async fn repopulate_pool(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let now = state.now_ms();
    let (shape, defaults) = (state.pool_shape.clone(), state.pool_defaults);
    let job = state
        .db(move |c| {
            let settings = PoolSettings::load(c, defaults)?;
            let done =
                pool::top_up(c, &shape, settings, now).map_err(crate::problem::capacity_error)?;
            if done.queued.is_empty() {
                if let Some(short) = done.short {
                    return Err(ApiError::Unavailable(short.to_string()));
                }
            }
            let queued = done.queued;
            let params = serde_json::json!({ "jobs": queued }).to_string();
            let new = jobs::NewJob {
                kind: herd_provisioner::jobs::POOL_REPOPULATE,
                requested_by: Some(caller.user.id),
                target: Some("pool"),
                params: &params,
                total: queued.len() as i32,
            };
            // The clones run as one provisioning job each; the worker
            // follows them and finishes this one when they all have.
            let id = jobs::create(c, &new, now)?;
            audit(
                c,
                &caller,
                "pool.repopulate",
                Target::Named("pool"),
                Outcome::Success,
                Some(&format!("{} clones queued", queued.len())),
                now,
            )?;
            created_job(c, id)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Accepted().json(job))
}
