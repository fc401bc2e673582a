//! What each task of this process did last: kept in memory (metrics read
//! it), published to the database for `GET /api/v1/system/tasks`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use herd_core::clock::{Millis, SharedClock};
use herd_core::store::tasks::{self, TaskReport};
use herd_core::store::{Store, StoreResult};

use super::TaskError;

/// Reports of processes silent for this long are dropped from the table.
const FORGET_AFTER_MS: Millis = 24 * 3600 * 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskStatus {
    pub last_started_at: Option<Millis>,
    pub last_succeeded_at: Option<Millis>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
    pub runs: u64,
    pub failures: u64,
    /// The latest activation failed.
    pub failing: bool,
}

pub struct TaskBoard {
    process: String,
    clock: SharedClock,
    tasks: Mutex<BTreeMap<&'static str, TaskStatus>>,
}

/// How this process names itself in task reports: host and process id.
pub fn process_label(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}/{}/{role}", std::process::id())
}

impl TaskBoard {
    pub fn new(process: String, clock: SharedClock) -> Self {
        Self {
            process,
            clock,
            tasks: Mutex::default(),
        }
    }

    /// Lists a task before its first activation.
    pub fn register(&self, name: &'static str) {
        self.update(name, |_, _| {});
    }

    pub fn started(&self, name: &'static str) {
        self.update(name, |s, now| s.last_started_at = Some(now));
    }

    pub fn finished(&self, name: &'static str, outcome: &Result<(), TaskError>) {
        self.update(name, |s, now| {
            s.runs += 1;
            match outcome {
                Ok(()) => {
                    s.last_succeeded_at = Some(now);
                    s.failing = false;
                }
                Err(e) => {
                    s.failures += 1;
                    s.last_error = Some(e.message().to_owned());
                    s.last_error_at = Some(now);
                    s.failing = true;
                }
            }
        });
    }

    fn update(&self, name: &'static str, f: impl FnOnce(&mut TaskStatus, Millis)) {
        let now = self.clock.now_ms();
        // A panic while the lock was held left a whole status behind.
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        f(tasks.entry(name).or_default(), now);
    }

    /// Every task's status, by name.
    pub fn snapshot(&self) -> Vec<(&'static str, TaskStatus)> {
        let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.iter().map(|(n, s)| (*n, s.clone())).collect()
    }

    /// Writes this process's statuses to the database, and forgets the
    /// processes that stopped reporting long ago.
    pub fn publish(&self, store: &Store) -> StoreResult<()> {
        let now = self.clock.now_ms();
        let reports: Vec<TaskReport> = self
            .snapshot()
            .into_iter()
            .map(|(name, s)| TaskReport {
                process: self.process.clone(),
                name: name.to_owned(),
                last_started_at: s.last_started_at,
                last_succeeded_at: s.last_succeeded_at,
                last_error: s.last_error,
                last_error_at: s.last_error_at,
                runs: s.runs.min(i64::MAX as u64) as i64,
                failures: s.failures.min(i64::MAX as u64) as i64,
                failing: s.failing,
                reported_at: now,
            })
            .collect();
        let mut conn = store.conn()?;
        tasks::publish(&mut conn, &reports)?;
        tasks::forget_silent(&mut conn, now - FORGET_AFTER_MS).map(drop)
    }
}
