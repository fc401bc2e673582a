//! `/api/v1/lans`: the guest LANs, listed by anyone, added and removed by
//! admins.

use actix_web::{delete, get, post, web, HttpResponse};
use herd_core::store::lans::{self, LanUsage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::rules::lans::LanSpec;
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
    let items = rows.into_iter().map(lan_view).collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}

fn lan_view(u: LanUsage) -> Lan {
    Lan {
        name: u.lan.name,
        cidr: u.lan.cidr,
        gateway: u.lan.gateway,
        dns: u.lan.dns,
        capacity: u.lan.capacity.max(0) as u32,
        used: u.used.max(0) as u32,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLan {
    /// 1–8 letters, digits, `@`, `#` or `$`, as CP names LANs.
    #[schema(example = "LNXLAN2")]
    pub name: String,
    /// An IPv4 network, /30 or wider, host bits clear.
    #[schema(example = "10.20.0.0/22")]
    pub cidr: String,
    /// One of its host addresses; the first one when left out.
    #[schema(example = "10.20.0.1", format = Ipv4)]
    pub gateway: Option<String>,
    /// The guests' DNS server; the gateway when left out.
    #[schema(example = "10.20.0.1", format = Ipv4)]
    pub dns: Option<String>,
}

/// Add a guest LAN
///
/// Records a LAN; the privileged side defines it on the hypervisor before
/// it grants the first guest on it. New guests go to the LAN with the most
/// free addresses unless they ask for one. Admins only.
#[utoipa::path(post, path = "/api/v1/lans", tag = "lans", request_body = NewLan, security(("bearer" = [])),
    responses(
        (status = 201, description = "The LAN", body = Lan),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken, or the network overlaps another LAN's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid name, IPv4 network, gateway or DNS address", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/lans")]
pub async fn create_lan(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<NewLan>,
) -> ApiResult<HttpResponse> {
    let spec = LanSpec::parse(
        &body.name,
        &body.cidr,
        body.gateway.as_deref(),
        body.dns.as_deref(),
    )?;
    let now = state.now_ms();
    let lan = state
        .db(move |c| crate::rules::lans::create(c, &caller, &spec, now))
        .await?;
    Ok(HttpResponse::Created().json(lan_view(LanUsage { lan, used: 0 })))
}

/// Remove a guest LAN
///
/// Only while no guest holds an address on it (pooled guests and guests
/// being made count). Admins only.
#[utoipa::path(delete, path = "/api/v1/lans/{name}", tag = "lans", security(("bearer" = [])),
    params(("name" = String, Path, description = "LAN name")),
    responses(
        (status = 204, description = "The LAN is removed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such LAN", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Guests hold addresses on it", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api/v1/lans/{name}")]
pub async fn delete_lan(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let name = name.into_inner();
    state
        .db(move |c| crate::rules::lans::remove(c, &caller, &name, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
