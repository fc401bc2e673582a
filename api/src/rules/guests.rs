//! Who may do what to which guest (SPEC §3), quotas, and the transaction
//! of a guest request (SPEC §4). Routes and the recorder both ask here.

use std::time::Duration;

use herd_core::clock::{after, Millis};
use herd_core::domain::{GuestState, Role};
use herd_core::store::events::Outcome;
use herd_core::store::guests::{self, AssignError, Assignment, Guest as GuestRecord};
use herd_core::store::{catalog, lans, users, AnyConnection};
use herd_provisioner::pool::{self, CloneFor, PoolSettings, PoolShape};

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// What a caller wants to do with a guest.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Owner, staff and admin.
    View,
    /// Owner and admin.
    Change,
}

/// Loads a guest the caller may see. Another user's guest is `404` to a
/// student, as if it did not exist (SPEC §3); staff may see but not change.
pub fn load_guest(
    conn: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    access: Access,
) -> ApiResult<GuestRecord> {
    let guest = guests::find_by_name(conn, &name.to_ascii_uppercase())?;
    authorize(caller, guest, name, access)
}

/// The guest `name` (as asked) if `caller` may have `access` to it; a
/// student learns nothing of others' guests: `404` as for none.
pub fn authorize(
    caller: &Caller,
    guest: Option<GuestRecord>,
    name: &str,
    access: Access,
) -> ApiResult<GuestRecord> {
    let not_found = || ApiError::NotFound(format!("no guest named {name}"));
    let guest = guest.ok_or_else(not_found)?;
    let own = guest.row.owner_id == Some(caller.user.id);
    match (own, caller.user.role, access) {
        (true, _, _) | (_, Role::Admin, _) => Ok(guest),
        (false, Role::Staff, Access::View) => Ok(guest),
        (false, Role::Staff, Access::Change) => Err(ApiError::Forbidden(format!(
            "only the owner or an admin may change {name}"
        ))),
        (false, Role::Student, _) => Err(not_found()),
    }
}

/// What a guest request asks for; each left out takes the default.
pub struct Ask {
    pub owner: Option<String>,
    pub image: Option<String>,
    pub lan: Option<String>,
}

/// What a guest request got.
pub enum Taken {
    /// A pooled guest, now the owner's and booting.
    Assigned(Box<GuestRecord>),
    /// The pool was empty: a clone for the owner is queued.
    Cloning { guest: String, job: i64 },
}

/// A guest for the owner asked (the caller unless staff ask for another):
/// from the pool, else a new clone; within the owner's quota when they ask
/// for themselves (staff placing guests for others are bounded by capacity,
/// not by the students' quota, SPEC §1). Audited.
pub fn request(
    c: &mut AnyConnection,
    caller: &Caller,
    ask: Ask,
    mut shape: PoolShape,
    defaults: PoolSettings,
    lifetime: Duration,
    now: Millis,
) -> ApiResult<Taken> {
    shape.image = ask.image.unwrap_or(shape.image);
    shape.lan = ask.lan.or(shape.lan);
    let owner = resolve_owner(c, caller, ask.owner.as_deref())?;
    let for_self = owner.id == caller.user.id;
    let max_guests = if for_self { owner.max_guests() } else { None };
    let lan_id = match &shape.lan {
        Some(name) => Some(
            lans::find_by_name(c, name)?
                .ok_or_else(|| ApiError::NotFound(format!("no LAN named {name}")))?
                .id,
        ),
        None => None,
    };
    let image = catalog::images(c)?
        .into_iter()
        .find(|i| i.name == shape.image)
        .ok_or_else(|| ApiError::NotFound(format!("no image named {}", shape.image)))?;
    let a = Assignment {
        owner_id: owner.id,
        max_guests,
        lan_id,
        image_id: image.id,
        expires_at: after(now, lifetime),
        next_state: GuestState::Starting,
    };
    let method = PoolSettings::load(c, defaults)?.copy_method;
    let purpose = CloneFor {
        owner_id: Some(owner.id),
        requested_by: Some(caller.user.id),
        expires_at: Some(after(now, lifetime)),
    };
    let taken = pool::take_or_clone(c, &a, &shape, method, purpose, now).map_err(|e| match e {
        AssignError::OverQuota { used, max } => ApiError::Conflict(format!(
            "{} already has {used} of {max} guests; decommission one first",
            owner.username
        )),
        AssignError::Store(e) => crate::problem::capacity_error(e),
    })?;
    let taken = match taken {
        pool::Taken::Assigned(name) => Taken::Assigned(Box::new(
            guests::find_by_name(c, &name)?
                .ok_or_else(|| ApiError::Internal(format!("assigned guest {name} vanished")))?,
        )),
        pool::Taken::Cloning { guest, job } => Taken::Cloning { guest, job },
    };
    let target = match &taken {
        Taken::Assigned(g) => Target::Guest(&g.row),
        Taken::Cloning { guest, .. } => Target::Named(guest),
    };
    let detail = format!("for {}", owner.username);
    audit(
        c,
        caller,
        "guest.request",
        target,
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    Ok(taken)
}

fn resolve_owner(
    c: &mut AnyConnection,
    caller: &Caller,
    owner: Option<&str>,
) -> ApiResult<users::User> {
    match owner {
        None => Ok(caller.user.clone()),
        Some(name) if name == caller.user.username => Ok(caller.user.clone()),
        Some(name) => {
            caller.require(Role::Staff).map_err(|_| {
                ApiError::Forbidden("students may request guests only for themselves".into())
            })?;
            users::find_by_username(c, name)?.ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no user named {name}; they must have logged in once"
                ))
            })
        }
    }
}
