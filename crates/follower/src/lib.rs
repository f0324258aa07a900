#![doc = include_str!("../README.md")]

pub mod checkpoint;
mod decode;
mod error;
mod processor;
mod runner;

pub use checkpoint::{Checkpoint, Failure, Lag};
pub use decode::{DecodedEvent, UndecodableEvent, decode, decode_all};
pub use error::{FollowError, ProcessorError, Timeout};
pub use processor::Processor;
pub use runner::{Positions, Runner, RunnerConfig, Step};
