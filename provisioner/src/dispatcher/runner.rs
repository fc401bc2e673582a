//! The dispatcher: claims queued commands, parses their text again with the
//! strict grammar, checks them against the database and the catalog, and
//! only then acts on the hypervisor. Woken at once by the web side in the
//! same process; other processes find the command on their next round.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestState, ServiceAction};
use herd_core::store::commands::{self, CommandRow, Finished};
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
    on_finished: Option<FinishedHook>,
}

/// Told each time commands are finished (those waiting for them wake up).
pub type FinishedHook = Arc<dyn Fn(Finished) + Send + Sync>;

/// Guests whose commands run at the same time; each guest's in order.
const PARALLEL_GUESTS: usize = 8;

/// What became of one command.
enum Outcome {
    Done {
        ok: bool,
        result: String,
        /// A service's state the command changed (recorded with the result).
        service: Option<(String, &'static str)>,
    },
    /// Cannot run yet (IPL while the guest is still logging off).
    NotYet,
}

/// A command that dispatched this long ago and never finished was lost
/// with its dispatcher.
const ABANDONED_AFTER_MS: i64 = 60_000;

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
            on_finished: None,
        })
    }

    pub fn on_finished(self, hook: FinishedHook) -> Self {
        Self {
            on_finished: Some(hook),
            ..self
        }
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
                let mut swept = None;
                while !shutdown.load(Ordering::SeqCst) {
                    if swept.is_none_or(|at: Instant| at.elapsed() > idle_wait * 40) {
                        if let Err(e) = self.fail_abandoned() {
                            tracing::warn!(error = %e, "dispatcher: abandoned commands");
                        }
                        swept = Some(Instant::now());
                    }
                    if let Err(e) = self.drain() {
                        tracing::warn!(error = %e, "dispatcher");
                    }
                    wake.wait(idle_wait);
                }
            })
    }

    /// Fails the commands a dead dispatcher left half done.
    pub fn fail_abandoned(&self) -> StoreResult<usize> {
        let now = self.clock.now_ms();
        let failed =
            commands::fail_abandoned(&mut *self.store.conn()?, now - ABANDONED_AFTER_MS, now)?;
        if failed > 0 {
            tracing::warn!(
                failed,
                "dispatcher: commands abandoned by a stopped dispatcher"
            );
            self.finished(Finished::Several);
        }
        Ok(failed)
    }

    /// Runs every queued command it can claim, guests in parallel, each
    /// guest's commands in the order they came; returns how many finished.
    pub fn drain(&self) -> StoreResult<usize> {
        let mut conn = self.store.conn()?;
        let claimed = commands::claim_queued(&mut conn, &self.id, self.clock.now_ms(), 100)?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let catalog: Vec<String> = catalog::services(&mut conn)?
            .into_iter()
            .map(|s| s.name)
            .collect();
        drop(conn);
        let mut by_guest: BTreeMap<i64, Vec<CommandRow>> = BTreeMap::new();
        for row in claimed {
            by_guest.entry(row.guest_id).or_default().push(row);
        }
        let finished = Mutex::new(Vec::new());
        let ran: StoreResult<()> = self.threads.install(|| {
            by_guest
                .into_par_iter()
                .try_for_each(|(_, rows)| self.run_in_order(&rows, &catalog, &finished))
        });
        // Those finished are told even when a guest's turn failed.
        let finished = finished.into_inner().unwrap_or_else(|p| p.into_inner());
        commands::announce_finished(&mut *self.store.conn()?, &finished)?;
        ran.map(|()| finished.len())
    }

    /// One guest's commands, each added to `finished` when done; one that
    /// cannot run yet goes back to the queue with those after it.
    fn run_in_order(
        &self,
        rows: &[CommandRow],
        catalog: &[String],
        finished: &Mutex<Vec<i64>>,
    ) -> StoreResult<()> {
        let mut conn = self.store.conn()?;
        for (i, row) in rows.iter().enumerate() {
            match self.execute(&mut conn, row, catalog)? {
                Outcome::Done {
                    ok,
                    result,
                    service,
                } => {
                    let observed = service.as_ref().map(|(name, state)| commands::Observed {
                        guest_id: row.guest_id,
                        service: name,
                        state,
                    });
                    let now = self.clock.now_ms();
                    let row = commands::finish(&mut conn, row.id, ok, &result, observed, now)?;
                    finished
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(row.id);
                    self.finished(Finished::Command(Arc::new(row)));
                }
                Outcome::NotYet => {
                    for later in &rows[i..] {
                        commands::requeue(&mut conn, later.id)?;
                    }
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn finished(&self, word: Finished) {
        if let Some(hook) = &self.on_finished {
            hook(word);
        }
    }

    fn execute(
        &self,
        conn: &mut AnyConnection,
        row: &CommandRow,
        catalog: &[String],
    ) -> StoreResult<Outcome> {
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
                    Ok(done(
                        "HALT accepted: services stop, then the guest logs off",
                    ))
                }),
            CommandOp::Force => self.backend.force(&command.guest).and_then(|()| {
                guests::set_state(conn, guest.row.id, GuestState::Stopped, now)
                    .map_err(store_to_backend)?;
                commands::set_all_service_states(conn, guest.row.id, "down", now)
                    .map_err(store_to_backend)?;
                Ok(done("FORCE: logged off"))
            }),
            CommandOp::Service { name, action } => {
                let known = catalog.iter().any(|s| s == name.as_str());
                if known {
                    self.service(&command, name.as_str(), *action)
                } else {
                    Ok(refused(format!("{name} is not in the service catalog")))
                }
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
            _ => return Ok(done("already logged on")),
        }
        let ready_at =
            crate::power::ipl(conn, &*self.backend, guest.row.id, &name).map_err(|e| match e {
                crate::worker::WorkerError::Backend(b) => b,
                other => store_to_backend_msg(other.to_string()),
            })?;
        guests::set_state(conn, guest.row.id, GuestState::Starting, now)
            .map_err(store_to_backend)?;
        Ok(done(format!(
            "IPL started; running in about {} s",
            (ready_at - now).max(0) / 1000
        )))
    }

    fn service(
        &self,
        command: &Command,
        service: &str,
        action: ServiceAction,
    ) -> Result<Outcome, BackendError> {
        let line = command.op.console_line().unwrap_or_default();
        match self.backend.console_write(&command.guest, &line)? {
            ConsoleReply::Completed { ok, output } => {
                let state = if action == ServiceAction::Stop {
                    "down"
                } else {
                    "up"
                };
                Ok(Outcome::Done {
                    ok,
                    result: output,
                    service: ok.then(|| (service.to_owned(), state)),
                })
            }
            ConsoleReply::NoResponse => Ok(refused(format!(
                "{} did not answer on its console",
                command.guest
            ))),
        }
    }
}

fn done(result: impl Into<String>) -> Outcome {
    Outcome::Done {
        ok: true,
        result: result.into(),
        service: None,
    }
}

fn refused(result: String) -> Outcome {
    Outcome::Done {
        ok: false,
        result,
        service: None,
    }
}

fn store_to_backend(e: herd_core::store::StoreError) -> BackendError {
    store_to_backend_msg(e.to_string())
}

fn store_to_backend_msg(msg: String) -> BackendError {
    BackendError::Io(std::io::Error::other(msg))
}
