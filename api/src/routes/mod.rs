//! HTTP handlers, one module per resource.

pub mod auth;
pub mod batches;
pub mod catalog;
pub mod dns;
pub mod events;
pub mod firewall;
pub mod guests;
pub mod jobs;
pub mod lans;
pub mod me;
pub mod operations;
pub mod pool;
pub mod services;
pub mod system;

use actix_web::web;
use serde::Serialize;
use utoipa::ToSchema;

/// Every list answers `{items, next_cursor}` (SPEC §4).
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list short enough to come whole.
    pub fn complete(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// The page size a list asks for: 1–500, 100 when not given (SPEC §4).
pub fn page_limit(limit: Option<u32>) -> crate::problem::ApiResult<i64> {
    match limit.unwrap_or(100) {
        n @ 1..=500 => Ok(i64::from(n)),
        n => Err(crate::problem::ApiError::Unprocessable(format!(
            "limit must be between 1 and 500, not {n}"
        ))),
    }
}

/// A cursor that is an id (lists newest first): the last id of a page.
pub fn id_cursor(cursor: Option<&str>) -> crate::problem::ApiResult<Option<i64>> {
    cursor
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                crate::problem::ApiError::Unprocessable(
                    "cursor is not one this server handed out".into(),
                )
            })
        })
        .transpose()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(system::healthz)
        .service(system::readyz)
        .service(system::metrics)
        .service(system::system_tasks)
        .service(auth::create_token)
        .service(auth::revoke_current_token)
        .service(me::me)
        .service(lans::list_lans)
        .service(catalog::service_catalog)
        .service(catalog::list_images)
        .service(guests::list_guests)
        .service(guests::request_guest)
        .service(guests::get_guest)
        .service(guests::patch_guest)
        .service(guests::delete_guest)
        .service(guests::guest_tags)
        .service(pool::get_pool)
        .service(pool::put_pool)
        .service(pool::repopulate_pool)
        .service(batches::create_batch)
        .service(batches::list_batches)
        .service(batches::get_batch)
        .service(batches::cancel_batch)
        .service(batches::retry_batch)
        .service(batches::reclaim)
        .service(services::list_services)
        .service(services::patch_service)
        .service(services::service_action)
        .service(services::power)
        .service(services::get_command)
        .service(events::list_events)
        .service(dns::zone)
        .service(firewall::get_policy)
        .service(firewall::list_guest_leases)
        .service(firewall::open_lease)
        .service(firewall::list_leases)
        .service(firewall::close_lease)
        .service(firewall::renew_lease)
        .service(firewall::ruleset)
        .service(operations::staged_start)
        .service(operations::staged_stop)
        .service(jobs::list_jobs)
        .service(jobs::get_job);
}
