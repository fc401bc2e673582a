//! `GET /api/v1/me`.

use actix_web::{get, web, HttpResponse};
use herd_core::domain::Role;
use herd_core::store::users::{self, User};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::problem::{ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Quota {
    /// Guests this user may request for themselves; `null` means no limit.
    pub max_guests: Option<u32>,
    /// Guests this user holds now.
    pub used: u32,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "Alice Student")]
    pub display_name: String,
    #[schema(example = "alice@example.edu", format = Email)]
    pub email: Option<String>,
    pub role: Role,
    pub quota: Quota,
}

pub fn me_view(user: &User, used: i64) -> Me {
    Me {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        role: user.role,
        quota: Quota {
            max_guests: user.max_guests(),
            used: used.max(0) as u32,
        },
    }
}

/// Who am I
///
/// The user the token belongs to, with their role and quota.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The calling user", body = Me),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let user_id = caller.user.id;
    let used = state
        .db(move |c| Ok(users::guests_held(c, user_id)?))
        .await?;
    Ok(HttpResponse::Ok().json(me_view(&caller.user, used)))
}
