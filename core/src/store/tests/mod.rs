//! Store tests, each run on SQLite and on PostgreSQL.

mod guests;
mod invariants;
mod leases;
