//! The rules of course batches and end-of-term reclaims (SPEC §4): what a
//! batch would do and whether it fits (`dry_run`, from the database alone:
//! the free disk space is what the privileged side last published), and
//! the transactions that start, cancel and retry batches and reclaims.

use herd_core::clock::Millis;
use herd_core::domain::{GuestState, ItemStatus, JobKind, JobStatus};
use herd_core::store::batches::{self, Batch, NewBatch};
use herd_core::store::events::Outcome;
use herd_core::store::guests::{self, GuestFilter};
use herd_core::store::lans::{self, LanUsage};
use herd_core::store::{catalog, jobs, users, write_tx, AnyConnection};
use herd_provisioner::backend::CopyMethod;
use herd_provisioner::pool::{self, PoolSettings};
use herd_provisioner::{capacity, sagas};

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// What a batch would give each user.
pub struct UserPlan {
    pub username: String,
    /// Guests the user holds now.
    pub has: u32,
    /// Guests the batch would give them.
    pub needs: u32,
    /// False for a user herd and the directory do not know.
    pub known: bool,
}

pub struct CapacityCheck {
    pub guests_needed: u32,
    pub from_pool: u32,
    pub to_clone: u32,
    pub pool_available: u32,
    pub addresses_free: u32,
    /// As the privileged side last saw it; 0 until it has reported.
    pub disk_free_bytes: u64,
    pub disk_needed_bytes: u64,
}

impl CapacityCheck {
    /// Whether the batch fits in addresses and disk.
    pub fn fits(&self) -> bool {
        self.to_clone <= self.addresses_free && self.disk_needed_bytes <= self.disk_free_bytes
    }
}

pub struct Plan {
    pub users: Vec<UserPlan>,
    /// Users who already have enough.
    pub skipped: u32,
    pub capacity: CapacityCheck,
}

/// The plan of a batch giving `per_user` guests of `image_name` on
/// `lan_name` (any LAN when `None`) to each of `users` (name, and id when herd knows them).
pub fn plan(
    c: &mut AnyConnection,
    users: &[(String, Option<i64>)],
    per_user: u32,
    image_name: &str,
    lan_name: Option<&str>,
    defaults: PoolSettings,
) -> ApiResult<Plan> {
    let image = catalog::images(c)?
        .into_iter()
        .find(|i| i.name == image_name)
        .ok_or_else(|| ApiError::NotFound(format!("no image named {image_name}")))?;
    let mut items = Vec::with_capacity(users.len());
    for (username, id) in users {
        let has = match id {
            Some(id) => users::guests_held(c, *id)?.max(0) as u32,
            None => 0,
        };
        items.push(UserPlan {
            username: username.clone(),
            has,
            needs: per_user.saturating_sub(has),
            known: id.is_some(),
        });
    }
    let needed: u32 = items.iter().filter(|i| i.known).map(|i| i.needs).sum();
    let pool_available = pool::status(c)?.available;
    let from_pool = needed.min(pool_available);
    let to_clone = needed - from_pool;
    let addresses_free = lans::list_with_use(c)?
        .iter()
        .filter(|l| lan_name.is_none_or(|name| l.lan.name == name))
        .map(LanUsage::free)
        .sum::<i64>()
        .min(i64::from(u32::MAX)) as u32;
    let per_clone = match PoolSettings::load(c, defaults)?.copy_method {
        CopyMethod::Ddr => image.size_bytes.max(0) as u64,
        CopyMethod::FlashCopy => 0,
    };
    Ok(Plan {
        skipped: items.iter().filter(|i| i.known && i.needs == 0).count() as u32,
        users: items,
        capacity: CapacityCheck {
            guests_needed: needed,
            from_pool,
            to_clone,
            pool_available,
            addresses_free,
            disk_free_bytes: capacity::disk_free_bytes(c)?.unwrap_or(0),
            disk_needed_bytes: per_clone * u64::from(to_clone),
        },
    })
}

pub fn load(c: &mut AnyConnection, id: i64) -> ApiResult<Batch> {
    batches::find(c, id)?.ok_or_else(|| ApiError::NotFound(format!("no batch {id}")))
}

/// What a batch is to do.
pub struct Order {
    /// Name, and id when herd knows them.
    pub users: Vec<(String, Option<i64>)>,
    pub ldap_group: Option<String>,
    pub per_user: u32,
    pub image: String,
    pub expires_at: Option<Millis>,
}

/// Records a batch and queues its job; audited.
pub fn create(
    c: &mut AnyConnection,
    caller: &Caller,
    order: &Order,
    now: Millis,
) -> ApiResult<Batch> {
    let image = catalog::images(c)?
        .into_iter()
        .find(|i| i.name == order.image)
        .ok_or_else(|| ApiError::NotFound(format!("no image named {}", order.image)))?;
    let new = NewBatch {
        requested_by: Some(caller.user.id),
        ldap_group: order.ldap_group.as_deref(),
        guests_per_user: order.per_user as i32,
        image_id: image.id,
        expires_at: order.expires_at,
        users: &order.users,
    };
    let batch = batches::create(c, &new, JobKind::Batch, now)?;
    let detail = format!("{} users, {} each", order.users.len(), order.per_user);
    audit(
        c,
        caller,
        "batch.create",
        Target::Named(&format!("batch {}", batch.id)),
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    Ok(batch)
}

/// Stops a batch's pending items; finished ones stay. Audited.
pub fn cancel(c: &mut AnyConnection, caller: &Caller, id: i64, now: Millis) -> ApiResult<Batch> {
    let batch = load(c, id)?;
    let moved = herd_provisioner::batch::cancel(c, &batch, now)?;
    // Not placed yet, and nothing left to place: the batch ends here. (A
    // running batch ends when its last item settles.)
    let job = jobs::find(c, batch.job_id)?;
    let pending = batches::items(c, batch.id)?
        .iter()
        .any(|i| i.status == ItemStatus::Pending);
    if job.is_some_and(|j| j.status == JobStatus::Queued) && !pending {
        jobs::finish(c, batch.job_id, JobStatus::Cancelled, None, now)?;
    }
    audit(
        c,
        caller,
        "batch.cancel",
        Target::Named(&format!("batch {id}")),
        Outcome::Success,
        Some(&format!("{moved} items cancelled")),
        now,
    )?;
    Ok(batch)
}

/// Puts a batch's failed items back to pending and its job in the queue,
/// in one transaction; `409` when nothing failed. Audited.
pub fn retry(c: &mut AnyConnection, caller: &Caller, id: i64, now: Millis) -> ApiResult<Batch> {
    write_tx(c, |c| {
        let batch = load(c, id)?;
        let moved = batches::move_items(c, batch.id, ItemStatus::Failed, ItemStatus::Pending, now)?;
        if moved == 0 {
            return Err(ApiError::Conflict(format!(
                "batch {id} has no failed items"
            )));
        }
        batches::requeue_job(c, batch.job_id)?;
        audit(
            c,
            caller,
            "batch.retry",
            Target::Named(&format!("batch {id}")),
            Outcome::Success,
            Some(&format!("{moved} items again")),
            now,
        )?;
        Ok(batch)
    })
}

/// What a reclaim did.
pub enum Reclaim {
    /// Dry run: the guests that would go.
    Planned(Vec<String>),
    /// The job following the decommissions.
    Started(i64),
}

/// End of term: decommissions every guest of `users` (those known to
/// herd), all in one transaction, under one job that follows them.
/// Audited.
pub fn reclaim(
    c: &mut AnyConnection,
    caller: &Caller,
    users: &[(String, Option<i64>)],
    dry_run: bool,
    now: Millis,
) -> ApiResult<Reclaim> {
    write_tx(c, |c| {
        let mut targets = Vec::new();
        for id in users.iter().filter_map(|(_, id)| *id) {
            let filter = GuestFilter {
                owner_id: Some(id),
                limit: 10_000,
                ..Default::default()
            };
            let (owned, _) = guests::list(c, &filter)?;
            targets.extend(owned.into_iter().filter(|g| {
                !matches!(
                    g.state(),
                    GuestState::Decommissioning | GuestState::Provisioning
                )
            }));
        }
        let names: Vec<String> = targets.iter().map(|g| g.row.name.clone()).collect();
        if dry_run {
            return Ok(Reclaim::Planned(names));
        }
        let mut children = Vec::with_capacity(targets.len());
        for g in &targets {
            children.push(sagas::queue_decommission(c, g, Some(caller.user.id), now)?);
        }
        let params = serde_json::json!({ "jobs": children }).to_string();
        let new = jobs::NewJob {
            kind: JobKind::Reclaim,
            requested_by: Some(caller.user.id),
            target: None,
            params: &params,
            total: children.len() as i32,
        };
        let id = jobs::create(c, &new, now)?;
        audit(
            c,
            caller,
            "reclaim",
            Target::None,
            Outcome::Success,
            Some(&format!("{} guests: {}", names.len(), names.join(" "))),
            now,
        )?;
        Ok(Reclaim::Started(id))
    })
}
