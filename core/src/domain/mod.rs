//! Domain types: values that cannot hold a bad value, parsed once at the edge.

mod cidr;
mod command_status;
mod event_kind;
mod guest_name;
mod guest_state;
mod item_status;
mod job_kind;
mod job_status;
mod port;
mod protocol;
mod role;
mod root_state;
mod service_action;
mod service_name;
mod service_state;
mod step_status;
mod stored_name;

pub use cidr::{Cidr, InvalidCidr};
pub use command_status::CommandStatus;
pub use event_kind::EventKind;
pub use guest_name::{GuestName, InvalidGuestName};
pub use guest_state::GuestState;
pub use item_status::ItemStatus;
pub use job_kind::JobKind;
pub use job_status::JobStatus;
pub use port::{InvalidPort, Port};
pub use protocol::{InvalidProtocol, Protocol};
pub use role::Role;
pub use root_state::RootState;
pub use service_action::ServiceAction;
pub use service_name::{InvalidServiceName, ServiceName};
pub use service_state::ServiceState;
pub use step_status::StepStatus;
pub(crate) use stored_name::stored_names;
pub use stored_name::UnknownName;
