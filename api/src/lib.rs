//! herd-api: the web front. It authenticates users, records what they ask
//! for and answers from the database; it never touches the hypervisor
//! itself (SPEC §3).

pub mod app;
pub mod assigner;
pub mod auth;
pub mod backup;
mod batching;
mod blocking;
mod conditional;
pub mod config;
pub mod event_feed;
mod extract;
pub mod finishes;
pub mod forwarded;
pub mod idempotency;
pub mod metrics;
mod middleware;
pub mod openapi;
pub mod problem;
pub mod recorder;
pub mod request_id;
pub mod routes;
pub mod rules;
pub mod state;
pub mod tls;
pub mod web_page;
