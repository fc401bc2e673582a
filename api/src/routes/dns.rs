//! `GET /api/v1/dns/zone`: the guests' host names as a zone file.

use actix_web::{get, web, HttpResponse};
use herd_core::domain::{GuestState, Role};
use herd_core::store::guests;
use std::fmt::Write;

use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

/// The guests' DNS zone
///
/// A zone file for the guest domain with an A record per assigned guest (and
/// an SSHFP record for its host key, once it made one). The
/// serial is the newest change's time in seconds, so it grows as guests do.
/// Admins only.
#[utoipa::path(get, path = "/api/v1/dns/zone", tag = "dns", security(("bearer" = [])),
    responses(
        (status = 200, description = "Zone file", body = String, content_type = "text/plain"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/dns/zone")]
pub async fn zone(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    caller.require(Role::Admin)?;
    let domain = state.settings.guest_domain.trim_end_matches('.').to_owned();
    let now = state.now_ms();
    let assigned = state
        .db(|c| {
            let live = [
                GuestState::Stopped,
                GuestState::Starting,
                GuestState::Running,
                GuestState::Stopping,
                GuestState::Unresponsive,
                GuestState::Failed,
            ];
            Ok(guests::in_states(c, &live)?)
        })
        .await?;
    let serial = (now / 1000).max(1);
    let mut zone = format!(
        "$ORIGIN {domain}.\n$TTL 300\n\
         @ IN SOA ns.{domain}. hostmaster.{domain}. ( {serial} 3600 600 604800 300 )\n\
         @ IN NS ns.{domain}.\n"
    );
    // The name server's own address: the first guest LAN's DNS server.
    let dns = state
        .db(|c| Ok(herd_core::store::lans::list_with_use(c)?))
        .await?;
    if let Some(lan) = dns.first() {
        let _ = writeln!(zone, "ns IN A {}", lan.lan.dns);
    }
    for g in assigned.iter().filter(|g| g.owner_id.is_some()) {
        let Some(ip) = &g.ip_address else { continue };
        let host = g
            .hostname
            .strip_suffix(&format!(".{domain}"))
            .unwrap_or(&g.hostname);
        let _ = writeln!(zone, "{host} IN A {ip}");
        // SSHFP: Ed25519 (4), SHA-256 (2), as `ssh-keygen -r` prints it.
        if let Some(key) = g.host_key() {
            let _ = writeln!(zone, "{host} IN SSHFP 4 2 {}", key.sshfp_sha256());
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(zone))
}
