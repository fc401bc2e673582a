//! Fault injection: scripted faults wait in the state for their occasion;
//! random ones are drawn from [`FaultRates`]. Either way the decision is
//! taken when the operation starts and recorded, so that the lazily
//! evaluated future (a hang in ten minutes) is the same for every reader.

use std::sync::Mutex;
use std::time::Duration;

use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::fault::{Fault, SimOp};
use super::settings::FaultRates;
use super::state::State;
use super::SimBackend;
use crate::backend::{BackendError, DiskId, Result};

impl SimBackend {
    /// [`SimBackend::write`] for an operation on `guest` that a scripted
    /// [`Fault::Fails`] can refuse. The fault is consumed when it fires and
    /// that must be saved, so the refusal is the closure's outcome rather
    /// than its error (on an error nothing is saved).
    pub(super) fn write_unless_refused<T>(
        &self,
        op: SimOp,
        guest: &GuestName,
        f: impl FnOnce(&mut State, Millis) -> Result<T>,
    ) -> Result<T> {
        let armed = |fault: &Fault| {
            matches!(fault, Fault::Fails { op: o, .. } if *o == op) && fault.concerns(guest)
        };
        self.write(|state, now| match take(state, armed) {
            Some(_) => Ok(Err(BackendError::FaultInjected(format!(
                "{op} of {guest} refused"
            )))),
            None => f(state, now).map(Ok),
        })?
    }
}

/// What goes wrong with one boot.
#[derive(Debug, Default)]
pub(super) struct BootPlan {
    pub fails: bool,
    pub hang_after_ms: Option<u64>,
    /// Service name and how long after coming up it dies.
    pub deaths: Vec<(String, u64)>,
    /// Services the linked root keeps from starting.
    pub broken: Vec<String>,
}

#[derive(Debug)]
pub(super) struct Faults {
    rates: FaultRates,
    rng: Mutex<StdRng>,
}

impl Faults {
    pub fn new(rates: FaultRates) -> Self {
        let rng = rates
            .seed
            .map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64);
        Self {
            rates,
            rng: Mutex::new(rng),
        }
    }

    /// Whether a copy onto `target` fails, and after which fraction.
    pub fn copy_failure(&self, state: &mut State, target: &DiskId) -> Option<f64> {
        let scripted = target.owner().and_then(|owner| {
            take(state, |f| {
                matches!(f, Fault::CopyFails { .. }) && f.concerns(owner)
            })
        });
        match scripted {
            Some(Fault::CopyFails { at_fraction, .. }) => Some(at_fraction),
            _ => self
                .chance(self.rates.copy_fails)
                .then(|| self.rng().random_range(0.0..1.0)),
        }
    }

    pub fn boot_plan(
        &self,
        state: &mut State,
        guest: &GuestName,
        root: Option<&DiskId>,
        services: &[String],
    ) -> BootPlan {
        let mut plan = BootPlan {
            fails: take(state, |f| {
                matches!(f, Fault::IplFails { .. }) && f.concerns(guest)
            })
            .is_some()
                || self.chance(self.rates.ipl_fails),
            ..BootPlan::default()
        };
        let hang = take(state, |f| {
            matches!(f, Fault::Hang { .. }) && f.concerns(guest)
        });
        if let Some(Fault::Hang { after, .. }) = hang {
            plan.hang_after_ms = Some(millis(after));
        }
        if plan.hang_after_ms.is_none() && self.chance(self.rates.guest_hangs) {
            plan.hang_after_ms = Some(self.within_window());
        }
        if let Some(root) = root {
            plan.broken = state
                .faults
                .iter()
                .filter_map(|f| f.breaks(root, guest))
                .map(str::to_owned)
                .collect();
        }
        for service in services {
            if self.chance(self.rates.service_dies) {
                plan.deaths.push((service.clone(), self.within_window()));
            }
        }
        plan
    }

    fn chance(&self, p: f64) -> bool {
        p > 0.0 && self.rng().random_bool(p)
    }

    fn within_window(&self) -> u64 {
        self.rng().random_range(0..=self.rates.window_ms)
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, StdRng> {
        self.rng.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Removes and returns the first armed fault matching `pred`.
fn take(state: &mut State, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let i = state.faults.iter().position(pred)?;
    Some(state.faults.remove(i))
}

pub(super) fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}
