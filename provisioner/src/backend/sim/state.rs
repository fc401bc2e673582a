//! The hypervisor's persistent state and how it is shared.
//!
//! Everything but disk contents lives in a snapshot, `state.json` (a
//! one-line header with its generation, then the JSON state), and a journal
//! of the changes made since, `state.journal.<snapshot generation>`: one
//! JSON line per change, holding the entries it touched. A change costs one
//! appended line however many guests the host has; once the journal
//! outgrows the snapshot, the next writer folds it into a new snapshot.
//!
//! Writers hold an exclusive `flock` on `state.lock`, catch up with what
//! other processes appended, and append their line with one `write`. A kill
//! at any moment leaves a journal whose last line may lack its newline: that
//! torn line never happened, readers skip it and the next writer cuts it
//! off. Snapshots are replaced atomically (temp file, rename). Readers need
//! no lock: they see a snapshot and a prefix of complete lines, which is
//! always a state that existed. With `durable`, each line (and snapshot) is
//! fsynced before the change counts as made.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use fs4::FileExt;
use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

use super::fault::Fault;
use crate::backend::{BackendError, DiskId, DiskStatus, LanName, Result, ServiceSpec};

const STATE_FILE: &str = "state.json";
const JOURNAL_FILE: &str = "state.journal";
const LOCK_FILE: &str = "state.lock";
const HEADER: &str = "herd-zvm-state 1";
/// The journal is folded into a new snapshot once it is larger than this
/// and than twice the snapshot, so that the rewrite costs little per change
/// and a reader never replays much.
const MIN_JOURNAL_TO_COMPACT: u64 = 1 << 20;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct State {
    pub users: TrackedMap<GuestName, User>,
    pub disks: TrackedMap<DiskId, DiskRecord>,
    pub lans: TrackedMap<LanName, Lan>,
    pub host: Host,
    /// Scripted faults waiting for their occasion.
    pub faults: Vec<Fault>,
    /// Names the next disk's files; never reused.
    pub next_file: u64,
    /// Who is logged on, booting or logging off (not saved: derived alike
    /// by every reader from the users; `None` until first derived).
    #[serde(skip)]
    pub power_index: Option<PowerIndex>,
}

/// Who is logged on, and who is booting or logging off until when.
/// Settling visited every user at every call to the host, and the host's
/// load counted them all (the monitor asks once a guest, the power
/// follower once a guest waiting to boot): with thousands of guests, most
/// of the server's time. Now a call settles the users whose transition has
/// ended, and looks again only at the users changed since the last call.
#[derive(Debug, Clone, Default)]
pub(super) struct PowerIndex {
    ends: BTreeMap<GuestName, Millis>,
    by_end: BTreeSet<(Millis, GuestName)>,
    logged_on: BTreeSet<GuestName>,
}

impl PowerIndex {
    /// Records `name` as `user` is now (`None`: removed).
    pub fn set(&mut self, name: &GuestName, user: Option<&User>) {
        if let Some(old) = self.ends.remove(name) {
            self.by_end.remove(&(old, name.clone()));
        }
        if let Some(end) = user.and_then(User::transition_ends) {
            self.ends.insert(name.clone(), end);
            self.by_end.insert((end, name.clone()));
        }
        if user.is_some_and(|u| u.power != Power::LoggedOff) {
            self.logged_on.insert(name.clone());
        } else {
            self.logged_on.remove(name);
        }
    }

    /// The users whose transition has ended by `now`.
    pub fn ended(&self, now: Millis) -> Vec<GuestName> {
        self.by_end
            .iter()
            .take_while(|(end, _)| *end <= now)
            .map(|(_, name)| name.clone())
            .collect()
    }

    pub fn in_transition(&self) -> u32 {
        self.ends.len() as u32
    }

    pub fn logged_on(&self) -> u32 {
        self.logged_on.len() as u32
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct User {
    pub memory_mb: u32,
    pub services: Vec<Service>,
    pub tags: BTreeMap<String, String>,
    pub power: Power,
    /// The directory's LINK of a root, read-only: what the next IPL boots.
    #[serde(default)]
    pub root_link: Option<DiskId>,
    /// The root linked at the last IPL.
    #[serde(default)]
    pub booted_root: Option<DiskId>,
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
    /// Fails to start on the root this boot linked (a broken root).
    #[serde(default)]
    pub broken: bool,
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
    /// Whether a guest has IPL'd with it as its segment: the first IPL of
    /// a segment (a new guest's, or a reset's fresh one) is the guest's
    /// first boot. Disks saved by a release before first-boot identity say
    /// nothing and count as booted: their first boot is long past, and
    /// they are not to be written.
    #[serde(default = "booted_long_ago")]
    pub booted: bool,
}

fn booted_long_ago() -> bool {
    true
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

    /// The power index, if no user changed since it was brought up to date
    /// (by settling).
    pub fn power_index(&self) -> Option<&PowerIndex> {
        self.power_index.as_ref().filter(|_| self.users.is_clean())
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

/// A map that remembers which keys were changed, inserted or removed since
/// its changes were last taken, so that a change to the host saves only
/// the entries it touched.
#[derive(Debug, Clone)]
pub(super) struct TrackedMap<K, V> {
    map: BTreeMap<K, V>,
    changed: BTreeSet<K>,
    /// Keys changed (here or in the journal) since [`Self::take_dirty`]
    /// last ran; `None`: any of them may have (a map just read, or one
    /// whose values were all handed out).
    dirty: Option<BTreeSet<K>>,
}

impl<K, V> Default for TrackedMap<K, V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            changed: BTreeSet::new(),
            dirty: None,
        }
    }
}

impl<K: Ord + Clone, V> TrackedMap<K, V> {
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let value = self.map.get_mut(key)?;
        self.changed.insert(key.clone());
        mark(&mut self.dirty, key);
        Some(value)
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.changed.insert(key.clone());
        mark(&mut self.dirty, &key);
        self.map.insert(key, value)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let removed = self.map.remove(key)?;
        self.changed.insert(key.clone());
        mark(&mut self.dirty, key);
        Some(removed)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.changed.extend(self.map.keys().cloned());
        self.dirty = None;
        self.map.values_mut()
    }

    /// The keys changed since the last call (`None`: maybe any), and from
    /// now on none.
    pub fn take_dirty(&mut self) -> Option<BTreeSet<K>> {
        self.dirty.replace(BTreeSet::new())
    }

    /// Whether no key changed since [`Self::take_dirty`].
    pub fn is_clean(&self) -> bool {
        self.dirty.as_ref().is_some_and(BTreeSet::is_empty)
    }

    /// For changes that every reader derives the same way from the saved
    /// entry (settling it against the clock): they need not be saved.
    pub fn get_mut_derived(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    fn changes(&self) -> Entries<'_, K, V>
    where
        V: Clone,
    {
        self.changed
            .iter()
            .map(|k| (Cow::Borrowed(k), self.map.get(k).map(Cow::Borrowed)))
            .collect()
    }

    fn apply(&mut self, entries: Entries<'_, K, V>)
    where
        V: Clone,
    {
        for (key, value) in entries {
            mark(&mut self.dirty, &key);
            match value {
                Some(v) => self.map.insert(key.into_owned(), v.into_owned()),
                None => self.map.remove(&key),
            };
        }
    }
}

fn mark<K: Ord + Clone>(dirty: &mut Option<BTreeSet<K>>, key: &K) {
    if let Some(keys) = dirty {
        keys.insert(key.clone());
    }
}

impl<K: Serialize, V: Serialize> Serialize for TrackedMap<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.map.serialize(s)
    }
}

impl<'de, K: Ord + Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for TrackedMap<K, V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Ok(Self {
            map: BTreeMap::deserialize(d)?,
            changed: BTreeSet::new(),
            dirty: None,
        })
    }
}

/// Entries of a map touched by one change; `None` for a removed key.
type Entries<'a, K, V> = Vec<(Cow<'a, K>, Option<Cow<'a, V>>)>;

/// One line of the journal: the touched entries of the maps and the whole
/// of the small parts.
#[derive(Debug, Serialize, Deserialize)]
struct Change<'a> {
    generation: u64,
    users: Entries<'a, GuestName, User>,
    disks: Entries<'a, DiskId, DiskRecord>,
    lans: Entries<'a, LanName, Lan>,
    host: Host,
    faults: Cow<'a, [Fault]>,
    next_file: u64,
}

impl State {
    fn change(&self, generation: u64) -> Change<'_> {
        Change {
            generation,
            users: self.users.changes(),
            disks: self.disks.changes(),
            lans: self.lans.changes(),
            host: self.host,
            faults: Cow::Borrowed(&self.faults),
            next_file: self.next_file,
        }
    }

    fn forget_changes(&mut self) {
        self.users.changed.clear();
        self.disks.changed.clear();
        self.lans.changed.clear();
    }

    fn apply(&mut self, change: Change<'_>) {
        self.users.apply(change.users);
        self.disks.apply(change.disks);
        self.lans.apply(change.lans);
        self.host = change.host;
        self.faults = change.faults.into_owned();
        self.next_file = change.next_file;
    }
}

/// Shares [`State`] between the threads of this process (a mutex) and the
/// processes of this machine (the lock file).
#[derive(Debug)]
pub(super) struct Store {
    dir: PathBuf,
    durable: bool,
    lock: File,
    cache: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    state: State,
    /// Generation of the snapshot `state` was built on; `None` forces a
    /// reload, e.g. after a failed change left the state half-modified.
    snapshot: Option<u64>,
    snapshot_len: u64,
    /// Generation of the last change applied.
    generation: u64,
    /// Bytes of the journal applied: the end of its last complete line.
    journal_len: u64,
}

impl Store {
    /// Opens the state in `dir`, calling `recover` once under the lock so
    /// that leftovers of killed processes can be cleared, and starts from a
    /// fresh snapshot.
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
            if cached.journal_len > 0 {
                store.compact(&mut cached)?;
            }
            store.remove_old_journals(&cached)?;
        }
        Ok(store)
    }

    /// Joins the state in `dir` that [`Store::open`] made, without any of
    /// its housekeeping (no recovery, no compaction, nothing removed): for
    /// a process that only looks at the host or arms faults while others
    /// run it. Reads and writes are then shared exactly as after `open`.
    pub fn attach(dir: &Path, durable: bool) -> Result<Self> {
        let lock = match OpenOptions::new().write(true).open(dir.join(LOCK_FILE)) {
            Ok(lock) => lock,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BackendError::not_found(format!(
                    "simulated z/VM host in {}",
                    dir.display()
                )))
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            dir: dir.to_owned(),
            durable,
            lock,
            cache: Mutex::new(Cached::default()),
        })
    }

    /// The state as saved in `dir`, read without taking the lock.
    pub fn load(dir: &Path) -> Result<State> {
        let mut cached = Cached::default();
        read_into(dir, &mut cached)?;
        Ok(cached.state)
    }

    /// Runs `f` on the current state without persisting anything `f` does.
    pub fn read<T>(&self, f: impl FnOnce(&mut State) -> T) -> Result<T> {
        let mut cached = self.cache();
        self.refresh(&mut cached)?;
        Ok(f(&mut cached.state))
    }

    /// Runs `f` on the current state under the machine-wide lock and saves
    /// what it changed if `f` succeeds. On failure nothing is saved.
    pub fn write<T>(&self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let mut cached = self.cache();
        let _flock = self.flock()?;
        self.refresh(&mut cached)?;
        cached.state.forget_changes();
        let saved = f(&mut cached.state).and_then(|v| self.append(&mut cached).map(|()| v));
        if saved.is_err() {
            cached.snapshot = None;
        }
        saved
    }

    /// Runs `f` under the machine-wide lock, so that no process changes
    /// the state meanwhile (a backup copying its files).
    pub fn locked<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let _flock = self.flock()?;
        f()
    }

    fn cache(&self) -> MutexGuard<'_, Cached> {
        // A panic inside a closure leaves the cache suspect, not the files.
        self.cache.lock().unwrap_or_else(|poisoned| {
            let mut cached = poisoned.into_inner();
            cached.snapshot = None;
            cached
        })
    }

    fn flock(&self) -> Result<FlockGuard<'_>> {
        FileExt::lock(&self.lock)?;
        Ok(FlockGuard(&self.lock))
    }

    fn refresh(&self, cached: &mut Cached) -> Result<()> {
        let read = read_into(&self.dir, cached);
        if read.is_err() {
            cached.snapshot = None;
        }
        read
    }

    /// Appends the change `f` made as the next line of the journal, cutting
    /// off a torn line a killed writer may have left.
    fn append(&self, cached: &mut Cached) -> Result<()> {
        let generation = cached.generation + 1;
        let mut line = serde_json::to_vec(&cached.state.change(generation))
            .map_err(|e| BackendError::Corrupt(e.to_string()))?;
        line.push(b'\n');
        let path = journal_path(&self.dir, cached.snapshot.unwrap_or(0));
        let mut journal = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        let len = journal.metadata()?.len();
        if len < cached.journal_len {
            return Err(BackendError::Corrupt(format!("{} shrank", path.display())));
        }
        if len > cached.journal_len {
            journal.set_len(cached.journal_len)?;
        }
        journal.seek(SeekFrom::Start(cached.journal_len))?;
        journal.write_all(&line)?;
        if self.durable {
            journal.sync_data()?;
            if cached.journal_len == 0 {
                File::open(&self.dir)?.sync_all()?;
            }
        }
        cached.generation = generation;
        cached.journal_len += line.len() as u64;
        cached.state.forget_changes();
        if cached.journal_len > MIN_JOURNAL_TO_COMPACT.max(2 * cached.snapshot_len) {
            // The change is saved already; a failed compaction only leaves
            // a longer journal, so it must not fail the change.
            if let Err(e) = self.compact(cached) {
                tracing::warn!(error = %e, "simulated z/VM: compacting the state journal");
            }
        }
        Ok(())
    }

    /// Folds the journal into a new snapshot. A kill before the rename
    /// leaves the old snapshot and journal; after it, a stale journal that
    /// the next opening removes.
    fn compact(&self, cached: &mut Cached) -> Result<()> {
        let generation = cached.generation;
        let mut bytes = format!("{HEADER} {generation}\n").into_bytes();
        serde_json::to_writer(&mut bytes, &cached.state)
            .map_err(|e| BackendError::Corrupt(e.to_string()))?;
        let tmp = self
            .dir
            .join(format!("{STATE_FILE}.tmp-{}", std::process::id()));
        atomic_write(&tmp, &self.dir.join(STATE_FILE), &bytes, self.durable)?;
        let old = journal_path(&self.dir, cached.snapshot.unwrap_or(0));
        *cached = Cached {
            state: std::mem::take(&mut cached.state),
            snapshot: Some(generation),
            snapshot_len: bytes.len() as u64,
            generation,
            journal_len: 0,
        };
        match fs::remove_file(old) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn remove_old_journals(&self, cached: &Cached) -> Result<()> {
        let current = journal_path(&self.dir, cached.snapshot.unwrap_or(0));
        for entry in fs::read_dir(&self.dir)? {
            let path = entry?.path();
            let is_journal = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(JOURNAL_FILE));
            if is_journal && path != current {
                fs::remove_file(path)?;
            }
        }
        Ok(())
    }
}

fn journal_path(dir: &Path, snapshot: u64) -> PathBuf {
    dir.join(format!("{JOURNAL_FILE}.{snapshot}"))
}

/// Brings `cached` up to date: the snapshot if it changed, then the
/// complete journal lines not applied yet.
fn read_into(dir: &Path, cached: &mut Cached) -> Result<()> {
    let snapshot = read_snapshot(dir, cached)?;
    let mut journal = match File::open(journal_path(dir, snapshot)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    journal.seek(SeekFrom::Start(cached.journal_len))?;
    let mut tail = Vec::new();
    journal.read_to_end(&mut tail)?;
    for line in tail.split_inclusive(|&b| b == b'\n') {
        if line.last() != Some(&b'\n') {
            break;
        }
        let change: Change =
            serde_json::from_slice(line).map_err(|e| BackendError::Corrupt(e.to_string()))?;
        if change.generation != cached.generation + 1 {
            return Err(BackendError::Corrupt(format!(
                "journal line of generation {} follows {}",
                change.generation, cached.generation
            )));
        }
        cached.generation = change.generation;
        cached.state.apply(change);
        cached.journal_len += line.len() as u64;
    }
    Ok(())
}

/// Loads the snapshot unless `cached` is built on it already; answers its
/// generation.
fn read_snapshot(dir: &Path, cached: &mut Cached) -> Result<u64> {
    let file = match File::open(dir.join(STATE_FILE)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if cached.snapshot != Some(0) {
                *cached = Cached {
                    snapshot: Some(0),
                    ..Cached::default()
                };
            }
            return Ok(0);
        }
        Err(e) => return Err(e.into()),
    };
    let mut reader = BufReader::new(file);
    let mut header = String::new();
    reader.read_line(&mut header)?;
    let generation = parse_header(&header)?;
    if cached.snapshot == Some(generation) {
        return Ok(generation);
    }
    let mut body = String::new();
    reader.read_to_string(&mut body)?;
    *cached = Cached {
        state: serde_json::from_str(&body).map_err(|e| BackendError::Corrupt(e.to_string()))?,
        snapshot: Some(generation),
        snapshot_len: (header.len() + body.len()) as u64,
        generation,
        journal_len: 0,
    };
    Ok(generation)
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
