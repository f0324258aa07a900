//! Bulk-loading generated events into the store's own `events` table (its schema, its
//! defaults), as fast as the database takes them: `COPY` on PostgreSQL, prepared inserts in
//! large transactions on SQLite. Chunked, so no transaction stays open for long on a cluster
//! shared with others (an open transaction holds back every gap-free reader of the log).

use std::io::Write as _;
use std::time::Duration;

use anyhow::Result;
use tokio::time::Instant;

use freshet_store::Database;

use crate::baseline::BULK_CHUNK;
use crate::generate::Row;

/// Appends `value` to a `COPY ... FROM STDIN` text-format buffer, escaped.
pub fn copy_text(out: &mut Vec<u8>, value: &str) {
    for byte in value.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

fn copy_row(out: &mut Vec<u8>, row: &Row) {
    // Fixed-format values (UUIDs, numbers, timestamps) need no escaping.
    let _ = write!(out, "{}\t", row.event_id.hyphenated());
    copy_text(out, &row.stream_id);
    let _ = write!(out, "\t{}\t", row.version);
    copy_text(out, &row.event_type);
    let _ = write!(out, "\t{}\t", row.schema_version);
    copy_text(out, &row.payload);
    let _ = write!(out, "\t{}\t", row.recorded_at.to_rfc3339());
    copy_text(out, &row.actor);
    let _ = writeln!(
        out,
        "\t{}\t{}",
        row.causation_id.hyphenated(),
        row.correlation_id.hyphenated()
    );
}

/// Stores `rows` in the `events` table, in order. Returns the time it took.
pub async fn load(db: &Database, rows: &[Row]) -> Result<Duration> {
    let started = Instant::now();
    match db {
        Database::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            let mut buffer = Vec::with_capacity(BULK_CHUNK * 512);
            for chunk in rows.chunks(BULK_CHUNK) {
                buffer.clear();
                for row in chunk {
                    copy_row(&mut buffer, row);
                }
                let mut copy = conn
                    .copy_in_raw(
                        "COPY events (event_id, stream_id, version, event_type, schema_version, \
                         payload, recorded_at, actor, causation_id, correlation_id) FROM STDIN",
                    )
                    .await?;
                copy.send(buffer.as_slice()).await?;
                copy.finish().await?;
            }
        }
        Database::Sqlite(pool) => {
            for chunk in rows.chunks(BULK_CHUNK) {
                let mut tx = pool.begin().await?;
                for row in chunk {
                    // The same types the SQLite store binds, so the rows read back alike.
                    sqlx::query(
                        "INSERT INTO events (event_id, stream_id, version, event_type, \
                         schema_version, payload, recorded_at, actor, causation_id, \
                         correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(row.event_id.hyphenated())
                    .bind(&row.stream_id)
                    .bind(row.version)
                    .bind(&row.event_type)
                    .bind(row.schema_version)
                    .bind(&row.payload)
                    .bind(row.recorded_at)
                    .bind(&row.actor)
                    .bind(row.causation_id.hyphenated())
                    .bind(row.correlation_id.hyphenated())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
    }
    Ok(started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_the_text_format_treats_specially() {
        let mut out = Vec::new();
        copy_text(&mut out, "a\\\"b\"\tc\nd\re");
        assert_eq!(out, b"a\\\\\"b\"\\tc\\nd\\re");
    }
}
