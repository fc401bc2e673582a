//! The rules of requests, between the routes (which parse and render) and
//! the store (which holds the SQL): one module per resource, deciding who
//! may do what, checking quotas and capacity, and running the transactions
//! a request makes. The recorder of clicks asks the same functions.

pub mod audit;
pub mod batches;
pub mod firewall;
pub mod guests;
pub mod images;
pub mod jobs;
pub mod lans;
pub mod operations;
pub mod pool;
pub mod resets;
pub mod services;
pub mod tokens;
