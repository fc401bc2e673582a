//! The authenticated caller of a request, from `Authorization: Bearer …`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use herd_core::domain::Role;
use herd_core::store::{tokens, users::User};

use super::token;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Clone)]
pub struct Caller {
    pub user: User,
    /// Identifies the token in use, so it can be revoked.
    pub token_hash: String,
    /// The client's address, for the audit log.
    pub client_addr: String,
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

pub fn client_addr(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let client_addr = client_addr(req);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let bearer = bearer.ok_or_else(|| {
                ApiError::Unauthorized("send a token as `Authorization: Bearer <token>`; get one from POST /api/v1/auth/tokens".into())
            })?;
            let token_hash = token::hash(&bearer);
            let (lookup, now) = (token_hash.clone(), state.now_ms());
            let user = state
                .db(move |c| Ok(tokens::live_user(c, &lookup, now)?))
                .await?;
            let user = user.ok_or_else(|| {
                ApiError::Unauthorized("the token is unknown, expired or revoked".into())
            })?;
            Ok(Caller {
                user,
                token_hash,
                client_addr,
            })
        })
    }
}
