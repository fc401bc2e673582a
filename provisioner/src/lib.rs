//! herd-provisioner: the privileged side of herd, the only part that talks
//! to the hypervisor.

pub mod backend;
pub mod batch;
pub mod bootstrap;
pub mod capacity;
pub mod dispatcher;
pub mod error;
pub mod firewall;
pub mod identity;
pub mod jobs;
pub mod lifecycle;
pub mod monitor;
pub mod pool;
pub mod power;
pub mod reconcile;
pub mod reset;
pub mod rollout;
pub mod roots;
pub mod saga;
pub mod sagas;
pub mod staged;
pub mod steps;
pub mod tasks;
pub mod wake;
pub mod worker;
