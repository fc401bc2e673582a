//! The OpenAPI 3.1 document, generated from the handlers. It is also the
//! route table the server consults to tell "no such path" (404) from "no
//! such method on this path" (405).

use std::sync::OnceLock;

use serde_json::{json, Value};
use utoipa::openapi::path::PathItem;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::{Problem, PROBLEM_JSON};
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "herd",
        description = "Manages a fleet of student Linux guests on a z/VM hypervisor: provisioning, \
                       the warm pool, services, power and timed firewall openings.\n\n\
                       Errors are RFC 9457 `application/problem+json`. Authenticate with \
                       `POST /api/v1/auth/tokens` and send `Authorization: Bearer <token>`. \
                       The web page at `/` logs in with `POST /api/v1/auth/session` instead: \
                       a cookie, and an `X-CSRF-Token` header with every change.",
        contact(name = "herd maintainers")
    ),
    servers((url = "/", description = "The server that serves this document")),
    paths(
        routes::system::healthz,
        routes::system::readyz,
        routes::system::metrics,
        routes::system::system_tasks,
        routes::auth::create_token,
        routes::auth::revoke_current_token,
        routes::auth::list_tokens,
        routes::auth::revoke_token,
        routes::auth::revoke_user_tokens,
        routes::sessions::create_session,
        routes::sessions::get_session,
        routes::sessions::delete_session,
        routes::me::me,
        routes::lans::list_lans,
        routes::lans::create_lan,
        routes::lans::delete_lan,
        routes::catalog::service_catalog,
        routes::ssh::guest_known_hosts,
        routes::ssh::all_known_hosts,
        routes::images::list_images,
        routes::images::list_versions,
        routes::images::publish_version,
        routes::images::retire_version,
        routes::images::start_rollout,
        routes::guests::list_guests,
        routes::guests::request_guest,
        routes::guests::get_guest,
        routes::guests::patch_guest,
        routes::guests::delete_guest,
        routes::resets::reset_guest,
        routes::resets::undo_reset,
        routes::guests::guest_tags,
        routes::pool::get_pool,
        routes::pool::put_pool,
        routes::pool::repopulate_pool,
        routes::batches::create_batch,
        routes::batches::list_batches,
        routes::batches::get_batch,
        routes::batches::cancel_batch,
        routes::batches::retry_batch,
        routes::batches::reclaim,
        routes::services::list_services,
        routes::services::patch_service,
        routes::services::service_action,
        routes::services::power,
        routes::services::get_command,
        routes::events::list_events,
        routes::events::stream_events,
        routes::dns::zone,
        routes::firewall::get_policy,
        routes::firewall::list_guest_leases,
        routes::firewall::open_lease,
        routes::firewall::list_leases,
        routes::firewall::close_lease,
        routes::firewall::renew_lease,
        routes::firewall::ruleset,
        routes::operations::staged_start,
        routes::operations::staged_stop,
        routes::jobs::list_jobs,
        routes::jobs::get_job,
        routes::jobs::cancel_job,
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Logins and tokens"),
        (name = "guests", description = "Guests: request, read, change, decommission"),
        (name = "pool", description = "The warm pool"),
        (name = "jobs", description = "Long-running work"),
        (name = "operations", description = "Fleet operations: staged start and stop"),
        (name = "provisioning", description = "Batches for courses and end-of-term reclaims"),
        (name = "lans", description = "Guest LANs"),
        (name = "images", description = "Golden images"),
        (name = "services", description = "The service catalog, guests' services and commands"),
        (name = "events", description = "Monitor, lifecycle and audit events"),
        (name = "dns", description = "The guests' DNS zone"),
        (name = "firewall", description = "Timed firewall openings (leases), the policy and the router's ruleset"),
        (name = "system", description = "Health, readiness, metrics and background tasks"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("opaque")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::session::COOKIE,
                "The web page's session (`POST /api/v1/auth/session`); every change \
                 made with it also needs the session's `X-CSRF-Token` header",
            ))),
        );
    }
}

/// The document the server serves and `openapi/openapi.json` holds: what
/// utoipa derives from the handlers, refined where the derive cannot say
/// it (see [`refine`]).
pub fn document() -> utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        refine(&mut doc);
        serde_json::from_value(doc).unwrap_or_else(|_| ApiDoc::openapi())
    })
    .clone()
}

/// The document as checked in at `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// What the derive leaves out: every page names its item schema instead
/// of copying it, every operation that reads a body says that a body that
/// is not JSON is `400`, and the two paths served by the docs UI.
fn refine(doc: &mut Value) {
    reference_page_items(doc);
    document_unreadable_bodies(doc);
    document_self(doc);
    document_sessions(doc);
    link_requested_guests(doc);
    describe_event_messages(doc);
}

/// Each server-sent event of the events stream, as its fields: `data` is
/// an `EventView` in JSON.
fn describe_event_messages(doc: &mut Value) {
    let Some(media) = doc.pointer_mut(
        "/paths/~1api~1v1~1events~1stream/get/responses/200/content/text~1event-stream",
    ) else {
        return;
    };
    media["schema"] = json!({
        "type": "object",
        "description": "One server-sent event",
        "properties": {
            "id": { "type": "string", "description": "The event's id: send it back as `Last-Event-ID`" },
            "event": { "type": "string" },
            "retry": { "type": "integer", "minimum": 0 },
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": { "$ref": "#/components/schemas/EventView" }
            }
        }
    });
}

/// OpenAPI links from a requested guest to what can be done with it next,
/// for clients and for stateful testing.
fn link_requested_guests(doc: &mut Value) {
    const NEXT: [(&str, &str); 7] = [
        ("GetGuest", "get_guest"),
        ("ChangeGuest", "patch_guest"),
        ("GuestTags", "guest_tags"),
        ("GuestServices", "list_services"),
        ("GuestLeases", "list_guest_leases"),
        ("OpenPort", "open_lease"),
        ("Power", "power"),
    ];
    let links = |name: &str| -> Value {
        NEXT.iter()
            .map(|(link, op)| {
                (
                    (*link).to_owned(),
                    json!({ "operationId": op, "parameters": { "name": name } }),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let Some(responses) = doc.pointer_mut("/paths/~1api~1v1~1guests/post/responses") else {
        return;
    };
    responses["201"]["links"] = links("$response.body#/name");
    responses["202"]["links"] = links("$response.body#/guest");
}

fn reference_page_items(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let known: Vec<String> = schemas.keys().cloned().collect();
    for (name, schema) in schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_") else {
            continue;
        };
        if known.iter().any(|k| k == item) {
            schema["properties"]["items"]["items"] =
                json!({ "$ref": format!("#/components/schemas/{item}") });
        }
    }
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

fn document_unreadable_bodies(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|i| i.values_mut())
    {
        if op.get("requestBody").is_some() {
            op["responses"]["400"] = problem("The body is not JSON (or not readable)");
        }
    }
}

/// Every operation a bearer token opens is open to the web page's session
/// too, and every change can meet the session guard's `403`.
fn document_sessions(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (method, op) in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|i| i.iter_mut())
    {
        let by_bearer = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        if by_bearer {
            if let Some(security) = op["security"].as_array_mut() {
                security.push(json!({ "session": [] }));
            }
        }
        let responses = &mut op["responses"];
        if method != "get" && responses.get("403").is_none() {
            responses["403"] = problem(
                "A browser sent it from a page of another origin, or sent it with the \
                 session cookie but without the session's `X-CSRF-Token`",
            );
        }
    }
}

/// `GET /openapi.json` and `GET /docs` are served by the docs UI, and the
/// web page's files by [`crate::web_page`], not by utoipa-described
/// handlers, so they are described here.
fn document_self(doc: &mut Value) {
    let unparsable = json!({
        "description": "Not a readable HTTP request (the HTTP layer answers with an empty body)"
    });
    doc["paths"]["/openapi.json"] = json!({ "get": {
        "tags": ["system"],
        "summary": "This document",
        "description": "The OpenAPI 3.1 document, generated from the server's code. Anyone.",
        "operationId": "openapi_document",
        "security": [{}],
        "responses": {
            "200": { "description": "The document", "content": { "application/json": { "schema": { "type": "object" } } } },
            "400": unparsable.clone()
        }
    }});
    doc["paths"]["/docs"] = json!({ "get": {
        "tags": ["system"],
        "summary": "Interactive API docs",
        "description": "A page that leads to `/docs/`, where Swagger UI shows this document. It is built into the server and works offline. Anyone.",
        "operationId": "api_docs",
        "security": [{}],
        "responses": {
            "200": { "description": "The page", "content": { "text/html": { "schema": { "type": "string" } } } },
            "400": unparsable.clone()
        }
    }});
    for (path, content_type) in crate::web_page::paths() {
        let media = content_type.split(';').next().unwrap_or(content_type);
        doc["paths"][path] = json!({ "get": {
            "tags": ["system"],
            "summary": format!("The web page: {path}"),
            "description": "The self-service web page (or one of its files), built into the server. Anyone; the page logs in with `POST /api/v1/auth/session`.",
            "operationId": match path.trim_matches('/') {
                "" => "web_page".to_owned(),
                file => format!("web_page_{}", file.replace(['/', '.'], "_")),
            },
            "security": [{}],
            "responses": {
                "200": {
                    "description": "The file, with the page's Content-Security-Policy",
                    "headers": { "Content-Security-Policy": { "schema": { "type": "string" } } },
                    "content": { media: { "schema": { "type": "string" } } }
                },
                "400": unparsable.clone()
            }
        }});
    }
}

struct Route {
    segments: Vec<String>,
    methods: Vec<&'static str>,
}

fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        document()
            .paths
            .paths
            .iter()
            .map(|(path, item)| Route {
                segments: path.split('/').map(str::to_owned).collect(),
                methods: methods_of(item),
            })
            .collect()
    })
}

fn methods_of(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(m, present)| present.then_some(m))
    .collect()
}

/// The methods the API offers on a path, when it knows the path at all.
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    let wanted: Vec<&str> = path.split('/').collect();
    routes()
        .iter()
        .find(|r| {
            r.segments.len() == wanted.len()
                && r.segments.iter().zip(&wanted).all(|(pattern, seg)| {
                    pattern == seg || (pattern.starts_with('{') && !seg.is_empty())
                })
        })
        .map(|r| r.methods.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_in_document_is_what_the_code_generates() {
        let checked_in = include_str!("../../openapi/openapi.json");
        assert!(
            checked_in == document_json(),
            "openapi/openapi.json is stale: refresh it with \
             `cargo run -p herd-api --bin herd-server -- openapi > openapi/openapi.json`"
        );
    }

    #[test]
    fn document_is_openapi_3_1_with_bearer_security() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn every_operation_documents_its_errors_and_security() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(
                    op.get("security").is_some(),
                    "{method} {path} has no security"
                );
                let responses = op["responses"].as_object().unwrap();
                for (code, r) in responses {
                    assert!(r.get("description").is_some(), "{method} {path} {code}");
                }
                let protected = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                if protected {
                    assert!(
                        responses.contains_key("401"),
                        "{method} {path} does not document 401"
                    );
                }
            }
        }
    }

    #[test]
    fn known_paths_with_other_methods_are_recognised() {
        assert_eq!(allowed_methods("/api/v1/me"), Some(vec!["GET"]));
        assert_eq!(allowed_methods("/api/v1/nope"), None);
    }
}
