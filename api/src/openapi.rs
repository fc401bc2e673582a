//! The OpenAPI 3.1 document, generated from the handlers. It is also the
//! route table the server consults to tell "no such path" (404) from "no
//! such method on this path" (405).

use std::sync::OnceLock;

use utoipa::openapi::path::PathItem;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::Problem;
use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "herd",
        description = "Manages a fleet of student Linux guests on a z/VM hypervisor: provisioning, \
                       the warm pool, services, power and timed firewall openings.\n\n\
                       Errors are RFC 9457 `application/problem+json`. Authenticate with \
                       `POST /api/v1/auth/tokens` and send `Authorization: Bearer <token>`."
    ),
    paths(
        routes::system::healthz,
        routes::system::readyz,
        routes::system::metrics,
        routes::system::system_tasks,
        routes::auth::create_token,
        routes::auth::revoke_current_token,
        routes::me::me,
        routes::lans::list_lans,
        routes::catalog::service_catalog,
        routes::catalog::list_images,
        routes::guests::list_guests,
        routes::guests::request_guest,
        routes::guests::get_guest,
        routes::guests::patch_guest,
        routes::guests::delete_guest,
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
    }
}

/// The document as checked in at `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

struct Route {
    segments: Vec<String>,
    methods: Vec<&'static str>,
}

fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        ApiDoc::openapi()
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
