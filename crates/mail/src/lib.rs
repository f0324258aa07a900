#![doc = include_str!("../README.md")]

mod config;
mod directory;
mod error;
pub mod links;
pub mod outbox;
mod processor;
mod public_url;
mod render;
mod transport;
mod worker;

pub use config::{
    DEFAULT_MAIL_DIR, Delivery, MailConfig, RetryPolicy, Security, SmtpConfig, SmtpCredentials,
};
pub use directory::{Directory, InMemoryDirectory};
pub use error::{DeliveryError, MailError};
pub use lettre::message::Mailbox;
pub use outbox::{
    AccountMessageKind, ClaimedMessage, ListFilter, MessageStatus, NewAccountMessage, NewMessage,
    Outbox, OutboxEntry, insert_account_message, insert_messages,
};
pub use processor::EmailProcessor;
pub use public_url::PublicUrl;
pub use render::{DigestTask, Rendered, Renderer};
pub use transport::{
    FolderTransport, SmtpTransport, Transport, build_message, from_config, message_id,
};
pub use worker::{DeliveryReport, DeliveryWorker, WorkerOptions};
