//! Monitor and audit events (SPEC §3: who, what, which target, when, from
//! which address, outcome).

use diesel::prelude::*;

use super::schema::events;
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Info,
    Warning,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Info => "info",
            Outcome::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// `audit` for changes made through the API, `monitor`, `lifecycle`, …
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    /// Username, or `system` for background work.
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub guest_id: Option<i64>,
    pub client_addr: Option<&'a str>,
    pub outcome: Outcome,
    pub detail: Option<&'a str>,
}

pub fn record(conn: &mut AnyConnection, e: &NewEvent, at: Millis) -> StoreResult<()> {
    diesel::insert_into(events::table)
        .values((
            events::at.eq(at),
            events::kind.eq(e.kind),
            events::actor_id.eq(e.actor_id),
            events::actor.eq(e.actor),
            events::action.eq(e.action),
            events::target.eq(e.target),
            events::guest_id.eq(e.guest_id),
            events::client_addr.eq(e.client_addr),
            events::outcome.eq(e.outcome.as_str()),
            events::detail.eq(e.detail),
        ))
        .execute(conn)?;
    Ok(())
}
