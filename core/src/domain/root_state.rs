use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A root version's life: `published` once its disk is made (guests may
/// boot it), `retired` once its disk is freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RootState {
    Published,
    Retired,
}

super::stored_name::stored_names!(RootState {
    Published => "published",
    Retired => "retired",
});
