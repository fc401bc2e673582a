//! The scripted faults a test or an operator arms (`faults.rs` decides
//! when they fire): kept in the host's state, so every process of the
//! machine meets them.

use std::fmt;
use std::time::Duration;

use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

use crate::backend::{DiskId, ImageName};

/// A scripted fault. Each fires once, but a broken root stays broken.
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
    /// `service` fails to start on these guests (every guest when `None`)
    /// whenever they boot root `version` of `image`. Never consumed.
    RootBreaks {
        image: ImageName,
        version: u32,
        service: String,
        guests: Option<Vec<GuestName>>,
    },
}

impl Fault {
    /// The service a broken root keeps from starting on `guest` booting
    /// `root`.
    pub(super) fn breaks(&self, root: &DiskId, guest: &GuestName) -> Option<&str> {
        match self {
            Self::RootBreaks {
                image,
                version,
                service,
                guests,
            } if root.as_root() == Some((image, *version))
                && guests.as_ref().is_none_or(|g| g.contains(guest)) =>
            {
                Some(service)
            }
            _ => None,
        }
    }

    pub(super) fn concerns(&self, name: &GuestName) -> bool {
        match self {
            Self::CopyFails { target: g, .. }
            | Self::IplFails { guest: g }
            | Self::Fails { guest: g, .. } => g.as_ref().is_none_or(|g| g == name),
            Self::Hang { guest, .. } | Self::ServiceDies { guest, .. } => guest == name,
            Self::RootBreaks { guests, .. } => guests.as_ref().is_none_or(|g| g.contains(name)),
        }
    }

    pub(super) fn rename(&mut self, from: &GuestName, to: &GuestName) {
        let guest = match self {
            Self::CopyFails { target: g, .. }
            | Self::IplFails { guest: g }
            | Self::Fails { guest: g, .. } => g.as_mut(),
            Self::Hang { guest, .. } | Self::ServiceDies { guest, .. } => Some(guest),
            Self::RootBreaks { guests, .. } => {
                guests
                    .iter_mut()
                    .flatten()
                    .filter(|g| *g == from)
                    .for_each(|g| *g = to.clone());
                None
            }
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
