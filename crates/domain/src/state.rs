//! A portfolio as its events left it, and `apply`, the one place that folds an event in.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::cadence::Schedule;
use crate::event::Event;
use crate::ids::{NoteId, PortfolioId, TaskId, TicketId, UserId};
use crate::status::{Approval, RefreshStatus, RevisionKind, TicketStatus};
use crate::team::{Role, Team};
use crate::values::{AdLabLink, ClientName, DeliverableCount, FolderName, NoteText, TicketTitle};
use crate::work::{StallGate, Task};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: NoteId,
    pub author: UserId,
    pub author_role: Option<Role>,
    pub text: NoteText,
    pub logged_at: DateTime<Utc>,
    /// The cycle during which it was logged: context belongs to its cycle.
    pub cycle: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub id: TicketId,
    pub title: TicketTitle,
    pub status: TicketStatus,
    pub copy: Approval,
    pub graphic: Approval,
    /// The Needs Revisions field: set by the AM, cleared when the ticket is back in review.
    pub needs_revisions: Option<RevisionKind>,
    /// How many times the client sent this ticket back.
    pub revision_round: u32,
    /// The review round in which the client last saw this ticket (R11, R16).
    pub shared_in_round: Option<u32>,
    /// The review round during which the client last asked for its revision (R14).
    pub revised_in_round: Option<u32>,
    /// How many times the Team Lead's QA sent a part back.
    pub qa_returns: u32,
    /// How many Notes the ticket has. Their text lives in the history (`TicketNoteLogged`),
    /// not in the state every command loads.
    pub notes: u32,
}

impl Ticket {
    /// The client has seen this ticket as it stands: it was shared in a review round after
    /// its last revision request, so the AM may record the client's answer on it.
    pub fn is_with_client(&self) -> bool {
        self.shared_in_round.is_some() && self.shared_in_round > self.revised_in_round
    }
}

/// The tickets that share one Deliverable Folder Name (R7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdSet {
    pub folder: FolderName,
    pub deliverables: DeliverableCount,
    pub tickets: Vec<Ticket>,
    /// Tickets taken out of the set; their ids stay taken.
    pub withdrawn: Vec<Ticket>,
    /// The AM cancelled the cycle: its tickets are void.
    pub cancelled: bool,
}

impl AdSet {
    pub fn created(&self) -> u32 {
        u32::try_from(self.tickets.len()).unwrap_or(u32::MAX)
    }

    pub fn is_complete(&self) -> bool {
        self.created() >= self.deliverables.get()
    }

    pub fn count_with(&self, status: TicketStatus) -> u32 {
        let count = self.tickets.iter().filter(|t| t.status == status).count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// One refresh, from kickoff to close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cycle {
    pub number: u32,
    pub status: Option<RefreshStatus>,
    pub kicked_off: bool,
    /// The SAS got the "Create Paid Social Deliverables" task (R6).
    pub handed_off: bool,
    /// Review rounds shared with the client so far (R11, R16).
    pub review_round: u32,
    /// A ticket went (back) to work since the last review round, so the next time the whole
    /// set is ready a new round begins. This flag is what makes R11 fire once per round.
    pub awaiting_review: bool,
    pub review_started_on: Option<NaiveDate>,
    pub approved_on: Option<NaiveDate>,
    /// Stall alerts already raised, by gate and round (B1: once per missed deadline).
    pub alerts: BTreeSet<(StallGate, u32)>,
    /// The AM logged a Note during this cycle (R5 asks for one before the request).
    pub am_noted: bool,
    /// The day the cycle opened (the portfolio's creation, the previous close, a resume);
    /// gate deadlines never fall on or before it.
    pub opened_on: Option<NaiveDate>,
    /// The day the AM submitted the refresh request.
    pub requested_on: Option<NaiveDate>,
    /// How many times a reschedule reset the kickoff; the kickoff task's round.
    pub kickoff_round: u32,
}

impl Cycle {
    fn new(number: u32, opened_on: Option<NaiveDate>) -> Self {
        Self {
            number,
            status: None,
            kicked_off: false,
            handed_off: false,
            review_round: 0,
            awaiting_review: true,
            review_started_on: None,
            approved_on: None,
            alerts: BTreeSet::new(),
            am_noted: false,
            opened_on,
            requested_on: None,
            kickoff_round: 0,
        }
    }

    /// Work on this cycle has begun: it was kicked off, decided, or handed to the SAS.
    pub fn is_underway(&self) -> bool {
        self.kicked_off || self.handed_off || self.status.is_some()
    }

    /// The AM requested the refresh and has not signed off yet: the Ad Set is being made or
    /// reviewed. Before the request nothing downstream may happen (the AM's gate).
    pub fn is_in_fulfilment(&self) -> bool {
        matches!(
            self.status,
            Some(
                RefreshStatus::RefreshRequestSubmitted
                    | RefreshStatus::DeliverablesSubmitted
                    | RefreshStatus::CreativesPendingApproval
            )
        )
    }
}

/// Whether the portfolio is being refreshed, on hold, or gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "since", rename_all = "snake_case")]
pub enum Lifecycle {
    Active,
    /// The client is on hold: no kickoff, no handoff, no alert until an Admin resumes it.
    Paused(NaiveDate),
    /// The client left; nothing is scheduled any more.
    Ended(NaiveDate),
}

/// A Creative Portfolio and everything that happened on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Portfolio {
    pub id: PortfolioId,
    pub client: ClientName,
    pub team: Team,
    pub schedule: Schedule,
    pub cycle: Cycle,
    /// Ad Sets by cycle number; earlier ones stay so their tickets can still be completed (R20).
    pub ad_sets: BTreeMap<u32, AdSet>,
    /// The latest Note an Account Manager logged: the one a decision ever reads (R6). Every
    /// Note is in the history; the state keeps no other text, so a portfolio with thousands
    /// of long Notes decides as fast as one with none.
    pub am_note: Option<Note>,
    pub notes_logged: u32,
    pub ad_lab_link: Option<AdLabLink>,
    /// The cycle in which the Designer last set the Ad Lab link.
    pub ad_lab_link_cycle: u32,
    pub open_tasks: BTreeMap<TaskId, Task>,
    pub done_tasks: BTreeSet<TaskId>,
    pub lifecycle: Lifecycle,
    /// Team changes so far: each one's emails are their own.
    pub team_changes: u32,
}

/// A history that cannot be folded: the first event must create the portfolio, and
/// no other event may come first.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("the history does not start with PortfolioCreated")]
    NotCreated,
    #[error("PortfolioCreated appears twice")]
    CreatedTwice,
}

impl Portfolio {
    /// Folds a whole history; `Ok(None)` for an empty one.
    pub fn from_history<'a>(
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Result<Option<Self>, HistoryError> {
        let mut state: Option<Portfolio> = None;
        for event in events {
            state = Some(Self::evolve(state, event)?);
        }
        Ok(state)
    }

    /// The state after `event`, given the state before it.
    pub fn evolve(state: Option<Self>, event: &Event) -> Result<Self, HistoryError> {
        match (state, event) {
            (
                None,
                Event::PortfolioCreated {
                    portfolio_id,
                    client,
                    team,
                    cadence,
                    refresh_date,
                    on,
                },
            ) => Ok(Portfolio {
                id: *portfolio_id,
                client: client.clone(),
                team: *team,
                schedule: Schedule::starting(*cadence, *refresh_date),
                cycle: Cycle::new(1, *on),
                ad_sets: BTreeMap::new(),
                am_note: None,
                notes_logged: 0,
                ad_lab_link: None,
                ad_lab_link_cycle: 0,
                open_tasks: BTreeMap::new(),
                done_tasks: BTreeSet::new(),
                lifecycle: Lifecycle::Active,
                team_changes: 0,
            }),
            (None, _) => Err(HistoryError::NotCreated),
            (Some(_), Event::PortfolioCreated { .. }) => Err(HistoryError::CreatedTwice),
            (Some(mut portfolio), event) => {
                portfolio.apply(event);
                Ok(portfolio)
            }
        }
    }

    pub fn refresh_date(&self) -> NaiveDate {
        self.schedule.refresh_date()
    }

    pub fn status(&self) -> Option<RefreshStatus> {
        self.cycle.status
    }

    pub fn current_ad_set(&self) -> Option<&AdSet> {
        self.ad_sets.get(&self.cycle.number)
    }

    pub fn is_active(&self) -> bool {
        self.lifecycle == Lifecycle::Active
    }

    /// Whether a ticket with this id exists or existed on the portfolio (withdrawn ones too).
    pub fn ticket_id_taken(&self, id: TicketId) -> bool {
        self.ad_sets
            .values()
            .flat_map(|set| set.tickets.iter().chain(&set.withdrawn))
            .any(|ticket| ticket.id == id)
    }

    /// The Ad Lab link if the Designer set it during this cycle (R12).
    pub fn current_ad_lab_link(&self) -> Option<&AdLabLink> {
        self.ad_lab_link
            .as_ref()
            .filter(|_| self.ad_lab_link_cycle == self.cycle.number)
    }

    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.ad_sets
            .values()
            .flat_map(|set| set.tickets.iter())
            .find(|ticket| ticket.id == id)
    }

    /// The cycle whose Ad Set holds `ticket`.
    pub fn cycle_of(&self, id: TicketId) -> Option<u32> {
        self.ad_sets
            .iter()
            .find(|(_, set)| set.tickets.iter().any(|ticket| ticket.id == id))
            .map(|(cycle, _)| *cycle)
    }

    /// The most recent Note the Account Manager logged in this cycle: the SAS's source of
    /// truth (R6). An older cycle's Note is about an older refresh.
    pub fn latest_am_note(&self) -> Option<&Note> {
        self.am_note
            .as_ref()
            .filter(|note| note.cycle == self.cycle.number)
    }

    fn ticket_mut(&mut self, id: TicketId) -> Option<&mut Ticket> {
        self.ad_sets
            .values_mut()
            .flat_map(|set| set.tickets.iter_mut())
            .find(|ticket| ticket.id == id)
    }

    fn with_ticket(&mut self, id: TicketId, change: impl FnOnce(&mut Ticket)) {
        if let Some(ticket) = self.ticket_mut(id) {
            change(ticket);
        }
    }

    fn close_cycle(&mut self, on: Option<NaiveDate>) {
        self.schedule = self.schedule.after_close(on);
        self.cycle = Cycle::new(self.cycle.number + 1, on);
    }

    /// Ends the current cycle's work without moving the date (a pause or an end).
    fn set_cycle_aside(&mut self, on: NaiveDate) {
        if let Some(set) = self.ad_sets.get_mut(&self.cycle.number) {
            set.cancelled = true;
        }
        if self.cycle.is_underway() || self.ad_sets.contains_key(&self.cycle.number) {
            self.cycle = Cycle::new(self.cycle.number + 1, Some(on));
        }
    }

    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::PortfolioCreated { .. } => {}
            Event::TeamChanged { team } => {
                self.team = *team;
                self.team_changes += 1;
                // Open work follows the role to the new person.
                for task in self.open_tasks.values_mut() {
                    task.assignee = team.member(task.role);
                }
            }
            Event::PortfolioRescheduled {
                cadence,
                refresh_date,
            } => self.schedule = self.schedule.rescheduled(*cadence, *refresh_date),
            Event::RefreshKickedOff { .. } => self.cycle.kicked_off = true,
            Event::KickoffReset { .. } => {
                self.cycle.kicked_off = false;
                self.cycle.kickoff_round += 1;
            }
            Event::PortfolioNoteLogged {
                note_id,
                author,
                author_role,
                text,
                logged_at,
            } => {
                self.notes_logged += 1;
                if *author_role == Some(Role::AccountManager) {
                    self.cycle.am_noted = true;
                    self.am_note = Some(Note {
                        id: *note_id,
                        author: *author,
                        author_role: *author_role,
                        text: text.clone(),
                        logged_at: *logged_at,
                        cycle: self.cycle.number,
                    });
                }
            }
            Event::RefreshDeclined { on, .. } | Event::CreativesImplemented { on, .. } => {
                self.close_cycle(*on)
            }
            Event::CycleCancelled { on, .. } => {
                if let Some(set) = self.ad_sets.get_mut(&self.cycle.number) {
                    set.cancelled = true;
                }
                self.close_cycle(Some(*on));
            }
            Event::PortfolioPaused { on, .. } => {
                self.set_cycle_aside(*on);
                self.lifecycle = Lifecycle::Paused(*on);
            }
            Event::PortfolioEnded { on, .. } => {
                self.set_cycle_aside(*on);
                self.lifecycle = Lifecycle::Ended(*on);
            }
            Event::PortfolioResumed { refresh_date, on } => {
                self.lifecycle = Lifecycle::Active;
                self.schedule = self.schedule.first_after(*on);
                if self.schedule.refresh_date() != *refresh_date {
                    self.schedule = self
                        .schedule
                        .rescheduled(self.schedule.cadence, *refresh_date);
                }
                self.cycle.opened_on = Some(*on);
            }
            Event::RefreshRequested { on, .. } => {
                self.cycle.status = Some(RefreshStatus::RefreshRequestSubmitted);
                self.cycle.requested_on = *on;
            }
            Event::DeliverablesRequested { .. } => self.cycle.handed_off = true,
            Event::TicketCreated {
                ticket_id,
                cycle,
                title,
                folder,
                deliverables,
                ..
            } => {
                let ticket = Ticket {
                    id: *ticket_id,
                    title: title.clone(),
                    status: TicketStatus::InProgress,
                    copy: Approval::NotSubmitted,
                    graphic: Approval::NotSubmitted,
                    needs_revisions: None,
                    revision_round: 0,
                    shared_in_round: None,
                    revised_in_round: None,
                    qa_returns: 0,
                    notes: 0,
                };
                self.ad_sets
                    .entry(*cycle)
                    .or_insert_with(|| AdSet {
                        folder: folder.clone(),
                        deliverables: *deliverables,
                        tickets: Vec::new(),
                        withdrawn: Vec::new(),
                        cancelled: false,
                    })
                    .tickets
                    .push(ticket);
                self.cycle.awaiting_review = true;
            }
            Event::TicketWithdrawn { ticket_id, cycle } => {
                if let Some(set) = self.ad_sets.get_mut(cycle)
                    && let Some(index) = set.tickets.iter().position(|t| t.id == *ticket_id)
                {
                    let ticket = set.tickets.remove(index);
                    set.withdrawn.push(ticket);
                }
            }
            Event::DeliverableCountCorrected {
                cycle,
                deliverables,
            } => {
                if let Some(set) = self.ad_sets.get_mut(cycle) {
                    set.deliverables = *deliverables;
                }
            }
            Event::CopySentBack { ticket_id } => self.with_ticket(*ticket_id, |t| {
                t.copy = Approval::SentBack;
                t.qa_returns += 1;
            }),
            Event::GraphicsSentBack { ticket_id } => self.with_ticket(*ticket_id, |t| {
                t.graphic = Approval::SentBack;
                t.qa_returns += 1;
            }),
            Event::TicketRetitled { ticket_id, title } => {
                self.with_ticket(*ticket_id, |t| t.title = title.clone());
            }
            Event::DeliverablesSubmitted { .. } => {
                self.cycle.status = Some(RefreshStatus::DeliverablesSubmitted);
            }
            Event::CopySubmitted { ticket_id } => {
                self.with_ticket(*ticket_id, |t| t.copy = Approval::AwaitingQa);
            }
            Event::GraphicsSubmitted { ticket_id } => {
                self.with_ticket(*ticket_id, |t| t.graphic = Approval::AwaitingQa);
            }
            Event::CopyApproved { ticket_id, .. } => {
                self.with_ticket(*ticket_id, |t| t.copy = Approval::Approved);
            }
            Event::GraphicsApproved { ticket_id, .. } => {
                self.with_ticket(*ticket_id, |t| t.graphic = Approval::Approved);
            }
            Event::TicketMovedToPendingApproval { ticket_id } => {
                self.with_ticket(*ticket_id, |t| {
                    t.status = TicketStatus::PendingApproval;
                    t.needs_revisions = None;
                })
            }
            Event::AdSetReadyForReview { round, on, .. } => {
                if let Some(set) = self.ad_sets.get_mut(&self.cycle.number) {
                    for ticket in &mut set.tickets {
                        if ticket.status != TicketStatus::InProgress {
                            ticket.shared_in_round = Some(*round);
                        }
                    }
                }
                self.cycle.status = Some(RefreshStatus::CreativesPendingApproval);
                self.cycle.review_round = *round;
                self.cycle.awaiting_review = false;
                self.cycle.review_started_on = Some(*on);
            }
            Event::RevisionsRequested {
                ticket_id,
                kind,
                revision_round,
            } => {
                let review_round = self.cycle.review_round;
                self.with_ticket(*ticket_id, |t| {
                    t.revised_in_round = Some(review_round);
                    t.status = TicketStatus::InProgress;
                    t.needs_revisions = Some(*kind);
                    t.revision_round = *revision_round;
                    if kind.touches_copy() {
                        t.copy = Approval::RevisionRequested;
                    }
                    if kind.touches_graphic() {
                        t.graphic = Approval::RevisionRequested;
                    }
                });
                self.cycle.awaiting_review = true;
            }
            Event::DeliverableCompleted { ticket_id } => {
                self.with_ticket(*ticket_id, |t| {
                    t.status = TicketStatus::CompletedDeliverable
                });
            }
            Event::TicketNoteLogged { ticket_id, .. } => {
                self.notes_logged += 1;
                self.with_ticket(*ticket_id, |t| t.notes += 1);
            }
            Event::AdLabLinkUpdated { link } => {
                self.ad_lab_link = Some(link.clone());
                self.ad_lab_link_cycle = self.cycle.number;
            }
            Event::CreativesApproved { on, .. } => {
                self.cycle.status = Some(RefreshStatus::CreativesCompletedAndApproved);
                self.cycle.approved_on = Some(*on);
            }
            Event::TaskAssigned { task } => {
                self.open_tasks.insert(task.id, task.clone());
            }
            Event::TaskDueChanged { task_id, due } => {
                if let Some(task) = self.open_tasks.get_mut(task_id) {
                    task.due = Some(*due);
                }
            }
            Event::TaskCompleted { task_id, .. } => {
                self.open_tasks.remove(task_id);
                self.done_tasks.insert(*task_id);
            }
            Event::EmailRequested { .. } => {}
            Event::StallAlertRaised { gate, round, .. } => {
                self.cycle.alerts.insert((*gate, *round));
            }
        }
    }
}
