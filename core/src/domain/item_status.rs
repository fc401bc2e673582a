/// Where one user of a batch is (SPEC §4): `pending` until placed and
/// settled, then one of the others. Stored and sent as its lower-case name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    Pending,
    /// The user already had enough guests.
    Skipped,
    /// Given pooled guests.
    Assigned,
    /// Given new clones.
    Cloned,
    Failed,
    Cancelled,
}

super::stored_name::stored_names!(ItemStatus {
    Pending => "pending",
    Skipped => "skipped",
    Assigned => "assigned",
    Cloned => "cloned",
    Failed => "failed",
    Cancelled => "cancelled",
});
