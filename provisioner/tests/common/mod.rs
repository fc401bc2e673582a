//! A simulated host in a temporary directory, on a clock that only moves
//! when a test says so.
#![allow(dead_code)] // each test crate uses a different part

use std::sync::Arc;
use std::time::Duration;

use herd_core::clock::{Clock, ManualClock, Millis};
use herd_core::domain::GuestName;
use herd_provisioner::backend::sim::{write_synthetic_image, SimBackend, SimSettings};
use herd_provisioner::backend::{
    CopyMethod, Directory, DiskId, ImageName, ServiceSpec, Storage, UserSpec,
};
use tempfile::TempDir;

pub const T0: Millis = 1_800_000_000_000;

pub struct Host {
    pub dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub zvm: SimBackend,
}

impl Host {
    pub fn new() -> Self {
        Self::with(test_settings())
    }

    pub fn with(settings: SimSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let zvm = SimBackend::open(dir.path(), clock.clone(), settings).unwrap();
        Self { dir, clock, zvm }
    }

    /// A second handle on the same host, as another herd process (or a
    /// restarted one) would open it.
    pub fn reopen(&self) -> SimBackend {
        SimBackend::open(
            self.dir.path(),
            self.clock.clone(),
            self.zvm.settings().clone(),
        )
        .unwrap()
    }

    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    pub fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }

    /// Imports `size` pseudo-random bytes as image `name`.
    pub fn image(&self, name: &str, size: u64) -> DiskId {
        let file = self.dir.path().join(format!("{name}.src"));
        write_synthetic_image(&file, size, size ^ 42).unwrap();
        let name: ImageName = name.parse().unwrap();
        self.zvm.import_disk(&DiskId::image(&name), &file).unwrap();
        DiskId::image(&name)
    }

    pub fn add_guest(&self, name: &str) -> GuestName {
        add_guest(&self.zvm, name)
    }

    /// A guest with a FlashCopy of `image` as its root disk: ready to IPL.
    pub fn bootable_guest(&self, name: &str, image: &DiskId) -> GuestName {
        let g = self.add_guest(name);
        self.zvm
            .clone_disk(image, &DiskId::segment_of(&g), CopyMethod::FlashCopy)
            .unwrap();
        g
    }

    pub fn disk_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("zvm/disks"))
            .unwrap()
            .count()
    }
}

/// Durations easy to compute with: boot 2 s, halt 1 s, services 100 ms each,
/// heartbeat every second, 50 % slowdown per concurrent transition.
pub fn test_settings() -> SimSettings {
    SimSettings {
        boot_ms: 2_000,
        halt_ms: 1_000,
        service_start_ms: 100,
        heartbeat_interval_ms: 1_000,
        contention_slowdown: 0.5,
        stall_threshold: 3,
        stall_ms: 60_000,
        flashcopy_block_bytes: 4096,
        ddr_chunk_bytes: 64 << 10,
        ..SimSettings::default()
    }
}

/// A directory entry with the catalog.
pub fn add_guest(zvm: &SimBackend, name: &str) -> GuestName {
    let name = guest(name);
    let spec = UserSpec {
        name: name.clone(),
        memory_mb: 64,
        services: catalog(),
    };
    zvm.add_user(&spec).unwrap();
    name
}

pub fn guest(name: &str) -> GuestName {
    name.parse().unwrap()
}

/// SPEC §1's catalog, all enabled so boot order shows.
pub fn catalog() -> Vec<ServiceSpec> {
    [
        ("mysql", 60, "mysql"),
        ("apache", 50, "httpd"),
        ("jakarta", 55, "tomcat"),
    ]
    .into_iter()
    .map(|(name, priority, script)| ServiceSpec {
        name: name.into(),
        priority,
        command: format!("/etc/rc.d/init.d/{script}"),
        enabled: true,
    })
    .collect()
}

pub mod world;
