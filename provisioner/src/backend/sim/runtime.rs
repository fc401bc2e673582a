//! Guests' runtime, evaluated lazily: an operation records when its effect
//! completes (`ready_at`, `done_at`, `hang_at`…), and every access first
//! `settle`s the state against the clock. Nothing runs in the background,
//! so a test moves a `ManualClock` and sees the guest boot.

use herd_core::clock::{after, Millis};
use herd_core::domain::GuestName;

use super::console;
use super::contention::{begin_transition, in_transition};
use super::fault::SimOp;
use super::settings::SimSettings;
use super::state::{Power, PowerIndex, Service, Stall, State, User};
use super::SimBackend;
use crate::backend::{
    BackendError, ConsoleReply, DiskId, DiskStatus, GuestStatus, HostLoad, PowerState, Result,
    Runtime, ServiceState, ServiceStatus,
};

impl State {
    /// Applies every transition whose time has come.
    pub(super) fn settle(&mut self, now: Millis, settings: &SimSettings) {
        let dirty = self.users.take_dirty();
        let users = &mut self.users;
        let index = match (&mut self.power_index, dirty) {
            (Some(index), Some(changed)) => {
                for name in &changed {
                    index.set(name, users.get(name));
                }
                index
            }
            (index, _) => {
                let mut all = PowerIndex::default();
                for (name, user) in users.iter() {
                    all.set(name, Some(user));
                }
                index.insert(all)
            }
        };
        for name in index.ended(now) {
            let user = users.get_mut_derived(&name).map(|u| {
                u.settle(now, settings);
                &*u
            });
            index.set(&name, user);
        }
    }

    fn check_bootable(&self, guest: &GuestName) -> Result<()> {
        let user = self.user(guest)?;
        if user.power != Power::LoggedOff {
            return Err(BackendError::invalid_state(guest, "already logged on"));
        }
        if let Some(root) = &user.root_link {
            match self.disks.get(root) {
                Some(d) if d.status == DiskStatus::Ready => {}
                _ => {
                    return Err(BackendError::invalid_state(
                        guest,
                        format!("links {root}, which is not there"),
                    ))
                }
            }
        }
        let bootable = self
            .disks
            .get(&DiskId::segment_of(guest))
            .is_some_and(|d| d.status == DiskStatus::Ready);
        if !bootable {
            return Err(BackendError::invalid_state(guest, "has no disk to IPL"));
        }
        Ok(())
    }
}

impl User {
    fn settle(&mut self, now: Millis, settings: &SimSettings) {
        match self.power {
            Power::Booting {
                ready_at,
                fails,
                hang_after_ms,
            } if ready_at <= now => {
                self.power = if fails {
                    Power::DisabledWait { since: ready_at }
                } else {
                    self.start_services(ready_at, settings);
                    Power::Running {
                        since: ready_at,
                        hang_at: hang_after_ms.map(|h| ready_at.saturating_add(h as Millis)),
                    }
                };
            }
            Power::Stopping { done_at } if done_at <= now => self.log_off(),
            _ => {}
        }
    }

    /// When the boot or log-off under way ends.
    pub(super) fn transition_ends(&self) -> Option<Millis> {
        match self.power {
            Power::Booting { ready_at, .. } => Some(ready_at),
            Power::Stopping { done_at } => Some(done_at),
            _ => None,
        }
    }

    /// Init starts the enabled services one after the other, by priority.
    fn start_services(&mut self, booted_at: Millis, settings: &SimSettings) {
        let mut at = booted_at;
        for service in self.by_priority() {
            if service.spec.enabled && !service.broken {
                at = after(at, settings.service_start());
                service.come_up(at);
            }
        }
    }

    /// Services stop one after the other in reverse priority order, from
    /// `start`; those not up yet never come up.
    fn stop_services(&mut self, now: Millis, start: Millis, settings: &SimSettings) {
        let mut at = start;
        for service in self.by_priority().into_iter().rev() {
            if service.is_up(now) {
                at = after(at, settings.service_start());
                service.down_at = Some(at);
            } else {
                service.clear();
            }
        }
    }

    fn by_priority(&mut self) -> Vec<&mut Service> {
        let mut services: Vec<&mut Service> = self.services.iter_mut().collect();
        services.sort_by_key(|s| s.spec.priority);
        services
    }

    fn log_off(&mut self) {
        self.power = Power::LoggedOff;
        self.services.iter_mut().for_each(Service::clear);
    }

    /// Whether the guest reads its console and reports: running and not
    /// hung (or shutting down), on a host that is not stalled.
    fn answers(&self, now: Millis, stall: Option<Stall>) -> bool {
        let alive = match self.power {
            Power::Running { hang_at, .. } => hang_at.is_none_or(|h| now < h),
            Power::Stopping { .. } => true,
            _ => false,
        };
        alive && stall.is_none()
    }

    fn status(
        &self,
        now: Millis,
        stall_now: Option<Stall>,
        last_stall: Option<Stall>,
        interval_ms: u64,
    ) -> GuestStatus {
        let answers = self.answers(now, stall_now);
        let logged_on = !matches!(self.power, Power::LoggedOff | Power::Booting { .. });
        let services = self
            .services
            .iter()
            .map(|s| {
                let up = s.is_up(now);
                let state = match (logged_on, answers) {
                    (false, _) => ServiceState::Down,
                    (true, false) => ServiceState::Unknown,
                    (true, true) if up => ServiceState::Up,
                    (true, true) => ServiceState::Down,
                };
                ServiceStatus {
                    name: s.spec.name.clone(),
                    priority: s.spec.priority,
                    enabled: s.spec.enabled,
                    state,
                    up_since: s.up_at.filter(|_| answers && up),
                }
            })
            .collect();
        let last_heartbeat = match self.power {
            Power::Running { since, hang_at } => {
                let until = hang_at.map_or(now, |h| h.min(now));
                Some(last_heartbeat(since, until, interval_ms, last_stall))
            }
            _ => None,
        };
        GuestStatus {
            power: self.power.into(),
            root: self.booted_root.clone(),
            last_heartbeat,
            services,
        }
    }
}

impl From<Power> for PowerState {
    fn from(p: Power) -> Self {
        match p {
            Power::LoggedOff => Self::LoggedOff,
            Power::Booting { ready_at, .. } => Self::Booting { ready_at },
            Power::Running { since, .. } => Self::Running { since },
            Power::Stopping { done_at } => Self::Stopping { done_at },
            Power::DisabledWait { since } => Self::DisabledWait { since },
        }
    }
}

/// A running guest beats every `interval_ms` from `since`; beats that fell
/// into a stall never happened, so the last one before the stall counts.
fn last_heartbeat(since: Millis, until: Millis, interval_ms: u64, stall: Option<Stall>) -> Millis {
    let interval = interval_ms as Millis;
    let grid = |t: Millis| since + (t - since).max(0) / interval * interval;
    let beat = grid(until);
    match stall {
        Some(s) if s.from < beat && beat < s.until => grid(s.from.max(since)),
        _ => beat,
    }
}

impl Runtime for SimBackend {
    fn ipl(&self, guest: &GuestName) -> Result<Millis> {
        self.write_unless_refused(SimOp::Ipl, guest, |state, now| {
            state.check_bootable(guest)?;
            self.first_boot(state, guest)?;
            let enabled: Vec<String> = state
                .user(guest)?
                .services
                .iter()
                .filter(|s| s.spec.enabled)
                .map(|s| s.spec.name.clone())
                .collect();
            let root = state.user(guest)?.root_link.clone();
            let plan = self.faults.boot_plan(state, guest, root.as_ref(), &enabled);
            let end = begin_transition(state, now, self.settings.boot_ms, &self.settings).end;
            let user = state.user_mut(guest)?;
            for (name, after_ms) in plan.deaths {
                if let Some(s) = user.services.iter_mut().find(|s| s.spec.name == name) {
                    s.dies_after_ms = Some(after_ms);
                }
            }
            for s in &mut user.services {
                s.broken = plan.broken.contains(&s.spec.name);
            }
            user.booted_root = root;
            user.power = Power::Booting {
                ready_at: end,
                fails: plan.fails,
                hang_after_ms: plan.hang_after_ms,
            };
            Ok(end)
        })
    }

    fn halt(&self, guest: &GuestName) -> Result<Option<Millis>> {
        self.write(|state, now| {
            let user = state.user(guest)?;
            match user.power {
                Power::LoggedOff | Power::DisabledWait { .. } => return Ok(None),
                Power::Stopping { done_at } => return Ok(Some(done_at)),
                Power::Booting { .. } => {
                    return Err(BackendError::invalid_state(guest, "is still booting"))
                }
                Power::Running { .. } if !user.answers(now, None) => return Ok(None),
                Power::Running { .. } => {}
            }
            let stopping = user.services.iter().filter(|s| s.is_up(now)).count() as u64;
            let base = self.settings.halt_ms + stopping * self.settings.service_start_ms;
            let t = begin_transition(state, now, base, &self.settings);
            let user = state.user_mut(guest)?;
            user.stop_services(now, t.start, &self.settings);
            user.power = Power::Stopping { done_at: t.end };
            Ok(Some(t.end))
        })
    }

    fn force(&self, guest: &GuestName) -> Result<()> {
        self.write(|state, _| {
            state.user_mut(guest)?.log_off();
            Ok(())
        })
    }

    fn status(&self, guest: &GuestName) -> Result<GuestStatus> {
        self.read(|state, now| {
            let user = state.user(guest)?;
            Ok(user.status(
                now,
                state.stalled_at(now),
                state.host.stall,
                self.settings.heartbeat_interval_ms,
            ))
        })
    }

    fn console_write(&self, guest: &GuestName, line: &str) -> Result<ConsoleReply> {
        self.write(|state, now| {
            let stall = state.stalled_at(now);
            let user = state.user_mut(guest)?;
            match user.power {
                Power::LoggedOff => Err(BackendError::invalid_state(guest, "is not logged on")),
                Power::Running { .. } if user.answers(now, stall) => {
                    if line
                        .trim()
                        .eq_ignore_ascii_case(crate::backend::HOST_KEY_COMMAND)
                    {
                        let (ok, output) = self.report_host_key(state, guest)?;
                        return Ok(ConsoleReply::Completed { ok, output });
                    }
                    let user = state.user_mut(guest)?;
                    Ok(console::run_line(&mut user.services, line, now))
                }
                _ => Ok(ConsoleReply::NoResponse),
            }
        })
    }

    fn set_service_enabled(&self, guest: &GuestName, service: &str, enabled: bool) -> Result<()> {
        self.write(|state, _| {
            let user = state.user_mut(guest)?;
            let svc = user
                .services
                .iter_mut()
                .find(|s| s.spec.name == service)
                .ok_or_else(|| BackendError::not_found(format!("service {service} on {guest}")))?;
            svc.spec.enabled = enabled;
            Ok(())
        })
    }

    fn host_load(&self) -> Result<HostLoad> {
        self.read(|state, now| {
            let logged_on = match state.power_index() {
                Some(index) => index.logged_on(),
                None => state
                    .users
                    .values()
                    .filter(|u| u.power != Power::LoggedOff)
                    .count() as u32,
            };
            Ok(HostLoad {
                in_transition: in_transition(state),
                logged_on,
                stall_threshold: self.settings.stall_threshold,
                stalled_until: state.stalled_at(now).map(|s| s.until),
            })
        })
    }
}
