//! The sagas' parameters, frozen into their job's `params` when the job is
//! queued and read back from there by every run of the saga: a saga
//! resumed after a crash (or after a guest's rows changed) does what was
//! asked when it was queued, never something rebuilt from current rows.

use std::collections::BTreeMap;

use herd_core::clock::Millis;
use herd_core::domain::{GuestState, JobKind};
use herd_core::store::guests::{self, Guest};
use herd_core::store::jobs::{self, Job};
use herd_core::store::{lans, AnyConnection, StoreError, StoreResult};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::backend::{CopyMethod, ServiceSpec};
use crate::steps::{DecommissionParams, GuestPlan};

/// A provisioning job's `params`.
#[derive(Debug, Serialize, Deserialize)]
struct ProvisionParams {
    plan: GuestPlan,
}

/// A provisioning job's `params` as releases before frozen plans wrote
/// them: only the copy method.
#[derive(Deserialize)]
struct LegacyProvisionParams {
    method: CopyMethod,
}

/// The `params` of a job provisioning `guest` by `method`: the plan as the
/// guest's rows (services, image, LAN, tags, memory, boot) say now.
pub fn provision_params(
    conn: &mut AnyConnection,
    guest: &Guest,
    method: CopyMethod,
) -> StoreResult<String> {
    let plan = plan_from_rows(conn, guest, method)?;
    serde_json::to_string(&ProvisionParams { plan })
        .map_err(|e| StoreError::Corrupt(format!("guest plan of {}: {e}", guest.row.name)))
}

/// The plan of provisioning job `job` for `guest`, as frozen when the job
/// was queued.
pub fn frozen_plan(conn: &mut AnyConnection, job: &Job, guest: &Guest) -> StoreResult<GuestPlan> {
    if let Some(params) = frozen::<ProvisionParams>(job, "plan")? {
        return Ok(params.plan);
    }
    // Queued by a release that froze only the copy method: such a job is
    // still worth running after an upgrade, and its rows are all it has.
    let legacy: LegacyProvisionParams = parse(job)?;
    plan_from_rows(conn, guest, legacy.method)
}

/// The parameters of decommissioning job `job` for `guest`, as frozen
/// when the job was queued.
pub fn frozen_decommission(job: &Job, guest: &Guest) -> StoreResult<DecommissionParams> {
    match frozen(job, "guest")? {
        Some(params) => Ok(params),
        // Queued by a release that froze nothing (`{}`): as above.
        None => decommission_params(guest),
    }
}

/// Queues the decommissioning of `guest` with its parameters frozen, and
/// marks the guest `decommissioning`; inside the caller's transaction, if
/// any. Answers the job.
pub fn queue_decommission(
    c: &mut AnyConnection,
    guest: &Guest,
    requested_by: Option<i64>,
    now: Millis,
) -> StoreResult<i64> {
    let params = serde_json::to_string(&decommission_params(guest)?)
        .map_err(|e| StoreError::Corrupt(format!("decommission of {}: {e}", guest.row.name)))?;
    guests::set_state(c, guest.row.id, GuestState::Decommissioning, now)?;
    let job = jobs::NewJob {
        kind: JobKind::Decommission,
        requested_by,
        target: Some(&guest.row.name),
        params: &params,
        total: 1,
    };
    jobs::create(c, &job, now)
}

fn decommission_params(guest: &Guest) -> StoreResult<DecommissionParams> {
    Ok(DecommissionParams {
        guest: stored_name(guest, "guests.name", &guest.row.name)?,
        lan: stored_name(guest, "lans.name", &guest.lan)?,
    })
}

/// The plan that makes `guest` as its rows describe it.
fn plan_from_rows(
    conn: &mut AnyConnection,
    guest: &Guest,
    method: CopyMethod,
) -> StoreResult<GuestPlan> {
    let services = guests::services(conn, guest.row.id)?
        .into_iter()
        .map(|(s, enabled, _)| ServiceSpec {
            name: s.name,
            priority: s.priority.max(0) as u32,
            command: s.command,
            enabled,
        })
        .collect();
    let lan = lans::find_by_name(conn, &guest.lan)?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "guest {} is on unknown LAN {}",
            guest.row.name, guest.lan
        ))
    })?;
    Ok(GuestPlan {
        name: stored_name(guest, "guests.name", &guest.row.name)?,
        memory_mb: guest.row.memory_mb.max(1) as u32,
        services,
        image: stored_name(guest, "images.name", &guest.image)?,
        lan: stored_name(guest, "lans.name", &guest.lan)?,
        lan_capacity: lan.capacity.max(1) as u32,
        method,
        tags: tags(guest, &lan),
        // A pool guest boots when it is assigned, not here.
        boot: guest.row.owner_id.is_some() && guest.row.auto_boot,
        root_version: guest.row.target_root_version.max(1) as u32,
    })
}

/// A name stored for `guest` (its own, its LAN's, its image's), parsed.
pub(crate) fn stored_name<T: std::str::FromStr<Err: std::fmt::Display>>(
    guest: &Guest,
    column: &str,
    value: &str,
) -> StoreResult<T> {
    value
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("{column} of guest {}: {e}", guest.row.name)))
}

/// The frozen parameters in `job`, or `None` for a job queued before they
/// were frozen: its params lack `marker`, a field the frozen ones always have.
fn frozen<T: DeserializeOwned>(job: &Job, marker: &str) -> StoreResult<Option<T>> {
    let params: serde_json::Value = parse(job)?;
    if params.get(marker).is_none() {
        return Ok(None);
    }
    serde_json::from_value(params)
        .map(Some)
        .map_err(|e| corrupt(job, e))
}

fn parse<T: DeserializeOwned>(job: &Job) -> StoreResult<T> {
    serde_json::from_str(&job.params).map_err(|e| corrupt(job, e))
}

fn corrupt(job: &Job, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("jobs.params of job {}: {e}", job.id))
}

/// What the guest reads with `hcp TAG QUERY` at boot to configure itself.
pub fn tags(guest: &Guest, lan: &lans::Lan) -> BTreeMap<String, String> {
    let prefix = lan.cidr.split('/').nth(1).unwrap_or("24").to_owned();
    let mut tags = BTreeMap::from([
        ("HOSTNAME".to_owned(), guest.row.hostname.clone()),
        (
            "IPADDR".to_owned(),
            guest.row.ip_address.clone().unwrap_or_default(),
        ),
        ("PREFIX".to_owned(), prefix),
        ("GATEWAY".to_owned(), lan.gateway.clone()),
        ("DNS".to_owned(), lan.dns.clone()),
        ("LAN".to_owned(), lan.name.clone()),
    ]);
    if let Some(owner) = &guest.owner {
        tags.insert("OWNER".to_owned(), owner.clone());
    }
    tags
}
