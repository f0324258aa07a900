//! A batch of appends in one round trip to SQLite's worker thread (`one_trip.sql`): the
//! transaction, every check, every event and every key in one query. Each round trip wakes
//! two threads, and on a small VM that costs more than SQLite's own work, so this is what
//! makes a single append cheap. What the statement does not write (a conflict, a used key)
//! is left unanswered, for the checked path ([`super::checked`]) to answer.

use std::collections::{HashMap, HashSet};

use chrono::SecondsFormat;
use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqlitePool};
use uuid::Uuid;

use crate::batch::Append;
use crate::codec::{sqlite_time, sqlite_uuid};
use crate::event::{AppendOutcome, AppendResult, LogPosition, NewEvent};

const ONE_TRIP: &str = include_str!("one_trip.sql");

/// Which of `appends` the one trip takes: those with events whose stream and key no earlier
/// append of the batch has (so each stream's appends keep their order: a later one waits
/// for the checked path, after the earlier one). Group commit's batches hold one append per
/// stream and key, so it takes every append with events.
fn suited(appends: &[Append]) -> Vec<bool> {
    let mut streams = HashSet::new();
    let mut keys = HashSet::new();
    appends
        .iter()
        .map(|append| {
            let first_of_stream = streams.insert(&append.stream);
            let first_of_key = append
                .idempotency
                .as_ref()
                .is_none_or(|key| keys.insert(key.key.as_str()));
            first_of_stream && first_of_key && !append.events.is_empty()
        })
        .collect()
}

/// Writes what it can of `appends` in one transaction and one round trip: per append, its
/// outcome if written, `None` if left to the checked path. On an error nothing was
/// committed.
pub(super) async fn write(
    pool: &SqlitePool,
    appends: &[Append],
) -> Result<Vec<Option<AppendOutcome>>, sqlx::Error> {
    let suited = suited(appends);
    let rows: Vec<AppendRow> = appends
        .iter()
        .zip(&suited)
        .filter(|(_, suited)| **suited)
        .map(|(append, _)| AppendRow::of(append))
        .collect();
    if rows.is_empty() {
        return Ok(vec![None; appends.len()]);
    }
    let rows = serde_json::to_string(&rows).expect("rows of strings and numbers serialize");
    let mut trip = OwnTransaction {
        conn: pool.acquire().await?,
        ended: false,
    };
    let written: Vec<(String, i64, i64)> = sqlx::query_as(ONE_TRIP)
        .bind(rows)
        .fetch_all(&mut *trip.conn)
        .await?;
    trip.ended = true;
    let written: HashMap<String, (i64, i64)> = written
        .into_iter()
        .map(|(event_id, position, version)| (event_id, (position, version)))
        .collect();
    Ok(appends
        .iter()
        .zip(suited)
        .map(|(append, suited)| suited.then(|| outcome(append, &written)).flatten())
        .collect())
}

/// A connection running the one trip, whose transaction began in the query's own SQL, so
/// sqlx does not know of it. Unless the query ended (its `COMMIT` done), the connection is
/// closed, which rolls back what it began, instead of going back to the pool inside it: after
/// an error, and if the write is dropped half-way (sqlx's worker stops between statements once
/// nobody waits for their results).
struct OwnTransaction {
    conn: PoolConnection<Sqlite>,
    ended: bool,
}

impl Drop for OwnTransaction {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

/// What `append` wrote, if its events are among `written` (by id: position and version).
fn outcome(append: &Append, written: &HashMap<String, (i64, i64)>) -> Option<AppendOutcome> {
    let found: Vec<(i64, i64)> = append
        .events
        .iter()
        .map(|event| written.get(&sqlite_uuid(event.event_id)).copied())
        .collect::<Option<_>>()?;
    let (&(_, first_version), &(_, last_version)) = (found.first()?, found.last()?);
    Some(AppendOutcome::Appended(AppendResult {
        stream_id: append.stream.clone(),
        first_version,
        last_version,
        positions: found
            .iter()
            .map(|&(position, _)| LogPosition {
                commit: position,
                position,
            })
            .collect(),
        event_ids: append.events.iter().map(|event| event.event_id).collect(),
    }))
}

/// One append of `one_trip.sql`'s `?1`.
#[derive(Serialize)]
struct AppendRow<'a> {
    stream: &'a str,
    expected: Option<i64>,
    key: Option<&'a str>,
    fingerprint: Option<&'a str>,
    created_at: Option<String>,
    actor: Option<&'a str>,
    correlation: Uuid,
    events: Vec<EventRow<'a>>,
}

/// One event of an [`AppendRow`]: id, type, schema version, payload text, instant (in the
/// form sqlx binds a `DateTime` in, which every event row has) and cause.
#[derive(Serialize)]
struct EventRow<'a>(Uuid, &'a str, i32, String, String, Uuid);

impl<'a> AppendRow<'a> {
    fn of(append: &'a Append) -> Self {
        let meta = &append.meta;
        let key = append.idempotency.as_ref();
        Self {
            stream: append.stream.as_str(),
            expected: append.expected.required(),
            key: key.map(|key| key.key.as_str()),
            fingerprint: key.map(|key| key.request_fingerprint.as_str()),
            created_at: key.map(|_| sqlite_time(meta.recorded_at)),
            actor: meta.actor.as_deref(),
            correlation: meta.correlation_id,
            events: append
                .events
                .iter()
                .map(|event| EventRow::of(event, append))
                .collect(),
        }
    }
}

impl<'a> EventRow<'a> {
    fn of(event: &'a NewEvent, append: &Append) -> Self {
        Self(
            event.event_id,
            &event.event_type,
            event.schema_version,
            event.payload.to_string(),
            event
                .recorded_at(&append.meta)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
            event.causation_id(&append.meta),
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::event::{ExpectedVersion, IdempotencyKey, Metadata, StreamId};

    fn append(stream: &str, key: Option<&str>, events: usize) -> Append {
        Append {
            stream: StreamId::new(stream).expect("a stream id"),
            expected: ExpectedVersion::Any,
            events: (0..events)
                .map(|n| NewEvent::new("Noted", 1, json!(n)))
                .collect(),
            meta: Metadata {
                actor: None,
                causation_id: Uuid::nil(),
                correlation_id: Uuid::nil(),
                recorded_at: Utc::now(),
            },
            idempotency: key.map(|key| IdempotencyKey::new(key, "request")),
        }
    }

    #[test]
    fn the_one_trip_takes_the_first_append_of_each_stream_and_key_that_has_events() {
        let appends = [
            append("a", Some("k1"), 1),
            append("b", None, 2),
            append("a", None, 1),
            append("c", Some("k1"), 1),
            append("d", Some("k2"), 0),
            append("d", None, 1),
            append("e", None, 1),
        ];
        assert_eq!(
            suited(&appends),
            // A later append of "a" and of "d" waits for the checked path, after the
            // earlier one: even when the earlier one (of no events) is not taken.
            [true, true, false, false, false, false, true]
        );
    }
}
