//! The rules of course batches: what a batch would do and whether it fits
//! (SPEC §4, `dry_run`), from the database alone: the free disk space is
//! what the privileged side last published.

use herd_core::store::{catalog, lans, users, AnyConnection};
use herd_provisioner::backend::CopyMethod;
use herd_provisioner::capacity;
use herd_provisioner::pool::{self, PoolSettings};

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
/// `lan_name` to each of `users` (name, and id when herd knows them).
pub fn plan(
    c: &mut AnyConnection,
    users: &[(String, Option<i64>)],
    per_user: u32,
    image_name: &str,
    lan_name: &str,
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
    let lan = lans::list_with_use(c)?
        .into_iter()
        .find(|l| l.lan.name == lan_name);
    let addresses_free = lan.map_or(0, |l| (i64::from(l.lan.capacity) - l.used).max(0) as u32);
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
