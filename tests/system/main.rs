//! The system tier: the real `freshet` binary run as its operators run it. `serve` starts
//! and stops one process (SIGTERM with open event streams, slow clients, what `--demo`
//! refuses); `failover` runs two API and two worker processes on one PostgreSQL database
//! while clients drive full cycles, kills the active worker, and checks every read model,
//! email and event afterwards. `fleet` starts the processes, `driver` plays the people over
//! HTTP, `log` reads the database side, `checks` the final checks
//! (the SMTP server is the test kit's `smtp::SmtpSink`).
#![allow(clippy::unwrap_used)]

mod checks;
mod driver;
mod failover;
mod fleet;
mod log;
mod serve;
