//! Guest LANs: a guest couples only with a grant, and a LAN takes no more
//! grants than its capacity (z/VM's MAXCONN), so every granted guest can
//! also connect.

use herd_core::domain::GuestName;

use super::fault::SimOp;
use super::state::{Lan, State};
use super::SimBackend;
use crate::backend::{BackendError, LanInfo, LanName, Network, Result};

impl State {
    fn lan_mut(&mut self, name: &LanName) -> Result<&mut Lan> {
        self.lans
            .get_mut(name)
            .ok_or_else(|| BackendError::not_found(format!("LAN {name}")))
    }

    pub(super) fn define_lan(&mut self, name: &LanName, capacity: u32) -> Result<()> {
        if capacity == 0 {
            return Err(BackendError::InvalidArgument(format!(
                "LAN {name} needs a capacity"
            )));
        }
        if self.lans.contains_key(name) {
            return Err(BackendError::exists(format!("LAN {name}")));
        }
        let lan = Lan {
            capacity,
            ..Lan::default()
        };
        self.lans.insert(name.clone(), lan);
        Ok(())
    }
}

impl Network for SimBackend {
    fn define_lan(&self, lan: &LanName, capacity: u32) -> Result<()> {
        self.write(|state, _| state.define_lan(lan, capacity))
    }

    fn lans(&self) -> Result<Vec<LanInfo>> {
        self.read(|state, _| {
            Ok(state
                .lans
                .iter()
                .map(|(name, lan)| LanInfo {
                    name: name.clone(),
                    capacity: lan.capacity,
                    granted: lan.granted.iter().cloned().collect(),
                    coupled: lan.coupled.iter().cloned().collect(),
                })
                .collect())
        })
    }

    fn grant(&self, lan: &LanName, guest: &GuestName) -> Result<()> {
        self.write_unless_refused(SimOp::Grant, guest, |state, _| {
            state.user(guest)?;
            let l = state.lan_mut(lan)?;
            if l.granted.contains(guest) {
                return Ok(());
            }
            if l.granted.len() >= l.capacity as usize {
                return Err(BackendError::CapacityExceeded {
                    what: format!("LAN {lan}"),
                    capacity: l.capacity,
                });
            }
            l.granted.insert(guest.clone());
            Ok(())
        })
    }

    fn revoke(&self, lan: &LanName, guest: &GuestName) -> Result<()> {
        self.write_unless_refused(SimOp::Revoke, guest, |state, _| {
            let l = state.lan_mut(lan)?;
            l.granted.remove(guest);
            l.coupled.remove(guest);
            Ok(())
        })
    }

    fn couple(&self, lan: &LanName, guest: &GuestName) -> Result<()> {
        self.write(|state, _| {
            state.user(guest)?;
            let l = state.lan_mut(lan)?;
            if !l.granted.contains(guest) {
                return Err(BackendError::NotAuthorized(format!(
                    "{guest} has no grant for LAN {lan}"
                )));
            }
            l.coupled.insert(guest.clone());
            Ok(())
        })
    }
}
