//! `/api/v1/pool`: the warm pool's status and settings (admin).

use actix_web::{get, post, put, web, HttpResponse};
use herd_core::domain::Role;
use herd_provisioner::backend::CopyMethod;
use herd_provisioner::pool::{self, PoolSettings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{created_job, JobView};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::rules;
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

/// Pool status
///
/// Target size, guests available and being cloned, and the copy method. Admins
/// only.
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

/// Change the pool
///
/// Sets the pool's target size and copy method; the keeper acts at once. A
/// target beyond what the LANs can hold is `422`. Admins only.
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
    let settings = PoolSettings {
        target_size: body.target_size,
        copy_method: body.copy_method.into(),
    };
    let now = state.now_ms();
    let read = view(&state);
    let result = state
        .db(move |c| {
            rules::pool::update(c, &caller, settings, now)?;
            read(c)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Ok().json(result))
}

/// Refill the pool
///
/// Clones guests up to the target now, as a job. Admins only.
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
            let id = rules::pool::repopulate(c, &caller, &shape, defaults, now)?;
            created_job(c, id)
        })
        .await?;
    state.wake.notify();
    Ok(HttpResponse::Accepted().json(job))
}
