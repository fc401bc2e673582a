//! The guest's identity and network settings, read at boot with
//! `hcp TAG QUERY`.

use super::GuestPlan;
use crate::backend::{Backend, Result};

pub fn run(backend: &dyn Backend, plan: &GuestPlan) -> Result<()> {
    backend.set_tags(&plan.name, &plan.tags)
}
