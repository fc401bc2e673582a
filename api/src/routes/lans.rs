//! `GET /api/v1/lans`.

use actix_web::{get, web, HttpResponse};
use herd_core::store::lans;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Lan {
    #[schema(example = "LNXLAN1")]
    pub name: String,
    #[schema(
        example = "10.10.0.0/22",
        pattern = r"^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}/(3[0-2]|[12]?[0-9])$"
    )]
    pub cidr: String,
    #[schema(example = "10.10.0.1", format = Ipv4)]
    pub gateway: String,
    #[schema(example = "10.10.0.1", format = Ipv4)]
    pub dns: String,
    /// Addresses available to guests.
    pub capacity: u32,
    /// Addresses held by guests.
    pub used: u32,
}

/// Guest LANs
///
/// Each LAN with its network, gateway, DNS server, capacity and use. Any user.
#[utoipa::path(get, path = "/api/v1/lans", tag = "lans", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "All guest LANs", body = Page<Lan>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/lans")]
pub async fn list_lans(
    state: web::Data<AppState>,
    _caller: Caller,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let rows = state.db(|c| Ok(lans::list_with_use(c)?)).await?;
    let items = rows
        .into_iter()
        .map(|u| Lan {
            name: u.lan.name,
            cidr: u.lan.cidr,
            gateway: u.lan.gateway,
            dns: u.lan.dns,
            capacity: u.lan.capacity.max(0) as u32,
            used: u.used.max(0) as u32,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}
