//! The monitor (SPEC §5): heals guests on thresholds that are settings.
//!
//! - A running guest whose last heartbeat is older than `unresponsive_after`
//!   becomes `unresponsive` and gets a HALT on its console; still
//!   unresponsive `halt_grace` later, a FORCE logoff; then an IPL if
//!   `auto_boot`.
//! - A guest that should run (`running`, `unresponsive`) but is logged off,
//!   or stuck in a disabled wait, is booted again; so is a `starting` guest
//!   whose boot ended in a disabled wait.
//! - An enabled service that is down on a running guest is restarted
//!   through the command channel, like a user's request.
//!
//! Every action is an event of kind `monitor`. What the monitor already did
//! for a guest is kept in memory: after a restart it starts counting again,
//! which at worst delays a step by one grace period.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use herd_core::clock::Millis;
use herd_core::domain::{GuestName, GuestState};
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::guests::{self, GuestRow};
use herd_core::store::{commands, AnyConnection, StoreResult};

use crate::backend::{Backend, BackendError, PowerState, ServiceState};
use crate::dispatcher::{Command, CommandOp};
use crate::error::WorkerError;
use crate::tasks::{Sweep, TaskError};

#[derive(Debug, Clone)]
pub struct MonitorSettings {
    /// No heartbeat for this long: unresponsive (SPEC: 5 minutes).
    pub unresponsive_after: Duration,
    /// After the HALT, how long before FORCE.
    pub halt_grace: Duration,
    /// Between two restarts of the same service, and between two reboots
    /// of a guest whose boot keeps ending in a disabled wait.
    pub service_retry: Duration,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        Self {
            unresponsive_after: Duration::from_secs(5 * 60),
            halt_grace: Duration::from_secs(2 * 60),
            service_retry: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Healing {
    Halted { at: Millis },
}

pub struct Monitor {
    settings: MonitorSettings,
    healing: Mutex<HashMap<String, Healing>>,
    service_restarts: Mutex<HashMap<(String, String), Millis>>,
    /// Per guest, when the boot that the monitor last answered with a
    /// reboot failed.
    failed_boots: Mutex<HashMap<String, Millis>>,
}

impl Monitor {
    pub fn new(settings: MonitorSettings) -> Self {
        Self {
            settings,
            healing: Mutex::default(),
            service_restarts: Mutex::default(),
            failed_boots: Mutex::default(),
        }
    }

    /// One look at every guest that should be running; one guest's error
    /// leaves the others looked at.
    pub fn sweep(
        &self,
        conn: &mut AnyConnection,
        backend: &dyn Backend,
        now: Millis,
    ) -> Result<(), TaskError> {
        let watched = guests::in_states(
            conn,
            &[
                GuestState::Running,
                GuestState::Unresponsive,
                GuestState::Starting,
            ],
        )?;
        let mut sweep = Sweep::default();
        for guest in watched {
            let watched = self.watch(conn, backend, &guest, now);
            sweep.note(&guest.name, watched);
        }
        sweep.finish()
    }

    fn watch(
        &self,
        conn: &mut AnyConnection,
        backend: &dyn Backend,
        guest: &GuestRow,
        now: Millis,
    ) -> Result<(), WorkerError> {
        let Ok(name) = guest.name.parse::<GuestName>() else {
            return Ok(());
        };
        let status = match backend.status(&name) {
            Ok(s) => s,
            Err(BackendError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        match status.power {
            // A failed boot: whoever asked for it (an assignment, a
            // user, the monitor itself) no longer watches it.
            PowerState::DisabledWait { since } => {
                if self.may_reboot_after_failure(&guest.name, since, now) {
                    self.reboot(conn, backend, guest, &name, now)?
                }
            }
            // Otherwise a `starting` guest is the worker's: it boots it
            // when the host has room and sees it come up.
            _ if guest.state == GuestState::Starting => {}
            PowerState::Running { since } => {
                let last_sign = status.last_heartbeat.unwrap_or(since);
                if now - last_sign >= self.settings.unresponsive_after.as_millis() as Millis {
                    self.heal(conn, backend, guest, &name, now)?;
                } else {
                    self.recovered(conn, guest, now)?;
                    self.restart_down_services(conn, guest, &name, &status.services, now)?;
                }
            }
            PowerState::LoggedOff => self.reboot(conn, backend, guest, &name, now)?,
            PowerState::Booting { .. } | PowerState::Stopping { .. } => {}
        }
        Ok(())
    }

    fn heal(
        &self,
        conn: &mut AnyConnection,
        backend: &dyn Backend,
        guest: &GuestRow,
        name: &GuestName,
        now: Millis,
    ) -> Result<(), WorkerError> {
        let stage = self
            .healing
            .lock()
            .ok()
            .and_then(|h| h.get(&guest.name).copied());
        match stage {
            None => {
                guests::set_state(conn, guest.id, GuestState::Unresponsive, now)?;
                // A hung guest ignores the HALT; FORCE follows after the grace.
                let answered = backend.halt(name)?.is_some();
                self.remember(&guest.name, Some(Healing::Halted { at: now }));
                let detail = format!(
                    "no heartbeat for {} s; HALT sent ({})",
                    self.settings.unresponsive_after.as_secs(),
                    if answered {
                        "shutting down"
                    } else {
                        "no answer"
                    }
                );
                Ok(event(
                    conn,
                    guest,
                    "monitor.halt",
                    Outcome::Warning,
                    &detail,
                    now,
                )?)
            }
            Some(Healing::Halted { at })
                if now - at >= self.settings.halt_grace.as_millis() as Millis =>
            {
                backend.force(name)?;
                event(
                    conn,
                    guest,
                    "monitor.force",
                    Outcome::Warning,
                    "still unresponsive after HALT; FORCE logoff",
                    now,
                )?;
                self.remember(&guest.name, None);
                self.reboot(conn, backend, guest, name, now)
            }
            Some(_) => Ok(()),
        }
    }

    /// Boots a guest that should run, or records it as stopped.
    fn reboot(
        &self,
        conn: &mut AnyConnection,
        backend: &dyn Backend,
        guest: &GuestRow,
        name: &GuestName,
        now: Millis,
    ) -> Result<(), WorkerError> {
        // A disabled wait holds the guest logged on: without the FORCE its
        // owner's next start would be refused.
        if let Ok(status) = backend.status(name) {
            if matches!(status.power, PowerState::DisabledWait { .. }) {
                backend.force(name)?;
            }
        }
        if !guest.auto_boot {
            guests::set_state(conn, guest.id, GuestState::Stopped, now)?;
            return Ok(event(
                conn,
                guest,
                "monitor.down",
                Outcome::Info,
                "logged off; auto_boot is off",
                now,
            )?);
        }
        crate::power::ipl(conn, backend, guest.id, name)?;
        guests::set_state(conn, guest.id, GuestState::Starting, now)?;
        Ok(event(
            conn,
            guest,
            "monitor.ipl",
            Outcome::Warning,
            "should run but was down; IPL",
            now,
        )?)
    }

    fn recovered(
        &self,
        conn: &mut AnyConnection,
        guest: &GuestRow,
        now: Millis,
    ) -> StoreResult<()> {
        if guest.state == GuestState::Unresponsive {
            self.remember(&guest.name, None);
            guests::set_state(conn, guest.id, GuestState::Running, now)?;
            event(
                conn,
                guest,
                "monitor.recovered",
                Outcome::Info,
                "heartbeats again",
                now,
            )?;
        }
        Ok(())
    }

    fn restart_down_services(
        &self,
        conn: &mut AnyConnection,
        guest: &GuestRow,
        name: &GuestName,
        services: &[crate::backend::ServiceStatus],
        now: Millis,
    ) -> StoreResult<()> {
        for s in services
            .iter()
            .filter(|s| s.enabled && s.state == ServiceState::Down)
        {
            let key = (guest.name.clone(), s.name.clone());
            let due = self
                .service_restarts
                .lock()
                .map(|m| {
                    m.get(&key).is_none_or(|at| {
                        now - at >= self.settings.service_retry.as_millis() as Millis
                    })
                })
                .unwrap_or(false);
            let Ok(service) = s.name.parse() else {
                continue;
            };
            if !due {
                continue;
            }
            let op = CommandOp::Service {
                name: service,
                action: herd_core::domain::ServiceAction::Restart,
            };
            let text = Command {
                guest: name.clone(),
                op,
            }
            .to_string();
            commands::insert(conn, guest.id, None, &text, now)?;
            commands::set_service_state(conn, guest.id, &s.name, "down", now)?;
            if let Ok(mut m) = self.service_restarts.lock() {
                m.insert(key, now);
            }
            event(
                conn,
                guest,
                "monitor.service_restart",
                Outcome::Warning,
                &format!("{} is enabled but down: {text}", s.name),
                now,
            )?;
        }
        Ok(())
    }

    /// A guest whose boots keep failing is booted again at most once per
    /// `service_retry` (counted from the failed boot), not on every sweep.
    fn may_reboot_after_failure(&self, guest: &str, failed_at: Millis, now: Millis) -> bool {
        let Ok(mut last) = self.failed_boots.lock() else {
            return true;
        };
        let retry = self.settings.service_retry.as_millis() as Millis;
        let due = match last.get(guest) {
            Some(&previous) if previous != failed_at => now - failed_at >= retry,
            _ => true,
        };
        if due {
            last.insert(guest.to_owned(), failed_at);
        }
        due
    }

    fn remember(&self, guest: &str, stage: Option<Healing>) {
        if let Ok(mut h) = self.healing.lock() {
            match stage {
                Some(s) => h.insert(guest.to_owned(), s),
                None => h.remove(guest),
            };
        }
    }
}

fn event(
    c: &mut AnyConnection,
    g: &GuestRow,
    action: &str,
    outcome: Outcome,
    detail: &str,
    now: Millis,
) -> StoreResult<()> {
    let work = GuestWork {
        kind: herd_core::domain::EventKind::Monitor,
        guest_id: g.id,
        guest: &g.name,
    };
    work.record(c, action, outcome, Some(detail), now)
}
