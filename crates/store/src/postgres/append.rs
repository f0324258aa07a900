//! How appends reach PostgreSQL: one append through `append_events` (migrations `0040`,
//! `0061`), a batch, or an append whose events have their own instants, through
//! `append_batch` (`0100`, `0102`); each one statement, one round trip.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::{Semaphore, broadcast};

use super::publisher::Publisher;
use crate::batch::{Append, AppendAnswer, BatchFailure, BatchWriter};
use crate::error::StoreError;
use crate::event::{AppendOutcome, AppendResult, ExpectedVersion, IdempotencyRecord, LogPosition};

#[derive(Debug)]
pub(super) struct PgWriter {
    pub(super) pool: PgPool,
    /// The same pool, for the reads both backends share.
    pub(super) db: crate::database::Database,
    pub(super) notifier: broadcast::Sender<LogPosition>,
    pub(super) publisher: Arc<Publisher>,
    /// Connections small batches may take at once for their parallel single appends: beyond
    /// it they go through `append_batch` (one connection), so a burst of appends never takes
    /// the pool from the reads, the runners and the mail.
    pub(super) singles: Semaphore,
}

#[async_trait]
impl BatchWriter for PgWriter {
    async fn write_one(&self, append: &Append) -> AppendAnswer {
        if has_own_origins(append) {
            return match self.write_batch(std::slice::from_ref(append)).await {
                Ok(mut answers) => answers.pop().unwrap_or_else(|| {
                    Err(StoreError::BatchFailed(
                        "append_batch answered nothing".into(),
                    ))
                }),
                Err(BatchFailure::NoConnection) => {
                    Err(StoreError::Database(sqlx::Error::PoolTimedOut))
                }
                Err(BatchFailure::RolledBack(error) | BatchFailure::Unknown(error)) => {
                    Err(self.conflict_or(error, append).await)
                }
            };
        }
        let events = &append.events;
        let key = append.idempotency.as_ref();
        let row = sqlx::query(
            "SELECT outcome, current_version, stored_fingerprint, result \
             FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(append.stream.as_str())
        .bind(expected_version(append.expected))
        .bind(events.iter().map(|e| e.event_id).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| e.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| e.schema_version).collect::<Vec<_>>())
        .bind(events.iter().map(|e| &e.payload).collect::<Vec<_>>())
        .bind(append.meta.recorded_at)
        .bind(append.meta.actor.as_deref())
        .bind(append.meta.causation_id)
        .bind(append.meta.correlation_id)
        .bind(key.map(|key| key.key.as_str()))
        .bind(key.map(|key| key.request_fingerprint.as_str()))
        .bind(key.and_then(|key| key.valid_since))
        .fetch_optional(&self.pool)
        .await;
        match row {
            Ok(Some(row)) => answer(&row, append),
            // Only possible if a used key was deleted between the claim and the look-up.
            Ok(None) => Err(StoreError::Database(sqlx::Error::RowNotFound)),
            Err(error) => Err(self.conflict_or(error.into(), append).await),
        }
    }

    async fn write_batch(&self, appends: &[Append]) -> Result<Vec<AppendAnswer>, BatchFailure> {
        if appends.len() < SMALLEST_BATCH
            && appends.iter().all(|a| !has_own_origins(a))
            && let Ok(_permits) = self
                .singles
                .try_acquire_many(u32::try_from(appends.len()).unwrap_or(u32::MAX))
        {
            // Each in its own transaction, at once: PostgreSQL commits them together anyway.
            return Ok(join_all(appends.iter().map(|append| self.write_one(append))).await);
        }
        let keys = || appends.iter().map(|a| a.idempotency.as_ref());
        let events = || {
            appends
                .iter()
                .zip(1_i32..)
                .flat_map(|(append, index)| append.events.iter().map(move |e| (index, e)))
        };
        let rows = sqlx::query(
            "SELECT append_index, outcome, current_version, stored_fingerprint, result \
             FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                               $15, $16)",
        )
        .bind(
            appends
                .iter()
                .map(|a| a.stream.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            appends
                .iter()
                .map(|a| expected_version(a.expected))
                .collect::<Vec<_>>(),
        )
        .bind(
            appends
                .iter()
                .map(|a| a.meta.recorded_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            appends
                .iter()
                .map(|a| a.meta.actor.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            appends
                .iter()
                .map(|a| a.meta.causation_id)
                .collect::<Vec<_>>(),
        )
        .bind(
            appends
                .iter()
                .map(|a| a.meta.correlation_id)
                .collect::<Vec<_>>(),
        )
        .bind(
            keys()
                .map(|k| k.map(|k| k.key.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(
            keys()
                .map(|k| k.map(|k| k.request_fingerprint.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(
            keys()
                .map(|k| k.and_then(|k| k.valid_since))
                .collect::<Vec<_>>(),
        )
        .bind(events().map(|(index, _)| index).collect::<Vec<_>>())
        .bind(events().map(|(_, e)| e.event_id).collect::<Vec<_>>())
        .bind(
            events()
                .map(|(_, e)| e.event_type.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(events().map(|(_, e)| e.schema_version).collect::<Vec<_>>())
        .bind(events().map(|(_, e)| &e.payload).collect::<Vec<_>>())
        .bind(
            events()
                .map(|(_, e)| e.own.map(|own| own.recorded_at))
                .collect::<Vec<_>>(),
        )
        .bind(
            events()
                .map(|(_, e)| e.own.map(|own| own.causation_id))
                .collect::<Vec<_>>(),
        )
        .fetch_all(&self.pool)
        .await?;
        if rows.len() != appends.len() {
            // Committed, but not answered as asked: each caller reads its stream to know.
            return Err(BatchFailure::Unknown(StoreError::Database(
                sqlx::Error::Protocol(format!(
                    "append_batch answered {} rows for {} appends",
                    rows.len(),
                    appends.len()
                )),
            )));
        }
        Ok(rows
            .iter()
            .zip(appends)
            .map(|(row, append)| answer(row, append))
            .collect())
    }

    fn committed(&self, last: LogPosition) {
        let _ = self.notifier.send(last);
        self.publisher.publish(last);
    }
}

impl PgWriter {
    /// A unique violation on `(stream_id, version)` means another writer won the race.
    async fn conflict_or(&self, error: StoreError, append: &Append) -> StoreError {
        let StoreError::Database(sqlx::Error::Database(db)) = &error else {
            return error;
        };
        if db.constraint() != Some("events_stream_version_key") {
            return error;
        }
        match crate::reads::stream_version(&self.db, &append.stream).await {
            Ok(actual) => StoreError::Conflict {
                stream: append.stream.clone(),
                expected: append.expected,
                actual,
            },
            Err(_) => error,
        }
    }
}

/// Fewer appends than this are cheaper as parallel `append_events` calls than as one
/// `append_batch`: its set-based statements cost more to start than a few appends save.
/// Measured on one day (BENCHMARKS.md): 8 closed-loop clients, whose batches hold 2 or 3,
/// went from 2,792–3,049 to 3,552 commands/s, and the live lag at 1,000 commands/s from a
/// p99 of 53–87 ms to 8 ms. A tick's or an import's batches are far larger.
const SMALLEST_BATCH: usize = 8;

/// Connections all small batches together may use at once (the pool holds 16).
pub(super) const SINGLES_IN_FLIGHT: usize = 8;

/// Only `append_batch` records an event at its own instant (0102).
fn has_own_origins(append: &Append) -> bool {
    append.events.iter().any(|event| event.own.is_some())
}

fn expected_version(expected: ExpectedVersion) -> Option<i64> {
    match expected {
        ExpectedVersion::NoStream => Some(0),
        ExpectedVersion::Exact(version) => Some(version),
        ExpectedVersion::Any => None,
    }
}

/// Reads one append's row (`outcome`, `current_version`, `stored_fingerprint`, `result`).
fn answer(row: &PgRow, append: &Append) -> AppendAnswer {
    let key = append.idempotency.as_ref();
    let stored = || -> Result<AppendResult, StoreError> {
        let result: serde_json::Value = row.try_get("result")?;
        serde_json::from_value(result).map_err(|source| StoreError::InvalidStoredOutcome {
            key: key.map_or_else(String::new, |key| key.key.clone()),
            source,
        })
    };
    let outcome: String = row.try_get("outcome")?;
    match outcome.as_str() {
        "conflict" => Err(StoreError::Conflict {
            stream: append.stream.clone(),
            expected: append.expected,
            actual: row.try_get("current_version")?,
        }),
        "replayed" => {
            let Some(key) = key else {
                return Err(StoreError::Database(sqlx::Error::RowNotFound));
            };
            IdempotencyRecord {
                key: key.key.clone(),
                request_fingerprint: row.try_get("stored_fingerprint")?,
                result: stored()?,
            }
            .replay_for(key)
        }
        "appended" => Ok(AppendOutcome::Appended(stored()?)),
        other => Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "append answered {other:?}"
        )))),
    }
}
