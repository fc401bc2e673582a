//! The scripted faults a test or an operator arms (`faults.rs` decides
//! when they fire): kept in the host's state, so every process of the
//! machine meets them.

use std::fmt;
use std::time::Duration;

use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

/// A scripted fault. Each fires once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Fault {
    /// The next copy onto a minidisk of `target` (of any guest when `None`)
    /// fails: a DDR after copying `at_fraction` of the bytes, a FlashCopy at
    /// establish.
    CopyFails {
        target: Option<GuestName>,
        at_fraction: f64,
    },
    /// The next IPL (of `guest`, or of any guest) ends in a disabled wait.
    IplFails { guest: Option<GuestName> },
    /// The next `op` on `guest` (on any guest when `None`) is refused with
    /// [`BackendError::FaultInjected`] and changes nothing.
    Fails { op: SimOp, guest: Option<GuestName> },
    /// The guest stops heartbeating and answering `after` from now if it is
    /// running, else `after` its (next) boot completes.
    Hang { guest: GuestName, after: Duration },
    /// Like `Hang`, for one service, counted from when it is (next) up.
    /// Kept with the service rather than here.
    ServiceDies {
        guest: GuestName,
        service: String,
        after: Duration,
    },
}

impl Fault {
    pub(super) fn concerns(&self, name: &GuestName) -> bool {
        match self {
            Self::CopyFails { target: g, .. }
            | Self::IplFails { guest: g }
            | Self::Fails { guest: g, .. } => g.as_ref().is_none_or(|g| g == name),
            Self::Hang { guest, .. } | Self::ServiceDies { guest, .. } => guest == name,
        }
    }

    pub(super) fn rename(&mut self, from: &GuestName, to: &GuestName) {
        let guest = match self {
            Self::CopyFails { target: g, .. }
            | Self::IplFails { guest: g }
            | Self::Fails { guest: g, .. } => g.as_mut(),
            Self::Hang { guest, .. } | Self::ServiceDies { guest, .. } => Some(guest),
        };
        if let Some(g) = guest.filter(|g| *g == from) {
            *g = to.clone();
        }
    }

    /// Faults that only make sense for one guest leave with it. Faults
    /// waiting for an operation stay: the name may be used again (and a
    /// fault may well be armed before its guest exists).
    pub(super) fn outlives(&self, deleted: &GuestName) -> bool {
        !matches!(self, Self::Hang { guest, .. } | Self::ServiceDies { guest, .. } if guest == deleted)
    }
}

/// An operation a [`Fault::Fails`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimOp {
    /// DIRMAINT ADD.
    AddUser,
    /// SET LAN … GRANT.
    Grant,
    /// SET LAN … REVOKE.
    Revoke,
    /// Setting tags.
    SetTags,
    /// XAUTOLOG/IPL refused outright, where [`Fault::IplFails`] lets the
    /// boot start and end in a disabled wait.
    Ipl,
}

impl fmt::Display for SimOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AddUser => "DIRMAINT ADD",
            Self::Grant => "SET LAN GRANT",
            Self::Revoke => "SET LAN REVOKE",
            Self::SetTags => "TAG SET",
            Self::Ipl => "IPL",
        })
    }
}
