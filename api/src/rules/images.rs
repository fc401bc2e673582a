//! The rules of images and their root versions (SPEC §7): publishing one
//! (queued for the provisioner), retiring one, starting a rollout. Admins
//! only; the checks and the change are one transaction each.

use herd_core::clock::Millis;
use herd_core::domain::{JobKind, Role, RootState};
use herd_core::store::catalog::{self, Image};
use herd_core::store::events::Outcome;
use herd_core::store::{jobs, roots, serialize_in_tx, write_tx, AnyConnection};
use herd_provisioner::rollout;
use herd_provisioner::roots::PublishParams;

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

const PUBLISH_LOCK: i64 = 0x6865_7264_7075; // "herdpu"

fn json<T: serde::Serialize>(v: &T) -> ApiResult<String> {
    serde_json::to_string(v).map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn image(c: &mut AnyConnection, name: &str) -> ApiResult<Image> {
    catalog::image_by_name(c, name)?.ok_or_else(|| ApiError::NotFound(format!("no image `{name}`")))
}

/// Queues the publication of version latest + 1; one at a time per image.
pub fn publish(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    label: &str,
    now: Millis,
) -> ApiResult<i64> {
    caller.require(Role::Admin)?;
    write_tx(c, |c| {
        serialize_in_tx(c, PUBLISH_LOCK)?;
        let image = image(c, name)?;
        let busy = jobs::unfinished(c, JobKind::RootPublish)?
            .into_iter()
            .find(|j| j.target.as_deref() == Some(name));
        if let Some(job) = busy {
            return Err(ApiError::Conflict(format!(
                "image `{name}` is publishing a version already (job {})",
                job.id
            )));
        }
        let latest = roots::latest(c, image.id)?;
        let params = PublishParams {
            image: image.name.clone(),
            image_id: image.id,
            from: latest,
            version: latest + 1,
            label: label.to_owned(),
        };
        let new = jobs::NewJob {
            kind: JobKind::RootPublish,
            requested_by: Some(caller.user.id),
            target: Some(name),
            params: &json(&params)?,
            total: 1,
        };
        let id = jobs::create(c, &new, now)?;
        let detail = format!("version {} ({label})", latest + 1);
        audit(
            c,
            caller,
            "root.publish",
            Target::Named(name),
            Outcome::Success,
            Some(&detail),
            now,
        )?;
        Ok(id)
    })
}

/// Retires a version nobody boots or will boot; the provisioner frees its
/// disk. Retiring a retired version changes nothing.
pub fn retire(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    version: i32,
    now: Millis,
) -> ApiResult<()> {
    caller.require(Role::Admin)?;
    write_tx(c, |c| {
        serialize_in_tx(c, PUBLISH_LOCK)?;
        let image = image(c, name)?;
        let v = roots::find(c, image.id, version)?.ok_or_else(|| {
            ApiError::NotFound(format!("image `{name}` has no version {version}"))
        })?;
        if v.state == RootState::Retired {
            return Ok(());
        }
        // A rollout may roll guests back to any version they ran.
        if let Some(job) = rollout::unfinished_of(c, name)? {
            return Err(ApiError::Conflict(format!(
                "image `{name}` has an unfinished rollout (job {job}); retire versions after it"
            )));
        }
        if version >= roots::latest(c, image.id)? {
            return Err(ApiError::Conflict(format!(
                "version {version} is the latest of `{name}`: publish another before retiring it"
            )));
        }
        let using = roots::guests_using(c, image.id, version)?;
        if using > 0 || image.root_version == version {
            return Err(ApiError::Conflict(format!(
                "version {version} of `{name}` is in use: {using} guest(s) boot it or will at \
                 their next IPL{}",
                if image.root_version == version {
                    ", and new guests boot it"
                } else {
                    ""
                }
            )));
        }
        roots::retire(c, v.id, now)?;
        let detail = format!("version {version}");
        audit(
            c,
            caller,
            "root.retire",
            Target::Named(name),
            Outcome::Success,
            Some(&detail),
            now,
        )?;
        Ok(())
    })
}

/// A rollout as asked, with the SPEC's defaults filled in.
pub struct RolloutAsk {
    pub version: i32,
    pub settings: rollout::Settings,
}

/// Starts a rollout: every guest's target at once, the restarts queued.
pub fn start_rollout(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    ask: &RolloutAsk,
    now: Millis,
) -> ApiResult<i64> {
    caller.require(Role::Admin)?;
    write_tx(c, |c| {
        // Versions are checked and retired under the one lock, rollouts
        // planned under the other: taken in this order, both first.
        serialize_in_tx(c, PUBLISH_LOCK)?;
        rollout::lock(c)?;
        let image = image(c, name)?;
        let version = ask.version;
        match roots::find(c, image.id, version)? {
            Some(v) if v.state == RootState::Published => {}
            Some(_) => {
                return Err(ApiError::Unprocessable(format!(
                    "version {version} of `{name}` is retired"
                )))
            }
            None => {
                return Err(ApiError::Unprocessable(format!(
                    "image `{name}` has no version {version}"
                )))
            }
        }
        if let Some(job) = rollout::unfinished_of(c, name)? {
            return Err(ApiError::Conflict(format!(
                "image `{name}` has an unfinished rollout (job {job})"
            )));
        }
        let plan = rollout::plan(c, &image, version, ask.settings, now)?;
        let new = jobs::NewJob {
            kind: JobKind::Rollout,
            requested_by: Some(caller.user.id),
            target: Some(name),
            params: &json(&plan)?,
            total: plan.guests.len() as i32,
        };
        let id = jobs::create(c, &new, now)?;
        jobs::set_result(c, id, &json(&plan.counts())?)?;
        let detail = format!(
            "version {version}, {} running guest(s) to restart",
            plan.guests.len()
        );
        audit(
            c,
            caller,
            "rollout.start",
            Target::Named(name),
            Outcome::Success,
            Some(&detail),
            now,
        )?;
        Ok(id)
    })
}
