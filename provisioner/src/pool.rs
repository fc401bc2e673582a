//! The warm pool (SPEC §5): `target_size` guests cloned, granted and
//! addressed but logged off, so that a student gets one at once.

use herd_core::clock::Millis;
use herd_core::domain::{GuestState, JobKind};
use herd_core::store::guests::{self, AssignError, Assigned, Assignment, GuestSpec};
use herd_core::store::{
    catalog, jobs, lans, serialize_in_tx, settings, write_tx, AnyConnection, StoreError,
    StoreResult,
};
use serde::{Deserialize, Serialize};

use crate::backend::CopyMethod;

const POOL_LOCK: i64 = 0x6865_7264_706f; // "herdpo"
const TARGET_KEY: &str = "pool.target_size";
const METHOD_KEY: &str = "pool.copy_method";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSettings {
    pub target_size: u32,
    pub copy_method: CopyMethod,
}

impl PoolSettings {
    pub fn load(conn: &mut AnyConnection, defaults: PoolSettings) -> StoreResult<Self> {
        let target_size = settings::get(conn, TARGET_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(defaults.target_size);
        let copy_method = settings::get(conn, METHOD_KEY)?
            .and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok())
            .unwrap_or(defaults.copy_method);
        Ok(Self {
            target_size,
            copy_method,
        })
    }

    pub fn save(&self, conn: &mut AnyConnection, now: Millis) -> StoreResult<()> {
        settings::put(conn, TARGET_KEY, &self.target_size.to_string(), now)?;
        settings::put(conn, METHOD_KEY, copy_method_name(self.copy_method), now)
    }
}

pub fn copy_method_name(m: CopyMethod) -> &'static str {
    match m {
        CopyMethod::FlashCopy => "flashcopy",
        CopyMethod::Ddr => "ddr",
    }
}

/// Where pool guests live and what they are made of.
#[derive(Debug, Clone)]
pub struct PoolShape {
    /// The LAN asked for; `None`: the one with the most free addresses.
    pub lan: Option<String>,
    pub image: String,
    pub name_prefix: String,
    pub hostname_template: String,
    pub memory_mb: i32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    pub available: u32,
    /// Guests being cloned for the pool.
    pub provisioning: u32,
}

pub fn status(conn: &mut AnyConnection) -> StoreResult<PoolStatus> {
    let counts = guests::count_unowned(conn, &[GuestState::Pooled, GuestState::Provisioning])?;
    let count = |i: usize| counts[i].clamp(0, i64::from(u32::MAX)) as u32;
    Ok(PoolStatus {
        available: count(0),
        provisioning: count(1),
    })
}

/// What one round of the keeper did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopUp {
    /// The provisioning jobs queued.
    pub queued: Vec<i64>,
    /// Why the pool stays short of its target, and by how many guests.
    pub short: Option<Shortfall>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub missing: u32,
    pub reason: String,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the pool is short of its target by {}: {}",
            self.missing, self.reason
        )
    }
}

/// Guests queued per transaction of [`top_up`]: each costs a millisecond or
/// more (an address and a name found among thousands), and on
/// SQLite every other writer waits meanwhile; requests for guests during a
/// large refill wait for one chunk, not for the whole refill.
const TOP_UP_CHUNK: u32 = 4;

/// Reserves guests and queues their provisioning until available plus
/// in-flight reaches the target. When names or addresses run out, it
/// queues what it can and says why the rest is missing.
pub fn top_up(
    conn: &mut AnyConnection,
    shape: &PoolShape,
    settings: PoolSettings,
    now: Millis,
) -> StoreResult<TopUp> {
    let mut done = TopUp::default();
    loop {
        let (missing, queued) = top_up_chunk(conn, shape, settings, now, &mut done)?;
        if done.short.is_some() || queued == missing {
            return Ok(done);
        }
    }
}

/// Counts and fills up to [`TOP_UP_CHUNK`] guests in one transaction, one
/// keeper at a time: two keepers (threads or processes) must not both add
/// the missing guests. Answers how many were missing and how many it queued.
fn top_up_chunk(
    conn: &mut AnyConnection,
    shape: &PoolShape,
    settings: PoolSettings,
    now: Millis,
    done: &mut TopUp,
) -> StoreResult<(u32, u32)> {
    write_tx(conn, |c| {
        // One keeper at a time across processes (PostgreSQL); SQLite's
        // IMMEDIATE transaction already serialises them.
        serialize_in_tx(c, POOL_LOCK)?;
        let status = status(c)?;
        let missing = settings
            .target_size
            .saturating_sub(status.available + status.provisioning);
        let chunk = missing.min(TOP_UP_CHUNK);
        for queued in 0..chunk {
            match queue_clone_in_tx(c, shape, settings.copy_method, CloneFor::default(), now) {
                Ok((_, job)) => done.queued.push(job),
                // Found before anything was written: what was queued stays.
                Err(StoreError::Exhausted(reason)) => {
                    done.short = Some(Shortfall {
                        missing: missing - queued,
                        reason,
                    });
                    return Ok((missing, queued));
                }
                Err(e) => return Err(e),
            }
        }
        Ok((missing, chunk))
    })
}

/// How many guests the pool could hold at most (SPEC §10): the free
/// addresses of the LANs plus the guests already pooled or being cloned
/// for the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRoom {
    pub free_addresses: u32,
    pub pooled: u32,
    pub provisioning: u32,
}

impl PoolRoom {
    pub fn max_target(&self) -> u32 {
        self.free_addresses + self.pooled + self.provisioning
    }
}

pub fn room(conn: &mut AnyConnection) -> StoreResult<PoolRoom> {
    let free_addresses = lans::list_with_use(conn)?
        .iter()
        .map(lans::LanUsage::free)
        .sum::<i64>()
        .min(i64::from(u32::MAX)) as u32;
    let status = status(conn)?;
    Ok(PoolRoom {
        free_addresses,
        pooled: status.available,
        provisioning: status.provisioning,
    })
}

/// The LAN a new guest goes to: the one asked for, or the one with the
/// most free addresses.
pub fn lan_for(c: &mut AnyConnection, asked: Option<&str>) -> StoreResult<lans::Lan> {
    match asked {
        Some(name) => lans::find_by_name(c, name)?
            .ok_or_else(|| StoreError::Exhausted(format!("no LAN named {name}"))),
        None => lans::most_free(c)?
            .ok_or_else(|| StoreError::Exhausted("no free address left on any LAN".into())),
    }
}

/// What a clone is for.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloneFor {
    /// `None`: the pool.
    pub owner_id: Option<i64>,
    pub requested_by: Option<i64>,
    pub expires_at: Option<Millis>,
}

/// Reserves one guest (name and address) and queues its provisioning job,
/// in one transaction: a crash leaves either both or neither. Answers the
/// guest's name and the job.
pub fn queue_clone(
    conn: &mut AnyConnection,
    shape: &PoolShape,
    method: CopyMethod,
    purpose: CloneFor,
    now: Millis,
) -> StoreResult<(String, i64)> {
    write_tx(conn, |c| queue_clone_in_tx(c, shape, method, purpose, now))
}

/// [`queue_clone`] inside the caller's write transaction.
pub fn queue_clone_in_tx(
    c: &mut AnyConnection,
    shape: &PoolShape,
    method: CopyMethod,
    purpose: CloneFor,
    now: Millis,
) -> StoreResult<(String, i64)> {
    let lan = lan_for(c, shape.lan.as_deref())?;
    let image = catalog::images(c)?
        .into_iter()
        .find(|i| i.name == shape.image)
        .ok_or_else(|| StoreError::Exhausted(format!("no image named {}", shape.image)))?;
    let spec = GuestSpec {
        name_prefix: shape.name_prefix.clone(),
        hostname_template: shape.hostname_template.clone(),
        lan_id: lan.id,
        image_id: image.id,
        memory_mb: shape.memory_mb,
        auto_boot: true,
        owner_id: purpose.owner_id,
        state: GuestState::Provisioning,
        expires_at: purpose.expires_at,
    };
    let guest = guests::reserve_in_tx(c, &spec, now)?;
    // The saga's plan, frozen now: a resumed saga makes what was asked.
    let params = crate::sagas::provision_params(c, &guest, method)?;
    let job = jobs::NewJob {
        kind: JobKind::Provision,
        requested_by: purpose.requested_by,
        target: Some(&guest.row.name),
        params: &params,
        total: 1,
    };
    let id = jobs::create(c, &job, now)?;
    Ok((guest.row.name, id))
}

/// What a request for a guest got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// A pooled guest, now the owner's.
    Assigned(String),
    /// The pool was empty: a clone for the owner is queued.
    Cloning { guest: String, job: i64 },
}

impl Taken {
    /// The guest's name.
    pub fn guest(&self) -> &str {
        match self {
            Taken::Assigned(guest) | Taken::Cloning { guest, .. } => guest,
        }
    }
}

/// One request for a guest, for [`take_or_clone_all`].
pub struct Want {
    pub assignment: Assignment,
    /// What a clone is made of when the pool has none.
    pub shape: PoolShape,
    pub purpose: CloneFor,
}

/// A guest for each assignment's owner, in order: from the pool, else a new
/// clone. One transaction, so the quota check covers the clones too:
/// concurrent requests of one user cannot all pass it. Each request is
/// judged on its own: one over its quota, or whose clone finds no address,
/// fails alone (its clone is a savepoint).
pub fn take_or_clone_all(
    conn: &mut AnyConnection,
    wants: &[Want],
    method: CopyMethod,
    now: Millis,
) -> StoreResult<Vec<Result<Taken, AssignError>>> {
    write_tx(conn, |c| {
        let asks: Vec<Assignment> = wants.iter().map(|w| w.assignment.clone()).collect();
        let assigned = guests::assign_all_in_tx(c, &asks, now)?;
        Ok(assigned
            .into_iter()
            .zip(wants)
            .map(|(assigned, w)| match assigned {
                Assigned::Guest(name) => Ok(Taken::Assigned(name)),
                Assigned::OverQuota { used, max } => Err(AssignError::OverQuota { used, max }),
                Assigned::PoolEmpty => queue_clone(c, &w.shape, method, w.purpose, now)
                    .map(|(guest, job)| Taken::Cloning { guest, job })
                    .map_err(AssignError::Store),
            })
            .collect())
    })
}
