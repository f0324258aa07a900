#![doc = include_str!("../README.md")]

pub mod agents;
pub mod team;

pub use agents::{Agents, Habits, Office, Plan};
pub use team::*;
