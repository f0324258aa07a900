//! The peer: the most used Rust event-sourcing framework, `cqrs-es`, with its PostgreSQL
//! store `postgres-es`, doing the work of Freshet's `LogPortfolioNote` — one command, one
//! ~200-byte event — as its documentation sets it up (`postgres_cqrs`: the events are the
//! source of truth, no snapshots, no queries).
//!
//! It lives in a database of its own beside the scratch one: its tables are named `events`
//! and `snapshots`, and Freshet's store already has an `events` table.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use postgres_es::postgres_cqrs;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::drive::{Limits, Outcome, closed_loop};
use crate::scenarios::commands::{PORTFOLIOS_PER_CLIENT, note};

/// The peer's tables, as postgres-es documents them (it creates none itself): one table
/// for every aggregate's events, keyed by aggregate and sequence, and one for snapshots.
const TABLES: [&str; 2] = [
    "CREATE TABLE events (\
         aggregate_type text NOT NULL, \
         aggregate_id text NOT NULL, \
         sequence bigint CHECK (sequence >= 0) NOT NULL, \
         event_type text NOT NULL, \
         event_version text NOT NULL, \
         payload json NOT NULL, \
         metadata json NOT NULL, \
         PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
    "CREATE TABLE snapshots (\
         aggregate_type text NOT NULL, \
         aggregate_id text NOT NULL, \
         last_sequence bigint CHECK (last_sequence >= 0) NOT NULL, \
         current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL, \
         payload json NOT NULL, \
         PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))",
];

/// Creates the peer's tables in its (empty) database.
pub async fn create_tables(pool: &sqlx::PgPool) -> sqlx::Result<()> {
    for table in TABLES {
        sqlx::query(table).execute(pool).await?;
    }
    Ok(())
}

/// The longest note the peer accepts, as Freshet's `NoteText`.
const MAX_NOTE_CHARS: usize = 20_000;

/// One account's log of notes: the peer's aggregate.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct NoteLog {
    notes_logged: u64,
}

#[derive(Debug, Clone)]
pub enum NoteLogCommand {
    LogNote {
        note_id: Uuid,
        author: Uuid,
        text: String,
        logged_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NoteLogEvent {
    NoteLogged {
        number: u64,
        note_id: Uuid,
        author: Uuid,
        author_role: String,
        text: String,
        logged_at: DateTime<Utc>,
    },
}

impl DomainEvent for NoteLogEvent {
    fn event_type(&self) -> String {
        match self {
            Self::NoteLogged { .. } => "NoteLogged".to_owned(),
        }
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoteLogError {
    #[error("a note needs some text")]
    EmptyNote,
    #[error("a note has at most {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
}

impl Aggregate for NoteLog {
    const TYPE: &'static str = "note_log";
    type Command = NoteLogCommand;
    type Event = NoteLogEvent;
    type Error = NoteLogError;
    type Services = ();

    async fn handle(
        &mut self,
        command: NoteLogCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), NoteLogError> {
        match command {
            NoteLogCommand::LogNote {
                note_id,
                author,
                text,
                logged_at,
            } => {
                let text = text.trim();
                if text.is_empty() {
                    return Err(NoteLogError::EmptyNote);
                }
                if text.chars().count() > MAX_NOTE_CHARS {
                    return Err(NoteLogError::NoteTooLong);
                }
                let event = NoteLogEvent::NoteLogged {
                    number: self.notes_logged + 1,
                    note_id,
                    author,
                    author_role: "am".to_owned(),
                    text: text.to_owned(),
                    logged_at,
                };
                sink.write(event, self).await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: NoteLogEvent) {
        match event {
            NoteLogEvent::NoteLogged { number, .. } => self.notes_logged = number,
        }
    }
}

/// `clients` clients logging notes through the peer, each on its own fresh aggregates in
/// turn (new ids for every call; as many per client as Freshet's portfolios), on the peer's
/// pool.
pub async fn log_notes(pool: &sqlx::PgPool, clients: usize, limits: Limits) -> Outcome {
    let cqrs = Arc::new(postgres_cqrs::<NoteLog>(pool.clone(), Vec::new(), ()));
    let run = Uuid::now_v7();
    let author = Uuid::from_u128(0xa11ce);
    closed_loop(clients, limits, move |client, sequence| {
        let cqrs = Arc::clone(&cqrs);
        async move {
            let own = sequence as usize / clients % PORTFOLIOS_PER_CLIENT;
            let aggregate_id = format!("{run}-{client}-{own}");
            let command = NoteLogCommand::LogNote {
                note_id: Uuid::now_v7(),
                author,
                text: note(sequence).map_err(|e| e.to_string())?.to_string(),
                logged_at: Utc::now(),
            };
            cqrs.execute(&aggregate_id, command)
                .await
                .map_err(|e| e.to_string())
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;

    use super::*;

    /// 2027-01-01 12:00 UTC.
    fn noon() -> DateTime<Utc> {
        DateTime::from_timestamp(1_798_804_800, 0).unwrap_or_default()
    }

    fn log_note(text: &str) -> NoteLogCommand {
        NoteLogCommand::LogNote {
            note_id: Uuid::from_u128(7),
            author: Uuid::from_u128(0xa11ce),
            text: text.to_owned(),
            logged_at: noon(),
        }
    }

    fn logged(number: u64, text: &str) -> NoteLogEvent {
        NoteLogEvent::NoteLogged {
            number,
            note_id: Uuid::from_u128(7),
            author: Uuid::from_u128(0xa11ce),
            author_role: "am".to_owned(),
            text: text.to_owned(),
            logged_at: noon(),
        }
    }

    #[test]
    fn logging_a_note_records_it_as_the_next_of_its_log() {
        TestFramework::<NoteLog>::with(())
            .given(vec![logged(1, "first"), logged(2, "second")])
            .when(log_note("  third  "))
            .then_expect_events(vec![logged(3, "third")]);
    }

    #[test]
    fn a_blank_note_is_refused() {
        TestFramework::<NoteLog>::with(())
            .given_no_previous_events()
            .when(log_note(" \n "))
            .then_expect_error(NoteLogError::EmptyNote);
    }

    #[test]
    fn the_peers_event_is_about_as_large_as_freshets_note() {
        let text = note(123_456)
            .map(|note| note.to_string())
            .unwrap_or_default();
        let size = serde_json::to_string(&logged(1, &text))
            .map(|json| json.len())
            .unwrap_or_default();
        assert!((180..=260).contains(&size), "{size} bytes");
    }
}
