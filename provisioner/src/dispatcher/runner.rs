//! The dispatcher: claims queued commands, parses their text again with the
//! strict grammar, checks them against the database and the catalog, and
//! only then acts on the hypervisor. Woken at once by the web side in the
//! same process; other processes find the command on their next round.

use std::collections::BTreeMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestName, GuestState, ServiceAction};
use herd_core::store::commands::{self, Claimed, Finished, Observed};
use herd_core::store::guests;
use herd_core::store::{catalog, AnyConnection, Conn, Store, StoreResult};

use super::grammar::{Command, CommandOp, GrammarError};
use crate::backend::{Backend, BackendError, ConsoleReply, PowerState};
use crate::tasks::{Task, TaskError};
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
    /// The connection rounds claim and record on, kept from one round to
    /// the next: taking one from the pool costs a round trip (the pool's
    /// check) that every click would wait for. Dropped after an error.
    held: Mutex<Option<Conn>>,
    /// The catalog's service names, read again when a command names one
    /// not in it (services are added, never removed).
    catalog: Mutex<Vec<String>>,
}

/// Told each time commands are finished (those waiting for them wake up).
pub type FinishedHook = Arc<dyn Fn(Finished) + Send + Sync>;

/// Guests whose commands run at the same time; each guest's in order.
const PARALLEL_GUESTS: usize = 8;

/// What a command came to, unless it cannot run yet (an IPL while the
/// guest is still logging off, a service command while it boots): `None`
/// then.
type Answer = Option<Done>;

struct Done {
    ok: bool,
    result: String,
    /// A service's state the command changed (recorded with the result).
    observed: Option<Observed>,
}

/// A claimed command and what its text says, parsed again.
struct Parsed {
    claimed: Claimed,
    command: Result<Command, GrammarError>,
}

/// A round's claimed commands by guest, in the order they came.
fn by_guest(claimed: Vec<Claimed>) -> BTreeMap<i64, Vec<Parsed>> {
    let mut by_guest: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for claimed in claimed {
        let command = Command::parse(&claimed.command.text);
        by_guest
            .entry(claimed.command.guest_id)
            .or_default()
            .push(Parsed { claimed, command });
    }
    by_guest
}

/// A command that dispatched this long ago and never finished was lost
/// with its dispatcher.
const ABANDONED_AFTER_MS: i64 = 60_000;

/// How long a service command waits for its guest to finish booting: a
/// click right after a start is meant for the guest about to run, but a
/// guest stuck booting (a stalled host) must not hold up the commands
/// queued behind it, a FORCE among them, for longer.
const HELD_WHILE_BOOTING_MS: i64 = 60_000;

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
            held: Mutex::new(None),
            catalog: Mutex::new(Vec::new()),
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

    /// The dispatcher's background tasks: rounds of commands, activated
    /// by `wake` (a click in this process, or a notification from
    /// another) or every `idle_wait`; and, less often, failing the
    /// commands a stopped dispatcher left half done.
    pub fn tasks(self: &Arc<Self>, wake: &Arc<Wake>, idle_wait: Duration) -> Vec<Task> {
        let (rounds, sweeps) = (self.clone(), self.clone());
        vec![
            Task::new("dispatcher", idle_wait, wake.clone(), move || {
                rounds.drain().map(drop).map_err(TaskError::from)
            }),
            Task::new(
                "abandoned_commands",
                idle_wait * 40,
                Arc::new(Wake::default()),
                move || sweeps.fail_abandoned().map(drop).map_err(TaskError::from),
            ),
        ]
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
    /// Results are recorded as they come, together with those that came
    /// meanwhile: under load, one write a round instead of one a command.
    pub fn drain(&self) -> StoreResult<usize> {
        let mut held = lock(&self.held);
        let drained = self.drain_on(&mut held);
        if drained.is_err() {
            *held = None;
        }
        drained
    }

    fn drain_on(&self, held: &mut Option<Conn>) -> StoreResult<usize> {
        let conn = self.conn(held)?;
        let claimed = commands::claim_queued(conn, &self.id, self.clock.now_ms(), 100)?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let by_guest = by_guest(claimed);
        let turn_failed = Mutex::new(None);
        let recorded = self.threads.in_place_scope(|scope| {
            let (outcomes, results) = mpsc::channel();
            for rows in by_guest.values() {
                let (outcomes, turn_failed) = (outcomes.clone(), &turn_failed);
                scope.spawn(move |_| {
                    if let Err(e) = self.run_in_order(rows, &outcomes) {
                        lock(turn_failed).get_or_insert(e);
                    }
                });
            }
            drop(outcomes);
            self.record(conn, &results)
        });
        let recorded = recorded?;
        match turn_failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(recorded),
        }
    }

    /// Records outcomes until every guest's turn is over, each time all
    /// that have come, and tells those waiting.
    fn record(
        &self,
        conn: &mut AnyConnection,
        results: &mpsc::Receiver<commands::Outcome>,
    ) -> StoreResult<usize> {
        let mut recorded = 0;
        while let Ok(first) = results.recv() {
            let batch: Vec<_> = std::iter::once(first).chain(results.try_iter()).collect();
            let rows = commands::finish_all(conn, &batch, self.clock.now_ms())?;
            recorded += rows.len();
            self.finished(Finished::Commands(rows.into()));
        }
        Ok(recorded)
    }

    /// One guest's commands, each outcome sent to be recorded; one that
    /// cannot run yet goes back to the queue with those after it.
    fn run_in_order(
        &self,
        rows: &[Parsed],
        outcomes: &mpsc::Sender<commands::Outcome>,
    ) -> StoreResult<()> {
        // Taken only by commands that change the guest's row.
        let mut conn = None;
        for (i, Parsed { claimed, command }) in rows.iter().enumerate() {
            let row = &claimed.command;
            let Some(done) = self.execute(&mut conn, claimed, command)? else {
                let conn = self.conn(&mut conn)?;
                for later in &rows[i..] {
                    commands::requeue(conn, later.claimed.command.id)?;
                }
                return Ok(());
            };
            // The request's id follows the click into the privileged side.
            tracing::info!(
                command = row.id,
                request_id = row.request_id.as_deref().unwrap_or("-"),
                text = %row.text,
                ok = done.ok,
                "command"
            );
            let outcome = commands::Outcome {
                id: row.id,
                guest_id: row.guest_id,
                succeeded: done.ok,
                result: done.result,
                observed: done.observed,
            };
            if outcomes.send(outcome).is_err() {
                // Recording failed; the command stays `dispatched` until
                // `fail_abandoned` ends it.
                return Ok(());
            }
        }
        Ok(())
    }

    fn conn<'c>(&self, slot: &'c mut Option<Conn>) -> StoreResult<&'c mut AnyConnection> {
        let conn = match slot.take() {
            Some(c) => c,
            None => self.store.conn()?,
        };
        Ok(slot.insert(conn))
    }

    fn finished(&self, word: Finished) {
        if let Some(hook) = &self.on_finished {
            hook(word);
        }
    }

    fn execute(
        &self,
        conn: &mut Option<Conn>,
        claimed: &Claimed,
        parsed: &Result<Command, GrammarError>,
    ) -> StoreResult<Answer> {
        let command = match parsed {
            Ok(c) => c,
            Err(e) => return Ok(refused(format!("rejected: {e}"))),
        };
        let Some(guest) = &claimed.guest else {
            return Ok(refused(format!("no guest {}", command.guest)));
        };
        if guest.name != command.guest.as_str() {
            return Ok(refused(format!(
                "the command names {}, but was recorded for {}",
                command.guest, guest.name
            )));
        }
        if matches!(
            GuestState::parse(&guest.state),
            None | Some(GuestState::Decommissioned | GuestState::Provisioning)
        ) {
            return Ok(refused(format!(
                "{} cannot take commands now",
                command.guest
            )));
        }
        // A reset halts and boots the guest itself, between disk swaps.
        let resetting = match command.op {
            CommandOp::Ipl | CommandOp::Halt | CommandOp::Force => {
                crate::reset::holding(self.conn(conn)?, guest.name.as_str())?
            }
            CommandOp::Service { .. } => None,
        };
        if let Some(job) = resetting {
            return Ok(refused(format!(
                "{} is being reset (job {job}); it boots again when the reset is done",
                command.guest
            )));
        }
        let (guest_id, name, now) = (
            claimed.command.guest_id,
            &command.guest,
            self.clock.now_ms(),
        );
        let result = match &command.op {
            CommandOp::Ipl => self.ipl(self.conn(conn)?, guest_id, name, now),
            CommandOp::Halt => {
                let conn = self.conn(conn)?;
                self.backend.halt(name).and_then(|_| {
                    guests::set_state(conn, guest_id, GuestState::Stopping, now)
                        .map_err(store_to_backend)?;
                    Ok(done(
                        "HALT accepted: services stop, then the guest logs off",
                    ))
                })
            }
            CommandOp::Force => {
                let conn = self.conn(conn)?;
                self.backend.force(name).and_then(|()| {
                    guests::set_state(conn, guest_id, GuestState::Stopped, now)
                        .map_err(store_to_backend)?;
                    commands::set_all_service_states(conn, guest_id, "down", now)
                        .map_err(store_to_backend)?;
                    Ok(done("FORCE: logged off"))
                })
            }
            CommandOp::Service {
                name: service,
                action,
            } => {
                if self.in_catalog(conn, service.as_str())? {
                    let waited = now - claimed.command.created_at;
                    self.service(command, service.as_str(), *action, waited)
                } else {
                    Ok(refused(format!("{service} is not in the service catalog")))
                }
            }
        };
        Ok(result.unwrap_or_else(|e| refused(e.to_string())))
    }

    /// Whether the catalog has `service`: the copy at hand, read again
    /// from the database when it does not.
    fn in_catalog(&self, conn: &mut Option<Conn>, service: &str) -> StoreResult<bool> {
        if lock(&self.catalog).iter().any(|s| s == service) {
            return Ok(true);
        }
        let now: Vec<String> = catalog::services(self.conn(conn)?)?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let known = now.iter().any(|s| s == service);
        *lock(&self.catalog) = now;
        Ok(known)
    }

    fn ipl(
        &self,
        conn: &mut AnyConnection,
        guest_id: i64,
        name: &GuestName,
        now: i64,
    ) -> Result<Answer, BackendError> {
        match self.backend.status(name)?.power {
            PowerState::Stopping { .. } => return Ok(None),
            PowerState::LoggedOff => {}
            _ => return Ok(done("already logged on")),
        }
        let ready_at =
            crate::power::ipl(conn, &*self.backend, guest_id, name).map_err(|e| match e {
                crate::error::WorkerError::Backend(b) => b,
                other => store_to_backend_msg(other.to_string()),
            })?;
        guests::set_state(conn, guest_id, GuestState::Starting, now).map_err(store_to_backend)?;
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
        waited_ms: i64,
    ) -> Result<Answer, BackendError> {
        let line = command.op.console_line().unwrap_or_default();
        match self.backend.console_write(&command.guest, &line)? {
            ConsoleReply::Completed { ok, output } => {
                let state = if action == ServiceAction::Stop {
                    "down"
                } else {
                    "up"
                };
                Ok(Some(Done {
                    ok,
                    result: output,
                    observed: ok.then(|| Observed {
                        service: service.to_owned(),
                        state,
                    }),
                }))
            }
            ConsoleReply::NoResponse => {
                let booting = matches!(
                    self.backend.status(&command.guest)?.power,
                    PowerState::Booting { .. }
                );
                if booting && waited_ms < HELD_WHILE_BOOTING_MS {
                    return Ok(None);
                }
                Ok(refused(format!(
                    "{} did not answer on its console{}",
                    command.guest,
                    if booting { ": still booting" } else { "" }
                )))
            }
        }
    }
}

fn done(result: impl Into<String>) -> Answer {
    Some(Done {
        ok: true,
        result: result.into(),
        observed: None,
    })
}

fn refused(result: String) -> Answer {
    Some(Done {
        ok: false,
        result,
        observed: None,
    })
}

/// A lock whose holder panicked is still good: what it guards is a cache
/// or a slot, made whole again by the next use.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn store_to_backend(e: herd_core::store::StoreError) -> BackendError {
    store_to_backend_msg(e.to_string())
}

fn store_to_backend_msg(msg: String) -> BackendError {
    BackendError::Io(std::io::Error::other(msg))
}
