#![doc = include_str!("../README.md")]

mod digest;
mod due;
mod scheduler;

pub use digest::{DEFAULT_DIGEST_TIME, DailyDigest, DigestError, DigestReport, digest_id};
pub use due::ReadModelDue;
pub use scheduler::{
    DEFAULT_TICK_CONCURRENCY, DuePortfolios, DueSourceError, Scheduler, TickReport,
};
