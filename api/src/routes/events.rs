//! `GET /api/v1/events`: monitor, lifecycle and audit events.

use actix_web::{get, web, HttpResponse};
use herd_core::clock::rfc3339;
use herd_core::domain::Role;
use herd_core::store::events::{self, EventFilter};
use herd_core::store::guests;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::page_limit;
use super::Page;
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub at: String,
    /// `audit`, `monitor`, `lifecycle`, `provisioning`, `firewall`, …
    pub kind: String,
    /// Username, or `system`.
    pub actor: String,
    #[schema(example = "guest.request")]
    pub action: String,
    pub target: Option<String>,
    pub client_addr: Option<String>,
    /// `success | failure | info | warning`
    pub outcome: String,
    pub detail: Option<String>,
    /// The id of the request that made an audited change (its answer's
    /// `x-request-id`); `null` for background work.
    pub request_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events about this guest.
    pub guest: Option<String>,
    /// Only events of this kind.
    pub kind: Option<String>,
    /// Page size, 1–500 (default 100).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Events, newest first. Admins see all; other users see the events of
/// their own guests.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = Page<EventView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EventsQuery>,
) -> ApiResult<HttpResponse> {
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let before = super::id_cursor(q.cursor.as_deref())?;
    let page = state
        .db(move |c| {
            let admin = caller.user.role == Role::Admin;
            let guest_id = match &q.guest {
                Some(name) => {
                    let g = guests::find_by_name(c, &name.to_ascii_uppercase())?
                        .filter(|g| admin || g.row.owner_id == Some(caller.user.id))
                        .ok_or_else(|| ApiError::NotFound(format!("no guest named {name}")))?;
                    Some(g.row.id)
                }
                None => None,
            };
            let filter = EventFilter {
                guest_id,
                owner_id: (!admin).then_some(caller.user.id),
                kind: q.kind,
                action: None,
                before,
                limit,
            };
            Ok(events::list(c, &filter)?)
        })
        .await?;
    let (rows, more) = page;
    let next_cursor = more
        .then(|| rows.last().map(|e| e.id.to_string()))
        .flatten();
    let items = rows
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            at: rfc3339(e.at),
            kind: e.kind,
            actor: e.actor,
            action: e.action,
            target: e.target,
            client_addr: e.client_addr,
            outcome: e.outcome.as_str().into(),
            detail: e.detail,
            request_id: e.request_id,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}
