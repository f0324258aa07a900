#![doc = include_str!("../README.md")]

mod due;
mod scheduler;

pub use due::ReadModelDue;
pub use scheduler::{DuePortfolios, DueSourceError, Scheduler, TickReport};
