#![doc = include_str!("../README.md")]

mod due;
mod scheduler;

pub use due::ReadModelDue;
pub use scheduler::{
    DEFAULT_TICK_CONCURRENCY, DuePortfolios, DueSourceError, Scheduler, TickReport,
};
