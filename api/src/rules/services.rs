//! The rules of a guest's services: who may see and change them, what a
//! service command may name, and who may follow which command.

use herd_core::clock::Millis;
use herd_core::domain::{Role, ServiceName, ServiceState};
use herd_core::store::commands::{self, CommandRow};
use herd_core::store::events::Outcome;
use herd_core::store::{guests, AnyConnection};

use super::audit::{audit, Target};
use super::guests::{load_guest, Access};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// `404` for a service the guest does not have: the same answer from the
/// routes and from the recorder of clicks.
pub fn unknown_service(service: &ServiceName) -> ApiError {
    ApiError::NotFound(format!("no service named {service} in the catalog"))
}

/// A catalog service on a guest.
pub struct Service {
    pub name: String,
    pub priority: i32,
    /// Started at boot.
    pub enabled: bool,
    /// As last observed.
    pub state: ServiceState,
}

fn services_of(c: &mut AnyConnection, guest_id: i64) -> ApiResult<Vec<Service>> {
    Ok(guests::services(c, guest_id)?
        .into_iter()
        .map(|(s, enabled, state)| Service {
            name: s.name,
            priority: s.priority,
            enabled,
            state,
        })
        .collect())
}

fn find_service(c: &mut AnyConnection, guest_id: i64, service: &ServiceName) -> ApiResult<Service> {
    services_of(c, guest_id)?
        .into_iter()
        .find(|s| s.name == service.as_str())
        .ok_or_else(|| unknown_service(service))
}

/// The services of the guest `name`, by priority, if the caller may see it.
pub fn list(c: &mut AnyConnection, caller: &Caller, name: &str) -> ApiResult<Vec<Service>> {
    let guest = load_guest(c, caller, name, Access::View)?;
    services_of(c, guest.row.id)
}

/// Enables or disables a service of the guest `name` at boot (owner or
/// admin); takes effect at the next IPL. Audited; answers the service.
pub fn set_enabled(
    c: &mut AnyConnection,
    caller: &Caller,
    name: &str,
    service: &ServiceName,
    enabled: bool,
    now: Millis,
) -> ApiResult<Service> {
    let guest = load_guest(c, caller, name, Access::Change)?;
    find_service(c, guest.row.id, service)?;
    commands::set_service_enabled(c, guest.row.id, service.as_str(), enabled, now)?;
    let detail = format!("{service} enabled={enabled}");
    audit(
        c,
        caller,
        "service.enable",
        Target::Guest(&guest.row),
        Outcome::Success,
        Some(&detail),
        now,
    )?;
    find_service(c, guest.row.id, service)
}

/// The command `id`, if the caller asked for it or is an admin; anyone
/// else's is `404`, as if there were none.
pub fn command(c: &mut AnyConnection, caller: &Caller, id: i64) -> ApiResult<CommandRow> {
    let visible =
        |r: &CommandRow| caller.user.role == Role::Admin || r.requested_by == Some(caller.user.id);
    commands::find(c, id)?
        .filter(visible)
        .ok_or_else(|| ApiError::NotFound(format!("no command {id}")))
}
