//! Firewall leases as the central router sees them: the policy that decides
//! what may be opened, and the nftables ruleset rendered from open leases.
//! Pure functions of their inputs; the API reads the rows and serves the text.

pub mod expiry;
pub mod policy;
pub mod ruleset;

pub use policy::{FirewallPolicy, InvalidPolicy, InvalidPortRange, PolicyViolation, PortRange};
pub use ruleset::{render_ruleset, ruleset_etag, RenderedLease};
