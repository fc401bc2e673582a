//! The hypervisor's persistent state and how it is shared.
//!
//! Everything but disk contents lives in one file, `state.json`, preceded by
//! a one-line header carrying a generation number. Writers hold an exclusive
//! `flock` on `state.lock`, reload when another process moved the generation
//! on, and replace the file atomically (temp file, fsync, rename, fsync of
//! the directory), so a kill at any moment leaves either the old or the new
//! state. Readers need no lock: a rename never exposes a half-written file,
//! and the header lets them skip re-parsing when nothing changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use fs4::FileExt;
use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

use super::faults::Fault;
use crate::backend::{BackendError, DiskId, DiskStatus, LanName, Result, ServiceSpec};

const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "state.lock";
const HEADER: &str = "herd-zvm-state 1";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct State {
    pub users: BTreeMap<GuestName, User>,
    pub disks: BTreeMap<DiskId, DiskRecord>,
    pub lans: BTreeMap<LanName, Lan>,
    pub host: Host,
    /// Scripted faults waiting for their occasion.
    pub faults: Vec<Fault>,
    /// Names the next disk's files; never reused.
    pub next_file: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct User {
    pub memory_mb: u32,
    pub services: Vec<Service>,
    pub tags: BTreeMap<String, String>,
    pub power: Power,
}

/// A catalog service on one guest, with when it is up while logged on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Service {
    #[serde(flatten)]
    pub spec: ServiceSpec,
    pub up_at: Option<Millis>,
    pub down_at: Option<Millis>,
    /// A death planned for the next boot, counted from when it comes up.
    pub dies_after_ms: Option<u64>,
}

/// The guest's power state as last decided. Times lie in the future until
/// the clock passes them; `settle` turns them into the next state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Power {
    LoggedOff,
    Booting {
        ready_at: Millis,
        fails: bool,
        hang_after_ms: Option<u64>,
    },
    Running {
        since: Millis,
        hang_at: Option<Millis>,
    },
    DisabledWait {
        since: Millis,
    },
    Stopping {
        done_at: Millis,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct DiskRecord {
    /// Names the disk's files; stays when the owner changes id.
    pub file: u64,
    pub size: u64,
    pub layout: Layout,
    pub status: DiskStatus,
    pub checksum: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Layout {
    Full,
    FlashCopy { source_file: u64, block_size: u64 },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Lan {
    pub capacity: u32,
    pub granted: BTreeSet<GuestName>,
    pub coupled: BTreeSet<GuestName>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(super) struct Host {
    /// The latest stall; kept after it ended because heartbeats that fell
    /// into it never happened.
    pub stall: Option<Stall>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stall {
    pub from: Millis,
    pub until: Millis,
}

impl Stall {
    pub fn covers(&self, t: Millis) -> bool {
        self.from <= t && t < self.until
    }
}

impl State {
    pub fn user(&self, name: &GuestName) -> Result<&User> {
        self.users
            .get(name)
            .ok_or_else(|| BackendError::not_found(name))
    }

    pub fn user_mut(&mut self, name: &GuestName) -> Result<&mut User> {
        self.users
            .get_mut(name)
            .ok_or_else(|| BackendError::not_found(name))
    }

    pub fn stalled_at(&self, now: Millis) -> Option<Stall> {
        self.host.stall.filter(|s| s.covers(now))
    }
}

/// Shares [`State`] between the threads of this process (a mutex) and the
/// processes of this machine (the lock file).
#[derive(Debug)]
pub(super) struct Store {
    dir: PathBuf,
    /// fsync each new state (and its directory entry) before going on.
    durable: bool,
    lock: File,
    cache: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    state: State,
    /// `None` forces a reload, e.g. after a failed change left the cached
    /// state half-modified.
    generation: Option<u64>,
}

impl Store {
    /// Opens the state in `dir`, calling `recover` once under the lock so
    /// that leftovers of killed processes can be cleared.
    pub fn open(
        dir: &Path,
        durable: bool,
        recover: impl FnOnce(&State) -> Result<()>,
    ) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        let store = Self {
            dir: dir.to_owned(),
            durable,
            lock,
            cache: Mutex::new(Cached::default()),
        };
        {
            let mut cached = store.cache();
            let _flock = store.flock()?;
            remove_stray_temp_files(dir)?;
            store.refresh(&mut cached)?;
            recover(&cached.state)?;
        }
        Ok(store)
    }

    /// Runs `f` on the current state without persisting anything `f` does.
    pub fn read<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T> {
        let mut cached = self.cache();
        self.refresh(&mut cached)?;
        Ok(f(&mut cached.state))
    }

    /// Runs `f` on the current state under the machine-wide lock and saves
    /// the result if `f` succeeds. On failure nothing is saved.
    pub fn write<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut cached = self.cache();
        let _flock = self.flock()?;
        self.refresh(&mut cached)?;
        match f(&mut cached.state) {
            Ok(v) => {
                let next = cached.generation.unwrap_or(0) + 1;
                cached.generation = None;
                self.save(&cached.state, next)?;
                cached.generation = Some(next);
                Ok(v)
            }
            Err(e) => {
                cached.generation = None;
                Err(e)
            }
        }
    }

    fn cache(&self) -> MutexGuard<'_, Cached> {
        // A panic inside a closure leaves the cache suspect, not the file.
        self.cache.lock().unwrap_or_else(|poisoned| {
            let mut cached = poisoned.into_inner();
            cached.generation = None;
            cached
        })
    }

    fn flock(&self) -> Result<FlockGuard<'_>> {
        FileExt::lock(&self.lock)?;
        Ok(FlockGuard(&self.lock))
    }

    fn refresh(&self, cached: &mut Cached) -> Result<()> {
        let file = match File::open(self.dir.join(STATE_FILE)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                *cached = Cached {
                    state: State::default(),
                    generation: Some(0),
                };
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let mut reader = BufReader::new(file);
        let mut header = String::new();
        reader.read_line(&mut header)?;
        let generation = parse_header(&header)?;
        if cached.generation == Some(generation) {
            return Ok(());
        }
        let mut body = String::new();
        reader.read_to_string(&mut body)?;
        cached.state =
            serde_json::from_str(&body).map_err(|e| BackendError::Corrupt(e.to_string()))?;
        cached.generation = Some(generation);
        Ok(())
    }

    fn save(&self, state: &State, generation: u64) -> Result<()> {
        let mut bytes = format!("{HEADER} {generation}\n").into_bytes();
        serde_json::to_writer(&mut bytes, state)
            .map_err(|e| BackendError::Corrupt(e.to_string()))?;
        let tmp = self
            .dir
            .join(format!("{STATE_FILE}.tmp-{}", std::process::id()));
        atomic_write(&tmp, &self.dir.join(STATE_FILE), &bytes, self.durable)?;
        Ok(())
    }
}

struct FlockGuard<'a>(&'a File);

impl Drop for FlockGuard<'_> {
    fn drop(&mut self) {
        // Closing the descriptor would release it too, but the file stays open.
        let _ = FileExt::unlock(self.0);
    }
}

fn parse_header(line: &str) -> Result<u64> {
    line.trim_end()
        .strip_prefix(HEADER)
        .and_then(|rest| rest.trim().parse().ok())
        .ok_or_else(|| BackendError::Corrupt(format!("bad state header {line:?}")))
}

fn remove_stray_temp_files(dir: &Path) -> Result<()> {
    let prefix = format!("{STATE_FILE}.tmp");
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Replaces `path` with `bytes` so that a killed process leaves the old or
/// the new content, never a mix: write a temp file, rename it over the
/// target. With `durable`, the file and the directory are also fsynced, so
/// that the rename survives a crash of the machine itself.
pub(super) fn atomic_write(
    tmp: &Path,
    path: &Path,
    bytes: &[u8],
    durable: bool,
) -> std::io::Result<()> {
    let mut f = File::create(tmp)?;
    f.write_all(bytes)?;
    if durable {
        f.sync_all()?;
    }
    fs::rename(tmp, path)?;
    if let (true, Some(dir)) = (durable, path.parent()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}
