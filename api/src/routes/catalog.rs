//! `GET /api/v1/service-catalog`.

use actix_web::{get, web, HttpResponse};
use herd_core::store::catalog;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CatalogService {
    #[schema(example = "apache")]
    pub name: String,
    /// Services start in ascending priority at boot.
    #[schema(example = 50)]
    pub priority: i32,
    /// The init script the guest runs.
    #[schema(example = "/etc/rc.d/init.d/httpd")]
    pub command: String,
    /// Whether a new guest starts it at boot.
    pub default_enabled: bool,
}

/// The service catalog
///
/// The services every guest can run, by priority, with their init scripts. Any
/// user.
#[utoipa::path(get, path = "/api/v1/service-catalog", tag = "services", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The catalog, by priority", body = Page<CatalogService>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/service-catalog")]
pub async fn service_catalog(
    state: web::Data<AppState>,
    _caller: Caller,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let rows = state.db(|c| Ok(catalog::services(c)?)).await?;
    let items = rows
        .into_iter()
        .map(|s| CatalogService {
            name: s.name,
            priority: s.priority,
            command: s.command,
            default_enabled: s.default_enabled,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}
