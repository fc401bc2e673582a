//! The guest's first-boot SSH identity (SPEC §8): at its first IPL a guest
//! makes its own Ed25519 host key, kept in its segment (where
//! `/etc/ssh/ssh_host_ed25519_key` lives: the last 4 KiB here), and its
//! login shell reports the public key on the console
//! ([`crate::backend::HOST_KEY_COMMAND`]).

use herd_core::domain::GuestName;
use rand::RngCore;
use ssh_key::private::Ed25519Keypair;
use ssh_key::{LineEnding, PrivateKey};

use super::state::State;
use super::SimBackend;
use crate::backend::{BackendError, DiskId, Result};

/// Bytes at the end of the segment that hold the key file.
const REGION: u64 = 4096;

impl SimBackend {
    /// The key in the guest's segment, if it has made one.
    pub(super) fn host_key(&self, state: &State, guest: &GuestName) -> Result<Option<PrivateKey>> {
        let Some(region) = self.key_region(state, &DiskId::segment_of(guest))? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&region);
        Ok(PrivateKey::from_openssh(text.trim_end_matches('\0')).ok())
    }

    /// The bytes of `disk` that hold the key file, if the disk is there.
    fn key_region(&self, state: &State, disk: &DiskId) -> Result<Option<Vec<u8>>> {
        match state.disks.get(disk) {
            Some(record) if record.size >= REGION => self
                .read_into(state, disk, record.size - REGION, REGION as usize)
                .map(Some),
            _ => Ok(None),
        }
    }

    /// Copies the key file of segment `from` into segment `to`, if `from`
    /// holds one.
    pub(super) fn carry_key_region(
        &self,
        state: &mut State,
        from: &DiskId,
        to: &DiskId,
    ) -> Result<()> {
        let Some(region) = self.key_region(state, from)? else {
            return Ok(());
        };
        if region.iter().all(|b| *b == 0) {
            return Ok(());
        }
        let size = state
            .disks
            .get(to)
            .map(|d| d.size)
            .ok_or_else(|| BackendError::not_found(to))?;
        if size < REGION {
            return Err(BackendError::invalid_state(
                to,
                "is too small for a host key",
            ));
        }
        self.write_into(state, to, size - REGION, &region)
    }

    /// At the first IPL of the guest's segment (a new guest's, or a reset's
    /// fresh copy), makes its host key; the segment then counts as booted.
    pub(super) fn first_boot(&self, state: &mut State, guest: &GuestName) -> Result<()> {
        let disk = DiskId::segment_of(guest);
        if state.disks.get(&disk).is_some_and(|d| d.booted) {
            return Ok(());
        }
        self.ensure_host_key(state, guest)?;
        if let Some(record) = state.disks.get_mut(&disk) {
            record.booted = true;
        }
        Ok(())
    }

    /// Makes the guest's host key unless its segment holds one already (a
    /// reset carried it over).
    fn ensure_host_key(&self, state: &mut State, guest: &GuestName) -> Result<()> {
        if self.host_key(state, guest)?.is_some() {
            return Ok(());
        }
        let disk = DiskId::segment_of(guest);
        let Some(size) = state
            .disks
            .get(&disk)
            .map(|d| d.size)
            .filter(|s| *s >= REGION)
        else {
            return Ok(());
        };
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
        key.set_comment(format!("root@{}", guest.as_str().to_lowercase()));
        let pem = key
            .to_openssh(LineEnding::LF)
            .map_err(|e| BackendError::Corrupt(format!("encoding a host key: {e}")))?;
        let mut region = pem.as_bytes().to_vec();
        region.resize(REGION as usize, 0);
        self.write_into(state, &disk, size - REGION, &region)
    }

    /// What the login shell prints for [`COMMAND`].
    pub(super) fn report_host_key(
        &self,
        state: &State,
        guest: &GuestName,
    ) -> Result<(bool, String)> {
        Ok(match self.host_key(state, guest)? {
            Some(key) => match key.public_key().to_openssh() {
                Ok(line) => (true, line),
                Err(e) => (false, format!("cannot read the host key: {e}")),
            },
            None => (false, "no host key yet".into()),
        })
    }
}
