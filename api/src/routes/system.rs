//! Liveness, readiness and metrics: what load balancers and Prometheus ask.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use herd_provisioner::pool::{self, PoolSettings};

use crate::metrics::PoolGauges;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let store = state.store.clone();
    web::block(move || store.ping())
        .await?
        .map_err(|e| ApiError::Unavailable(format!("database not reachable: {e}")))?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ready".into(),
    }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system", security(()),
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain")))]
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
        .body(state.metrics.render(&state.store, pool))
}
