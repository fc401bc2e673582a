//! Closed sets stored and sent as their lower-case names: one definition of
//! the names, `as_str`, `parse` and `ALL` for each.

/// `stored_names!(Type { Variant => "name", … })` gives `Type` an `ALL`
/// list, `as_str` and `parse` (`None` for any other text).
macro_rules! stored_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        /// Text read from the database: anything but a name is an error
        /// (a row a newer release wrote, or a broken one), never a guess.
        impl TryFrom<String> for $ty {
            type Error = $crate::domain::UnknownName;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s).ok_or($crate::domain::UnknownName {
                    what: stringify!($ty),
                    text: s,
                })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use stored_names;

/// Stored text that names no value of a closed set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is no {what}")]
pub struct UnknownName {
    pub what: &'static str,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use crate::domain::{GuestState, ItemStatus, JobKind, JobStatus, StepStatus};

    #[test]
    fn names_round_trip() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(*s));
        }
        for s in StepStatus::ALL {
            assert_eq!(StepStatus::parse(s.as_str()), Some(*s));
        }
        for s in ItemStatus::ALL {
            assert_eq!(ItemStatus::parse(s.as_str()), Some(*s));
        }
        for s in JobKind::ALL {
            assert_eq!(JobKind::parse(s.as_str()), Some(*s));
        }
        for s in GuestState::ALL {
            assert_eq!(GuestState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(JobStatus::parse("done"), None);
        assert_eq!(JobKind::parse("audit"), None);
        assert_eq!(GuestState::parse("Running"), None);
        // The schema admits `pending` for steps, which no release wrote.
        assert_eq!(StepStatus::parse("pending"), None);
        assert_eq!(ItemStatus::parse("Pending"), None);
    }
}
