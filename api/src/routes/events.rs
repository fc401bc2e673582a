//! `GET /api/v1/events`: monitor, lifecycle and audit events.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use futures_util::stream;
use herd_core::clock::rfc3339;
use herd_core::domain::{EventKind, Role};
use herd_core::store::events::{self, Event, EventFilter, Outcome, OwnedEvent};
use herd_core::store::{guests, AnyConnection};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};

use super::{Page, PageQuery};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    pub kind: EventKind,
    /// Username, or `system`.
    pub actor: String,
    #[schema(example = "guest.request")]
    pub action: String,
    pub target: Option<String>,
    pub client_addr: Option<String>,
    pub outcome: Outcome,
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
    pub kind: Option<EventKind>,
}

/// Monitor, lifecycle and audit events
///
/// Newest first. Admins see all; other users see the events of their own
/// guests. `GET /api/v1/events/stream` delivers the same events as they
/// happen.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery, PageQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = Page<EventView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid kind, limit or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EventsQuery>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let limit = page.limit()?;
    let before = page.id_cursor()?;
    let (rows, more) = state
        .db(move |c| {
            let filter = EventFilter {
                before,
                limit,
                ..visible_to(c, &caller, &query)?
            };
            Ok(events::list(c, &filter)?)
        })
        .await?;
    let next_cursor = more
        .then(|| rows.last().map(|e| e.id.to_string()))
        .flatten();
    let items = rows.into_iter().map(event_view).collect();
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// The events `caller` may see that `q` asks for: admins all, others those
/// of the guests they own (SPEC §4).
fn visible_to(c: &mut AnyConnection, caller: &Caller, q: &EventsQuery) -> ApiResult<EventFilter> {
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
    Ok(EventFilter {
        guest_id,
        owner_id: (!admin).then_some(caller.user.id),
        kind: q.kind,
        ..Default::default()
    })
}

fn event_view(e: Event) -> EventView {
    EventView {
        id: e.id,
        at: rfc3339(e.at),
        kind: e.kind,
        actor: e.actor,
        action: e.action,
        target: e.target,
        client_addr: e.client_addr,
        outcome: e.outcome,
        detail: e.detail,
        request_id: e.request_id,
    }
}

/// Idle streams get a comment this often, so that proxies and clients
/// keep the connection.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Backlog read at a time.
const BACKLOG_PAGE: i64 = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct ResumeFrom {
    /// The `id:` of the last event received: the stream first sends what
    /// came after it.
    #[serde(rename = "Last-Event-ID")]
    #[param(rename = "Last-Event-ID", minimum = 0)]
    pub last_event_id: Option<i64>,
}

fn last_event_id(req: &HttpRequest) -> ApiResult<Option<i64>> {
    let Some(v) = req.headers().get("last-event-id") else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .and_then(|t| t.trim().parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .map(Some)
        .ok_or_else(|| {
            ApiError::Unprocessable("Last-Event-ID must be an event id this server sent".into())
        })
}

/// Events as they happen (server-sent events)
///
/// A `text/event-stream` of the events `GET /api/v1/events` would list to
/// this caller, one message per event: `id:` its id, `data:` the event as
/// JSON. A new stream starts with what happens from then on; a client that
/// reconnects with `Last-Event-ID` first gets what it missed, in order,
/// nothing twice. A comment line every 15 seconds keeps idle connections
/// open.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", params(EventsQuery, ResumeFrom), security(("bearer" = [])),
    responses(
        (status = 200, description = "The stream; each `data:` line holds an `EventView`", body = String, content_type = "text/event-stream"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such guest (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid kind or Last-Event-ID", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server is shutting down", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/api/v1/events/stream")]
pub async fn stream_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EventsQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let resume = last_event_id(&req)?;
    let live = state
        .feed
        .subscribe()
        .ok_or_else(|| ApiError::Unavailable("the server is shutting down".into()))?;
    let viewer = Viewer {
        admin: caller.user.role == Role::Admin,
        user_id: caller.user.id,
    };
    let (filter, cursor) = state
        .db(move |c| {
            let filter = visible_to(c, &caller, &query)?;
            let cursor = match resume {
                Some(id) => id,
                None => events::newest_id(c)?,
            };
            Ok((filter, cursor))
        })
        .await?;
    let follow = Follow {
        state: state.clone(),
        live,
        viewer,
        filter,
        cursor,
        backlog: true,
        queue: VecDeque::from([Bytes::from_static(b"retry: 1000\n\n")]),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream::unfold(follow, Follow::next)))
}

struct Viewer {
    admin: bool,
    user_id: i64,
}

/// One open stream: the backlog from the database first, then the feed.
struct Follow {
    state: web::Data<AppState>,
    live: broadcast::Receiver<Arc<OwnedEvent>>,
    viewer: Viewer,
    filter: EventFilter,
    /// The id of the last event sent (or where the stream began).
    cursor: i64,
    /// Read from the database before listening (at the start, and after
    /// falling behind the feed).
    backlog: bool,
    queue: VecDeque<Bytes>,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if let Some(message) = self.queue.pop_front() {
                return Some((Ok(message), self));
            }
            if self.backlog {
                let (after, filter) = (self.cursor, self.filter.clone());
                let rows = self
                    .state
                    .db(move |c| Ok(events::after(c, after, &filter, BACKLOG_PAGE)?))
                    .await
                    .ok()?;
                self.backlog = rows.len() as i64 == BACKLOG_PAGE;
                for e in rows {
                    self.send(e.event);
                }
                continue;
            }
            match actix_web::rt::time::timeout(KEEPALIVE, self.live.recv()).await {
                Err(_) => self.queue.push_back(Bytes::from_static(b": keepalive\n\n")),
                Ok(Ok(e)) if e.event.id > self.cursor && self.shows(&e) => {
                    self.send(e.event.clone())
                }
                Ok(Ok(_)) => {}
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => self.backlog = true,
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            }
        }
    }

    fn shows(&self, e: &OwnedEvent) -> bool {
        let f = &self.filter;
        (self.viewer.admin || e.owner_id == Some(self.viewer.user_id))
            && f.guest_id.is_none_or(|g| e.event.guest_id == Some(g))
            && f.kind.is_none_or(|k| e.event.kind == k)
    }

    fn send(&mut self, e: Event) {
        self.cursor = e.id;
        let data = serde_json::to_string(&event_view(e)).unwrap_or_default();
        self.queue.push_back(Bytes::from(format!(
            "id: {}\ndata: {data}\n\n",
            self.cursor
        )));
    }
}
