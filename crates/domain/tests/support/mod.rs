//! Given / when / then for the domain: a portfolio's history, a calendar, and a team.
#![allow(dead_code)]

use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::*;
use uuid::Uuid;

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

pub fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

pub const AM: u128 = 1;
pub const SAS: u128 = 2;
pub const COPYWRITER: u128 = 3;
pub const DESIGNER: u128 = 4;
pub const TEAM_LEAD: u128 = 5;
pub const OUTSIDER: u128 = 6;
pub const ADMIN: u128 = 7;

pub fn team() -> Team {
    Team {
        account_manager: user(AM),
        social_ad_specialist: user(SAS),
        copywriter: user(COPYWRITER),
        designer: user(DESIGNER),
        team_lead: user(TEAM_LEAD),
    }
}

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

    /// Decides `command` as `actor`; on success the events join the history.
    pub fn when(&mut self, actor: Actor, command: Command) -> Result<Vec<Event>, DomainError> {
        let state = Portfolio::from_history(&self.history).unwrap();
        let events = decide(state.as_ref(), &command, &self.context(actor))?;
        self.history.extend(events.iter().cloned());
        Ok(events)
    }

    pub fn by(&mut self, who: u128, command: Command) -> Vec<Event> {
        let description = format!("{command:?}");
        self.when(Actor::user(user(who)), command)
            .unwrap_or_else(|e| panic!("{description} refused: {e}"))
    }

    pub fn refused(&mut self, who: u128, command: Command) -> DomainError {
        let before = self.history.len();
        let error = self
            .when(Actor::user(user(who)), command)
            .expect_err("the command should be refused");
        assert_eq!(
            self.history.len(),
            before,
            "a refused command must emit nothing"
        );
        error
    }

    pub fn admin(&mut self, command: Command) -> Vec<Event> {
        self.when(Actor::admin(user(ADMIN)), command).unwrap()
    }

    pub fn tick(&mut self) -> Vec<Event> {
        self.when(Actor::System, Command::Tick).unwrap()
    }

    pub fn tick_on(&mut self, today: NaiveDate) -> Vec<Event> {
        self.on(today);
        self.tick()
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

pub fn count_of(events: &[Event], wire_name: &str) -> usize {
    events
        .iter()
        .filter(|event| event.event_type() == wire_name)
        .count()
}

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
