//! Boots and log-offs compete for the host: CP, paging and the disks are
//! shared. With `n` guests in transition at once (the new one included),
//! each takes `base × (1 + slowdown × (n − 1))`. Once `n` exceeds the stall
//! threshold the whole host freezes for the stall duration: nothing scheduled
//! happens (boots, shutdowns, heartbeats, services), and new work waits for
//! the end of the freeze.

use std::time::Duration;

use herd_core::clock::{after, Millis};

use super::settings::SimSettings;
use super::state::{Power, Stall, State, User};

/// How long one transition takes with `concurrent` guests in transition.
pub(super) fn transition_ms(base_ms: u64, concurrent: u32, slowdown: f64) -> u64 {
    let others = f64::from(concurrent.saturating_sub(1));
    (base_ms as f64 * (1.0 + slowdown * others)).round() as u64
}

/// Guests booting or logging off (the state must be settled).
pub(super) fn in_transition(state: &State) -> u32 {
    match state.power_index() {
        Some(index) => index.in_transition(),
        None => state
            .users
            .values()
            .filter(|u| u.transition_ends().is_some())
            .count() as u32,
    }
}

/// When a boot or log-off really starts (after a stall) and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Transition {
    pub start: Millis,
    pub end: Millis,
}

/// Starts one more boot or log-off at `now` (the state must be settled).
pub(super) fn begin_transition(
    state: &mut State,
    now: Millis,
    base_ms: u64,
    settings: &SimSettings,
) -> Transition {
    let concurrent = in_transition(state) + 1;
    if concurrent > settings.stall_threshold && state.stalled_at(now).is_none() {
        stall(state, now, settings.stall_ms);
    }
    let start = state.stalled_at(now).map_or(now, |s| s.until);
    let ms = transition_ms(base_ms, concurrent, settings.contention_slowdown);
    Transition {
        start,
        end: after(start, Duration::from_millis(ms)),
    }
}

/// Freezes the host: everything still to happen happens `stall_ms` later.
fn stall(state: &mut State, now: Millis, stall_ms: u64) {
    let until = after(now, Duration::from_millis(stall_ms));
    tracing::warn!(
        now,
        until,
        "simulated z/VM host stalls: too many guests in transition"
    );
    state.host.stall = Some(Stall { from: now, until });
    let by = until - now;
    for user in state.users.values_mut() {
        user.shift_future(now, by);
    }
}

impl User {
    fn shift_future(&mut self, now: Millis, by: Millis) {
        let shift = |t: &mut Millis| {
            if *t > now {
                *t += by;
            }
        };
        match &mut self.power {
            Power::Booting { ready_at: t, .. } | Power::Stopping { done_at: t } => shift(t),
            Power::Running {
                hang_at: Some(t), ..
            } => shift(t),
            _ => {}
        }
        for s in &mut self.services {
            s.up_at
                .iter_mut()
                .chain(s.down_at.iter_mut())
                .for_each(shift);
        }
    }
}
