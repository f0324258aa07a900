#![doc = include_str!("../README.md")]

mod authenticator;
mod cache;
pub mod credentials;
pub mod digest;
mod directory;
mod error;
pub mod feeds;
pub mod invitations;
pub mod links;
pub mod passwords;
mod revocations;
pub mod sessions;
pub mod tokens;
pub mod users;
mod validation;

pub use authenticator::{Authenticated, Authenticator};
pub use directory::UserDirectory;
pub use error::AccountError;
pub use links::{LinkPurpose, NewLink};
pub use passwords::Password;
pub use sessions::{NewSession, SessionPolicy, SignedIn};
pub use tokens::{IssuedToken, REVOCATIONS_CHANNEL, TokenInfo};
pub use users::{Deactivation, User};
