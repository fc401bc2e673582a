//! The dispatcher: claims queued commands, parses their text again with the
//! strict grammar, checks them against the database and the catalog, and
//! only then acts on the hypervisor. Woken at once by the web side in the
//! same process; other processes find the command on their next round.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use herd_core::clock::SharedClock;
use herd_core::domain::{GuestState, ServiceAction};
use herd_core::store::commands::{self, CommandRow, Finished, Observed};
use herd_core::store::guests::{self, Guest};
use herd_core::store::{catalog, AnyConnection, Conn, Store, StoreResult};

use super::grammar::{Command, CommandOp, GrammarError};
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

/// What a command came to, unless it cannot run yet (an IPL while the
/// guest is still logging off): `None` then.
type Answer = Option<Done>;

struct Done {
    ok: bool,
    result: String,
    /// A service's state the command changed (recorded with the result).
    observed: Option<Observed>,
}

/// A claimed command and what its text says, parsed again.
struct Claimed {
    row: CommandRow,
    command: Result<Command, GrammarError>,
}

/// A round's claimed commands, each parsed again from its text, by guest
/// in the order they came, and what they are checked against: looked up
/// once for the round, not once a command.
struct Round {
    by_guest: BTreeMap<i64, Vec<Claimed>>,
    guests: HashMap<String, Guest>,
    catalog: Vec<String>,
}

impl Round {
    fn look_up(conn: &mut AnyConnection, claimed: Vec<CommandRow>) -> StoreResult<Self> {
        let mut by_guest: BTreeMap<_, Vec<_>> = BTreeMap::new();
        for row in claimed {
            let command = Command::parse(&row.text);
            by_guest
                .entry(row.guest_id)
                .or_default()
                .push(Claimed { row, command });
        }
        let names: BTreeSet<&str> = by_guest
            .values()
            .flatten()
            .filter_map(|claimed| claimed.command.as_ref().ok())
            .map(|c| c.guest.as_str())
            .collect();
        let guests = guests::find_by_names(conn, &names.into_iter().collect::<Vec<_>>())?
            .into_iter()
            .map(|g| (g.row.name.clone(), g))
            .collect();
        let catalog = catalog::services(conn)?
            .into_iter()
            .map(|s| s.name)
            .collect();
        Ok(Self {
            by_guest,
            guests,
            catalog,
        })
    }
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
    /// Results are recorded as they come, together with those that came
    /// meanwhile: under load, one write a round instead of one a command.
    pub fn drain(&self) -> StoreResult<usize> {
        let mut conn = self.store.conn()?;
        let claimed = commands::claim_queued(&mut conn, &self.id, self.clock.now_ms(), 100)?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let round = Round::look_up(&mut conn, claimed)?;
        let turn_failed = Mutex::new(None);
        let recorded = self.threads.in_place_scope(|scope| {
            let (outcomes, results) = mpsc::channel();
            for rows in round.by_guest.values() {
                let (outcomes, round, turn_failed) = (outcomes.clone(), &round, &turn_failed);
                scope.spawn(move |_| {
                    if let Err(e) = self.run_in_order(rows, round, &outcomes) {
                        turn_failed
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                });
            }
            drop(outcomes);
            self.record(&mut conn, &results)
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
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            recorded += rows.len();
            self.finished(Finished::Commands(rows.into()));
            commands::announce_finished(conn, &ids)?;
        }
        Ok(recorded)
    }

    /// One guest's commands, each outcome sent to be recorded; one that
    /// cannot run yet goes back to the queue with those after it.
    fn run_in_order(
        &self,
        rows: &[Claimed],
        round: &Round,
        outcomes: &mpsc::Sender<commands::Outcome>,
    ) -> StoreResult<()> {
        // Taken only by commands that change the guest's row.
        let mut conn = None;
        for (i, Claimed { row, command }) in rows.iter().enumerate() {
            let Some(done) = self.execute(&mut conn, row, command, round)? else {
                let conn = self.conn(&mut conn)?;
                for later in &rows[i..] {
                    commands::requeue(conn, later.row.id)?;
                }
                return Ok(());
            };
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
        row: &CommandRow,
        parsed: &Result<Command, GrammarError>,
        round: &Round,
    ) -> StoreResult<Answer> {
        let command = match parsed {
            Ok(c) => c,
            Err(e) => return Ok(refused(format!("rejected: {e}"))),
        };
        let Some(guest) = round.guests.get(command.guest.as_str()) else {
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
            CommandOp::Ipl => self.ipl(self.conn(conn)?, guest, now),
            CommandOp::Halt => {
                let conn = self.conn(conn)?;
                self.backend.halt(&command.guest).and_then(|_| {
                    guests::set_state(conn, guest.row.id, GuestState::Stopping, now)
                        .map_err(store_to_backend)?;
                    Ok(done(
                        "HALT accepted: services stop, then the guest logs off",
                    ))
                })
            }
            CommandOp::Force => {
                let conn = self.conn(conn)?;
                self.backend.force(&command.guest).and_then(|()| {
                    guests::set_state(conn, guest.row.id, GuestState::Stopped, now)
                        .map_err(store_to_backend)?;
                    commands::set_all_service_states(conn, guest.row.id, "down", now)
                        .map_err(store_to_backend)?;
                    Ok(done("FORCE: logged off"))
                })
            }
            CommandOp::Service { name, action } => {
                if round.catalog.iter().any(|s| s == name.as_str()) {
                    self.service(command, name.as_str(), *action)
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
    ) -> Result<Answer, BackendError> {
        let name = guest
            .row
            .name
            .parse()
            .map_err(|e| BackendError::InvalidArgument(format!("{e}")))?;
        match self.backend.status(&name)?.power {
            PowerState::Stopping { .. } => return Ok(None),
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
            ConsoleReply::NoResponse => Ok(refused(format!(
                "{} did not answer on its console",
                command.guest
            ))),
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

fn store_to_backend(e: herd_core::store::StoreError) -> BackendError {
    store_to_backend_msg(e.to_string())
}

fn store_to_backend_msg(msg: String) -> BackendError {
    BackendError::Io(std::io::Error::other(msg))
}
