//! A simulated z/VM host living in `<data dir>/zvm/`: the directory, disks,
//! LANs, guests and tags survive restarts of herd and are shared safely by
//! the herd processes of one machine. Time is the injected clock's: nothing
//! runs in the background, state is evaluated when asked (see `runtime`).
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use herd_core::clock::SystemClock;
//! # use herd_provisioner::backend::sim::{SimBackend, SimSettings};
//! let backend = SimBackend::open("./var".as_ref(), Arc::new(SystemClock), SimSettings::default())?;
//! # Ok::<(), herd_provisioner::backend::BackendError>(())
//! ```

mod console;
mod contention;
mod ddr;
mod directory;
mod disks;
mod fault;
mod fault_spec;
mod faults;
mod flashcopy;
mod host_key;
mod lan;
mod runtime;
mod settings;
mod state;

use std::path::{Path, PathBuf};

use herd_core::clock::{Millis, SharedClock};

pub use disks::write_synthetic_image;
pub use fault::{Fault, SimOp};
pub use fault_spec::{FailingOp, FaultSpec, FaultSpecError, FAULT_SHAPES};
pub use settings::{FaultRates, SimSettings};

use self::faults::{millis, Faults};
use self::state::{Power, State, Store};
use crate::backend::{BackendError, Result};

/// What [`SimBackend::inject`] did with a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Injected {
    /// It waits among the armed faults for its occasion.
    Waiting,
    /// It was set on its guest at once (a hang of a running or booting
    /// guest, a service death): it is no longer among the armed faults,
    /// and [`SimBackend::clear_faults`] does not take it back.
    Scheduled,
}

#[derive(Debug)]
pub struct SimBackend {
    disks_dir: PathBuf,
    clock: SharedClock,
    settings: SimSettings,
    store: Store,
    faults: Faults,
}

impl SimBackend {
    /// Opens (or creates) the simulated host under `data_dir/zvm`, clearing
    /// what a killed process may have left half done.
    pub fn open(data_dir: &Path, clock: SharedClock, settings: SimSettings) -> Result<Self> {
        settings.validate().map_err(BackendError::InvalidArgument)?;
        let root = data_dir.join("zvm");
        let disks_dir = root.join("disks");
        std::fs::create_dir_all(&disks_dir)?;
        let store = Store::open(&root, settings.durable_state, |state| {
            disks::collect_garbage(&disks_dir, state)
        })?;
        let backend = Self {
            disks_dir,
            clock,
            faults: Faults::new(settings.faults.clone()),
            settings,
            store,
        };
        backend.define_configured_lans()?;
        Ok(backend)
    }

    /// Joins the simulated host under `data_dir/zvm` that [`SimBackend::open`]
    /// made (in this process or another, running or not) without touching
    /// anything: no recovery of killed processes' leftovers, no compaction,
    /// no LANs defined. For tools that look at the host or arm faults
    /// (`herd-server sim faults`) while a server runs it; `clock` and
    /// `settings` should be the server's, since a change is settled
    /// against them. `NotFound` when no host was ever opened there.
    pub fn attach(data_dir: &Path, clock: SharedClock, settings: SimSettings) -> Result<Self> {
        settings.validate().map_err(BackendError::InvalidArgument)?;
        let root = data_dir.join("zvm");
        let store = Store::attach(&root, settings.durable_state)?;
        Ok(Self {
            disks_dir: root.join("disks"),
            clock,
            faults: Faults::new(settings.faults.clone()),
            settings,
            store,
        })
    }

    /// Copies the host (its state and every disk) into `target/zvm`, under
    /// the host's lock: one moment of it, while servers keep running it.
    /// A disk still being filled by DDR is copied as far as it got; its
    /// record says so, and the copy is redone after a restore.
    pub fn backup(&self, target: &Path) -> Result<()> {
        let root = self
            .disks_dir
            .parent()
            .unwrap_or(&self.disks_dir)
            .to_owned();
        self.store.locked(|| copy_tree(&root, &target.join("zvm")))
    }

    /// Fills `data_dir/zvm` from a backup made by [`SimBackend::backup`];
    /// refuses a data directory that holds a host already.
    pub fn restore(backup: &Path, data_dir: &Path) -> Result<()> {
        let target = data_dir.join("zvm");
        if target.exists() {
            return Err(BackendError::exists(format!(
                "a simulated host in {}",
                data_dir.display()
            )));
        }
        let source = backup.join("zvm");
        if !source.is_dir() {
            return Err(BackendError::not_found(format!(
                "a simulated host in the backup {}",
                backup.display()
            )));
        }
        copy_tree(&source, &target)
    }

    /// The host's saved state under `data_dir/zvm` as JSON, read without
    /// taking the lock (for tests and diagnostics: another process may be
    /// running the host).
    pub fn saved_state(data_dir: &Path) -> Result<serde_json::Value> {
        let state = Store::load(&data_dir.join("zvm"))?;
        serde_json::to_value(&state).map_err(|e| BackendError::Corrupt(e.to_string()))
    }

    pub fn settings(&self) -> &SimSettings {
        &self.settings
    }

    /// Arms a scripted fault. A hang or service death of a guest that is
    /// running or booting is scheduled at once; otherwise it waits for its
    /// occasion (a service death is always kept with the service).
    pub fn inject(&self, fault: Fault) -> Result<Injected> {
        self.write(|state, now| {
            match &fault {
                Fault::Hang { guest, after } => match &mut state.user_mut(guest)?.power {
                    Power::Running { hang_at, .. } => {
                        *hang_at = Some(now.saturating_add(millis(*after) as Millis));
                        return Ok(Injected::Scheduled);
                    }
                    Power::Booting { hang_after_ms, .. } => {
                        *hang_after_ms = Some(millis(*after));
                        return Ok(Injected::Scheduled);
                    }
                    _ => {}
                },
                Fault::ServiceDies {
                    guest,
                    service,
                    after,
                } => {
                    let svc = state
                        .user_mut(guest)?
                        .services
                        .iter_mut()
                        .find(|s| s.spec.name == *service)
                        .ok_or_else(|| {
                            BackendError::not_found(format!("service {service} on {guest}"))
                        })?;
                    svc.schedule_death(now, millis(*after));
                    return Ok(Injected::Scheduled);
                }
                Fault::CopyFails { at_fraction, .. } if !(0.0..=1.0).contains(at_fraction) => {
                    return Err(BackendError::InvalidArgument(
                        "at_fraction must lie in 0..=1".into(),
                    ));
                }
                Fault::CopyFails { .. }
                | Fault::IplFails { .. }
                | Fault::Fails { .. }
                | Fault::RootBreaks { .. } => {}
            }
            state.faults.push(fault);
            Ok(Injected::Waiting)
        })
    }

    /// The scripted faults waiting for their occasion, oldest first (not
    /// those [`Injected::Scheduled`] on a guest already).
    pub fn armed_faults(&self) -> Result<Vec<Fault>> {
        self.read(|state, _| Ok(state.faults.clone()))
    }

    /// Disarms all scripted faults that have not fired yet; answers how
    /// many there were.
    pub fn clear_faults(&self) -> Result<usize> {
        self.write(|state, _| Ok(std::mem::take(&mut state.faults).len()))
    }

    fn define_configured_lans(&self) -> Result<()> {
        self.write(|state, _| {
            for (name, capacity) in &self.settings.lans {
                if !state.lans.contains_key(name) {
                    state.define_lan(name, *capacity)?;
                }
            }
            Ok(())
        })
    }

    /// Runs `f` on the state as of now.
    fn read<T>(&self, f: impl FnOnce(&State, Millis) -> Result<T>) -> Result<T> {
        let now = self.clock.now_ms();
        self.store.read(|state| {
            state.settle(now, &self.settings);
            f(state, now)
        })?
    }

    /// Changes the state as of now, for every process sharing the host.
    fn write<T>(&self, f: impl FnOnce(&mut State, Millis) -> Result<T>) -> Result<T> {
        let now = self.clock.now_ms();
        self.store.write(|state| {
            state.settle(now, &self.settings);
            f(state, now)
        })
    }
}

/// Copies the files below `from` to `to`, made new.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
