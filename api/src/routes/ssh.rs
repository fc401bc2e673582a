//! `GET /api/v1/guests/{name}/known_hosts`, `GET /api/v1/ssh/known_hosts`:
//! the guests' SSH host keys (SPEC §8) as `~/.ssh/known_hosts` lines, so
//! that the first `ssh` to a guest need not ask "are you sure?".

use actix_web::{get, web, HttpResponse};
use herd_core::domain::{GuestState, Role};
use herd_core::store::guests::{self, GuestRow};

use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::rules::guests::{load_guest, Access};
use crate::state::AppState;

/// `HOSTNAME,IP_ADDRESS ssh-ed25519 AAAA…`, for a guest with a key.
pub fn known_hosts_line(g: &GuestRow) -> Option<String> {
    let key = g.host_key()?;
    let names = match &g.ip_address {
        Some(ip) => format!("{},{ip}", g.hostname),
        None => g.hostname.clone(),
    };
    Some(format!("{names} {}\n", key.openssh()))
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// A guest's known_hosts line
///
/// `HOSTNAME,IP_ADDRESS ssh-ed25519 AAAA…`, ready to append to
/// `~/.ssh/known_hosts`. The owner, staff or an admin.
#[utoipa::path(get, path = "/api/v1/guests/{name}/known_hosts", tag = "guests", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name")),
    responses(
        (status = 200, description = "One known_hosts line", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours), or it has not made its host key yet (before its first boot)", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/guests/{name}/known_hosts")]
pub async fn guest_known_hosts(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let guest = state
        .db(move |c| load_guest(c, &caller, &name, Access::View))
        .await?;
    let line = known_hosts_line(&guest.row).ok_or_else(|| {
        ApiError::NotFound(format!(
            "{} has no SSH host key yet: it makes one at its first boot",
            guest.row.name
        ))
    })?;
    Ok(text(line))
}

/// Every guest's known_hosts line
///
/// One line per guest that has made its host key, in name order. Staff and
/// admins.
#[utoipa::path(get, path = "/api/v1/ssh/known_hosts", tag = "guests", security(("bearer" = [])),
    responses(
        (status = 200, description = "known_hosts lines", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff and admins only", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/ssh/known_hosts")]
pub async fn all_known_hosts(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    caller.require(Role::Staff)?;
    let rows = state.db(|c| Ok(guests::with_host_keys(c)?)).await?;
    let body: String = rows
        .iter()
        .filter(|g| g.state != GuestState::Decommissioned)
        .filter_map(known_hosts_line)
        .collect();
    Ok(text(body))
}
