//! Scripted faults as a person writes them (`herd-server sim faults add`,
//! SPEC §11): one JSON object with one key, the fault's kind, e.g.
//! `{"copy_fails": {"guest": "LX000007"}}`. Parsed strictly, with errors
//! that say what is accepted; [`FaultSpec::to_fault`] gives the [`Fault`]
//! the simulation arms, and a [`Fault`] read back prints (`Display`) in the
//! same shape, so that `list` output can be fed to `add` again.

use std::fmt;
use std::time::Duration;

use herd_core::domain::GuestName;
use serde::{Deserialize, Serialize};

use super::fault::{Fault, SimOp};
use crate::backend::ImageName;

/// The shapes [`FaultSpec::parse`] accepts, for error messages and help.
pub const FAULT_SHAPES: &str = "\
accepted shapes (one object with one key; fields marked ? are optional):
  {\"copy_fails\": {\"guest\"?: \"LX000007\", \"at_fraction\"?: 0.5}}
      the next copy onto that guest's disk (any guest's without \"guest\") fails;
      a DDR after copying at_fraction (0..1, default 0.5) of the bytes
  {\"ipl_fails\": {\"guest\"?: \"LX000007\"}}
      the next IPL (of that guest, or of any) ends in a disabled wait
  {\"fails\": {\"op\": \"add_user\", \"guest\"?: \"LX000007\"}}
      the next such operation is refused; op: add_user, grant, revoke, set_tags, ipl
  {\"hangs\": {\"guest\": \"LX000007\", \"after_seconds\"?: 0}}
      the guest stops answering and heartbeating, that long from now if it runs,
      else after its next boot
  {\"service_dies\": {\"guest\": \"LX000007\", \"service\": \"apache\", \"after_seconds\"?: 0}}
      the service goes down that long after it is (next) up
  {\"root_breaks\": {\"image\": \"golden\", \"version\": 2, \"service\": \"apache\", \"guests\"?: [\"LX000003\"]}}
      the service fails to start on those guests (on every guest without \"guests\")
      whenever they boot that root version; stays armed until cleared";

/// The keys of the shapes.
const KINDS: [&str; 6] = [
    "copy_fails",
    "ipl_fails",
    "fails",
    "hangs",
    "service_dies",
    "root_breaks",
];

/// A scripted fault in its user-facing form; see [`FAULT_SHAPES`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultSpec {
    /// [`Fault::CopyFails`].
    CopyFails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest: Option<GuestName>,
        #[serde(default = "default_at_fraction")]
        at_fraction: f64,
    },
    /// [`Fault::IplFails`].
    IplFails {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest: Option<GuestName>,
    },
    /// [`Fault::Fails`].
    Fails {
        op: FailingOp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guest: Option<GuestName>,
    },
    /// [`Fault::Hang`].
    Hangs {
        guest: GuestName,
        #[serde(default, skip_serializing_if = "is_zero")]
        after_seconds: f64,
    },
    /// [`Fault::ServiceDies`].
    ServiceDies {
        guest: GuestName,
        service: String,
        #[serde(default, skip_serializing_if = "is_zero")]
        after_seconds: f64,
    },
    /// [`Fault::RootBreaks`].
    RootBreaks {
        image: ImageName,
        version: u32,
        service: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        guests: Option<Vec<GuestName>>,
    },
}

/// [`SimOp`] as it is written in a [`FaultSpec::Fails`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailingOp {
    AddUser,
    Grant,
    Revoke,
    SetTags,
    Ipl,
}

/// Why a fault was not accepted; its message ends with [`FAULT_SHAPES`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}\n{FAULT_SHAPES}")]
pub struct FaultSpecError {
    /// What is wrong, without the list of shapes.
    pub problem: String,
}

impl FaultSpecError {
    fn new(problem: impl Into<String>) -> Self {
        Self {
            problem: problem.into(),
        }
    }
}

fn default_at_fraction() -> f64 {
    0.5
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl FaultSpec {
    /// Parses and checks one fault written as JSON.
    pub fn parse(json: &str) -> Result<Self, FaultSpecError> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| FaultSpecError::new(format!("not JSON: {e}")))?;
        let kind = match value.as_object() {
            Some(map) if map.len() == 1 => map.keys().next().cloned().unwrap_or_default(),
            _ => {
                return Err(FaultSpecError::new(format!(
                    "a fault is a JSON object with exactly one key, its kind; got {value}"
                )))
            }
        };
        if !KINDS.contains(&kind.as_str()) {
            return Err(FaultSpecError::new(format!(
                "unknown fault `{kind}`: use one of {}",
                KINDS.join(", ")
            )));
        }
        let spec: Self = serde_json::from_value(value)
            .map_err(|e| FaultSpecError::new(format!("`{kind}`: {e}")))?;
        spec.to_fault()?;
        Ok(spec)
    }

    /// The fault the simulation arms.
    pub fn to_fault(&self) -> Result<Fault, FaultSpecError> {
        Ok(match self {
            Self::CopyFails { guest, at_fraction } => {
                if !(0.0..=1.0).contains(at_fraction) {
                    return Err(FaultSpecError::new(format!(
                        "`copy_fails`: at_fraction must lie in 0..1, not {at_fraction}"
                    )));
                }
                Fault::CopyFails {
                    target: guest.clone(),
                    at_fraction: *at_fraction,
                }
            }
            Self::IplFails { guest } => Fault::IplFails {
                guest: guest.clone(),
            },
            Self::Fails { op, guest } => Fault::Fails {
                op: (*op).into(),
                guest: guest.clone(),
            },
            Self::Hangs {
                guest,
                after_seconds,
            } => Fault::Hang {
                guest: guest.clone(),
                after: seconds("hangs", *after_seconds)?,
            },
            Self::ServiceDies {
                guest,
                service,
                after_seconds,
            } => {
                if service.trim().is_empty() {
                    return Err(FaultSpecError::new("`service_dies`: service is empty"));
                }
                Fault::ServiceDies {
                    guest: guest.clone(),
                    service: service.clone(),
                    after: seconds("service_dies", *after_seconds)?,
                }
            }
            Self::RootBreaks {
                image,
                version,
                service,
                guests,
            } => {
                if service.trim().is_empty() {
                    return Err(FaultSpecError::new("`root_breaks`: service is empty"));
                }
                if *version == 0 {
                    return Err(FaultSpecError::new(
                        "`root_breaks`: root versions are numbered from 1",
                    ));
                }
                Fault::RootBreaks {
                    image: image.clone(),
                    version: *version,
                    service: service.clone(),
                    guests: guests.clone(),
                }
            }
        })
    }

    /// The guest the fault is aimed at, if only one.
    pub fn guest(&self) -> Option<&GuestName> {
        match self {
            Self::CopyFails { guest, .. }
            | Self::IplFails { guest }
            | Self::Fails { guest, .. } => guest.as_ref(),
            Self::Hangs { guest, .. } | Self::ServiceDies { guest, .. } => Some(guest),
            Self::RootBreaks { guests, .. } => match guests.as_deref() {
                Some([one]) => Some(one),
                _ => None,
            },
        }
    }
}

fn seconds(kind: &str, s: f64) -> Result<Duration, FaultSpecError> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        FaultSpecError::new(format!(
            "`{kind}`: after_seconds must be a number of seconds, 0 or more, not {s}"
        ))
    })
}

impl From<&Fault> for FaultSpec {
    fn from(fault: &Fault) -> Self {
        match fault {
            Fault::CopyFails {
                target,
                at_fraction,
            } => Self::CopyFails {
                guest: target.clone(),
                at_fraction: *at_fraction,
            },
            Fault::IplFails { guest } => Self::IplFails {
                guest: guest.clone(),
            },
            Fault::Fails { op, guest } => Self::Fails {
                op: (*op).into(),
                guest: guest.clone(),
            },
            Fault::Hang { guest, after } => Self::Hangs {
                guest: guest.clone(),
                after_seconds: after.as_secs_f64(),
            },
            Fault::ServiceDies {
                guest,
                service,
                after,
            } => Self::ServiceDies {
                guest: guest.clone(),
                service: service.clone(),
                after_seconds: after.as_secs_f64(),
            },
            Fault::RootBreaks {
                image,
                version,
                service,
                guests,
            } => Self::RootBreaks {
                image: image.clone(),
                version: *version,
                service: service.clone(),
                guests: guests.clone(),
            },
        }
    }
}

/// One line of compact JSON, in the shape [`FaultSpec::parse`] takes.
impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

impl From<FailingOp> for SimOp {
    fn from(op: FailingOp) -> Self {
        match op {
            FailingOp::AddUser => Self::AddUser,
            FailingOp::Grant => Self::Grant,
            FailingOp::Revoke => Self::Revoke,
            FailingOp::SetTags => Self::SetTags,
            FailingOp::Ipl => Self::Ipl,
        }
    }
}

impl From<SimOp> for FailingOp {
    fn from(op: SimOp) -> Self {
        match op {
            SimOp::AddUser => Self::AddUser,
            SimOp::Grant => Self::Grant,
            SimOp::Revoke => Self::Revoke,
            SimOp::SetTags => Self::SetTags,
            SimOp::Ipl => Self::Ipl,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> GuestName {
        s.parse().unwrap()
    }

    fn problem(json: &str) -> String {
        let e = FaultSpec::parse(json).unwrap_err();
        assert!(e.to_string().ends_with(FAULT_SHAPES), "{e}");
        e.problem
    }

    #[test]
    fn every_shape_parses_to_its_fault() {
        let cases = [
            (
                r#"{"copy_fails": {}}"#,
                Fault::CopyFails {
                    target: None,
                    at_fraction: 0.5,
                },
            ),
            (
                r#"{"copy_fails": {"guest": "lx000007", "at_fraction": 0}}"#,
                Fault::CopyFails {
                    target: Some(name("LX000007")),
                    at_fraction: 0.0,
                },
            ),
            (r#"{"ipl_fails": {}}"#, Fault::IplFails { guest: None }),
            (
                r#"{"fails": {"op": "set_tags", "guest": "LX000001"}}"#,
                Fault::Fails {
                    op: SimOp::SetTags,
                    guest: Some(name("LX000001")),
                },
            ),
            (
                r#"{"hangs": {"guest": "LX000007"}}"#,
                Fault::Hang {
                    guest: name("LX000007"),
                    after: Duration::ZERO,
                },
            ),
            (
                r#"{"service_dies": {"guest": "LX000007", "service": "apache", "after_seconds": 1.5}}"#,
                Fault::ServiceDies {
                    guest: name("LX000007"),
                    service: "apache".into(),
                    after: Duration::from_millis(1500),
                },
            ),
            (
                r#"{"root_breaks": {"image": "golden", "version": 2, "service": "apache", "guests": ["LX000003"]}}"#,
                Fault::RootBreaks {
                    image: "golden".parse().unwrap(),
                    version: 2,
                    service: "apache".into(),
                    guests: Some(vec![name("LX000003")]),
                },
            ),
            (
                r#"{"root_breaks": {"image": "golden", "version": 3, "service": "sshd"}}"#,
                Fault::RootBreaks {
                    image: "golden".parse().unwrap(),
                    version: 3,
                    service: "sshd".into(),
                    guests: None,
                },
            ),
        ];
        for (json, fault) in cases {
            let spec = FaultSpec::parse(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(spec.to_fault().unwrap(), fault, "{json}");
            // what `list` prints reads back as the same fault
            let printed = FaultSpec::from(&fault).to_string();
            assert_eq!(
                FaultSpec::parse(&printed).unwrap().to_fault().unwrap(),
                fault,
                "{printed}"
            );
        }
        assert_eq!(
            FaultSpec::from(&Fault::CopyFails {
                target: None,
                at_fraction: 0.5
            })
            .to_string(),
            r#"{"copy_fails":{"at_fraction":0.5}}"#
        );
        assert_eq!(
            FaultSpec::from(&Fault::Hang {
                guest: name("LX000007"),
                after: Duration::ZERO
            })
            .to_string(),
            r#"{"hangs":{"guest":"LX000007"}}"#
        );
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert!(problem("copy_fails").starts_with("not JSON"));
        assert!(problem("{}").contains("exactly one key"));
        assert!(problem(r#"{"copy_fails": {}, "hangs": {}}"#).contains("exactly one key"));
        assert!(problem(r#"["copy_fails"]"#).contains("exactly one key"));
        assert!(problem(r#"{"copy_fail": {}}"#).contains("unknown fault `copy_fail`"));
        assert!(problem(r#"{"copy_fails": {"gust": "LX000007"}}"#).contains("unknown field `gust`"));
        assert!(problem(r#"{"copy_fails": {"guest": "LX-7"}}"#).contains("not a z/VM user id"));
        assert!(problem(r#"{"copy_fails": {"at_fraction": 2}}"#).contains("0..1"));
        assert!(problem(r#"{"copy_fails": null}"#).starts_with("`copy_fails`"));
        assert!(problem(r#"{"hangs": {}}"#).contains("missing field `guest`"));
        assert!(
            problem(r#"{"hangs": {"guest": "LX1", "after_seconds": -1}}"#).contains("0 or more")
        );
        assert!(
            problem(r#"{"service_dies": {"guest": "LX1"}}"#).contains("missing field `service`")
        );
        assert!(
            problem(r#"{"fails": {"op": "format_disk"}}"#).starts_with("`fails`: unknown variant")
        );
        assert!(
            problem(r#"{"root_breaks": {"image": "golden", "version": 2}}"#)
                .contains("missing field `service`")
        );
        assert!(problem(
            r#"{"root_breaks": {"image": "golden", "version": 0, "service": "apache"}}"#
        )
        .contains("numbered from 1"));
        assert!(problem(
            r#"{"root_breaks": {"image": "gold en", "version": 2, "service": "apache"}}"#
        )
        .contains("image name"));
    }
}
