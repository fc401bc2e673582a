//! Job-kind facts of the provisioner: which kinds ([`JobKind`]) the job
//! runner claims, the others being settled by their followers.

use herd_core::domain::JobKind;
use herd_core::store::jobs::Job;

/// The kinds the job runner claims; the others settle in their followers.
pub const CLAIMED: [JobKind; 4] = [
    JobKind::Provision,
    JobKind::Decommission,
    JobKind::Batch,
    JobKind::RootPublish,
];

/// The jobs a refill or reclaim waits for, listed in its params.
pub fn children(job: &Job) -> Vec<i64> {
    let params: serde_json::Value = serde_json::from_str(&job.params).unwrap_or_default();
    params["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_i64())
        .collect()
}
