#![doc = include_str!("../README.md")]

mod authenticator;
mod cache;
pub mod digest;
mod directory;
mod error;
mod revocations;
pub mod tokens;
pub mod users;
mod validation;

pub use authenticator::{Authenticated, Authenticator};
pub use directory::UserDirectory;
pub use error::AccountError;
pub use tokens::{IssuedToken, REVOCATIONS_CHANNEL, TokenInfo};
pub use users::{Deactivation, User};
