//! Store tests, each run on SQLite and on PostgreSQL.

mod commands;
mod guests;
mod invariants;
mod leases;
