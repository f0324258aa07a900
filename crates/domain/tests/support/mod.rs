//! Given / when / then for the domain: a portfolio's history, a calendar, and a team.
//!
//! ```ignore
//! let mut given = Given::portfolio();          // or given(history), or a step below
//! let tickets = given.in_client_review(2);     // given: steps of the process, by the team
//! given
//!     .when(AM, Command::SignOff)              // when: one command, by one person
//!     .then_emits(|events| count_of!(events, Event::CreativesApproved { .. }) == 1);
//! given
//!     .when(SAS, Command::SignOff)
//!     .then_refused_with(|error| matches!(error, DomainError::NotPermitted { .. }));
//! ```
//!
//! Assertions are on `Event` and `DomainError` values, never on wire names or error codes:
//! those are the wire format's business (`event_codec.rs`), not the rules'.
#![allow(dead_code, unused_macros, unused_imports)]

use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::*;
use uuid::Uuid;

// The test team of every crate's tests (users 1 to 5). From `freshet-agency`, which depends
// on the domain only, rather than from `freshet-testkit`, which would build a database and
// an HTTP server into these pure tests.
pub use freshet_agency::{AM, COPYWRITER, DESIGNER, SAS, TEAM_LEAD, date, team, user};

pub const OUTSIDER: u128 = 6;
pub const ADMIN: u128 = 7;

pub fn monthly() -> Cadence {
    Cadence::new(1, CadenceUnit::Months).unwrap()
}

pub fn note(text: &str) -> NoteText {
    NoteText::parse(text).unwrap()
}

pub fn folder(text: &str) -> FolderName {
    FolderName::parse(text).unwrap()
}

pub fn title(text: &str) -> TicketTitle {
    TicketTitle::parse(text).unwrap()
}

pub fn count(n: u32) -> DeliverableCount {
    DeliverableCount::new(n).unwrap()
}

pub fn ticket_id(n: u128) -> TicketId {
    TicketId::from_uuid(Uuid::from_u128(1000 + n))
}

/// Given: a portfolio as `history` left it, on its creation day (`on` moves the calendar).
pub fn given(history: impl IntoIterator<Item = Event>) -> Given {
    let history: Vec<Event> = history.into_iter().collect();
    let Some(Event::PortfolioCreated {
        portfolio_id, on, ..
    }) = history.first().cloned()
    else {
        panic!("a history starts with PortfolioCreated");
    };
    Given {
        history,
        today: on.unwrap_or(date(2027, 2, 1)),
        deadlines: Deadlines::default(),
        portfolio_id,
    }
}

/// The outcome of `Given::when`: checked by one of the `then_*` methods.
#[must_use = "check the outcome with a then_* method"]
pub struct Then {
    description: String,
    outcome: Result<Vec<Event>, DomainError>,
}

impl Then {
    /// Then: accepted; the events, for further checks.
    pub fn then_accepted(self) -> Vec<Event> {
        let description = self.description;
        self.outcome
            .unwrap_or_else(|error| panic!("{description} refused: {error:?} ({error})"))
    }

    /// Then: accepted, and the events pass `check` (typically a `matches!` or `count_of!`).
    pub fn then_emits(self, check: impl FnOnce(&[Event]) -> bool) -> Vec<Event> {
        let description = self.description.clone();
        let events = self.then_accepted();
        assert!(check(&events), "{description} emitted {events:#?}");
        events
    }

    /// Then: accepted, with exactly these events.
    pub fn then_emits_exactly(self, expected: &[Event]) -> Vec<Event> {
        let events = self.then_accepted();
        assert_eq!(events, expected);
        events
    }

    /// Then: accepted, and nothing happens.
    pub fn then_emits_nothing(self) {
        let events = self.then_accepted();
        assert!(events.is_empty(), "expected no events, got {events:#?}");
    }

    /// Then: refused with exactly `expected`, and nothing recorded.
    pub fn then_refused(self, expected: DomainError) -> DomainError {
        let error = self.then_refused_with(|_| true);
        assert_eq!(error, expected);
        error
    }

    /// Then: refused with an error that passes `check` (a `matches!` on `DomainError`), and
    /// nothing recorded.
    pub fn then_refused_with(self, check: impl FnOnce(&DomainError) -> bool) -> DomainError {
        let description = self.description;
        let error = match self.outcome {
            Ok(events) => panic!("{description} should be refused; it emitted {events:#?}"),
            Err(error) => error,
        };
        assert!(
            check(&error),
            "{description} refused with {error:?} ({error})"
        );
        error
    }
}

/// A portfolio's history and the calendar it lives on.
pub struct Given {
    pub history: Vec<Event>,
    pub today: NaiveDate,
    pub deadlines: Deadlines,
    pub portfolio_id: PortfolioId,
}

impl Given {
    /// A monthly portfolio refreshing on 2027-03-15, created on 2027-02-01 (no kickoff yet).
    pub fn portfolio() -> Self {
        Self::portfolio_refreshing_on(date(2027, 3, 15), date(2027, 2, 1), monthly())
    }

    pub fn portfolio_refreshing_on(
        refresh_date: NaiveDate,
        today: NaiveDate,
        cadence: Cadence,
    ) -> Self {
        let portfolio_id = PortfolioId::from_uuid(Uuid::from_u128(42));
        let mut given = Self {
            history: Vec::new(),
            today,
            deadlines: Deadlines::default(),
            portfolio_id,
        };
        given.admin(Command::CreatePortfolio {
            portfolio_id,
            client: ClientName::parse("Acme Outdoor").unwrap(),
            team: team(),
            cadence,
            refresh_date,
        });
        given
    }

    pub fn on(&mut self, today: NaiveDate) -> &mut Self {
        self.today = today;
        self
    }

    pub fn state(&self) -> Portfolio {
        Portfolio::from_history(&self.history).unwrap().unwrap()
    }

    fn context(&self, actor: Actor) -> Context {
        let now: DateTime<Utc> = self.today.and_hms_opt(12, 0, 0).unwrap().and_utc();
        Context {
            actor,
            now,
            today: self.today,
            deadlines: self.deadlines,
        }
    }

    /// Decides `command` as `actor`; on success the events join the history. The raw step
    /// under `when`, for tests that need the `Result` itself.
    pub fn decide_as(&mut self, actor: Actor, command: Command) -> Result<Vec<Event>, DomainError> {
        let state = Portfolio::from_history(&self.history).unwrap();
        let events = decide(state.as_ref(), &command, &self.context(actor))?;
        self.history.extend(events.iter().cloned());
        Ok(events)
    }

    /// When: `who` (one of `AM`, `SAS`, ...) issues `command`. Check the outcome with `then_*`.
    pub fn when(&mut self, who: u128, command: Command) -> Then {
        self.when_as(Actor::user(user(who)), command)
    }

    /// When, for an actor that is not a team member: an Admin, the scheduler.
    pub fn when_as(&mut self, actor: Actor, command: Command) -> Then {
        let description = format!("{command:?} by {actor:?}");
        let before = self.history.len();
        let outcome = self.decide_as(actor, command);
        if outcome.is_err() {
            assert_eq!(
                self.history.len(),
                before,
                "a refused command must emit nothing"
            );
        }
        Then {
            description,
            outcome,
        }
    }

    pub fn when_admin(&mut self, command: Command) -> Then {
        self.when_as(Actor::admin(user(ADMIN)), command)
    }

    /// When the scheduler runs the date triggers of `today`.
    pub fn when_tick_on(&mut self, today: NaiveDate) -> Then {
        self.on(today);
        self.when_as(Actor::System, Command::Tick)
    }

    /// Given: `who` did `command`, which must be accepted.
    pub fn by(&mut self, who: u128, command: Command) -> Vec<Event> {
        self.when(who, command).then_accepted()
    }

    pub fn admin(&mut self, command: Command) -> Vec<Event> {
        self.when_admin(command).then_accepted()
    }

    pub fn tick(&mut self) -> Vec<Event> {
        self.when_as(Actor::System, Command::Tick).then_accepted()
    }

    pub fn tick_on(&mut self, today: NaiveDate) -> Vec<Event> {
        self.when_tick_on(today).then_accepted()
    }

    // Steps of the process, for tests about later steps.

    pub fn kicked_off_and_requested(&mut self) -> &mut Self {
        self.tick_on(date(2027, 3, 1));
        self.by(
            AM,
            Command::RequestRefresh {
                note: Some(note(
                    "New spring assets in the shared drive; keep the tagline.",
                )),
            },
        );
        self
    }

    /// Requested, the date arrived, and the SAS created the first of `n` tickets.
    pub fn with_first_ticket_of(&mut self, n: u32) -> TicketId {
        self.kicked_off_and_requested();
        self.tick_on(date(2027, 3, 15));
        let first = ticket_id(1);
        self.by(
            SAS,
            Command::CreateTicket {
                ticket_id: first,
                title: title("Deliverable 1"),
                folder: folder("Acme Spring 2027"),
                deliverables: count(n),
            },
        );
        first
    }

    /// Requested, the date arrived, and the SAS created `n` tickets.
    pub fn with_tickets(&mut self, n: u32) -> Vec<TicketId> {
        let first = self.with_first_ticket_of(n);
        let mut ids = vec![first];
        for i in 2..=n {
            let id = ticket_id(u128::from(i));
            self.by(
                SAS,
                Command::CloneTicket {
                    ticket_id: id,
                    source: first,
                    title: title(&format!("Deliverable {i}")),
                    folder: None,
                    deliverables: None,
                },
            );
            ids.push(id);
        }
        ids
    }

    /// The whole first round of creative work and QA on `ticket`.
    pub fn creative_work_done(&mut self, ticket: TicketId) -> Vec<Event> {
        let mut events = self.by(COPYWRITER, Command::SubmitCopy { ticket_id: ticket });
        events.extend(self.by(DESIGNER, Command::SubmitGraphics { ticket_id: ticket }));
        events.extend(self.by(TEAM_LEAD, Command::ApproveCopy { ticket_id: ticket }));
        events.extend(self.by(TEAM_LEAD, Command::ApproveGraphics { ticket_id: ticket }));
        events
    }

    /// `n` tickets, all through QA: the Ad Set is with the client.
    pub fn in_client_review(&mut self, n: u32) -> Vec<TicketId> {
        let tickets = self.with_tickets(n);
        self.by(SAS, Command::MarkDeliverablesSubmitted);
        for ticket in &tickets {
            self.creative_work_done(*ticket);
        }
        tickets
    }

    pub fn signed_off(&mut self, n: u32) -> Vec<TicketId> {
        let tickets = self.in_client_review(n);
        self.by(AM, Command::SignOff);
        tickets
    }

    pub fn open_tasks(&self) -> Vec<Task> {
        self.state().open_tasks.into_values().collect()
    }

    pub fn open_task(&self, kind: TaskKind) -> Option<Task> {
        self.open_tasks().into_iter().find(|task| task.kind == kind)
    }
}

pub fn tasks_assigned(events: &[Event]) -> Vec<Task> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::TaskAssigned { task } => Some(task.clone()),
            _ => None,
        })
        .collect()
}

pub fn emails(events: &[Event]) -> Vec<Email> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::EmailRequested { email } => Some(email.clone()),
            _ => None,
        })
        .collect()
}

/// How many of `events` match a pattern of `Event`:
/// `count_of!(events, Event::AdSetReadyForReview { round: 2, .. })`.
macro_rules! count_of {
    ($events:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        $events
            .iter()
            .filter(|event| matches!(event, $pattern $(if $guard)?))
            .count()
    };
}
pub(crate) use count_of;

/// The Notes of `ticket` in the history, oldest first: (id, author, when, text). R21: the
/// history keeps every Note with its author and time.
pub fn ticket_notes(
    history: &[Event],
    ticket: TicketId,
) -> Vec<(NoteId, UserId, DateTime<Utc>, String)> {
    history
        .iter()
        .filter_map(|event| match event {
            Event::TicketNoteLogged {
                ticket_id,
                note_id,
                author,
                text,
                logged_at,
            } if *ticket_id == ticket => Some((*note_id, *author, *logged_at, text.to_string())),
            _ => None,
        })
        .collect()
}

pub fn completed(events: &[Event]) -> Vec<TaskId> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::TaskCompleted { task_id, .. } => Some(*task_id),
            _ => None,
        })
        .collect()
}
