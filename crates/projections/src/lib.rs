#![doc = include_str!("../README.md")]

pub mod checkpoint;
mod error;
mod processor;
mod runner;
mod tx;

pub use checkpoint::{Checkpoint, Lag};
pub use error::{ProcessorError, ProjectionError, Timeout};
pub use processor::Processor;
pub use runner::{Positions, Runner, RunnerConfig};
pub use tx::Tx;
