//! herd-provisioner: the privileged side of herd, the only part that talks
//! to the hypervisor.

pub mod backend;
