//! A decision in progress: the events emitted so far and the state they lead to, so each
//! step of a decision sees the effect of the steps before it.

use chrono::{Days, NaiveDate};

use crate::command::Context;
use crate::event::Event;
use crate::ids::{EmailId, TaskId, TicketId};
use crate::state::Portfolio;
use crate::status::TicketStatus;
use crate::team::Role;
use crate::work::{Email, EmailDetails, EmailKind, Task, TaskKind, TicketSummary};

pub(crate) struct Draft<'c> {
    pub(crate) state: Portfolio,
    pub(crate) context: &'c Context,
    events: Vec<Event>,
    /// Set by commands after which date triggers must be evaluated (creation, reschedule,
    /// a closed cycle, the scheduler's tick).
    date_triggers_due: bool,
}

impl<'c> Draft<'c> {
    pub(crate) fn new(state: Portfolio, context: &'c Context) -> Self {
        Self {
            state,
            context,
            events: Vec::new(),
            date_triggers_due: false,
        }
    }

    pub(crate) fn starting_with(state: Portfolio, context: &'c Context, first: Event) -> Self {
        let mut draft = Self::new(state, context);
        draft.events.push(first);
        draft.date_triggers_due = true;
        draft
    }

    pub(crate) fn into_events(self) -> Vec<Event> {
        self.events
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.state.apply(&event);
        self.events.push(event);
    }

    pub(crate) fn today(&self) -> NaiveDate {
        self.context.today
    }

    pub(crate) fn days_from_today(&self, days: u32) -> NaiveDate {
        self.today()
            .checked_add_days(Days::new(days.into()))
            .unwrap_or(NaiveDate::MAX)
    }

    pub(crate) fn run_date_triggers(&mut self) {
        self.date_triggers_due = true;
    }

    pub(crate) fn take_date_triggers(&mut self) -> bool {
        std::mem::take(&mut self.date_triggers_due)
    }

    /// Puts a task in the inbox of whoever holds `role`, unless that very task exists.
    pub(crate) fn assign(
        &mut self,
        kind: TaskKind,
        role: Role,
        ticket: Option<TicketId>,
        round: u32,
        due: Option<NaiveDate>,
    ) {
        let cycle = self.state.cycle.number;
        self.assign_in_cycle(cycle, kind, role, ticket, round, due);
    }

    pub(crate) fn assign_in_cycle(
        &mut self,
        cycle: u32,
        kind: TaskKind,
        role: Role,
        ticket: Option<TicketId>,
        round: u32,
        due: Option<NaiveDate>,
    ) {
        let ticket_key = ticket.map_or_else(|| "-".to_owned(), |id| id.to_string());
        let key = format!(
            "c{cycle}/{}/{ticket_key}/r{round}/{}",
            kind.key(),
            role.code()
        );
        let id = TaskId::derive(self.state.id, &key);
        if self.state.open_tasks.contains_key(&id) || self.state.done_tasks.contains(&id) {
            return;
        }
        let task = Task {
            id,
            kind,
            assignee: self.state.team.member(role),
            role,
            cycle,
            ticket,
            round,
            due,
        };
        self.emit(Event::TaskAssigned { task });
    }

    pub(crate) fn complete_task(&mut self, task_id: TaskId) {
        let by = self.context.actor.user_id();
        self.emit(Event::TaskCompleted { task_id, by });
    }

    /// What the recipient of an email about the current cycle needs to act.
    pub(crate) fn email_details(&self) -> EmailDetails {
        let open_tickets = self
            .state
            .current_ad_set()
            .map(|set| {
                set.tickets
                    .iter()
                    .filter(|t| t.status != TicketStatus::CompletedDeliverable)
                    .map(|t| TicketSummary {
                        id: t.id,
                        title: t.title.to_string(),
                        status: t.status,
                    })
                    .collect()
            })
            .unwrap_or_default();
        EmailDetails {
            client: self.state.client.to_string(),
            refresh_date: self.state.refresh_date(),
            am_note: self
                .state
                .latest_am_note()
                .map(|note| note.text.to_string()),
            ad_lab_link: self.state.current_ad_lab_link().map(ToString::to_string),
            decision_missing: self.state.cycle.status.is_none(),
            open_tickets,
            next_refresh_date: None,
            tasks: Vec::new(),
            days_late: None,
        }
    }

    /// Sends one email per distinct person among `roles`, once per cause.
    pub(crate) fn email(
        &mut self,
        kind: EmailKind,
        roles: &[Role],
        cycle: u32,
        round: u32,
        details: &EmailDetails,
    ) {
        let cause = format!("c{cycle}/{}/r{round}", kind.key());
        let mut sent = Vec::new();
        for role in roles {
            let recipient = self.state.team.member(*role);
            if sent.contains(&recipient) {
                continue;
            }
            sent.push(recipient);
            let email = Email {
                id: EmailId::derive(self.state.id, &cause, recipient),
                kind,
                recipient,
                role: *role,
                cycle,
                round,
                details: details.clone(),
            };
            self.emit(Event::EmailRequested { email });
        }
    }
}
