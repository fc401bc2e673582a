//! The rules of the warm pool (SPEC §10): its bounds, and the refill an
//! admin asks for.

use herd_core::clock::Millis;
use herd_core::domain::JobKind;
use herd_core::store::events::Outcome;
use herd_core::store::{jobs, write_tx, AnyConnection};
use herd_provisioner::pool::{self, PoolSettings, PoolShape};

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{capacity_error, ApiError, ApiResult};

/// The maximum keeps a typo from cloning the whole LAN full.
const MAX_TARGET: u32 = 10_000;

/// New pool settings, within what the LANs can hold; audited.
pub fn update(
    c: &mut AnyConnection,
    caller: &Caller,
    settings: PoolSettings,
    now: Millis,
) -> ApiResult<()> {
    if settings.target_size > MAX_TARGET {
        return Err(ApiError::Unprocessable(format!(
            "target_size is at most {MAX_TARGET}"
        )));
    }
    // Checked and saved in one transaction: guests taken meanwhile must not
    // slip in between.
    write_tx(c, |c| {
        let room = pool::room(c)?;
        if settings.target_size > room.max_target() {
            return Err(ApiError::Unprocessable(format!(
                "target_size {} is more than the LANs can hold: {} free addresses \
                 plus {} pooled and {} being cloned for the pool make at most {}",
                settings.target_size,
                room.free_addresses,
                room.pooled,
                room.provisioning,
                room.max_target()
            )));
        }
        settings.save(c, now)?;
        Ok(())
    })?;
    let detail = format!(
        "target_size {} {}",
        settings.target_size,
        pool::copy_method_name(settings.copy_method)
    );
    audit(
        c,
        caller,
        "pool.update",
        Target::Named("pool"),
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    Ok(())
}

/// Queues the clones the pool lacks now, as many as names and addresses
/// allow (`503` when that is none while the pool is short), and a job
/// that follows them; answers the job.
pub fn repopulate(
    c: &mut AnyConnection,
    caller: &Caller,
    shape: &PoolShape,
    defaults: PoolSettings,
    now: Millis,
) -> ApiResult<i64> {
    let settings = PoolSettings::load(c, defaults)?;
    let done = pool::top_up(c, shape, settings, now).map_err(capacity_error)?;
    if let (true, Some(short)) = (done.queued.is_empty(), &done.short) {
        return Err(ApiError::Unavailable(short.to_string()));
    }
    let queued = done.queued;
    let params = serde_json::json!({ "jobs": queued }).to_string();
    let new = jobs::NewJob {
        kind: JobKind::PoolRepopulate,
        requested_by: Some(caller.user.id),
        target: Some("pool"),
        params: &params,
        total: queued.len() as i32,
    };
    // The clones run as one provisioning job each; the repopulate follower
    // finishes this one when they all have.
    let id = jobs::create(c, &new, now)?;
    audit(
        c,
        caller,
        "pool.repopulate",
        Target::Named("pool"),
        Outcome::Success,
        Some(&format!("{} clones queued", queued.len())),
        now,
    )?;
    Ok(id)
}
