//! Stored events back into domain events: what every follower of the log reads.

use freshet_domain::{DecodeError, Event};
use freshet_store::RecordedEvent;
use uuid::Uuid;

/// A stored event with its domain meaning.
#[derive(Clone, Debug)]
pub struct DecodedEvent {
    pub record: RecordedEvent,
    pub event: Event,
}

/// A stored event this Freshet cannot read (an unknown type or schema version, a payload
/// that does not fit its schema).
#[derive(Debug, thiserror::Error)]
#[error("stored event {event_id} cannot be read: {source}")]
pub struct UndecodableEvent {
    pub event_id: Uuid,
    #[source]
    pub source: DecodeError,
}

/// The domain event `record` stores.
pub fn decode(record: &RecordedEvent) -> Result<Event, UndecodableEvent> {
    Event::decode(&record.event_type, record.schema_version, &record.payload).map_err(|source| {
        UndecodableEvent {
            event_id: record.event_id,
            source,
        }
    })
}

/// Decodes a page; an event this Freshet cannot read stops the follower rather than being
/// skipped.
pub fn decode_all(records: Vec<RecordedEvent>) -> Result<Vec<DecodedEvent>, UndecodableEvent> {
    records
        .into_iter()
        .map(|record| {
            let event = decode(&record)?;
            Ok(DecodedEvent { record, event })
        })
        .collect()
}
