//! `POST /api/v1/auth/tokens`, `DELETE /api/v1/auth/tokens/current`.

use actix_web::{delete, post, web, HttpRequest, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::store::events::{self, NewEvent, Outcome};
use herd_core::store::tokens;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::me::{me_view, Me};
use crate::auth::{client_addr, token, Caller};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::request_id::RequestId;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
    /// Lifetime in seconds; longer than the server's maximum is shortened to it.
    #[schema(example = 3600, minimum = 1)]
    pub ttl_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Send as `Authorization: Bearer <token>`. Shown only once.
    pub token: String,
    /// RFC 3339 UTC.
    #[schema(example = "2026-11-27T15:00:00Z")]
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub user: Me,
}

/// Log in
///
/// Trades a directory (or local) username and password for a bearer token.
/// Anyone may call it; repeated failures from one address or for one user are
/// throttled (`429` with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/v1/auth/tokens",
    tag = "auth",
    request_body = TokenRequest,
    security(()),
    responses(
        (status = 201, description = "Token issued", body = TokenResponse),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Bad credentials (also an empty password)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields missing or invalid", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user name or address; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until another attempt is allowed"))),
        (status = 503, description = "The directory or database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/tokens")]
pub async fn create_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let max_ttl = state.settings.token_max_ttl_seconds;
    let ttl_seconds = match body.ttl_seconds {
        None => state.settings.token_default_ttl_seconds.min(max_ttl),
        Some(t) if t <= 0 => {
            return Err(ApiError::Unprocessable(
                "ttl_seconds must be a positive number of seconds".into(),
            ))
        }
        Some(t) => (t as u64).min(max_ttl),
    };
    let client = client_addr(&req);
    let request_id = RequestId::of(&req);
    let user = state
        .auth
        .login(
            &state.store,
            &state.clock,
            &body.username,
            &body.password,
            &client,
        )
        .await?;

    let issued = token::issue();
    let now = state.now_ms();
    let expires_at = now.saturating_add(ttl_seconds as i64 * 1000);
    let (user_id, hash, username) = (user.id, issued.hash.clone(), user.username.clone());
    let used = state
        .db(move |c| {
            tokens::insert(c, user_id, &hash, now, expires_at)?;
            let event = NewEvent {
                kind: herd_core::domain::EventKind::Audit,
                actor_id: Some(user_id),
                actor: &username,
                action: "token.create",
                target: Some(&username),
                guest_id: None,
                client_addr: Some(&client),
                outcome: Outcome::Success,
                detail: None,
                request_id: Some(&request_id),
            };
            events::record(c, &event, now)?;
            Ok(herd_core::store::users::guests_held(c, user_id)?)
        })
        .await?;
    Ok(HttpResponse::Created().json(TokenResponse {
        token: issued.token,
        expires_at: rfc3339(expires_at),
        user: me_view(&user, used),
    }))
}

/// Log out
///
/// Revokes the token this request carries; it is refused from then on. Any
/// user.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/tokens/current",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Token revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/auth/tokens/current")]
pub async fn revoke_current_token(
    state: web::Data<AppState>,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    state
        .db(move |c| {
            tokens::revoke(c, &caller.token_hash, now)?;
            let event = NewEvent {
                kind: herd_core::domain::EventKind::Audit,
                actor_id: Some(caller.user.id),
                actor: &caller.user.username,
                action: "token.revoke",
                target: Some(&caller.user.username),
                guest_id: None,
                client_addr: Some(&caller.client_addr),
                outcome: Outcome::Success,
                detail: None,
                request_id: Some(&caller.request_id),
            };
            events::record(c, &event, now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
