//! The authenticated caller of a request, from `Authorization: Bearer …`
//! or the web page's session cookie.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use herd_core::clock::Millis;
use herd_core::domain::Role;
use herd_core::store::{tokens, users::User, AnyConnection};

use super::{session, token};
use crate::forwarded::TrustedProxies;
use crate::problem::ApiError;
use crate::request_id::RequestId;

#[derive(Clone)]
pub struct Caller {
    pub user: User,
    /// Identifies the token in use, so it can be revoked.
    pub token_hash: String,
    /// The client's address, for the audit log.
    pub client_addr: String,
    /// This request's id, for the audit log and the commands it records.
    pub request_id: String,
}

impl Caller {
    /// `403` unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {} role",
                role.as_str()
            )))
        }
    }
}

/// The client's address for audit and throttling: the peer's, or whom a
/// trusted proxy forwards for (see [`TrustedProxies`], the app's data).
pub fn client_addr(req: &HttpRequest) -> String {
    match req.app_data::<web::Data<TrustedProxies>>() {
        Some(trusted) => trusted.client_of(req.peer_addr(), req.headers()),
        None => TrustedProxies::default().client_of(req.peer_addr(), req.headers()),
    }
}

/// The token a request presents, not looked up yet. A handler that goes
/// to the database anyway takes this instead of [`Caller`] and resolves it
/// in the same trip: one hand-off to the blocking pool and one pooled
/// connection instead of two.
pub struct Bearer {
    token_hash: String,
    client_addr: String,
    request_id: String,
}

impl Bearer {
    /// The caller, or `401` for a token that is unknown, expired or revoked.
    pub fn resolve(self, conn: &mut AnyConnection, now: Millis) -> Result<Caller, ApiError> {
        let user = tokens::live_user(conn, &self.token_hash, now)?;
        self.caller(user)
    }

    /// The caller, given the live token's user (looked up with others').
    pub fn caller(self, user: Option<User>) -> Result<Caller, ApiError> {
        let user = user.ok_or_else(|| {
            ApiError::Unauthorized("the token is unknown, expired or revoked".into())
        })?;
        Ok(Caller {
            user,
            token_hash: self.token_hash,
            client_addr: self.client_addr,
            request_id: self.request_id,
        })
    }

    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }
}

impl FromRequest for Bearer {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    /// `Authorization: Bearer …` when the header is there; otherwise the web
    /// page's session cookie (whose changes [`super::session::guard`] has
    /// checked for their CSRF proof before any handler runs).
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secret = match req.headers().get(header::AUTHORIZATION) {
            Some(value) => value.to_str().ok().and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .map(|t| t.trim().to_owned())
            }),
            None => session::secret_of(req),
        };
        let bearer = secret
            .map(|t| Bearer {
                token_hash: token::hash(&t),
                client_addr: client_addr(req),
                request_id: RequestId::of(req),
            })
            .ok_or_else(|| {
                ApiError::Unauthorized("send a token as `Authorization: Bearer <token>`; get one from POST /api/v1/auth/tokens".into())
            });
        ready(bearer)
    }
}
