//! Batch provisioning (SPEC §4, §5): make sure every user of a batch has
//! at least `guests_per_user` guests — pooled guests first, then clones,
//! which the worker runs in parallel as provisioning jobs. Every decision
//! is recomputed from the database, so a batch resumed after a crash never
//! makes a guest twice: a user's guests in flight count as theirs.

use herd_core::clock::{after, Millis};
use herd_core::domain::{GuestState, ItemStatus, JobKind, JobStatus};
use herd_core::store::batches::{self, Batch, Item};
use herd_core::store::guests::{self, Assignment};
use herd_core::store::{
    catalog, diesel_error, jobs, users, write_tx, AnyConnection, StoreError, StoreResult,
};

use crate::backend::CopyMethod;
use crate::pool::{self, CloneFor, PoolShape};

/// How a batch places guests.
#[derive(Debug, Clone)]
pub struct BatchContext {
    pub shape: PoolShape,
    pub method: CopyMethod,
    pub lifetime: std::time::Duration,
}

/// Gives each pending item's user what they lack: from the pool, else a
/// clone queued for them. Items whose clones are still running stay
/// `pending`; [`follow`] settles them.
pub fn place(
    conn: &mut AnyConnection,
    batch: &Batch,
    ctx: &BatchContext,
    now: Millis,
) -> StoreResult<()> {
    let mut shape = ctx.shape.clone();
    if let Some(image) = catalog::images(conn)?
        .into_iter()
        .find(|i| i.id == batch.image_id)
    {
        shape.image = image.name;
    }
    for item in batches::items(conn, batch.id)?
        .into_iter()
        .filter(|i| i.status == ItemStatus::Pending)
    {
        if let Err(e) = place_item(conn, batch, &item, &shape, ctx, now) {
            let error = e.to_string();
            batches::set_item(
                conn,
                item.id,
                ItemStatus::Failed,
                &item.guests(),
                Some(&error),
                now,
            )?;
        }
    }
    Ok(())
}

fn place_item(
    conn: &mut AnyConnection,
    batch: &Batch,
    item: &Item,
    shape: &PoolShape,
    ctx: &BatchContext,
    now: Millis,
) -> StoreResult<()> {
    let user_id = item
        .user_id
        .ok_or_else(|| StoreError::Exhausted(format!("unknown user {}", item.username)))?;
    let expires_at = batch.expires_at.unwrap_or_else(|| after(now, ctx.lifetime));
    let shape_lan_id = match &shape.lan {
        Some(_) => Some(pool::lan_for(conn, shape.lan.as_deref())?.id),
        None => None,
    };
    // One transaction per item: its guests are placed all or none, and
    // never after the item was cancelled.
    write_tx(conn, |c| {
        if batches::lock_item(c, item.id)? != Some(ItemStatus::Pending) {
            return Ok(());
        }
        let held = users::guests_held(c, user_id)?;
        let missing = i64::from(batch.guests_per_user) - held;
        for _ in 0..missing.max(0) {
            // Capacity, not the student's quota, bounds what staff place.
            let a = Assignment {
                owner_id: user_id,
                max_guests: None,
                lan_id: shape_lan_id,
                image_id: batch.image_id,
                expires_at,
                next_state: GuestState::Starting,
            };
            let from_pool = guests::assign_in_tx(c, &a, now).map_err(|e| match e {
                guests::AssignError::Store(e) => e,
                other => StoreError::Exhausted(other.to_string()),
            })?;
            if from_pool.is_none() {
                let purpose = CloneFor {
                    owner_id: Some(user_id),
                    requested_by: batch.requested_by,
                    expires_at: Some(expires_at),
                };
                pool::queue_clone_in_tx(c, shape, ctx.method, purpose, now)?;
            }
        }
        Ok::<_, StoreError>(())
    })?;
    settle_item(conn, batch, item, now)
}

/// Settles an item from what exists: no new guest and enough held means
/// `skipped`; new guests all ready means `assigned` (all from the pool) or
/// `cloned`; a failed clone that left the user short means `failed` (a
/// retried item whose new clone succeeded is no longer short); clones in
/// flight leave it pending.
fn settle_item(
    conn: &mut AnyConnection,
    batch: &Batch,
    item: &Item,
    now: Millis,
) -> StoreResult<()> {
    let Some(user_id) = item.user_id else {
        return Ok(());
    };
    let made = guests::assigned_since(conn, user_id, batch.created_at)?;
    let names: Vec<String> = made.iter().map(|(n, _)| n.clone()).collect();
    let mut cloned = false;
    for (name, state) in &made {
        if state != GuestState::Provisioning.as_str() {
            if let Some(job) = jobs::latest_for_target(conn, JobKind::Provision, name)? {
                // Queued after the batch's own job: cloned for it (ids
                // grow; clock readings may tie).
                cloned |= job.id > batch.job_id;
            }
            continue;
        }
        return Ok(()); // still being cloned
    }
    let enough = users::guests_held(conn, user_id)? >= i64::from(batch.guests_per_user);
    let failed = if enough {
        None
    } else {
        failed_clone(conn, batch, user_id)?
    };
    let (status, error) = match (names.is_empty(), failed) {
        (_, Some(error)) => (ItemStatus::Failed, Some(error)),
        (true, None) if enough => (ItemStatus::Skipped, None),
        (true, None) => return Ok(()),
        (false, None) if cloned => (ItemStatus::Cloned, None),
        (false, None) => (ItemStatus::Assigned, None),
    };
    batches::set_item(conn, item.id, status, &names, error.as_deref(), now).map(drop)
}

/// A clone for this user in this batch that failed (its guest was retired).
fn failed_clone(
    conn: &mut AnyConnection,
    batch: &Batch,
    user_id: i64,
) -> StoreResult<Option<String>> {
    let retired = guests::list(
        conn,
        &guests::GuestFilter {
            owner_id: Some(user_id),
            state: Some(GuestState::Decommissioned),
            after: None,
            limit: 1000,
        },
    )?
    .0;
    // newest first: after a retry, the latest failure is the one to tell
    for g in retired
        .into_iter()
        .rev()
        .filter(|g| g.row.assigned_at.is_some_and(|t| t >= batch.created_at))
    {
        if let Some(job) = jobs::latest_for_target(conn, JobKind::Provision, &g.row.name)? {
            if job.status == JobStatus::Failed {
                return Ok(Some(format!(
                    "{}: {}",
                    g.row.name,
                    job.error.unwrap_or_default()
                )));
            }
        }
    }
    Ok(None)
}

/// Why an item could not be cancelled.
enum NotCancelled {
    /// One of its clones is being made: the item finishes instead.
    InFlight,
    Store(StoreError),
}

impl From<StoreError> for NotCancelled {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<diesel_error::Error> for NotCancelled {
    fn from(e: diesel_error::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Cancels a batch's pending items (SPEC §4: "stop pending items, finished
/// ones stay"): an item none of whose clones has been started becomes
/// `cancelled`, its queued clones are cancelled jobs and their reserved
/// guests are retired (name and address released; nothing was made on the
/// hypervisor). Guests it already got from the pool stay the user's. An item
/// with a clone already being made stays `pending` and finishes. Each item
/// is one transaction, taking turns with its placement and with workers
/// claiming its clones. Answers how many items were cancelled.
pub fn cancel(conn: &mut AnyConnection, batch: &Batch, now: Millis) -> StoreResult<usize> {
    let mut cancelled = 0;
    for item in batches::items(conn, batch.id)?
        .into_iter()
        .filter(|i| i.status == ItemStatus::Pending)
    {
        match write_tx(conn, |c| cancel_item(c, batch, &item, now)) {
            Ok(true) => cancelled += 1,
            Ok(false) | Err(NotCancelled::InFlight) => {}
            Err(NotCancelled::Store(e)) => return Err(e),
        }
    }
    Ok(cancelled)
}

fn cancel_item(
    c: &mut AnyConnection,
    batch: &Batch,
    item: &Item,
    now: Millis,
) -> Result<bool, NotCancelled> {
    if batches::lock_item(c, item.id)? != Some(ItemStatus::Pending) {
        return Ok(false);
    }
    let mut kept = Vec::new();
    if let Some(user_id) = item.user_id {
        for (name, state) in guests::assigned_since(c, user_id, batch.created_at)? {
            if state != GuestState::Provisioning.as_str() {
                kept.push(name);
                continue;
            }
            let Some(job) = jobs::latest_for_target(c, JobKind::Provision, &name)? else {
                continue;
            };
            // The batch's clones were queued after its job, by its requester;
            // anything else is the user's own request.
            if job.id < batch.job_id || job.requested_by != batch.requested_by {
                continue;
            }
            if !jobs::cancel_queued(c, job.id, now)? {
                return Err(NotCancelled::InFlight);
            }
            if let Some(id) = guests::id_of(c, &name)? {
                guests::retire_in_tx(c, id, now)?;
            }
        }
    }
    Ok(batches::set_item(
        c,
        item.id,
        ItemStatus::Cancelled,
        &kept,
        None,
        now,
    )?)
}

/// Settles pending items whose clones finished, and ends the batch's job
/// once no item is pending: `succeeded` when every item ended skipped,
/// assigned or cloned.
pub fn follow(conn: &mut AnyConnection, job_id: i64, now: Millis) -> StoreResult<bool> {
    let Some(batch) = batches::for_job(conn, job_id)? else {
        return Ok(true);
    };
    // Users whose clone is still running stay pending: one query for all
    // of them rather than one for each of a large batch's items, every
    // round; and only the pending items are read, the rest counted.
    let cloning = guests::owners_cloning_since(conn, batch.created_at)?;
    for item in batches::pending_items(conn, batch.id)?
        .iter()
        .filter(|i| i.user_id.is_some_and(|u| !cloning.contains(&u)))
    {
        settle_item(conn, &batch, item, now)?;
    }
    let counts = batches::status_counts(conn, batch.id)?;
    let count = |s: ItemStatus| {
        counts
            .iter()
            .filter(|(status, _)| *status == s)
            .map(|(_, n)| *n as usize)
            .sum::<usize>()
    };
    let total: usize = counts.iter().map(|(_, n)| *n as usize).sum();
    let done = total - count(ItemStatus::Pending);
    jobs::set_progress(conn, job_id, done as i32, total as i32)?;
    if done < total {
        jobs::heartbeat_any(conn, job_id, now)?;
        return Ok(false);
    }
    let (status, error) = if count(ItemStatus::Failed) > 0 {
        (
            JobStatus::Failed,
            Some(format!(
                "{} of {} users failed",
                count(ItemStatus::Failed),
                total
            )),
        )
    } else if count(ItemStatus::Cancelled) > 0 {
        (JobStatus::Cancelled, None)
    } else {
        (JobStatus::Succeeded, None)
    };
    jobs::finish(conn, job_id, status, error.as_deref(), now)?;
    Ok(true)
}
