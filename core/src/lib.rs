//! herd-core: the domain types, the clock and the store shared by the
//! provisioner and the API. Depends on nothing else of herd.

pub mod clock;
pub mod domain;
pub mod store;
