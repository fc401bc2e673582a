/// Where one step of a saga is, as its job records it. Stored as its
/// lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepStatus {
    /// Started and not known to have finished: a restart runs it again.
    Running,
    Done,
    /// Failed, its error in the step's detail; its undo is next.
    Failed,
    /// Undone after the saga failed (the failed step keeps its error).
    Undone,
}

impl StepStatus {
    pub const ALL: [StepStatus; 4] = [
        StepStatus::Running,
        StepStatus::Done,
        StepStatus::Failed,
        StepStatus::Undone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Running => "running",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
            StepStatus::Undone => "undone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in StepStatus::ALL {
            assert_eq!(StepStatus::parse(status.as_str()), Some(status));
        }
        // The schema admits `pending`, which no release ever wrote.
        assert_eq!(StepStatus::parse("pending"), None);
    }
}
