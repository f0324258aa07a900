//! What a task shows its assignee, as the rules ask: the AM's latest Note for the SAS (R6),
//! the Ad Lab link or where to get it (R12), the tickets not yet completed (R20).

use serde::Serialize;

use crate::state::Portfolio;
use crate::status::TicketStatus;
use crate::work::{Task, TaskKind, TicketSummary};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskContext {
    /// R6: the SAS's source of truth, or the warning that the AM has not decided.
    Submission {
        am_note: Option<String>,
        am_decision_missing: bool,
    },
    /// R12: the link to share, or the instruction to ask the Designer for it.
    Share {
        ad_lab_link: AdLabLinkHint,
    },
    /// R20: the tickets that still need moving to Completed Deliverable.
    Implementation {
        open_tickets: Vec<TicketSummary>,
    },
    None,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum AdLabLinkHint {
    Link(String),
    AskTheDesigner,
}

impl AdLabLinkHint {
    pub fn describe(&self) -> &str {
        match self {
            AdLabLinkHint::Link(link) => link,
            AdLabLinkHint::AskTheDesigner => "No Ad Lab link yet: ask the Designer for it",
        }
    }
}

/// The context `task` shows, from the portfolio as it stands now.
pub fn task_context(portfolio: &Portfolio, task: &Task) -> TaskContext {
    match task.kind {
        TaskKind::CreateDeliverables => TaskContext::Submission {
            am_note: portfolio.latest_am_note().map(|note| note.text.to_string()),
            am_decision_missing: task.cycle == portfolio.cycle.number
                && portfolio.status().is_none(),
        },
        TaskKind::ShareDraftedDeliverables => TaskContext::Share {
            ad_lab_link: portfolio
                .current_ad_lab_link()
                .map_or(AdLabLinkHint::AskTheDesigner, |link| {
                    AdLabLinkHint::Link(link.to_string())
                }),
        },
        TaskKind::ImplementNewCreatives => TaskContext::Implementation {
            open_tickets: portfolio
                .ad_sets
                .get(&task.cycle)
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
                .unwrap_or_default(),
        },
        _ => TaskContext::None,
    }
}
