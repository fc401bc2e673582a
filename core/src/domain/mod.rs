//! Domain types: values that cannot hold a bad value, parsed once at the edge.

mod guest_name;
mod guest_state;
mod role;

pub use guest_name::{GuestName, InvalidGuestName};
pub use guest_state::GuestState;
pub use role::Role;
