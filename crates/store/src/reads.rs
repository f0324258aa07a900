//! The reads of the event log that are the same SQL on both backends: a stream (or a page
//! of it) and its version, decoded through one row type. The order of the global log, and so
//! `read_all` and `head`, genuinely differs by backend and stays with each store.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::codec::DbUuid;
use crate::database::{Backend, Database};
use crate::error::StoreError;
use crate::event::{LogPosition, RecordedEvent, StreamId};

/// One stored event as both backends return it. `log_commit` is the writing transaction's
/// id on PostgreSQL and the position itself on SQLite (see [`columns`]).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    event_id: DbUuid,
    stream_id: String,
    version: i64,
    log_commit: i64,
    position: i64,
    event_type: String,
    schema_version: i32,
    payload: Json<serde_json::Value>,
    recorded_at: DateTime<Utc>,
    actor: Option<String>,
    causation_id: DbUuid,
    correlation_id: DbUuid,
}

impl EventRow {
    pub(crate) fn recorded(self) -> Result<RecordedEvent, StoreError> {
        let stream_id =
            StreamId::new(self.stream_id).map_err(|source| StoreError::InvalidStoredStreamId {
                position: self.position,
                source,
            })?;
        Ok(RecordedEvent {
            event_id: self.event_id.0,
            stream_id,
            version: self.version,
            position: LogPosition {
                commit: self.log_commit,
                position: self.position,
            },
            event_type: self.event_type,
            schema_version: self.schema_version,
            payload: self.payload.0,
            recorded_at: self.recorded_at,
            actor: self.actor,
            causation_id: self.causation_id.0,
            correlation_id: self.correlation_id.0,
        })
    }
}

/// The select list of an [`EventRow`] on `backend`.
pub(crate) const fn columns(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "event_id, stream_id, version, commit_xid AS log_commit, position, event_type, \
             schema_version, payload, recorded_at, actor, causation_id, correlation_id"
        }
        Backend::Sqlite => {
            "event_id, stream_id, version, position AS log_commit, position, event_type, \
             schema_version, payload, recorded_at, actor, causation_id, correlation_id"
        }
    }
}

/// The events of `stream` from `from_version` on, in version order, at most `limit`.
pub(crate) async fn stream(
    db: &Database,
    stream: &StreamId,
    from_version: i64,
    limit: Option<u32>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let sql = format!(
        "SELECT {} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3",
        columns(db.backend())
    );
    let limit = limit.map_or(i64::MAX, i64::from);
    let rows: Vec<EventRow> = crate::on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(stream.as_str())
            .bind(from_version)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
    rows.into_iter().map(EventRow::recorded).collect()
}

/// The version of `stream`'s last event (0 for a stream without events).
pub(crate) async fn stream_version(db: &Database, stream: &StreamId) -> Result<i64, StoreError> {
    let version = crate::on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = $1")
            .bind(stream.as_str())
            .fetch_one(pool)
            .await?
    });
    Ok(version)
}
