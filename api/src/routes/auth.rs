//! `/api/v1/auth/tokens…`: logging in, the caller's tokens, logging out
//! and revoking a token; an admin's revocation of all of a user's.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::store::events::{self, NewEvent, Outcome};
use herd_core::store::tokens::{self, TokenRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::me::{me_view, Me};
use super::{Page, PageQuery};
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
    let login = log_in(
        &state,
        &req,
        Credentials {
            username: &body.username,
            password: &body.password,
            ttl_seconds: body.ttl_seconds,
        },
        "token.create",
    )
    .await?;
    Ok(HttpResponse::Created().json(TokenResponse {
        token: login.token.token,
        expires_at: rfc3339(login.expires_at),
        user: login.user,
    }))
}

pub(super) struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub ttl_seconds: Option<i64>,
}

/// A login: the new token (recorded, audited as `action`) and its user.
pub(super) struct Login {
    pub token: token::IssuedToken,
    pub expires_at: i64,
    pub user: Me,
}

/// Checks the credentials and records a new token for the user.
pub(super) async fn log_in(
    state: &AppState,
    req: &HttpRequest,
    credentials: Credentials<'_>,
    action: &'static str,
) -> ApiResult<Login> {
    let max_ttl = state.settings.token_max_ttl_seconds;
    let ttl_seconds = match credentials.ttl_seconds {
        None => state.settings.token_default_ttl_seconds.min(max_ttl),
        Some(t) if t <= 0 => {
            return Err(ApiError::Unprocessable(
                "ttl_seconds must be a positive number of seconds".into(),
            ))
        }
        Some(t) => (t as u64).min(max_ttl),
    };
    let client = client_addr(req);
    let request_id = RequestId::of(req);
    let user = state
        .auth
        .login(
            &state.store,
            &state.clock,
            credentials.username,
            credentials.password,
            &client,
        )
        .await?;

    let issued = token::issue();
    let now = state.now_ms();
    let expires_at = now.saturating_add(ttl_seconds as i64 * 1000);
    let (user_id, hash, username) = (user.id, issued.hash.clone(), user.username.clone());
    let used = state
        .db(move |c| {
            tokens::insert(c, user_id, &hash, &client, now, expires_at)?;
            let event = NewEvent {
                kind: herd_core::domain::EventKind::Audit,
                actor_id: Some(user_id),
                actor: &username,
                action,
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
    Ok(Login {
        token: issued,
        expires_at,
        user: me_view(&user, used),
    })
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
        .db(move |c| crate::rules::tokens::revoke_current(c, &caller, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One of the caller's tokens; never its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// To the minute; `null` for a token made before uses were recorded
    /// and not used since.
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// The client address it was made from (behind a trusted proxy: the
    /// client's).
    #[schema(example = "192.0.2.10")]
    pub client_address: Option<String>,
    /// The token this request carries.
    pub current: bool,
}

fn token_view(t: TokenRow, current_hash: &str) -> TokenView {
    TokenView {
        id: t.id,
        created_at: rfc3339(t.created_at),
        expires_at: rfc3339(t.expires_at),
        last_used_at: t.last_used_at.map(rfc3339),
        client_address: t.client_address,
        current: t.token_hash == current_hash,
    }
}

/// Your tokens
///
/// The caller's live tokens (not expired, not revoked), newest first: where
/// each was made and when it was last used, to spot one that should not be
/// there. Any user.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth", params(PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the caller's live tokens", body = Page<TokenView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/auth/tokens")]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page.limit()?;
    let before = page.id_cursor()?;
    let now = state.now_ms();
    let current = caller.token_hash.clone();
    let rows = state
        .db(move |c| crate::rules::tokens::list(c, &caller, before, limit + 1, now))
        .await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<TokenView> = rows
        .into_iter()
        .take(limit as usize)
        .map(|t| token_view(t, &current))
        .collect();
    let next_cursor = more
        .then(|| items.last().map(|t| t.id.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Revoke one of your tokens
///
/// The token is refused from then on (the one in use too). Any user, for
/// their own tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id, from `GET /api/v1/auth/tokens`")),
    responses(
        (status = 204, description = "Token revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No live token of yours with this id", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api/v1/auth/tokens/{id}")]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let id = id.into_inner();
    state
        .db(move |c| crate::rules::tokens::revoke(c, &caller, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revoke all of a user's tokens
///
/// Every live token of the user is refused from then on: for a leaked token
/// or a user who must lose access now. Admins only.
#[utoipa::path(delete, path = "/api/v1/users/{username}/tokens", tag = "auth", security(("bearer" = [])),
    params(("username" = String, Path, description = "User name")),
    responses(
        (status = 204, description = "The user's tokens are revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/api/v1/users/{username}/tokens")]
pub async fn revoke_user_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    username: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let now = state.now_ms();
    let username = username.into_inner();
    state
        .db(move |c| crate::rules::tokens::revoke_all(c, &caller, &username, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
