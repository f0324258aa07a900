//! A portfolio's state from its stream (decoding is `freshet-follower`'s).

use freshet_domain::{Portfolio, PortfolioId};
use freshet_follower::decode;
use freshet_store::{EventStore, RecordedEvent, StreamId};

use crate::error::ServiceError;

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
