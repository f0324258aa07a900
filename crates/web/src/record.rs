//! What a portfolio's history holds that its state does not keep: the text of every Note
//! (R21, with author and time) and each request for revisions, for the pages to show.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use freshet_api::{ApiError, AppState};
use freshet_domain::{Event, Portfolio, PortfolioId, TicketId, UserId};
use freshet_projections::audit;

/// A Note as a page shows it.
pub(crate) struct NoteLine {
    pub author: String,
    pub at: String,
    /// RFC 3339, for `<time datetime>`.
    pub at_machine: String,
    pub text: String,
}

/// One thing that happened to a ticket's review, as a page shows it.
pub(crate) struct ReviewLine {
    pub what: String,
    pub who: String,
    pub at: String,
    pub at_machine: String,
}

/// The Notes and review steps of a portfolio, read from its history.
pub(crate) struct Record {
    changes: Vec<audit::DecodedChange>,
    names: HashMap<UserId, String>,
    zone: Tz,
}

impl Record {
    pub(crate) async fn load(state: &AppState, portfolio: PortfolioId) -> Result<Self, ApiError> {
        let changes = audit::decoded_history(state.store().as_ref(), portfolio).await?;
        let names = freshet_accounts::users::list(state.db())
            .await?
            .into_iter()
            .map(|user| (user.id, user.name))
            .collect();
        Ok(Self {
            changes,
            names,
            zone: state.service().config().calendar.time_zone(),
        })
    }

    fn name(&self, user: UserId) -> String {
        self.names
            .get(&user)
            .cloned()
            .unwrap_or_else(|| "someone no longer here".to_owned())
    }

    /// The portfolio's team by role, by name.
    pub(crate) fn names_of(&self, portfolio: &Portfolio) -> Vec<(&'static str, String)> {
        crate::portfolio::ROLES
            .iter()
            .map(|(role, title)| (*title, self.name(portfolio.team.member(*role))))
            .collect()
    }

    /// The actor of a recorded change (`user:<id>`, `admin:<id>`, `system`), by name.
    fn actor(&self, actor: Option<&str>) -> String {
        let user = actor
            .and_then(|actor| actor.split_once(':'))
            .and_then(|(_, id)| id.parse::<UserId>().ok());
        match user {
            Some(user) => self.name(user),
            None => "Freshet".to_owned(),
        }
    }

    fn time(&self, at: DateTime<Utc>) -> (String, String) {
        let local = at.with_timezone(&self.zone);
        (
            local.format("%b %-d, %Y, %H:%M").to_string(),
            at.to_rfc3339(),
        )
    }

    fn note(&self, author: UserId, at: DateTime<Utc>, text: &str) -> NoteLine {
        let (at, at_machine) = self.time(at);
        NoteLine {
            author: self.name(author),
            at,
            at_machine,
            text: text.to_owned(),
        }
    }

    /// The portfolio's Notes, newest first.
    pub(crate) fn portfolio_notes(&self) -> Vec<NoteLine> {
        let mut notes: Vec<_> = self
            .changes
            .iter()
            .filter_map(|change| match &change.event {
                Event::PortfolioNoteLogged {
                    author,
                    text,
                    logged_at,
                    ..
                } => Some(self.note(*author, *logged_at, text.as_str())),
                _ => None,
            })
            .collect();
        notes.reverse();
        notes
    }

    /// A ticket's Notes thread, oldest first, as a conversation reads.
    pub(crate) fn ticket_notes(&self, ticket: TicketId) -> Vec<NoteLine> {
        self.changes
            .iter()
            .filter_map(|change| match &change.event {
                Event::TicketNoteLogged {
                    ticket_id,
                    author,
                    text,
                    logged_at,
                    ..
                } if *ticket_id == ticket => Some(self.note(*author, *logged_at, text.as_str())),
                _ => None,
            })
            .collect()
    }

    /// A ticket's review steps: submissions, QA, rounds with the client, revisions.
    pub(crate) fn ticket_review(&self, ticket: TicketId) -> Vec<ReviewLine> {
        self.changes
            .iter()
            .filter_map(|change| {
                let what = match &change.event {
                    Event::CopySubmitted { ticket_id } if *ticket_id == ticket => {
                        "Copy submitted".to_owned()
                    }
                    Event::GraphicsSubmitted { ticket_id } if *ticket_id == ticket => {
                        "Graphics submitted".to_owned()
                    }
                    Event::CopyApproved {
                        ticket_id,
                        qa_skipped,
                    } if *ticket_id == ticket => approved("Copy", *qa_skipped),
                    Event::GraphicsApproved {
                        ticket_id,
                        qa_skipped,
                    } if *ticket_id == ticket => approved("Graphics", *qa_skipped),
                    Event::CopySentBack { ticket_id } if *ticket_id == ticket => {
                        "Copy sent back by QA".to_owned()
                    }
                    Event::GraphicsSentBack { ticket_id } if *ticket_id == ticket => {
                        "Graphics sent back by QA".to_owned()
                    }
                    Event::TicketMovedToPendingApproval { ticket_id } if *ticket_id == ticket => {
                        "Moved to Pending Approval".to_owned()
                    }
                    Event::RevisionsRequested {
                        ticket_id,
                        kind,
                        revision_round,
                    } if *ticket_id == ticket => {
                        format!("Revision round {revision_round}: {}", kind.label())
                    }
                    Event::DeliverableCompleted { ticket_id } if *ticket_id == ticket => {
                        "Completed Deliverable".to_owned()
                    }
                    _ => return None,
                };
                let (at, at_machine) = self.time(change.recorded_at);
                Some(ReviewLine {
                    what,
                    who: self.actor(change.actor.as_deref()),
                    at,
                    at_machine,
                })
            })
            .collect()
    }
}

fn approved(part: &str, qa_skipped: bool) -> String {
    if qa_skipped {
        format!("{part} approved by its author (revision round: no QA)")
    } else {
        format!("{part} approved by QA")
    }
}
