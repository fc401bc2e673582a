//! The simulated z/VM's disks: FlashCopy must cost the same whatever the
//! image size, DDR must copy about as fast as `cp` on the same machine.

use std::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use herd_core::clock::SystemClock;
use herd_core::domain::GuestName;
use herd_provisioner::backend::sim::{write_synthetic_image, SimBackend, SimSettings};
use herd_provisioner::backend::{CopyMethod, Directory, DiskId, ImageName, Storage, UserSpec};

use crate::{emit, BenchResult, Env};

const MIB: u64 = 1 << 20;
const SMALL: u64 = 16 * MIB;
const LARGE: u64 = 1024 * MIB;
const FLASHCOPY_SAMPLES: usize = 25;
const CLONES: usize = 500;
const COPY_ROUNDS: usize = 5;

fn record(metric: &str, value: f64, unit: &str) {
    emit("disk", metric, value, unit);
}

pub fn run(_: &Env) -> BenchResult {
    let dir = tempfile::tempdir()?;
    let zvm = SimBackend::open(dir.path(), Arc::new(SystemClock), SimSettings::default())?;
    let (small, _) = import(&zvm, dir.path(), "small", SMALL)?;
    let (large, large_file) = import(&zvm, dir.path(), "large", LARGE)?;

    flashcopy_size_ratio(&zvm, &small, &large)?;
    flashcopy_many(&zvm, &large)?;
    ddr_against_cp(&zvm, &large, &large_file, dir.path())?;
    Ok(())
}

/// Makes an image of `size` bytes; returns it and the file it came from.
fn import(
    zvm: &SimBackend,
    dir: &Path,
    name: &str,
    size: u64,
) -> Result<(DiskId, PathBuf), Box<dyn Error>> {
    let file = dir.join(format!("{name}.src"));
    write_synthetic_image(&file, size, size)?;
    let name: ImageName = name.parse()?;
    zvm.import_disk(&DiskId::image(&name), &file)?;
    Ok((DiskId::image(&name), file))
}

fn new_guest(zvm: &SimBackend, name: String) -> Result<DiskId, Box<dyn Error>> {
    let name: GuestName = name.parse()?;
    zvm.add_user(&UserSpec {
        name: name.clone(),
        memory_mb: 64,
        services: Vec::new(),
    })?;
    Ok(DiskId::segment_of(&name))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Alternates small and large so that both see the same state size.
fn flashcopy_size_ratio(zvm: &SimBackend, small: &DiskId, large: &DiskId) -> BenchResult {
    let (mut small_t, mut large_t) = (Vec::new(), Vec::new());
    for i in 0..FLASHCOPY_SAMPLES {
        for (source, times, prefix) in [(small, &mut small_t, "FS"), (large, &mut large_t, "FL")] {
            let target = new_guest(zvm, format!("{prefix}{i:04}"))?;
            let (result, t) = timed(|| zvm.clone_disk(source, &target, CopyMethod::FlashCopy));
            result?;
            times.push(t);
        }
    }
    let (small_ms, large_ms) = (ms(median(small_t)), ms(median(large_t)));
    record("flashcopy_16mib_ms", small_ms, "ms");
    record("flashcopy_1gib_ms", large_ms, "ms");
    record("flashcopy_size_ratio", large_ms / small_ms, "ratio");
    Ok(())
}

fn flashcopy_many(zvm: &SimBackend, image: &DiskId) -> BenchResult {
    let targets = (0..CLONES)
        .map(|i| new_guest(zvm, format!("C{i:07}")))
        .collect::<Result<Vec<_>, _>>()?;
    let (result, t) = timed(|| {
        targets.iter().try_for_each(|target| {
            zvm.clone_disk(image, target, CopyMethod::FlashCopy)
                .map(drop)
        })
    });
    result?;
    record("flashcopy_500_clones_s", t.as_secs_f64(), "s");
    record(
        "flashcopy_500_clones_per_clone_ms",
        ms(t) / CLONES as f64,
        "ms",
    );
    Ok(())
}

/// Both copies end durable on disk: DDR fsyncs its target, so `cp` is
/// followed by an fsync of its copy. Best of a few rounds each.
fn ddr_against_cp(zvm: &SimBackend, image: &DiskId, image_file: &Path, dir: &Path) -> BenchResult {
    let (mut ddr, mut cp) = (Duration::MAX, Duration::MAX);
    for round in 0..COPY_ROUNDS {
        let target = new_guest(zvm, format!("DDR{round}"))?;
        let (result, t) = timed(|| zvm.clone_disk(image, &target, CopyMethod::Ddr));
        result?;
        ddr = ddr.min(t);
        zvm.delete_disk(&target)?;

        let copy = dir.join(format!("cp{round}.img"));
        let (result, t) = timed(|| cp_and_sync(image_file, &copy));
        result?;
        cp = cp.min(t);
        std::fs::remove_file(copy)?;
    }
    let mib_s = |t: Duration| (LARGE / MIB) as f64 / t.as_secs_f64();
    record("ddr_mib_s", mib_s(ddr), "MiB/s");
    record("cp_mib_s", mib_s(cp), "MiB/s");
    record("ddr_vs_cp", mib_s(ddr) / mib_s(cp), "ratio");
    Ok(())
}

pub fn cp_and_sync(from: &Path, to: &Path) -> std::io::Result<()> {
    let status = Command::new("cp").arg(from).arg(to).status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("cp exited with {status}")));
    }
    File::open(to)?.sync_all()
}
