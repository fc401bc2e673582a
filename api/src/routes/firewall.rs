//! Firewall leases (SPEC §1, §4, §5): what may be opened, a guest's open
//! ports, opening, closing and renewing them, and the nftables ruleset the
//! central router loads.
//!
//! A lease past its `expires_at` is closed for every answer here from that
//! millisecond on, even before the background sweep records it as expired:
//! lists leave it out, it can be neither closed nor renewed (`404`), and the
//! ruleset no longer opens it.

use std::net::Ipv4Addr;

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use herd_core::clock::{rfc3339, Millis};
use herd_core::domain::{Cidr, Port, Protocol, Role};
use herd_core::store::lans;
use herd_core::store::leases::{self, Lease as LeaseRecord};
use herd_provisioner::firewall::{
    render_ruleset, ruleset_etag, FirewallPolicy, PortRange, RenderedLease,
};
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::conditional::{etag_header, none_match_hits};
use crate::idempotency::{self, Answer, KeyHeader, Keyed};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::rules;
use crate::rules::firewall::Opening;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Lease {
    pub id: i64,
    #[schema(example = "LX000042", pattern = r"^[A-Z0-9@#$]{1,8}$")]
    pub guest: String,
    pub protocol: Protocol,
    #[schema(example = 8080, minimum = 1, maximum = 65535)]
    pub port: u16,
    /// Who may connect; `null` is anyone.
    #[schema(
        example = "192.0.2.0/24",
        pattern = r"^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}/(3[0-2]|[12]?[0-9])$"
    )]
    pub source_cidr: Option<String>,
    /// When the port closes (RFC 3339 UTC).
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Seconds until `expires_at` by the server's clock, rounded up.
    #[schema(example = 5400)]
    pub remaining_seconds: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Who opened it.
    #[schema(example = "alice")]
    pub opened_by: Option<String>,
}

fn lease_view(l: LeaseRecord, now: Millis) -> Lease {
    let remaining_ms = (l.expires_at - now).max(0);
    Lease {
        id: l.id,
        guest: l.guest,
        protocol: l.protocol,
        port: l.port.get(),
        source_cidr: l.source.map(|c| c.to_string()),
        expires_at: rfc3339(l.expires_at),
        remaining_seconds: (remaining_ms + 999) / 1000,
        created_at: rfc3339(l.created_at),
        opened_by: l.opened_by,
    }
}

#[derive(Serialize, ToSchema)]
pub struct PortRangeView {
    #[schema(example = 1024)]
    pub start: u16,
    #[schema(example = 65535)]
    pub end: u16,
}

/// What may be opened, and for how long.
#[derive(Serialize, ToSchema)]
pub struct Policy {
    /// tcp ports that may be opened (inclusive ranges).
    pub tcp: Vec<PortRangeView>,
    /// udp ports that may be opened (inclusive ranges).
    pub udp: Vec<PortRangeView>,
    /// Duration of a lease when none is asked.
    #[schema(example = 90)]
    pub default_minutes: u32,
    /// Longest lease; renewals are shortened to it.
    #[schema(example = 480)]
    pub max_minutes: u32,
    /// Open ports per guest at a time.
    #[schema(example = 5)]
    pub max_open_per_guest: u32,
}

fn policy_view(p: &FirewallPolicy) -> Policy {
    let ranges = |proto| {
        p.allowed(proto)
            .iter()
            .map(|r: &PortRange| PortRangeView {
                start: r.start().get(),
                end: r.end().get(),
            })
            .collect()
    };
    Policy {
        tcp: ranges(Protocol::Tcp),
        udp: ranges(Protocol::Udp),
        default_minutes: p.default_minutes(),
        max_minutes: p.max_minutes(),
        max_open_per_guest: p.max_open_per_guest(),
    }
}

/// The firewall policy
///
/// Which ports may be opened, for how long by default and at most, and how many
/// at a time. Any user.
#[utoipa::path(get, path = "/api/v1/firewall/policy", tag = "firewall", security(("bearer" = [])),
    responses(
        (status = 200, description = "The policy", body = Policy),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/firewall/policy")]
pub async fn get_policy(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(policy_view(&state.firewall)))
}

/// A guest's open ports
///
/// Oldest first, with `expires_at` and `remaining_seconds`. The owner or an
/// admin.
#[utoipa::path(get, path = "/api/v1/guests/{name}/firewall/leases", tag = "firewall", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), PageQuery),
    responses(
        (status = 200, description = "Open leases", body = Page<Lease>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not manage other users' openings", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/guests/{name}/firewall/leases")]
pub async fn list_guest_leases(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let rows = state
        .db(move |c| rules::firewall::guest_leases(c, &caller, &name, now))
        .await?;
    let items = rows.into_iter().map(|l| lease_view(l, now)).collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenLease {
    /// `tcp` or `udp`.
    #[schema(value_type = Protocol)]
    pub protocol: String,
    /// Within the policy's ranges for the protocol.
    #[schema(example = 8080, minimum = 1, maximum = 65535)]
    pub port: i64,
    /// Default: the policy's `default_minutes`; at most `max_minutes`.
    #[schema(example = 90)]
    pub duration_minutes: Option<i64>,
    /// IPv4 network (or single address) allowed to connect; default: anyone.
    #[schema(
        example = "192.0.2.0/24",
        pattern = r"^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}(/(3[0-2]|[12]?[0-9]))?$"
    )]
    pub source_cidr: Option<String>,
}

/// The body as domain types; the policy is checked by the rules.
fn parse_opening(body: OpenLease) -> ApiResult<Opening> {
    let protocol: Protocol = body
        .protocol
        .parse()
        .map_err(|e: herd_core::domain::InvalidProtocol| ApiError::Unprocessable(e.to_string()))?;
    let port = Port::try_from(body.port).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let source = body
        .source_cidr
        .as_deref()
        .map(|s| {
            s.parse::<Cidr>()
                .map_err(|e| ApiError::Unprocessable(format!("source_cidr: {e}")))
        })
        .transpose()?;
    Ok(Opening {
        protocol,
        port,
        duration_minutes: body.duration_minutes,
        source,
    })
}

/// Open a port
///
/// Opens a protocol and port to a guest until `expires_at`, from anywhere or
/// from `source_cidr` only, within the policy. The owner or an admin. Send an
/// `Idempotency-Key` to make retries safe.
#[utoipa::path(post, path = "/api/v1/guests/{name}/firewall/leases", tag = "firewall", request_body = OpenLease, security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), KeyHeader),
    responses(
        (status = 201, description = "The port is open", body = Lease),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not manage other users' openings", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This protocol and port are already open, or the guest is being decommissioned", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Outside the policy (port, duration, source) or too many open ports (the detail says which), or an `Idempotency-Key` used before for another request", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/guests/{name}/firewall/leases")]
pub async fn open_lease(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<OpenLease>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let keyed = Keyed::of(&req, &caller, &*body, now)?;
    let opening = parse_opening(body.into_inner())?;
    let policy = state.firewall.clone();
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let lease = rules::firewall::open(c, &caller, &name, &policy, opening, now)?;
                Answer::new(StatusCode::CREATED, &lease_view(lease, now))
            })
        })
        .await?;
    Ok(answer.into_response())
}

/// Close a lease early
///
/// The port closes at once (the router's ruleset no longer opens it). The
/// guest's owner or an admin.
#[utoipa::path(delete, path = "/api/v1/firewall/leases/{id}", tag = "firewall", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Lease id")),
    responses(
        (status = 204, description = "Closed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not manage other users' openings", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lease, not yours, or not open any more (closed or expired)", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api/v1/firewall/leases/{id}")]
pub async fn close_lease(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let now = state.now_ms();
    state
        .db(move |c| rules::firewall::close(c, &caller, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RenewLease {
    /// From now; default: the policy's `default_minutes`. More than
    /// `max_minutes` is shortened to it.
    #[schema(example = 90)]
    pub duration_minutes: Option<i64>,
}

/// Renew a lease
///
/// The lease then ends `duration_minutes` from now, capped at the policy's
/// maximum. The guest's owner or an admin.
#[utoipa::path(post, path = "/api/v1/firewall/leases/{id}/renew", tag = "firewall", request_body(content = Option<RenewLease>, description = "Optional; `{}` or no body renews for the default duration"), security(("bearer" = [])),
    params(("id" = i64, Path, description = "Lease id")),
    responses(
        (status = 200, description = "The renewed lease", body = Lease),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not manage other users' openings", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such lease, not yours, or not open any more (closed or expired)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid duration", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/firewall/leases/{id}/renew")]
pub async fn renew_lease(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    body: Option<web::Json<RenewLease>>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    let now = state.now_ms();
    let policy = state.firewall.clone();
    let lease = state
        .db(move |c| rules::firewall::renew(c, &caller, id, &policy, body.duration_minutes, now))
        .await?;
    Ok(HttpResponse::Ok().json(lease_view(lease, now)))
}

/// Every open lease
///
/// Oldest first, across all guests. Admins only.
#[utoipa::path(get, path = "/api/v1/firewall/leases", tag = "firewall", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "All open leases", body = Page<Lease>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/firewall/leases")]
pub async fn list_leases(
    state: web::Data<AppState>,
    caller: Caller,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let now = state.now_ms();
    let rows = state.db(move |c| Ok(leases::list_open(c, now)?)).await?;
    let items = rows.into_iter().map(|l| lease_view(l, now)).collect();
    Ok(HttpResponse::Ok().json(Page::window(items, &page)?))
}

/// The router's nftables ruleset
///
/// Every guest LAN guarded, every open lease let through. Load it with `nft
/// -f`; poll with `If-None-Match` and reload only on `200`. Admins only.
#[utoipa::path(get, path = "/api/v1/firewall/ruleset", tag = "firewall", security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of the ruleset you have; `304` if it is still current")),
    responses(
        (status = 200, description = "The ruleset, for `nft -f`", body = String, content_type = "text/plain",
            headers(("ETag" = String, description = "`\"<sha256 of the body in hex>\"`"))),
        (status = 304, description = "Unchanged since the ETag given in `If-None-Match`",
            headers(("ETag" = String, description = "The current ETag"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/firewall/ruleset")]
pub async fn ruleset(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let now = state.now_ms();
    let (lans, open) = state
        .db(move |c| Ok((lans::list_with_use(c)?, leases::list_open(c, now)?)))
        .await?;
    let mut networks = Vec::with_capacity(lans.len());
    for l in &lans {
        let net: Ipv4Net = l.lan.cidr.parse().map_err(|e| {
            ApiError::Internal(format!(
                "LAN {} has the unusable CIDR {}: {e}",
                l.lan.name, l.lan.cidr
            ))
        })?;
        networks.push(net);
    }
    let rendered: Vec<RenderedLease> = open
        .into_iter()
        .filter_map(|l| {
            // Retiring a guest closes its leases before its address goes,
            // so an open lease always has one; skip rather than fail.
            let address: Ipv4Addr = l.address.as_deref()?.parse().ok()?;
            Some(RenderedLease {
                lease_id: l.id,
                guest: l.guest.parse().ok()?,
                address,
                protocol: l.protocol,
                port: l.port,
                source: l.source,
                expires_at: l.expires_at,
            })
        })
        .collect();
    let text = render_ruleset(&networks, &rendered);
    let etag = format!("\"{}\"", ruleset_etag(&text));
    let etag_value = etag_header(&etag)?;
    if none_match_hits(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag_value))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::ETAG, etag_value))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(text))
}
