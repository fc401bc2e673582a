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

super::stored_name::stored_names!(StepStatus {
    Running => "running",
    Done => "done",
    Failed => "failed",
    Undone => "undone",
});
