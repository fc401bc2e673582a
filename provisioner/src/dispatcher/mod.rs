//! The privileged side of the command channel (SPEC §3): commands arrive as
//! text written by the web side and are trusted only after [`grammar`] has
//! parsed them again.

pub mod grammar;
mod runner;

pub use grammar::{Command, CommandOp, GrammarError};
pub use runner::Dispatcher;
