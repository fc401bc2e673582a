//! The dispatcher: claims queued commands, parses their text again with the
//! strict grammar, checks them against the database and the catalog, and
//! only then acts on the hypervisor. Woken at once by the web side in the
//! same process; other processes find the command on their next round.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestState, ServiceAction};
use herd_core::store::commands::{self, CommandRow};
use herd_core::store::guests::{self, Guest};
use herd_core::store::{catalog, AnyConnection, Store, StoreResult};
use rayon::prelude::*;

use super::grammar::{Command, CommandOp};
use crate::backend::{Backend, BackendError, ConsoleReply, PowerState};
use crate::wake::Wake;

pub struct Dispatcher {
    store: Store,
    backend: Arc<dyn Backend>,
    clock: SharedClock,
    id: String,
    /// Its own threads: the worker's long copies on the global rayon pool
    /// must not hold up a click.
    threads: rayon::ThreadPool,
}

/// Guests whose commands run at the same time; each guest's in order.
const PARALLEL_GUESTS: usize = 4;

/// What became of one command.
enum Outcome {
    Done {
        ok: bool,
        result: String,
    },
    /// Cannot run yet (IPL while the guest is still logging off).
    NotYet,
}

impl Dispatcher {
    /// `store` should have connections of its own (see
    /// [`Store::with_own_pool`]), at least [`Self::CONNECTIONS`].
    pub fn new(
        store: Store,
        backend: Arc<dyn Backend>,
        clock: SharedClock,
    ) -> Result<Self, rayon::ThreadPoolBuildError> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(PARALLEL_GUESTS)
            .thread_name(|i| format!("herd-dispatch-{i}"))
            .build()?;
        Ok(Self {
            store,
            backend,
            clock,
            id: format!("dispatcher-{}", std::process::id()),
            threads,
        })
    }

    /// Connections the dispatcher uses at most at once.
    pub const CONNECTIONS: u32 = PARALLEL_GUESTS as u32 + 1;

    pub fn spawn(
        self,
        wake: Arc<Wake>,
        idle_wait: Duration,
        shutdown: Arc<AtomicBool>,
    ) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("herd-dispatcher".into())
            .spawn(move || {
                while !shutdown.load(Ordering::SeqCst) {
                    if let Err(e) = self.drain() {
                        tracing::warn!(error = %e, "dispatcher");
                    }
                    wake.wait(idle_wait);
                }
            })
    }

    /// Runs every queued command it can claim, guests in parallel, each
    /// guest's commands in the order they came; returns how many finished.
    pub fn drain(&self) -> StoreResult<usize> {
        let queued = commands::queued(&mut *self.store.conn()?, 100)?;
        let mut by_guest: BTreeMap<i64, Vec<CommandRow>> = BTreeMap::new();
        for row in queued {
            by_guest.entry(row.guest_id).or_default().push(row);
        }
        let finished: StoreResult<Vec<usize>> = self.threads.install(|| {
            by_guest
                .into_par_iter()
                .map(|(_, rows)| self.run_in_order(&rows))
                .collect()
        });
        Ok(finished?.into_iter().sum())
    }

    /// One guest's commands; one that cannot run yet holds back the rest.
    fn run_in_order(&self, rows: &[CommandRow]) -> StoreResult<usize> {
        let mut conn = self.store.conn()?;
        let mut done = 0;
        for row in rows {
            if !commands::claim(&mut conn, row.id, &self.id, self.clock.now_ms())? {
                continue;
            }
            match self.execute(&mut conn, row)? {
                Outcome::Done { ok, result } => {
                    commands::finish(&mut conn, row.id, ok, &result, self.clock.now_ms())?;
                    done += 1;
                }
                Outcome::NotYet => {
                    commands::requeue(&mut conn, row.id)?;
                    break;
                }
            }
        }
        Ok(done)
    }

    fn execute(&self, conn: &mut AnyConnection, row: &CommandRow) -> StoreResult<Outcome> {
        let command = match Command::parse(&row.text) {
            Ok(c) => c,
            Err(e) => return Ok(refused(format!("rejected: {e}"))),
        };
        let Some(guest) = guests::find_by_name(conn, command.guest.as_str())? else {
            return Ok(refused(format!("no guest {}", command.guest)));
        };
        if guest.row.id != row.guest_id
            || matches!(
                guest.state(),
                GuestState::Decommissioned | GuestState::Provisioning
            )
        {
            return Ok(refused(format!(
                "{} cannot take commands now",
                command.guest
            )));
        }
        let now = self.clock.now_ms();
        let result = match &command.op {
            CommandOp::Ipl => self.ipl(conn, &guest, now),
            CommandOp::Halt => self
                .backend
                .halt(&command.guest)
                .map(|_| GuestState::Stopping)
                .and_then(|s| {
                    guests::set_state(conn, guest.row.id, s, now).map_err(store_to_backend)?;
                    Ok(Outcome::Done {
                        ok: true,
                        result: "HALT accepted: services stop, then the guest logs off".into(),
                    })
                }),
            CommandOp::Force => self.backend.force(&command.guest).and_then(|()| {
                guests::set_state(conn, guest.row.id, GuestState::Stopped, now)
                    .map_err(store_to_backend)?;
                set_all_services(conn, &guest, "down", now).map_err(store_to_backend)?;
                Ok(Outcome::Done {
                    ok: true,
                    result: "FORCE: logged off".into(),
                })
            }),
            CommandOp::Service { name, action } => {
                self.service(conn, &guest, &command, name.as_str(), *action, now)
            }
        };
        Ok(result.unwrap_or_else(|e| refused(e.to_string())))
    }

    fn ipl(
        &self,
        conn: &mut AnyConnection,
        guest: &Guest,
        now: i64,
    ) -> Result<Outcome, BackendError> {
        let name = guest
            .row
            .name
            .parse()
            .map_err(|e| BackendError::InvalidArgument(format!("{e}")))?;
        match self.backend.status(&name)?.power {
            PowerState::Stopping { .. } => return Ok(Outcome::NotYet),
            PowerState::LoggedOff => {}
            _ => {
                return Ok(Outcome::Done {
                    ok: true,
                    result: "already logged on".into(),
                })
            }
        }
        let ready_at =
            crate::power::ipl(conn, &*self.backend, guest.row.id, &name).map_err(|e| match e {
                crate::worker::WorkerError::Backend(b) => b,
                other => store_to_backend_msg(other.to_string()),
            })?;
        guests::set_state(conn, guest.row.id, GuestState::Starting, now)
            .map_err(store_to_backend)?;
        Ok(Outcome::Done {
            ok: true,
            result: format!(
                "IPL started; running in about {} s",
                (ready_at - now).max(0) / 1000
            ),
        })
    }

    fn service(
        &self,
        conn: &mut AnyConnection,
        guest: &Guest,
        command: &Command,
        service: &str,
        action: ServiceAction,
        now: i64,
    ) -> Result<Outcome, BackendError> {
        let known = catalog::services(conn)
            .map_err(store_to_backend)?
            .iter()
            .any(|s| s.name == service);
        if !known {
            return Ok(refused(format!("{service} is not in the service catalog")));
        }
        let line = command.op.console_line().unwrap_or_default();
        match self.backend.console_write(&command.guest, &line)? {
            ConsoleReply::Completed { ok, output } => {
                if ok {
                    let state = if action == ServiceAction::Stop {
                        "down"
                    } else {
                        "up"
                    };
                    commands::set_service_state(conn, guest.row.id, service, state, now)
                        .map_err(store_to_backend)?;
                }
                Ok(Outcome::Done { ok, result: output })
            }
            ConsoleReply::NoResponse => Ok(refused(format!(
                "{} did not answer on its console",
                command.guest
            ))),
        }
    }
}

fn refused(result: String) -> Outcome {
    Outcome::Done { ok: false, result }
}

fn store_to_backend(e: herd_core::store::StoreError) -> BackendError {
    store_to_backend_msg(e.to_string())
}

fn store_to_backend_msg(msg: String) -> BackendError {
    BackendError::Io(std::io::Error::other(msg))
}

/// Every service of the guest in one observed state (a guest logged off).
pub fn set_all_services(
    conn: &mut AnyConnection,
    guest: &Guest,
    state: &str,
    now: i64,
) -> StoreResult<()> {
    for (service, _, _) in guests::services(conn, guest.row.id)? {
        commands::set_service_state(conn, guest.row.id, &service.name, state, now)?;
    }
    Ok(())
}
