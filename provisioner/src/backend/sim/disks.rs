//! Minidisks and images as files under `<data dir>/zvm/disks/`: a full disk
//! is `<n>.img`; a FlashCopy target is an overlay (see [`super::flashcopy`]).
//! Files are named by a number that never changes, so a guest that changes
//! id keeps its disks without touching them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::ddr::{self, CopyJob};
use super::flashcopy::{self, DiskReader, Overlay};
use super::state::{DiskRecord, Layout, Power, State};
use super::SimBackend;
use crate::backend::{
    BackendError, CopyMethod, DiskId, DiskInfo, DiskKind, DiskStatus, ImageName, Result, Storage,
};

const EXTENSIONS: [&str; 3] = ["img", "delta", "map"];

/// A disk resolved down to the files that hold its bytes.
#[derive(Debug)]
struct DiskView {
    record: DiskRecord,
    targets: usize,
    /// From the disk itself down; empty for a full disk.
    overlays: Vec<Overlay>,
    base: PathBuf,
}

impl DiskView {
    fn reader(&self) -> io::Result<DiskReader> {
        DiskReader::open(&self.overlays, &self.base)
    }

    fn ready(self, id: &DiskId) -> Result<Self> {
        match self.record.status {
            DiskStatus::Ready => Ok(self),
            DiskStatus::Copying => Err(BackendError::invalid_state(id, "is still being copied")),
        }
    }

    fn check_range(&self, id: &DiskId, offset: u64, len: usize) -> Result<()> {
        let fits = offset
            .checked_add(len as u64)
            .is_some_and(|end| end <= self.record.size);
        if fits {
            Ok(())
        } else {
            Err(BackendError::InvalidArgument(format!(
                "{len} bytes at {offset} lie outside {id} ({} bytes)",
                self.record.size
            )))
        }
    }
}

impl State {
    fn alloc_file(&mut self) -> u64 {
        self.next_file += 1;
        self.next_file
    }

    fn disk_by_file(&self, file: u64) -> Result<(&DiskId, &DiskRecord)> {
        self.disks
            .iter()
            .find(|(_, d)| d.file == file)
            .ok_or_else(|| BackendError::Corrupt(format!("no disk has file {file}")))
    }

    pub(super) fn flashcopy_targets(&self, file: u64) -> usize {
        let reads_from = |d: &&DiskRecord| matches!(d.layout, Layout::FlashCopy { source_file, .. } if source_file == file);
        self.disks.values().filter(reads_from).count()
    }

    /// Removes the disks of `guest` from the state; the caller removes the
    /// files once the state is saved.
    pub(super) fn take_disks_of(&mut self, guest: &GuestName) -> Result<Vec<u64>> {
        let owned: Vec<DiskId> = self
            .disks
            .keys()
            .filter(|id| id.owner() == Some(guest))
            .cloned()
            .collect();
        for id in &owned {
            self.check_deletable(id)?;
        }
        Ok(owned
            .iter()
            .filter_map(|id| self.disks.remove(id))
            .map(|d| d.file)
            .collect())
    }

    /// Refuses a root a guest links for its next IPL or runs on.
    fn check_unlinked(&self, id: &DiskId) -> Result<()> {
        let linking = self
            .users
            .values()
            .filter(|u| {
                u.root_link.as_ref() == Some(id)
                    || (u.booted_root.as_ref() == Some(id) && u.power != Power::LoggedOff)
            })
            .count();
        if linking > 0 {
            return Err(BackendError::invalid_state(
                id,
                format!("is linked by {linking} guest(s)"),
            ));
        }
        Ok(())
    }

    fn check_deletable(&self, id: &DiskId) -> Result<u64> {
        let record = self
            .disks
            .get(id)
            .ok_or_else(|| BackendError::not_found(id))?;
        self.check_unlinked(id)?;
        match self.flashcopy_targets(record.file) {
            0 => Ok(record.file),
            targets => Err(BackendError::HasFlashCopyTargets {
                disk: id.clone(),
                targets,
            }),
        }
    }

    fn disk_info(&self, id: &DiskId) -> Result<DiskInfo> {
        let record = self
            .disks
            .get(id)
            .ok_or_else(|| BackendError::not_found(id))?;
        let kind = match record.layout {
            Layout::Full => DiskKind::Full,
            Layout::FlashCopy { source_file, .. } => DiskKind::FlashCopy {
                source: self.disk_by_file(source_file)?.0.clone(),
            },
        };
        Ok(DiskInfo {
            id: id.clone(),
            size: record.size,
            kind,
            status: record.status,
            checksum: record.checksum.clone(),
            flashcopy_targets: self.flashcopy_targets(record.file),
            created_at: record.created_at,
        })
    }

    /// Checks that `source` can be copied onto `target` and returns the
    /// source's record.
    fn check_clone(&self, source: &DiskId, target: &DiskId) -> Result<DiskRecord> {
        if self.disks.contains_key(target) {
            return Err(BackendError::exists(target));
        }
        if let Some(owner) = target.owner() {
            self.user(owner)?;
        }
        let record = self
            .disks
            .get(source)
            .ok_or_else(|| BackendError::not_found(source))?;
        if record.status != DiskStatus::Ready {
            return Err(BackendError::invalid_state(source, "is still being copied"));
        }
        Ok(record.clone())
    }

    /// Records a new disk of `size` bytes and returns its file number.
    fn add_disk(
        &mut self,
        id: &DiskId,
        size: u64,
        layout: Layout,
        checksum: Option<String>,
        now: Millis,
    ) -> u64 {
        let file = self.alloc_file();
        let status = match layout {
            Layout::Full => DiskStatus::Copying,
            Layout::FlashCopy { .. } => DiskStatus::Ready,
        };
        let record = DiskRecord {
            file,
            size,
            layout,
            status,
            checksum,
            created_at: now,
            booted: false,
        };
        self.disks.insert(id.clone(), record);
        file
    }
}

impl SimBackend {
    fn path(&self, file: u64, ext: &str) -> PathBuf {
        self.disks_dir.join(format!("{file:010}.{ext}"))
    }

    fn view(&self, state: &State, id: &DiskId) -> Result<DiskView> {
        let record = state
            .disks
            .get(id)
            .ok_or_else(|| BackendError::not_found(id))?;
        let mut overlays = Vec::new();
        let mut layer = record;
        while let Layout::FlashCopy {
            source_file,
            block_size,
        } = layer.layout
        {
            overlays.push(Overlay {
                delta: self.path(layer.file, "delta"),
                map: self.path(layer.file, "map"),
                block_size,
            });
            layer = state.disk_by_file(source_file)?.1;
        }
        Ok(DiskView {
            record: record.clone(),
            targets: state.flashcopy_targets(record.file),
            overlays,
            base: self.path(layer.file, "img"),
        })
    }

    /// `len` bytes of `disk` at `offset`, read within a change of the state.
    pub(super) fn read_into(
        &self,
        state: &State,
        disk: &DiskId,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>> {
        let view = self.view(state, disk)?.ready(disk)?;
        view.check_range(disk, offset, len)?;
        let mut buf = vec![0; len];
        view.reader()?.read_at(&mut buf, offset)?;
        Ok(buf)
    }

    fn ready_view(&self, id: &DiskId) -> Result<DiskView> {
        self.read(|state, _| self.view(state, id)?.ready(id))
    }

    pub(super) fn remove_files(&self, file: u64) -> Result<()> {
        for ext in EXTENSIONS {
            match fs::remove_file(self.path(file, ext)) {
                Err(e) if e.kind() != ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }

    /// Fills the reserved full disk `id` (file `file`) from `source` and
    /// marks it ready; on any failure the disk is gone again.
    fn fill(
        &self,
        id: &DiskId,
        file: u64,
        job: CopyJob<'_>,
        expected: Option<String>,
    ) -> Result<DiskInfo> {
        let filled = ddr::copy(&job).and_then(|sum| match expected {
            Some(expected) if expected != sum => Err(BackendError::ChecksumMismatch {
                disk: id.clone(),
                expected,
                found: sum,
            }),
            _ => Ok(sum),
        });
        let result = filled.and_then(|sum| {
            self.write(|state, _| {
                let record = state
                    .disks
                    .get_mut(id)
                    .filter(|d| d.file == file)
                    .ok_or_else(|| {
                        BackendError::not_found(format!("{id} (deleted while copying)"))
                    })?;
                record.status = DiskStatus::Ready;
                record.checksum = Some(sum);
                state.disk_info(id)
            })
        });
        if result.is_err() {
            self.discard(id, file)?;
        }
        result
    }

    /// Removes a reserved disk whose copy failed, unless someone else
    /// removed or replaced it meanwhile.
    fn discard(&self, id: &DiskId, file: u64) -> Result<()> {
        self.write(|state, _| {
            if state.disks.get(id).is_some_and(|d| d.file == file) {
                state.disks.remove(id);
            }
            Ok(())
        })?;
        self.remove_files(file)
    }

    /// Writes `data` into `disk` within a change of the state (the caller
    /// decides whether the disk may be written).
    pub(super) fn write_into(
        &self,
        state: &mut State,
        disk: &DiskId,
        offset: u64,
        data: &[u8],
    ) -> Result<()> {
        let view = self.view(state, disk)?.ready(disk)?;
        view.check_range(disk, offset, data.len())?;
        if view.targets > 0 {
            return Err(BackendError::HasFlashCopyTargets {
                disk: disk.clone(),
                targets: view.targets,
            });
        }
        // The content no longer is what the disk was made with.
        if let Some(record) = state.disks.get_mut(disk) {
            record.checksum = None;
        }
        match view.overlays.split_first() {
            None => write_full(&view.base, offset, data)?,
            Some((top, below)) => {
                let below = DiskReader::open(below, &view.base)?;
                flashcopy::write(top, &below, view.record.size, offset, data)?;
            }
        }
        Ok(())
    }

    fn copy_job<'a>(
        &self,
        source: &'a DiskReader,
        size: u64,
        target: &'a Path,
        fail_at: Option<u64>,
    ) -> CopyJob<'a> {
        CopyJob {
            source,
            size,
            target,
            chunk: self.settings.ddr_chunk_bytes,
            cap: self
                .settings
                .ddr_throughput_mib_s
                .map(|m| m * 1024.0 * 1024.0),
            fail_at,
        }
    }

    fn flashcopy(&self, source: &DiskId, target: &DiskId) -> Result<DiskInfo> {
        // A consumed fault must be saved, so it is an outcome, not an error.
        let outcome = self.write(|state, now| {
            let src = state.check_clone(source, target)?;
            if self.faults.copy_failure(state, target).is_some() {
                return Ok(Err(BackendError::FaultInjected(format!(
                    "FlashCopy of {source} onto {target} failed"
                ))));
            }
            let layout = Layout::FlashCopy {
                source_file: src.file,
                block_size: self.settings.flashcopy_block_bytes,
            };
            state.add_disk(target, src.size, layout, src.checksum, now);
            Ok(state.disk_info(target))
        })?;
        outcome
    }

    fn ddr(&self, source: &DiskId, target: &DiskId) -> Result<DiskInfo> {
        let (view, file, fail_at) = self.write(|state, now| {
            let src = state.check_clone(source, target)?;
            let view = self.view(state, source)?;
            let fail_at = self
                .faults
                .copy_failure(state, target)
                .map(|f| (src.size as f64 * f.clamp(0.0, 1.0)) as u64);
            let file = state.add_disk(target, src.size, Layout::Full, None, now);
            Ok((view, file, fail_at))
        })?;
        let reader = match view.reader() {
            Ok(reader) => reader,
            Err(e) => {
                self.discard(target, file)?;
                return Err(e.into());
            }
        };
        let path = self.path(file, "img");
        let job = self.copy_job(&reader, view.record.size, &path, fail_at);
        self.fill(target, file, job, view.record.checksum.clone())
    }
}

impl Storage for SimBackend {
    fn import_disk(&self, id: &DiskId, source: &Path) -> Result<DiskInfo> {
        if id.owner().is_some() {
            return Err(BackendError::InvalidArgument(format!(
                "{id} is a guest's minidisk, not an image's disk"
            )));
        }
        let id = id.clone();
        let src = File::open(source)?;
        let size = src.metadata()?.len();
        let file = self.write(|state, now| {
            if state.disks.contains_key(&id) {
                return Err(BackendError::exists(&id));
            }
            Ok(state.add_disk(&id, size, Layout::Full, None, now))
        })?;
        let reader = DiskReader::plain(src);
        let path = self.path(file, "img");
        self.fill(&id, file, self.copy_job(&reader, size, &path, None), None)
    }

    fn clone_disk(&self, source: &DiskId, target: &DiskId, method: CopyMethod) -> Result<DiskInfo> {
        match method {
            CopyMethod::FlashCopy => self.flashcopy(source, target),
            CopyMethod::Ddr => self.ddr(source, target),
        }
    }

    fn delete_disk(&self, disk: &DiskId) -> Result<()> {
        let file = self.write(|state, _| {
            let file = state.check_deletable(disk)?;
            state.disks.remove(disk);
            Ok(file)
        })?;
        self.remove_files(file)
    }

    fn disk_info(&self, disk: &DiskId) -> Result<DiskInfo> {
        self.read(|state, _| state.disk_info(disk))
    }

    fn list_disks(&self) -> Result<Vec<DiskInfo>> {
        self.read(|state, _| state.disks.keys().map(|id| state.disk_info(id)).collect())
    }

    /// The free space of the file system that holds the disk files.
    fn free_space(&self) -> Result<u64> {
        Ok(fs4::available_space(&self.disks_dir)?)
    }

    fn read_disk(&self, disk: &DiskId, offset: u64, len: usize) -> Result<Vec<u8>> {
        self.read(|state, _| self.read_into(state, disk, offset, len))
    }

    fn publish_root(
        &self,
        image: &ImageName,
        from: u32,
        version: u32,
        label: &str,
    ) -> Result<DiskInfo> {
        let target = DiskId::root(image, version);
        let mark = format!("herd root {image} version {version}: ");
        let stamp = format!("{mark}{label}\n");
        match self.disk_info(&target) {
            Ok(info) if info.status == DiskStatus::Ready && info.checksum.is_some() => {
                // Made, or only copied by a publication that died before
                // the stamp (it then holds the previous version's): the
                // stamp tells.
                if self.read_disk(&target, 0, mark.len())? == mark.as_bytes() {
                    return Ok(info);
                }
                self.delete_disk(&target)?
            }
            // A publication that died half-way: start it again.
            Ok(_) => self.delete_disk(&target)?,
            Err(BackendError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        self.ddr(&DiskId::root(image, from), &target)?;
        self.write(|state, _| self.write_into(state, &target, 0, stamp.as_bytes()))?;
        let view = self.ready_view(&target)?;
        let sum = ddr::checksum(
            &view.reader()?,
            view.record.size,
            self.settings.ddr_chunk_bytes,
        )?;
        self.write(|state, _| {
            if let Some(record) = state.disks.get_mut(&target) {
                record.checksum = Some(sum);
            }
            state.disk_info(&target)
        })
    }

    fn rename_disk(&self, from: &DiskId, to: &DiskId) -> Result<()> {
        if from.owner() != to.owner() {
            return Err(BackendError::InvalidArgument(format!(
                "a disk keeps its owner: {from} cannot become {to}"
            )));
        }
        self.write(|state, _| {
            state.check_unlinked(from)?;
            if state.disks.contains_key(to) {
                return Err(BackendError::exists(to));
            }
            let record = state
                .disks
                .remove(from)
                .ok_or_else(|| BackendError::not_found(from))?;
            state.disks.insert(to.clone(), record);
            Ok(())
        })
    }

    fn carry_host_key(&self, from: &DiskId, to: &DiskId) -> Result<()> {
        self.write(|state, _| self.carry_key_region(state, from, to))
    }

    /// Writes under the state lock, so that no FlashCopy can be established
    /// from the disk halfway through. Roots are linked read-only: the
    /// hypervisor refuses to write them.
    fn write_disk(&self, disk: &DiskId, offset: u64, data: &[u8]) -> Result<()> {
        if disk.as_root().is_some() {
            return Err(BackendError::NotAuthorized(format!(
                "{disk} is a root, linked read-only by its guests"
            )));
        }
        self.write(|state, _| self.write_into(state, disk, offset, data))
    }

    fn verify_disk(&self, disk: &DiskId) -> Result<String> {
        let view = self.ready_view(disk)?;
        let found = ddr::checksum(
            &view.reader()?,
            view.record.size,
            self.settings.ddr_chunk_bytes,
        )?;
        match view.record.checksum {
            Some(expected) if expected != found => Err(BackendError::ChecksumMismatch {
                disk: disk.clone(),
                expected,
                found,
            }),
            _ => Ok(found),
        }
    }
}

fn write_full(path: &Path, offset: u64, data: &[u8]) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.write_all_at(data, offset)?;
    file.sync_data()
}

/// Removes files no disk refers to: leftovers of a process killed between
/// saving the state and removing a deleted disk's files.
pub(super) fn collect_garbage(disks_dir: &Path, state: &State) -> Result<()> {
    for entry in fs::read_dir(disks_dir)? {
        let path = entry?.path();
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let referenced = stem
            .parse::<u64>()
            .is_ok_and(|file| state.disks.values().any(|d| d.file == file));
        let temp = path.extension().is_some_and(|e| e == "tmp");
        if !referenced || temp {
            tracing::info!(path = %path.display(), "removing leftover disk file");
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Writes `size` pseudo-random bytes (repeatable by `seed`) to `path`: an
/// image for tests, benchmarks and the embedded default.
pub fn write_synthetic_image(path: &Path, size: u64, seed: u64) -> io::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = io::BufWriter::new(File::create(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill_bytes(&mut buf[..n]);
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}
