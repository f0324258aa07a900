#![doc = include_str!("../README.md")]

mod cache;
mod clock;
mod error;
mod expiry;
mod history;
mod service;
mod turns;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ServiceError;
pub use history::load_portfolio;
pub use service::{
    CommandOutcome, CommandRequest, CommandService, DEFAULT_IDEMPOTENCY_TTL, DatedCommands,
    ProcessConfig, actor_label,
};
