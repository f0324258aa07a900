//! Support for the multi-process test: child processes, an SMTP sink, an HTTP driver, the
//! database side of the processes, and the final checks.
#![allow(clippy::unwrap_used, dead_code)]

pub mod checks;
pub mod driver;
pub mod fleet;
pub mod log;
pub mod sink;
