//! The rules of a guest's services: what a service command may name.

use herd_core::domain::ServiceName;

use crate::problem::ApiError;

/// `404` for a service the guest does not have: the same answer from the
/// routes and from the recorder of clicks.
pub fn unknown_service(service: &ServiceName) -> ApiError {
    ApiError::NotFound(format!("no service named {service} in the catalog"))
}
