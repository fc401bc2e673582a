//! Values that cross the backend interface.

use std::fmt;
use std::str::FromStr;

use herd_core::clock::Millis;
use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind}")]
pub struct InvalidName {
    pub kind: &'static str,
    pub value: String,
}

impl InvalidName {
    fn new(kind: &'static str, value: &str) -> Self {
        Self {
            kind,
            value: value.to_owned(),
        }
    }
}

/// Lets a newtype over `String` travel as a plain string in JSON and TOML
/// while still being validated on the way in.
macro_rules! string_newtype {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $t {
            type Error = InvalidName;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }

        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

/// A golden image's name: it becomes part of file names, so only
/// `A-Z a-z 0-9 . _ -`, 1 to 64 characters, not starting with a dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageName(String);

impl FromStr for ImageName {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if s.is_empty() || s.len() > 64 || s.starts_with('.') || !s.chars().all(ok_char) {
            return Err(InvalidName::new("image name", s));
        }
        Ok(Self(s.to_owned()))
    }
}

string_newtype!(ImageName);

/// A guest LAN's name. CP names LANs with the same alphabet and length as
/// user ids, so the user-id rule of [`GuestName`] is reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanName(String);

impl FromStr for LanName {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<GuestName>()
            .map(|n| Self(n.into()))
            .map_err(|_| InvalidName::new("LAN name", s))
    }
}

string_newtype!(LanName);

/// A virtual device number (`0100`), as in `LINK LX000042 0100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vdev(pub u16);

impl Vdev {
    /// The guest's own writable minidisk, its segment (`/usr/local`,
    /// `/home`, `/var`…); the root is linked read-only beside it at IPL.
    pub const SEGMENT: Vdev = Vdev(0x0100);
    /// The segment a reset replaced, kept beside the fresh one for undo
    /// (not linked by the guest's IPL).
    pub const KEPT_SEGMENT: Vdev = Vdev(0x0101);
}

impl fmt::Display for Vdev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl FromStr for Vdev {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 4 {
            return Err(InvalidName::new("device number", s));
        }
        u16::from_str_radix(s, 16)
            .map(Vdev)
            .map_err(|_| InvalidName::new("device number", s))
    }
}

/// A disk: an image's segment template, one of an image's root versions,
/// or a guest's minidisk at a device number. Written `image:NAME`,
/// `root:NAME@VERSION` or `GUEST.VDEV` (`LX000042.0100`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DiskId {
    /// The segment template new guests' segments are copied from.
    Image(ImageName),
    /// A root version: read-only, shared by every guest that links it.
    Root(ImageName, u32),
    Minidisk(GuestName, Vdev),
}

impl DiskId {
    pub fn image(name: &ImageName) -> Self {
        Self::Image(name.clone())
    }

    pub fn root(image: &ImageName, version: u32) -> Self {
        Self::Root(image.clone(), version)
    }

    pub fn segment_of(guest: &GuestName) -> Self {
        Self::Minidisk(guest.clone(), Vdev::SEGMENT)
    }

    pub fn kept_segment_of(guest: &GuestName) -> Self {
        Self::Minidisk(guest.clone(), Vdev::KEPT_SEGMENT)
    }

    pub fn owner(&self) -> Option<&GuestName> {
        match self {
            Self::Image(_) | Self::Root(..) => None,
            Self::Minidisk(g, _) => Some(g),
        }
    }

    /// The image and version of a root.
    pub fn as_root(&self) -> Option<(&ImageName, u32)> {
        match self {
            Self::Root(image, version) => Some((image, *version)),
            _ => None,
        }
    }
}

impl fmt::Display for DiskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Image(n) => write!(f, "image:{n}"),
            Self::Root(n, v) => write!(f, "root:{n}@{v}"),
            Self::Minidisk(g, v) => write!(f, "{g}.{v}"),
        }
    }
}

impl FromStr for DiskId {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("image:") {
            return name.parse().map(Self::Image);
        }
        if let Some(root) = s.strip_prefix("root:") {
            let (name, version) = root
                .split_once('@')
                .ok_or_else(|| InvalidName::new("disk id", s))?;
            let version = version
                .parse()
                .ok()
                .filter(|v| *v > 0)
                .ok_or_else(|| InvalidName::new("disk id", s))?;
            return Ok(Self::Root(name.parse()?, version));
        }
        let (guest, vdev) = s
            .split_once('.')
            .ok_or_else(|| InvalidName::new("disk id", s))?;
        let guest = guest.parse().map_err(|_| InvalidName::new("disk id", s))?;
        Ok(Self::Minidisk(guest, vdev.parse()?))
    }
}

impl TryFrom<String> for DiskId {
    type Error = InvalidName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<DiskId> for String {
    fn from(d: DiskId) -> String {
        d.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CopyMethod {
    /// Copy-on-write clone: instant, shares unchanged blocks with the source.
    FlashCopy,
    /// Full block copy: every byte read and written.
    Ddr,
}

/// A catalog service as a guest's init system knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    /// Lower starts earlier at boot and stops later at shutdown.
    pub priority: u32,
    /// The init script, e.g. `/etc/rc.d/init.d/httpd`.
    pub command: String,
    /// Started at boot.
    pub enabled: bool,
}

/// A directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpec {
    pub name: GuestName,
    pub memory_mb: u32,
    pub services: Vec<ServiceSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskKind {
    /// The disk holds all its bytes.
    Full,
    /// Unwritten blocks are read from `source`.
    FlashCopy { source: DiskId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskStatus {
    Ready,
    /// A DDR copy or import is filling it (or died while doing so).
    Copying,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskInfo {
    pub id: DiskId,
    pub size: u64,
    pub kind: DiskKind,
    pub status: DiskStatus,
    /// BLAKE3 (hex) the content should have; unknown once the disk was
    /// written.
    pub checksum: Option<String>,
    /// Live FlashCopy targets reading from this disk.
    pub flashcopy_targets: usize,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanInfo {
    pub name: LanName,
    pub capacity: u32,
    pub granted: Vec<GuestName>,
    pub coupled: Vec<GuestName>,
}

/// What CP would report about a guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PowerState {
    LoggedOff,
    Booting {
        ready_at: Millis,
    },
    Running {
        since: Millis,
    },
    /// Shutting down; logged off at `done_at`.
    Stopping {
        done_at: Millis,
    },
    /// Logged on but stopped in a disabled wait (a failed IPL): needs FORCE.
    DisabledWait {
        since: Millis,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    Up,
    Down,
    /// The guest cannot be asked (not responding).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub name: String,
    pub priority: u32,
    pub enabled: bool,
    pub state: ServiceState,
    /// When it came up, while it is up.
    pub up_since: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestStatus {
    pub power: PowerState,
    /// The root linked at the last IPL (`None`: never booted, or a guest
    /// of before shared roots booting its own full disk).
    #[serde(default)]
    pub root: Option<DiskId>,
    /// The guest's last sign of life; stale while it hangs.
    pub last_heartbeat: Option<Millis>,
    pub services: Vec<ServiceStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleReply {
    /// The shell ran the line.
    Completed { ok: bool, output: String },
    /// Nobody read the line: the guest is booting, hung or the host stalled.
    NoResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostLoad {
    /// Guests booting or logging off right now.
    pub in_transition: u32,
    pub logged_on: u32,
    /// Above this many transitions at once the host stalls.
    pub stall_threshold: u32,
    /// Set while the host is stalled.
    pub stalled_until: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_ids_round_trip_as_text() {
        for s in [
            "image:golden-1.0",
            "root:golden-1.0@12",
            "LX000042.0100",
            "A@#$.0191",
        ] {
            assert_eq!(s.parse::<DiskId>().unwrap().to_string(), s);
        }
        for bad in [
            "image:",
            "image:.hidden",
            "LX000042",
            "toolongid.0100",
            "LX1.10000",
            "root:golden",
            "root:golden@0",
            "root:golden@x",
        ] {
            assert!(bad.parse::<DiskId>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn lan_names_follow_the_user_id_rule() {
        assert_eq!("students".parse::<LanName>().unwrap().as_str(), "STUDENTS");
        assert!("STUDENTS1".parse::<LanName>().is_err());
    }
}
