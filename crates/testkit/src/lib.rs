#![doc = include_str!("../README.md")]
#![allow(clippy::unwrap_used)]

mod events;
mod http;
pub mod proxy;
pub mod smtp;

pub use events::InboxEvents;
pub use freshet_agency as agency;
pub use freshet_agency::team::*;
pub use http::*;
