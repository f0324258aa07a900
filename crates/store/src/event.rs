//! The values that go into and come out of the event store.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The name of one event stream, e.g. `portfolio-0190c6f2-...`. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

/// A stream id was empty (or only whitespace).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stream id must not be empty")]
pub struct InvalidStreamId;

impl StreamId {
    /// Parses a stream id; it must contain something other than whitespace.
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidStreamId> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(InvalidStreamId);
        }
        Ok(Self(id))
    }

    /// The stream id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for StreamId {
    type Error = InvalidStreamId;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl From<StreamId> for String {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

/// An event to append, already serialized by the caller (the domain owns the schema).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// A UUID v7 chosen by the caller, unique across the whole log.
    pub event_id: Uuid,
    /// The stable wire name, e.g. `RefreshRequested`; not the Rust identifier.
    pub event_type: String,
    /// The version of the payload's schema for this event type.
    pub schema_version: i32,
    pub payload: serde_json::Value,
    /// When and by which command this event was recorded, if not the append's [`Metadata`]:
    /// an append of several dated commands (an import's history) keeps each one's own.
    pub own: Option<EventOrigin>,
}

/// One event's own instant and cause inside an append of several commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventOrigin {
    pub recorded_at: DateTime<Utc>,
    pub causation_id: Uuid,
}

impl NewEvent {
    /// A new event with a fresh UUID v7, recorded with its append's metadata.
    pub fn new(
        event_type: impl Into<String>,
        schema_version: i32,
        payload: serde_json::Value,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            payload,
            own: None,
        }
    }

    /// The same event, recorded at its own instant as caused by its own command.
    #[must_use]
    pub fn with_origin(mut self, origin: EventOrigin) -> Self {
        self.own = Some(origin);
        self
    }

    /// The instant this event is recorded at in an append with `meta`.
    pub fn recorded_at(&self, meta: &Metadata) -> DateTime<Utc> {
        self.own.map_or(meta.recorded_at, |own| own.recorded_at)
    }

    /// The command this event is recorded as caused by in an append with `meta`.
    pub fn causation_id(&self, meta: &Metadata) -> Uuid {
        self.own.map_or(meta.causation_id, |own| own.causation_id)
    }
}

/// Who and what caused an append; applied to every event of that append that has no
/// [`EventOrigin`] of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub actor: Option<String>,
    pub causation_id: Uuid,
    pub correlation_id: Uuid,
    /// Supplied by the caller (the clock lives outside the store).
    pub recorded_at: DateTime<Utc>,
}

/// Where an event sits in the global log. Ordered by `(commit, position)`.
///
/// `position` is a global sequence allocated at insert time; `commit` identifies the
/// writing transaction (the PostgreSQL transaction id; equal to `position` on SQLite).
/// Readers must treat the pair as opaque and only compare or store it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct LogPosition {
    pub commit: i64,
    pub position: i64,
}

impl LogPosition {
    /// Before the first event: `read_all(LogPosition::START, ..)` reads from the beginning.
    pub const START: Self = Self {
        commit: 0,
        position: 0,
    };
}

impl fmt::Display for LogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.commit, self.position)
    }
}

/// An event as stored, with everything the store knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    pub stream_id: StreamId,
    /// 1-based version within the stream.
    pub version: i64,
    pub position: LogPosition,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
    pub actor: Option<String>,
    pub causation_id: Uuid,
    pub correlation_id: Uuid,
}

/// What the stream's version must be for an append to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// The stream must have no events yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(i64),
    /// No check (appends still never interleave within a stream).
    Any,
}

impl ExpectedVersion {
    /// Whether a stream currently at `actual` satisfies this expectation.
    pub fn matches(self, actual: i64) -> bool {
        match self {
            Self::NoStream => actual == 0,
            Self::Exact(expected) => actual == expected,
            Self::Any => true,
        }
    }

    /// The version the stream must be at, `None` for any: how the backends' SQL takes it.
    pub fn required(self) -> Option<i64> {
        match self {
            Self::NoStream => Some(0),
            Self::Exact(version) => Some(version),
            Self::Any => None,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(version) => write!(f, "version {version}"),
            Self::Any => f.write_str("any version"),
        }
    }
}

/// A client-chosen key that makes a command safe to retry, plus a fingerprint of the
/// request, so that reusing the key for a different request is detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_fingerprint: String,
    /// A stored use of the key recorded before this instant has expired: the key is taken
    /// as new (and its old outcome forgotten). `None`: the key never expires.
    #[serde(default)]
    pub valid_since: Option<DateTime<Utc>>,
}

impl IdempotencyKey {
    /// A key that never expires; see [`IdempotencyKey::valid_since`].
    pub fn new(key: impl Into<String>, request_fingerprint: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            request_fingerprint: request_fingerprint.into(),
            valid_since: None,
        }
    }

    /// Only a use of the key recorded at or after `since` counts.
    pub fn with_valid_since(mut self, since: DateTime<Utc>) -> Self {
        self.valid_since = Some(since);
        self
    }
}

/// What one append wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResult {
    pub stream_id: StreamId,
    /// The version of the first event written; `last_version + 1` if none were.
    pub first_version: i64,
    /// The stream's version after the append.
    pub last_version: i64,
    /// One per event, in order.
    pub positions: Vec<LogPosition>,
    /// One per event, in order.
    pub event_ids: Vec<Uuid>,
}

impl AppendResult {
    /// The log position of the last event written, if any were.
    pub fn last_position(&self) -> Option<LogPosition> {
        self.positions.last().copied()
    }
}

/// The result of an append: newly written, or replayed from an earlier identical request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppendOutcome {
    Appended(AppendResult),
    /// The idempotency key was already used by the same request; nothing was written.
    Replayed(AppendResult),
}

impl AppendOutcome {
    pub fn result(&self) -> &AppendResult {
        match self {
            Self::Appended(result) | Self::Replayed(result) => result,
        }
    }

    pub fn into_result(self) -> AppendResult {
        match self {
            Self::Appended(result) | Self::Replayed(result) => result,
        }
    }

    pub fn is_replayed(&self) -> bool {
        matches!(self, Self::Replayed(_))
    }
}

/// A stored idempotency key with the outcome of the append that first used it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub request_fingerprint: String,
    pub result: AppendResult,
}

impl IdempotencyRecord {
    /// `Replayed` if `request` is the same request, `IdempotencyKeyReused` otherwise.
    pub fn replay_for(self, request: &IdempotencyKey) -> Result<AppendOutcome, crate::StoreError> {
        if self.request_fingerprint == request.request_fingerprint {
            Ok(AppendOutcome::Replayed(self.result))
        } else {
            Err(crate::StoreError::IdempotencyKeyReused { key: self.key })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_stream_id_is_rejected() {
        assert_eq!(StreamId::new(""), Err(InvalidStreamId));
        assert_eq!(StreamId::new("  "), Err(InvalidStreamId));
        assert!(serde_json::from_str::<StreamId>("\"\"").is_err());
    }

    #[test]
    fn log_positions_order_by_commit_then_position() {
        let early_commit_late_position = LogPosition {
            commit: 5,
            position: 90,
        };
        let late_commit_early_position = LogPosition {
            commit: 6,
            position: 10,
        };
        assert!(early_commit_late_position < late_commit_early_position);
        assert!(LogPosition::START < early_commit_late_position);
    }

    #[test]
    fn expected_versions_match_as_documented() {
        assert!(ExpectedVersion::NoStream.matches(0));
        assert!(!ExpectedVersion::NoStream.matches(1));
        assert!(ExpectedVersion::Exact(3).matches(3));
        assert!(!ExpectedVersion::Exact(3).matches(4));
        assert!(ExpectedVersion::Any.matches(7));
    }
}
