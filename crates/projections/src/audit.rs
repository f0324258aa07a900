//! B2 audit history, served straight from the portfolio's stream: who, when and why for
//! every change, and any portfolio as it stood at a past instant.

use chrono::{DateTime, Utc};
use freshet_domain::{Portfolio, PortfolioId};
use freshet_follower::decode;
use freshet_store::{EventStore, LogPosition, StreamId};
use serde::Serialize;
use uuid::Uuid;

use crate::error::ProjectionError;

/// One change of a portfolio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub version: i64,
    pub position: LogPosition,
    pub event_type: String,
    pub payload: serde_json::Value,
    /// `user:<id>`, `admin:<id>` or `system`.
    pub actor: Option<String>,
    pub recorded_at: DateTime<Utc>,
    /// The command (or trigger) that caused it.
    pub causation_id: Uuid,
    /// The request it belongs to.
    pub correlation_id: Uuid,
}

fn stream(portfolio: PortfolioId) -> StreamId {
    StreamId::new(portfolio.stream_name())
        .unwrap_or_else(|_| unreachable!("stream names are never empty"))
}

/// Every event of `portfolio`, in order, with actor, time and cause.
pub async fn history(
    store: &dyn EventStore,
    portfolio: PortfolioId,
    after_version: i64,
    limit: u32,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    let from = after_version.saturating_add(1).max(1);
    let records = store
        .read_stream_page(&stream(portfolio), from, limit)
        .await?;
    Ok(records
        .into_iter()
        .map(|r| AuditEntry {
            version: r.version,
            position: r.position,
            event_type: r.event_type,
            payload: r.payload,
            actor: r.actor,
            recorded_at: r.recorded_at,
            causation_id: r.causation_id,
            correlation_id: r.correlation_id,
        })
        .collect())
}

/// `portfolio` as it stood at `instant`: its events recorded at or before it, folded.
/// `None` if it did not exist yet.
pub async fn portfolio_as_of(
    store: &dyn EventStore,
    portfolio: PortfolioId,
    instant: DateTime<Utc>,
) -> Result<Option<Portfolio>, ProjectionError> {
    let id = stream(portfolio);
    let records = store.read_stream(&id, 1).await?;
    let events = records
        .iter()
        .take_while(|r| r.recorded_at <= instant)
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    Portfolio::from_history(&events).map_err(|source| ProjectionError::History {
        stream: id.to_string(),
        source,
    })
}

/// One event of a portfolio's history, decoded, with when it was recorded and by whom.
#[derive(Debug, Clone)]
pub struct DecodedChange {
    pub recorded_at: DateTime<Utc>,
    /// `user:<id>`, `admin:<id>` or `system`.
    pub actor: Option<String>,
    pub event: freshet_domain::Event,
}

/// Every event of `portfolio`, decoded, oldest first: for pages that show what the state
/// does not keep (the text of every Note, each revision request).
pub async fn decoded_history(
    store: &dyn EventStore,
    portfolio: PortfolioId,
) -> Result<Vec<DecodedChange>, ProjectionError> {
    let records = store.read_stream(&stream(portfolio), 1).await?;
    records
        .iter()
        .map(|record| {
            Ok(DecodedChange {
                recorded_at: record.recorded_at,
                actor: record.actor.clone(),
                event: decode(record)?,
            })
        })
        .collect()
}
