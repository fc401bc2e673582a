//! DDR: a full copy of every byte of the source, chunk by chunk. The kernel
//! moves the bytes (`copy_file_range`, as `cp` does); a second thread reads
//! each chunk back from the target and hashes it, so the checksum proves
//! what landed on the new disk and costs little time on a second core.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::flashcopy::DiskReader;
use crate::backend::{BackendError, Result};

#[derive(Debug)]
pub(super) struct CopyJob<'a> {
    pub source: &'a DiskReader,
    pub size: u64,
    pub target: &'a Path,
    pub chunk: usize,
    /// Bytes per second, to imitate DASD.
    pub cap: Option<f64>,
    /// An injected fault: stop with an error after this many bytes.
    pub fail_at: Option<u64>,
}

/// Copies and returns the BLAKE3 (hex) of the target's content.
pub(super) fn copy(job: &CopyJob<'_>) -> Result<String> {
    let out = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(job.target)?;
    std::thread::scope(|s| {
        let (written, chunks) = mpsc::channel::<(u64, u64)>();
        let hasher = s.spawn(|| hash_chunks(&out, chunks, job.chunk));
        let started = Instant::now();
        let mut done = 0u64;
        loop {
            if job.fail_at == Some(done) {
                return Err(BackendError::FaultInjected(format!(
                    "copy failed after {done} of {} bytes",
                    job.size
                )));
            }
            if done == job.size {
                break;
            }
            let limit = job.fail_at.unwrap_or(job.size).min(job.size);
            let n = (job.chunk as u64).min(limit - done);
            job.source.copy_range_to(&out, done, n)?;
            // Only fails if the hasher died, which `join` reports below.
            let _ = written.send((done, n));
            done += n;
            if let Some(wait) = pace(done, started.elapsed(), job.cap) {
                std::thread::sleep(wait);
            }
        }
        drop(written);
        out.sync_all()?;
        let sum = hasher
            .join()
            .map_err(|_| BackendError::Corrupt("checksum thread panicked".into()))?;
        Ok(sum?)
    })
}

fn hash_chunks(
    file: &File,
    chunks: mpsc::Receiver<(u64, u64)>,
    chunk: usize,
) -> io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0; chunk];
    for (pos, n) in chunks {
        let part = &mut buf[..n as usize];
        file.read_exact_at(part, pos)?;
        hasher.update(part);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// How long to wait so that `done` bytes after `elapsed` stay within `cap`
/// bytes per second. The copy does real work on real files, so the cap
/// paces it in wall time, not on the simulation's clock.
pub(super) fn pace(done: u64, elapsed: Duration, cap: Option<f64>) -> Option<Duration> {
    let due = Duration::from_secs_f64(done as f64 / cap?);
    due.checked_sub(elapsed).filter(|d| !d.is_zero())
}

/// BLAKE3 (hex) of a disk's logical content.
pub(super) fn checksum(source: &DiskReader, size: u64, chunk: usize) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0; chunk];
    let mut done = 0u64;
    while done < size {
        let n = (chunk as u64).min(size - done) as usize;
        source.read_at(&mut buf[..n], done)?;
        hasher.update(&buf[..n]);
        done += n as u64;
    }
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_keeps_copies_under_the_cap() {
        let mib = 1024.0 * 1024.0;
        let cap = Some(10.0 * mib);
        // 5 MiB at 10 MiB/s are due after 0.5 s.
        assert_eq!(
            pace(5 << 20, Duration::from_millis(100), cap),
            Some(Duration::from_millis(400))
        );
        assert_eq!(pace(5 << 20, Duration::from_millis(600), cap), None);
        assert_eq!(pace(5 << 20, Duration::ZERO, None), None);
    }
}
