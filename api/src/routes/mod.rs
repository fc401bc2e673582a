//! HTTP handlers, one module per resource.

pub mod auth;
pub mod batches;
pub mod catalog;
pub mod dns;
pub mod events;
pub mod firewall;
pub mod guests;
pub mod images;
pub mod jobs;
pub mod lans;
pub mod me;
pub mod operations;
pub mod pool;
pub mod resets;
pub mod services;
pub mod sessions;
pub mod ssh;
pub mod system;

use actix_web::web;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::{ApiError, ApiResult};

/// Every list answers `{items, next_cursor}` (SPEC §4).
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `limit` and `cursor`, which every list takes (SPEC §4).
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size.
    #[param(minimum = 1, maximum = 500, default = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size asked for: 1–500, 100 when not given.
    pub fn limit(&self) -> ApiResult<i64> {
        match self.limit.unwrap_or(100) {
            n @ 1..=500 => Ok(i64::from(n)),
            n => Err(ApiError::Unprocessable(format!(
                "limit must be between 1 and 500, not {n}"
            ))),
        }
    }

    /// A cursor that is an id (lists newest first): the last id of a page.
    pub fn id_cursor(&self) -> ApiResult<Option<i64>> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(foreign_cursor)
            })
            .transpose()
    }

    /// A cursor that is text (lists in name order), as [`text_cursor`] made it.
    pub fn text_cursor(&self) -> ApiResult<Option<String>> {
        self.cursor
            .as_deref()
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(foreign_cursor)
            })
            .transpose()
    }
}

/// The cursor after `last` in a list in name order.
pub fn text_cursor(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last)
}

fn foreign_cursor() -> ApiError {
    ApiError::Unprocessable("cursor is not one this server handed out".into())
}

impl<T> Page<T> {
    /// A page of a list short enough to be read whole: the cursor counts
    /// the items on earlier pages.
    pub fn window(all: Vec<T>, q: &PageQuery) -> ApiResult<Self> {
        let limit = q.limit()? as usize;
        let skip = q.id_cursor()?.unwrap_or(0) as usize;
        let more = all.len() > skip.saturating_add(limit);
        Ok(Self {
            items: all.into_iter().skip(skip).take(limit).collect(),
            next_cursor: more.then(|| (skip + limit).to_string()),
        })
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(system::healthz)
        .service(system::readyz)
        .service(system::metrics)
        .service(system::system_tasks)
        .service(auth::create_token)
        .service(auth::revoke_current_token)
        .service(auth::list_tokens)
        .service(auth::revoke_token)
        .service(auth::revoke_user_tokens)
        .service(sessions::create_session)
        .service(sessions::get_session)
        .service(sessions::delete_session)
        .service(me::me)
        .service(lans::list_lans)
        .service(lans::create_lan)
        .service(lans::delete_lan)
        .service(catalog::service_catalog)
        .service(images::list_images)
        .service(images::list_versions)
        .service(images::publish_version)
        .service(images::retire_version)
        .service(images::start_rollout)
        .service(guests::list_guests)
        .service(guests::request_guest)
        .service(guests::get_guest)
        .service(guests::patch_guest)
        .service(guests::delete_guest)
        .service(guests::guest_tags)
        .service(resets::reset_guest)
        .service(resets::undo_reset)
        .service(ssh::guest_known_hosts)
        .service(ssh::all_known_hosts)
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
        .service(events::stream_events)
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
        .service(jobs::get_job)
        .service(jobs::cancel_job);
}
