//! `/api/v1/guests/{name}/reset…`: a guest back to known good, and the
//! undo of that while the old segment is kept (SPEC §8).

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use herd_provisioner::pool::PoolSettings;
use herd_provisioner::reset;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::jobs::{created_job, JobView};
use crate::auth::Caller;
use crate::idempotency::{self, Answer, KeyHeader, Keyed};
use crate::problem::{ApiResult, Problem};
use crate::rules;
use crate::state::AppState;

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The guest's name, typed as confirmation.
    #[schema(example = "LX000042")]
    pub confirm: String,
    /// Make a new SSH host key at the next boot instead of keeping the
    /// guest's (default `false`).
    #[serde(default)]
    pub new_host_key: bool,
}

/// Reset a guest to known good
///
/// Halts the guest (FORCE when the HALT times out), puts a fresh copy of its
/// image's segment in place of its own and boots it on its target root when it
/// was running or is `auto_boot`. Its name, owner, address, LAN grant, tags,
/// open leases, service enablement and SSH host key stay (a new key only with
/// `new_host_key`). The old segment is kept until `reset_undo_until` for `POST
/// …/reset/undo`. The owner or an admin. Send an `Idempotency-Key` to make
/// retries safe.
#[utoipa::path(post, path = "/api/v1/guests/{name}/reset", tag = "guests", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), KeyHeader),
    request_body = ResetRequest,
    responses(
        (status = 202, description = "Reset started (job kind `reset`)", body = JobView),
        (status = 400, description = "Body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not reset other users' guests", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Pooled, not provisioned, decommissioned, or held by a rollout, a decommission or another reset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`confirm` is not the guest's name, or an `Idempotency-Key` used before for another request", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/guests/{name}/reset")]
pub async fn reset_guest(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    body: web::Json<ResetRequest>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let keyed = Keyed::of(&req, &caller, &*body, now)?;
    let (name, body) = (name.into_inner(), body.into_inner());
    let (defaults, halt_timeout_ms, keep_ms) = timing(&state);
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let how = reset::Ask {
                    new_host_key: body.new_host_key,
                    method: PoolSettings::load(c, defaults)?.copy_method,
                    halt_timeout_ms,
                    keep_ms,
                };
                let id = rules::resets::reset(c, &caller, &name, &body.confirm, how, now)?;
                Answer::new(StatusCode::ACCEPTED, &created_job(c, id)?)
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}

/// Undo a reset
///
/// Puts back the segment the guest had before its last reset (halting it first)
/// and drops the fresh one; the guest boots again when it was running or is
/// `auto_boot`, with the SSH host key it had then. Possible until
/// `reset_undo_until`. The owner or an admin. Send an `Idempotency-Key` to make
/// retries safe.
#[utoipa::path(post, path = "/api/v1/guests/{name}/reset/undo", tag = "guests", security(("bearer" = [])),
    params(("name" = String, Path, description = "Guest name"), KeyHeader),
    responses(
        (status = 202, description = "Undo started (job kind `reset_undo`)", body = JobView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Staff may not undo other users' resets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours), or nothing kept from a reset", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Held by a rollout, a decommission or another reset", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An `Idempotency-Key` used before for another request", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/guests/{name}/reset/undo")]
pub async fn undo_reset(
    state: web::Data<AppState>,
    caller: Caller,
    name: web::Path<String>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let keyed = Keyed::of(&req, &caller, &(), now)?;
    let name = name.into_inner();
    let (_, halt_timeout_ms, _) = timing(&state);
    let answer = state
        .db(move |c| {
            idempotency::once(c, keyed.as_ref(), |c| {
                let id = rules::resets::undo(c, &caller, &name, halt_timeout_ms, now)?;
                Answer::new(StatusCode::ACCEPTED, &created_job(c, id)?)
            })
        })
        .await?;
    state.wake.notify();
    Ok(answer.into_response())
}

/// The pool's defaults (for the copy method), how long a HALT may take
/// (the monitor's grace), and how long an old segment is kept, in ms.
fn timing(state: &AppState) -> (PoolSettings, i64, i64) {
    let s = &state.settings;
    let halt = s.monitor_halt_grace_seconds.saturating_mul(1000) as i64;
    let keep = i64::from(s.reset_keep_days) * 86_400_000;
    (state.pool_defaults, halt, keep)
}
