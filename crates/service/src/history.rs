//! Stored events back into domain events, and a portfolio's state from its stream.

use freshet_domain::{Event, Portfolio, PortfolioId};
use freshet_store::{EventStore, RecordedEvent, StreamId};

use crate::error::ServiceError;

/// A stored event with its domain meaning.
#[derive(Clone, Debug)]
pub struct DecodedEvent {
    pub record: RecordedEvent,
    pub event: Event,
}

pub fn decode(record: &RecordedEvent) -> Result<Event, ServiceError> {
    Event::decode(&record.event_type, record.schema_version, &record.payload).map_err(|source| {
        ServiceError::Decode {
            event_id: record.event_id,
            source,
        }
    })
}

pub(crate) fn stream_of(portfolio: PortfolioId) -> StreamId {
    // A formatted UUID is never empty.
    StreamId::new(portfolio.stream_name())
        .unwrap_or_else(|_| unreachable!("stream names are never empty"))
}

pub(crate) fn fold(
    stream: &StreamId,
    records: &[RecordedEvent],
) -> Result<Option<Portfolio>, ServiceError> {
    let events = records.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    Portfolio::from_history(&events).map_err(|source| ServiceError::History {
        stream: stream.to_string(),
        source,
    })
}

/// The portfolio as its stored events leave it; `None` if it does not exist.
pub async fn load_portfolio(
    store: &dyn EventStore,
    portfolio: PortfolioId,
) -> Result<Option<Portfolio>, ServiceError> {
    let stream = stream_of(portfolio);
    let records = store.read_stream(&stream, 1).await?;
    fold(&stream, &records)
}
