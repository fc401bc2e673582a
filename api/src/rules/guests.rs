//! Who may do what to which guest (SPEC §3), quotas, and the transaction
//! of a guest request (SPEC §4). Routes and the recorder both ask here.

use std::collections::HashMap;
use std::time::Duration;

use herd_core::clock::{after, Millis};
use herd_core::domain::{GuestState, Role};
use herd_core::store::events::{self, Outcome};
use herd_core::store::guests::{self, AssignError, Assignment, Guest as GuestRecord};
use herd_core::store::{catalog, lans, users, write_tx, AnyConnection};
use herd_provisioner::pool::{self, CloneFor, PoolSettings, PoolShape, Want};

use super::audit::entry;
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

/// What guest requests are made with when they do not say.
#[derive(Clone)]
pub struct RequestDefaults {
    pub shape: PoolShape,
    pub pool: PoolSettings,
    pub lifetime: Duration,
}

/// A guest for the owner asked (the caller unless staff ask for another):
/// from the pool, else a new clone; within the owner's quota when they ask
/// for themselves (staff placing guests for others are bounded by capacity,
/// not by the students' quota, SPEC §1). Audited.
pub fn request(
    c: &mut AnyConnection,
    caller: Caller,
    ask: Ask,
    defaults: &RequestDefaults,
    now: Millis,
) -> ApiResult<Taken> {
    request_all(c, vec![(caller, ask)], defaults, now)?
        .pop()
        .unwrap_or_else(|| Err(ApiError::Internal("a request went unanswered".into())))
}

/// [`request`] for several callers at once, in one transaction, each judged
/// on its own (its owner, image, LAN and quota): one's refusal is not
/// another's. Answers them in order; `Err` only when the database failed.
pub fn request_all(
    c: &mut AnyConnection,
    asks: Vec<(Caller, Ask)>,
    defaults: &RequestDefaults,
    now: Millis,
) -> ApiResult<Vec<ApiResult<Taken>>> {
    write_tx(c, |c| {
        let images = catalog::images(c)?;
        let mut lan_ids = HashMap::new();
        let mut wants = Vec::with_capacity(asks.len());
        let judged: Vec<_> = asks
            .into_iter()
            .map(|(caller, ask)| {
                let (want, owner) = judge(c, &caller, ask, defaults, &images, &mut lan_ids, now)?;
                wants.push(want);
                Ok((caller, owner))
            })
            .collect();
        let method = PoolSettings::load(c, defaults.pool)?.copy_method;
        let mut taken = pool::take_or_clone_all(c, &wants, method, now)?.into_iter();
        let outcomes: Vec<ApiResult<(Caller, users::User, pool::Taken)>> = judged
            .into_iter()
            .map(|j: ApiResult<(Caller, users::User)>| {
                let (caller, owner) = j?;
                match taken.next() {
                    Some(Ok(t)) => Ok((caller, owner, t)),
                    Some(Err(e)) => Err(assign_error(e, &owner)),
                    None => Err(ApiError::Internal("a request went unanswered".into())),
                }
            })
            .collect();
        let names: Vec<&str> = outcomes
            .iter()
            .flatten()
            .map(|(_, _, t)| t.guest())
            .collect();
        let found: HashMap<String, GuestRecord> = guests::find_by_names(c, &names)?
            .into_iter()
            .map(|g| (g.row.name.clone(), g))
            .collect();
        audit_requests(c, &outcomes, &found, now)?;
        Ok(outcomes
            .into_iter()
            .map(|o| match o?.2 {
                pool::Taken::Assigned(name) => found
                    .get(&name)
                    .cloned()
                    .map(|g| Taken::Assigned(Box::new(g)))
                    .ok_or_else(|| ApiError::Internal(format!("assigned guest {name} vanished"))),
                pool::Taken::Cloning { guest, job } => Ok(Taken::Cloning { guest, job }),
            })
            .collect())
    })
}

/// One request's owner, image and LAN, looked up (LANs once a batch).
fn judge(
    c: &mut AnyConnection,
    caller: &Caller,
    ask: Ask,
    defaults: &RequestDefaults,
    images: &[catalog::Image],
    lan_ids: &mut HashMap<String, i64>,
    now: Millis,
) -> ApiResult<(Want, users::User)> {
    let mut shape = defaults.shape.clone();
    shape.image = ask.image.unwrap_or(shape.image);
    shape.lan = ask.lan.or(shape.lan);
    let owner = resolve_owner(c, caller, ask.owner.as_deref())?;
    let for_self = owner.id == caller.user.id;
    let lan_id = match &shape.lan {
        Some(name) => Some(match lan_ids.get(name) {
            Some(id) => *id,
            None => {
                let id = lans::find_by_name(c, name)?
                    .ok_or_else(|| ApiError::NotFound(format!("no LAN named {name}")))?
                    .id;
                lan_ids.insert(name.clone(), id);
                id
            }
        }),
        None => None,
    };
    let image = images
        .iter()
        .find(|i| i.name == shape.image)
        .ok_or_else(|| ApiError::NotFound(format!("no image named {}", shape.image)))?;
    let expires_at = after(now, defaults.lifetime);
    let want = Want {
        assignment: Assignment {
            owner_id: owner.id,
            max_guests: if for_self { owner.max_guests() } else { None },
            lan_id,
            image_id: image.id,
            expires_at,
            next_state: GuestState::Starting,
        },
        shape,
        purpose: CloneFor {
            owner_id: Some(owner.id),
            requested_by: Some(caller.user.id),
            expires_at: Some(expires_at),
        },
    };
    Ok((want, owner))
}

fn assign_error(e: AssignError, owner: &users::User) -> ApiError {
    match e {
        AssignError::OverQuota { used, max } => ApiError::Conflict(format!(
            "{} already has {used} of {max} guests; decommission one first",
            owner.username
        )),
        AssignError::Store(e) => crate::problem::capacity_error(e),
    }
}

/// The audit entries of the requests that got a guest, in one statement.
fn audit_requests(
    c: &mut AnyConnection,
    outcomes: &[ApiResult<(Caller, users::User, pool::Taken)>],
    found: &HashMap<String, GuestRecord>,
    now: Millis,
) -> ApiResult<()> {
    let served: Vec<_> = outcomes.iter().flatten().collect();
    let details: Vec<String> = served
        .iter()
        .map(|(_, owner, _)| format!("for {}", owner.username))
        .collect();
    let entries: Vec<_> = served
        .iter()
        .zip(&details)
        .map(|((caller, _, taken), detail)| {
            let name = taken.guest();
            let guest_id = found.get(name).map(|g| g.row.id);
            entry(
                caller,
                "guest.request",
                Some(name),
                guest_id,
                Outcome::Success,
                Some(detail),
            )
        })
        .collect();
    Ok(events::record_all(c, &entries, now)?)
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
