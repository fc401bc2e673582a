//! Domain types: values that cannot hold a bad value, parsed once at the edge.

mod cidr;
mod guest_name;
mod guest_state;
mod port;
mod protocol;
mod role;
mod service_action;
mod service_name;

pub use cidr::{Cidr, InvalidCidr};
pub use guest_name::{GuestName, InvalidGuestName};
pub use guest_state::GuestState;
pub use port::{InvalidPort, Port};
pub use protocol::{InvalidProtocol, Protocol};
pub use role::Role;
pub use service_action::ServiceAction;
pub use service_name::{InvalidServiceName, ServiceName};
