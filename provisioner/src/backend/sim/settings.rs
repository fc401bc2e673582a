//! Knobs of the simulation. The defaults are short so that someone trying
//! herd sees guests boot at once; the comments give values that behave like
//! a real z/VM host.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backend::LanName;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimSettings {
    /// IPL to running for one guest on an idle host. Real: 30 000–60 000.
    pub boot_ms: u64,
    /// SIGNAL SHUTDOWN to logged off, after the services stopped. Real: 30 000.
    pub halt_ms: u64,
    /// Time each service takes to start at boot or stop at shutdown.
    /// Real: 1 000–5 000.
    pub service_start_ms: u64,
    /// A running guest's sign of life. Real: 60 000.
    pub heartbeat_interval_ms: u64,
    /// Each other guest booting or logging off at the same time makes a
    /// transition this much longer (0.05 = 5 % per guest).
    pub contention_slowdown: f64,
    /// More transitions than this at once stall the whole host. The original
    /// froze with 500 guests logging off together; it coped with ~100.
    pub stall_threshold: u32,
    /// How long a stall freezes the host. Real: 600 000–900 000.
    pub stall_ms: u64,
    /// Caps DDR copies to imitate DASD; `None` copies at the speed of the
    /// disk under the data directory. Real 3390 on FICON: ~100 MiB/s.
    pub ddr_throughput_mib_s: Option<f64>,
    /// Bytes read and written per DDR step.
    pub ddr_chunk_bytes: usize,
    /// Copy-on-write granularity of FlashCopy targets (a power of two).
    pub flashcopy_block_bytes: u64,
    /// Guest LANs defined when the backend opens (name → capacity), unless
    /// they already exist.
    pub lans: BTreeMap<LanName, u32>,
    pub faults: FaultRates,
    /// fsync every state change. Without it a killed herd process still
    /// leaves the old or the new state (the rename is atomic); only a crash
    /// of the machine itself may lose the last changes, which herd's
    /// reconcile at start-up then repairs. Off by default: each change
    /// rewrites the whole state, and two fsyncs per change dominated a
    /// 500-guest batch.
    pub durable_state: bool,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            boot_ms: 2_000,
            halt_ms: 1_000,
            service_start_ms: 100,
            heartbeat_interval_ms: 5_000,
            contention_slowdown: 0.05,
            stall_threshold: 100,
            stall_ms: 30_000,
            ddr_throughput_mib_s: None,
            ddr_chunk_bytes: 4 << 20,
            flashcopy_block_bytes: 64 << 10,
            lans: BTreeMap::new(),
            faults: FaultRates::default(),
            durable_state: false,
        }
    }
}

impl SimSettings {
    pub(super) fn service_start(&self) -> Duration {
        Duration::from_millis(self.service_start_ms)
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        let block = self.flashcopy_block_bytes;
        if !block.is_power_of_two() || block < 512 {
            return Err(format!(
                "flashcopy_block_bytes {block} must be a power of two >= 512"
            ));
        }
        if self.ddr_chunk_bytes == 0 || self.heartbeat_interval_ms == 0 {
            return Err("ddr_chunk_bytes and heartbeat_interval_ms must be positive".into());
        }
        if self.ddr_throughput_mib_s.is_some_and(|c| c <= 0.0) || self.contention_slowdown < 0.0 {
            return Err("ddr_throughput_mib_s and contention_slowdown must be positive".into());
        }
        self.faults.validate()
    }
}

/// Probabilities of faults happening on their own (0 = never, 1 = always),
/// on top of the faults a test scripts with `SimBackend::inject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// A disk copy fails (DDR midway, FlashCopy at establish).
    pub copy_fails: f64,
    /// An IPL ends in a disabled wait.
    pub ipl_fails: f64,
    /// A booted guest hangs some time within `window_ms`.
    pub guest_hangs: f64,
    /// Each started service dies some time within `window_ms`.
    pub service_dies: f64,
    pub window_ms: u64,
    /// Makes the random faults repeatable.
    pub seed: Option<u64>,
}

impl Default for FaultRates {
    fn default() -> Self {
        Self {
            copy_fails: 0.0,
            ipl_fails: 0.0,
            guest_hangs: 0.0,
            service_dies: 0.0,
            window_ms: 600_000,
            seed: None,
        }
    }
}

impl FaultRates {
    fn validate(&self) -> Result<(), String> {
        let rates = [
            self.copy_fails,
            self.ipl_fails,
            self.guest_hangs,
            self.service_dies,
        ];
        if rates.iter().all(|p| (0.0..=1.0).contains(p)) {
            Ok(())
        } else {
            Err("fault rates must lie between 0 and 1".into())
        }
    }
}
