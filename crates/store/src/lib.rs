#![doc = include_str!("../README.md")]

mod batch;
pub mod codec;
mod database;
mod error;
mod event;
mod event_store;
mod postgres;
mod reads;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;

pub use batch::Append;
pub use database::{Backend, Database};
pub use error::StoreError;
pub use event::{
    AppendOutcome, AppendResult, EventOrigin, ExpectedVersion, IdempotencyKey, IdempotencyRecord,
    InvalidStreamId, LogPosition, Metadata, NewEvent, RecordedEvent, StreamId,
};
pub use event_store::EventStore;
pub use postgres::{NOTIFY_CHANNEL, PostgresStore};
pub use sqlite::SqliteStore;
pub use tx::{Tx, writer_turn};
