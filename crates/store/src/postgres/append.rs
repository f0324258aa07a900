//! How appends reach PostgreSQL, each in one statement and one round trip when nothing
//! fails: one append
//! through `append_events` (migrations `0040`, `0061`); a batch, in one plain statement
//! (`append_batch.sql`); an append whose events have their own instants, and a batch the
//! plain statement could not write (a writer of another process in its way), through the
//! `append_batch` function (`0100`, `0102`), which locks before it reads.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use tokio::sync::{Semaphore, broadcast};
use uuid::Uuid;

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
    /// it they go as one batch statement (one connection), so a burst of appends never takes
    /// the pool from the reads, the runners and the mail.
    pub(super) singles: Semaphore,
}

#[async_trait]
impl BatchWriter for PgWriter {
    async fn write_one(&self, append: &Append) -> AppendAnswer {
        let mut attempt = 1;
        loop {
            let written = if has_own_origins(append) {
                self.function_rows(&self.pool, std::slice::from_ref(append))
                    .await
                    .map(|rows| match rows.first() {
                        Some(row) => answer(row, append),
                        None => Err(StoreError::BatchFailed(
                            "append_batch answered nothing".into(),
                        )),
                    })
            } else {
                self.append_events_row(append).await.map(|row| match row {
                    Some(row) => answer(&row, append),
                    // Only possible if a used key was deleted between the claim and the
                    // look-up.
                    None => Err(StoreError::Database(sqlx::Error::RowNotFound)),
                })
            };
            match written {
                Ok(answer) => return answer,
                Err(error) if attempt < ATTEMPTS && worth_again(&error, append) => attempt += 1,
                Err(error) => return Err(self.conflict_or(error.into(), append).await),
            }
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
        // The connection first: one the server refuses (a FATAL error at log-in, such as a
        // role that may no longer log in) was sent nothing, so the outcome is known.
        let mut conn = match self.pool.acquire().await {
            Ok(conn) => conn,
            Err(error) => {
                tracing::warn!(%error, "no connection for a batch; nothing of it was sent");
                return Err(BatchFailure::NoConnection);
            }
        };
        let rows = match Columns::of(appends)
            .bind(sqlx::query(APPEND_BATCH), Ordinals::Sent)
            .fetch_all(&mut *conn)
            .await
        {
            Ok(rows) => rows,
            // A writer of another process took one of its streams' versions or keys, or
            // deadlocked with it: the function claims keys and locks streams before it reads
            // them, so it waits for such a writer if that one is a single append or a
            // function. (Against another batch statement it may fail too, and then the
            // appends go one at a time.) Any other error would only fail again there.
            Err(sqlx::Error::Database(error))
                if matches!(
                    error.code().as_deref(),
                    Some(UNIQUE_VIOLATION | DEADLOCK_DETECTED)
                ) =>
            {
                tracing::debug!(%error, "batch statement failed; writing it through append_batch");
                // On the same connection: nothing of the batch was written yet, and a new
                // one the server refused would leave its outcome unknown.
                let rows = self.function_rows(&mut *conn, appends).await?;
                check_answered(&rows, appends)?;
                return Ok(rows
                    .iter()
                    .zip(appends)
                    .map(|(row, append)| answer(row, append))
                    .collect());
            }
            Err(error) => return Err(error.into()),
        };
        // Given back before the expired keys below take connections of their own.
        drop(conn);
        check_answered(&rows, appends)?;
        let mut answers = Vec::with_capacity(appends.len());
        for (row, append) in rows.iter().zip(appends) {
            let outcome: Result<String, _> = row.try_get("outcome");
            answers.push(if outcome.is_ok_and(|outcome| outcome == "expired") {
                // Its key's earlier use has expired: the function overwrites it.
                self.write_one(append).await
            } else {
                answer(row, append)
            });
        }
        Ok(answers)
    }

    fn committed(&self, last: LogPosition) {
        let _ = self.notifier.send(last);
        self.publisher.publish(last);
    }
}

impl PgWriter {
    /// One append through `append_events` (`0061`): its key claimed, its stream locked,
    /// its version checked, its events inserted and its outcome kept.
    async fn append_events_row(&self, append: &Append) -> Result<Option<PgRow>, sqlx::Error> {
        let events = &append.events;
        let key = append.idempotency.as_ref();
        sqlx::query(
            "SELECT outcome, current_version, stored_fingerprint, result \
             FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(append.stream.as_str())
        .bind(append.expected.required())
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
        .await
    }

    /// `appends` through the `append_batch` function (`0102`), which locks their keys and
    /// streams before it checks them, so that a writer in flight elsewhere is waited for
    /// rather than failing them: an append whose events have their own instants, and a
    /// batch the plain statement could not write.
    async fn function_rows(
        &self,
        conn: impl sqlx::PgExecutor<'_>,
        appends: &[Append],
    ) -> Result<Vec<PgRow>, sqlx::Error> {
        Columns::of(appends)
            .bind(
                sqlx::query(
                    "SELECT append_index, outcome, current_version, stored_fingerprint, result \
                     FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                                       $14, $15, $16)",
                ),
                Ordinals::Counted,
            )
            .fetch_all(conn)
            .await
    }

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

/// Fewer appends than this go as parallel `append_events` calls rather than as one batch.
/// Measured (BENCHMARKS.md): through the `append_batch` function, 8 closed-loop clients,
/// whose batches hold 2 or 3, went from 2,792–3,049 to 3,552 commands/s this way, and the
/// live lag at 1,000 commands/s from a p99 of 53–87 ms to 8 ms. The plain batch statement
/// costs PostgreSQL far less per append, yet writing every batch of 2 or more through it
/// was no faster at 8 clients (2,680–2,962 against 3,026–3,315 commands/s, same hour), so
/// the rule stays. A tick's or an import's batches are far larger.
const SMALLEST_BATCH: usize = 8;

/// Connections all small batches together may use at once (the pool holds 16).
pub(super) const SINGLES_IN_FLIGHT: usize = 8;

const DEADLOCK_DETECTED: &str = "40P01";
const UNIQUE_VIOLATION: &str = "23505";

/// Attempts at one append that PostgreSQL failed for a reason another attempt cures (an
/// append at any version that loses all of them answers a conflict).
const ATTEMPTS: u32 = 3;

/// Whether `error` is cured by writing `append` again: it was chosen as a deadlock's victim
/// (a batch statement elsewhere takes its rows in another order than a single append), or,
/// appending at any version, a batch statement elsewhere, which locks no stream, took the
/// version it read.
fn worth_again(error: &sqlx::Error, append: &Append) -> bool {
    let sqlx::Error::Database(database) = error else {
        return false;
    };
    database.code().as_deref() == Some(DEADLOCK_DETECTED)
        || (append.expected == ExpectedVersion::Any
            && database.constraint() == Some("events_stream_version_key"))
}

/// The batch statement: see the file for how it judges each append.
const APPEND_BATCH: &str = include_str!("append_batch.sql");

/// A batch's appends as the columns both batch statements take, one array per column.
struct Columns<'a> {
    streams: Vec<&'a str>,
    expected: Vec<Option<i64>>,
    recorded_at: Vec<DateTime<Utc>>,
    actors: Vec<Option<&'a str>>,
    causation_ids: Vec<Uuid>,
    correlation_ids: Vec<Uuid>,
    keys: Vec<Option<&'a str>>,
    fingerprints: Vec<Option<&'a str>>,
    keys_valid_since: Vec<Option<DateTime<Utc>>>,
    /// Per event: its append's index (from 1) and its ordinal in that append (from 1).
    event_appends: Vec<i64>,
    event_ordinals: Vec<i64>,
    event_ids: Vec<Uuid>,
    event_types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    payloads: Vec<&'a serde_json::Value>,
    event_recorded_at: Vec<Option<DateTime<Utc>>>,
    event_causation_ids: Vec<Option<Uuid>>,
}

/// Whether a statement takes each event's ordinal in its append (the plain statement) or
/// counts them itself (the `append_batch` function, whose append indexes are `integer`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ordinals {
    Sent,
    Counted,
}

impl<'a> Columns<'a> {
    fn of(appends: &'a [Append]) -> Self {
        let keys = || appends.iter().map(|a| a.idempotency.as_ref());
        let events = || {
            appends.iter().zip(1_i64..).flat_map(|(append, index)| {
                append
                    .events
                    .iter()
                    .zip(1_i64..)
                    .map(move |(e, ordinal)| (index, ordinal, e))
            })
        };
        Self {
            streams: appends.iter().map(|a| a.stream.as_str()).collect(),
            expected: appends.iter().map(|a| a.expected.required()).collect(),
            recorded_at: appends.iter().map(|a| a.meta.recorded_at).collect(),
            actors: appends.iter().map(|a| a.meta.actor.as_deref()).collect(),
            causation_ids: appends.iter().map(|a| a.meta.causation_id).collect(),
            correlation_ids: appends.iter().map(|a| a.meta.correlation_id).collect(),
            keys: keys().map(|k| k.map(|k| k.key.as_str())).collect(),
            fingerprints: keys()
                .map(|k| k.map(|k| k.request_fingerprint.as_str()))
                .collect(),
            keys_valid_since: keys().map(|k| k.and_then(|k| k.valid_since)).collect(),
            event_appends: events().map(|(index, _, _)| index).collect(),
            event_ordinals: events().map(|(_, ordinal, _)| ordinal).collect(),
            event_ids: events().map(|(_, _, e)| e.event_id).collect(),
            event_types: events().map(|(_, _, e)| e.event_type.as_str()).collect(),
            schema_versions: events().map(|(_, _, e)| e.schema_version).collect(),
            payloads: events().map(|(_, _, e)| &e.payload).collect(),
            event_recorded_at: events()
                .map(|(_, _, e)| e.own.map(|own| own.recorded_at))
                .collect(),
            event_causation_ids: events()
                .map(|(_, _, e)| e.own.map(|own| own.causation_id))
                .collect(),
        }
    }

    fn bind(
        self,
        query: Query<'a, Postgres, PgArguments>,
        ordinals: Ordinals,
    ) -> Query<'a, Postgres, PgArguments> {
        let query = query
            .bind(self.streams)
            .bind(self.expected)
            .bind(self.recorded_at)
            .bind(self.actors)
            .bind(self.causation_ids)
            .bind(self.correlation_ids)
            .bind(self.keys)
            .bind(self.fingerprints)
            .bind(self.keys_valid_since);
        let query = match ordinals {
            Ordinals::Sent => query.bind(self.event_appends).bind(self.event_ordinals),
            Ordinals::Counted => query.bind(
                self.event_appends
                    .into_iter()
                    .map(|index| i32::try_from(index).unwrap_or(i32::MAX))
                    .collect::<Vec<_>>(),
            ),
        };
        query
            .bind(self.event_ids)
            .bind(self.event_types)
            .bind(self.schema_versions)
            .bind(self.payloads)
            .bind(self.event_recorded_at)
            .bind(self.event_causation_ids)
    }
}

/// A batch statement answers one row per append, or its outcome is unknown: committed, but
/// not answered as asked, so each caller reads its stream to know.
fn check_answered(rows: &[PgRow], appends: &[Append]) -> Result<(), BatchFailure> {
    if rows.len() == appends.len() {
        return Ok(());
    }
    Err(BatchFailure::Unknown(StoreError::Database(
        sqlx::Error::Protocol(format!(
            "the batch answered {} rows for {} appends",
            rows.len(),
            appends.len()
        )),
    )))
}

/// Only `append_batch` records an event at its own instant (0102).
fn has_own_origins(append: &Append) -> bool {
    append.events.iter().any(|event| event.own.is_some())
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
