//! `GET /api/v1/service-catalog` and `GET /api/v1/images`.

use actix_web::{get, web, HttpResponse};
use herd_core::clock::rfc3339;
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

#[derive(Serialize, ToSchema)]
pub struct Image {
    #[schema(example = "golden")]
    pub name: String,
    pub description: String,
    pub size_bytes: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// Golden images
///
/// The images guests are cloned from, with their sizes. Any user.
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
    let rows = state.db(|c| Ok(catalog::images(c)?)).await?;
    let items = rows
        .into_iter()
        .map(|i| Image {
            name: i.name,
            description: i.description,
            size_bytes: i.size_bytes.max(0) as u64,
            created_at: rfc3339(i.created_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}
