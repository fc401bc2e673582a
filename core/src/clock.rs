//! Time as herd sees it. Everything that waits, expires or times out asks a
//! [`Clock`], so tests can move time forward instead of sleeping.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC. Stored as `BIGINT` in both
/// databases so that one code path compares and orders times everywhere.
pub type Millis = i64;

pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> Millis;
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> Millis {
        system_now_ms()
    }
}

fn system_now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or_default()
}

/// A clock that only moves when told to: for in-process tests.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_ms: Millis) -> Self {
        Self(AtomicI64::new(start_ms))
    }

    /// Starts at the real current time, so stored timestamps look plausible.
    pub fn starting_now() -> Self {
        Self::new(system_now_ms())
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as Millis, Ordering::SeqCst);
    }

    pub fn set(&self, to_ms: Millis) {
        self.0.store(to_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }
}

/// A clock read from a file holding milliseconds since the epoch: lets a test
/// drive the time of a real `herd-server` process (setting `clock_file`).
/// While the file is absent or unreadable the clock runs on system time, so a
/// half-written file never sends time backwards to zero.
#[derive(Debug)]
pub struct FileClock {
    path: PathBuf,
}

impl FileClock {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Writes the time atomically (temp file + rename) so a reader never
    /// sees a partial number.
    pub fn write(path: &std::path::Path, ms: Millis) -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, ms.to_string())?;
        std::fs::rename(tmp, path)
    }
}

impl Clock for FileClock {
    fn now_ms(&self) -> Millis {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(system_now_ms)
    }
}

/// Adds a duration to a point in time, saturating instead of overflowing.
pub fn after(t: Millis, d: Duration) -> Millis {
    t.saturating_add(d.as_millis().min(i64::MAX as u128) as Millis)
}

/// RFC 3339 UTC rendering for the API (`2026-11-27T07:00:00.123Z`).
pub fn rfc3339(ms: Millis) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(Duration::from_secs(90 * 60));
        assert_eq!(c.now_ms(), 1_000 + 90 * 60 * 1000);
    }

    #[test]
    fn file_clock_reads_the_file_and_falls_back_to_system_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clock");
        let c = FileClock::new(&path);
        assert!(c.now_ms() > 1_700_000_000_000);
        FileClock::write(&path, 42).unwrap();
        assert_eq!(c.now_ms(), 42);
    }

    #[test]
    fn rfc3339_is_utc_with_z() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
