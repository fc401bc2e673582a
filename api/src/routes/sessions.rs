//! `/api/v1/auth/session`: the web page's login, in a cookie its scripts
//! never see (SPEC §9; design in docs/web.md).

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::store::{tokens, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{log_in, Credentials};
use super::me::{me_view, Me};
use crate::auth::session::{self, CookiePolicy};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Send as `X-CSRF-Token` with every request that changes something.
    pub csrf_token: String,
    #[schema(format = DateTime, example = "2026-11-27T15:00:00Z")]
    pub expires_at: String,
    pub user: Me,
}

fn no_session() -> ApiError {
    ApiError::Unauthorized("no session cookie: log in with POST /api/v1/auth/session".into())
}

fn policy(state: &AppState) -> CookiePolicy {
    CookiePolicy {
        always_secure: state.settings.cookie_secure,
    }
}

/// Log in (web page)
///
/// Like `POST /api/v1/auth/tokens`, but the token goes into the
/// `herd_session` cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
/// TLS), and the answer carries the CSRF token that every change made with
/// the cookie must send as `X-CSRF-Token`. A login sent by a page of
/// another origin is `403`. Anyone.
#[utoipa::path(
    post,
    path = "/api/v1/auth/session",
    tag = "auth",
    request_body = SessionRequest,
    security(()),
    responses(
        (status = 201, description = "Logged in; the session cookie is set", body = Session,
            headers(("Set-Cookie" = String, description = "`herd_session=…; HttpOnly; SameSite=Strict; Path=/` (and `Secure` over TLS)"))),
        (status = 401, description = "Bad credentials (also an empty password)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Sent by a page of another origin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields missing or invalid", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this user name or address; see Retry-After", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until another attempt is allowed"))),
        (status = 503, description = "The directory or database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/session")]
pub async fn create_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SessionRequest>,
) -> ApiResult<HttpResponse> {
    let credentials = Credentials {
        username: &body.username,
        password: &body.password,
        ttl_seconds: None,
    };
    let login = log_in(&state, &req, credentials, "session.create").await?;
    let max_age = (login.expires_at - state.now_ms()) / 1000;
    let cookie = policy(&state).cookie(&req, &login.token.token, max_age);
    Ok(HttpResponse::Created().cookie(cookie).json(Session {
        csrf_token: session::csrf_token(&login.token.token),
        expires_at: rfc3339(login.expires_at),
        user: login.user,
    }))
}

/// The web page's session
///
/// For a page loaded again: who is logged in by the session cookie, and
/// the CSRF token to send with changes. `401` without a live session
/// cookie (a bearer token is not a session).
#[utoipa::path(
    get,
    path = "/api/v1/auth/session",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session", body = Session),
        (status = 401, description = "No live session cookie", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/auth/session")]
pub async fn get_session(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let secret = session::secret_of(&req).ok_or_else(no_session)?;
    let hash = crate::auth::token::hash(&secret);
    let now = state.now_ms();
    let found = state
        .db(move |c| {
            let Some(user) = tokens::live_user(c, &hash, now)? else {
                return Ok(None);
            };
            let expires_at = tokens::expiry(c, &hash)?.unwrap_or(now);
            let used = users::guests_held(c, user.id)?;
            Ok(Some((me_view(&user, used), expires_at)))
        })
        .await?;
    let (user, expires_at) = found.ok_or_else(|| {
        ApiError::Unauthorized("the session has ended (expired, revoked or logged out)".into())
    })?;
    Ok(HttpResponse::Ok().json(Session {
        csrf_token: session::csrf_token(&secret),
        expires_at: rfc3339(expires_at),
        user,
    }))
}

/// Log out (web page)
///
/// Ends the session on the server (its token is revoked) and clears the
/// cookie. Needs the session's `X-CSRF-Token`.
#[utoipa::path(
    delete,
    path = "/api/v1/auth/session",
    tag = "auth",
    security(("session" = [])),
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
        (status = 401, description = "No live session cookie (a bearer token is not a session)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No CSRF proof, or sent by a page of another origin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/auth/session")]
pub async fn delete_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    // Only the session itself: a bearer token logs out with
    // `DELETE /api/v1/auth/tokens/current`.
    let by_cookie = session::secret_of(&req)
        .is_some_and(|secret| crate::auth::token::hash(&secret) == caller.token_hash);
    if !by_cookie {
        return Err(no_session());
    }
    let now = state.now_ms();
    state
        .db(move |c| crate::rules::tokens::revoke_current(c, &caller, now))
        .await?;
    Ok(HttpResponse::NoContent()
        .cookie(policy(&state).removal(&req))
        .finish())
}
