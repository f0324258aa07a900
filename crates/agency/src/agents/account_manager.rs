//! The AM: confirms the ads run, records the client's decision, shares each review round and
//! answers it for the client (revisions or completions), signs off, and cancels when the
//! client withdraws.

use chrono::{Days, NaiveDate};
use freshet_domain::{
    Actor, AdSet, Command, NoteText, PortfolioId, RefreshStatus, RevisionKind, TaskKind, TicketId,
    TicketStatus,
};

use super::{Agents, Office, open_task};

impl Agents {
    pub(super) async fn account_manager(
        &mut self,
        office: &mut impl Office,
        id: PortfolioId,
        today: NaiveDate,
    ) {
        let Some(state) = office.portfolio(id).await else {
            return;
        };
        let am = Actor::user(state.team.account_manager);
        let confirm: Vec<_> = state
            .open_tasks
            .values()
            .filter(|t| t.kind == TaskKind::ConfirmAdsRunning)
            .map(|t| t.id)
            .collect();
        for task_id in confirm {
            office.send(id, am, Command::CompleteTask { task_id }).await;
        }
        let plan = self.plan(&state);
        let cycle = &state.cycle;
        match cycle.status {
            None if cycle.kicked_off && today >= plan.decide_on => {
                let command = if plan.decline && state.current_ad_set().is_none() {
                    Command::DeclineRefresh
                } else {
                    Command::RequestRefresh {
                        note: NoteText::parse("New assets attached; keep the brand voice.").ok(),
                    }
                };
                office.send(id, am, command).await;
            }
            Some(
                RefreshStatus::RefreshRequestSubmitted
                | RefreshStatus::DeliverablesSubmitted
                | RefreshStatus::CreativesPendingApproval,
            ) if plan.cancel && state.current_ad_set().is_some_and(AdSet::is_complete) => {
                if let Ok(reason) = NoteText::parse("The client withdrew this month.") {
                    office.send(id, am, Command::CancelCycle { reason }).await;
                }
            }
            Some(RefreshStatus::CreativesPendingApproval) => {
                let set = state.current_ad_set().expect("an Ad Set in review");
                // R16: a revised ticket back in Pending Approval cannot be answered for the
                // client before its round is shared: the AM who tries is refused.
                if self.everything()
                    && let Some(early) = set
                        .tickets
                        .iter()
                        .find(|t| t.status == TicketStatus::PendingApproval && !t.is_with_client())
                {
                    let command = Command::CompleteDeliverable {
                        ticket_id: early.id,
                    };
                    office.refused(id, am, command, "ticket-not-shared").await;
                }
                let answered_on =
                    cycle.review_started_on.expect("a review round") + Days::new(plan.client_days);
                if set.count_with(TicketStatus::InProgress) > 0 || today < answered_on {
                    return;
                }
                let pending: Vec<TicketId> = set
                    .tickets
                    .iter()
                    .filter(|t| t.status == TicketStatus::PendingApproval)
                    .map(|t| t.id)
                    .collect();
                if let Some(task_id) = open_task(&state, TaskKind::ShareDraftedDeliverables) {
                    office.send(id, am, Command::CompleteTask { task_id }).await;
                }
                let revisions_so_far = cycle.review_round.saturating_sub(1);
                if revisions_so_far < plan.revision_rounds && !pending.is_empty() {
                    self.answer_with_revisions(office, id, am, &pending).await;
                } else {
                    for ticket_id in pending {
                        if self.roll(0.5) {
                            office
                                .send(id, am, Command::CompleteDeliverable { ticket_id })
                                .await;
                        }
                    }
                    office.send(id, am, Command::SignOff).await;
                }
            }
            _ => {}
        }
    }

    /// The client asks for revisions on at least one pending ticket, and may approve others.
    async fn answer_with_revisions(
        &mut self,
        office: &mut impl Office,
        id: PortfolioId,
        am: Actor,
        pending: &[TicketId],
    ) {
        let kinds = [
            RevisionKind::CopyOnly,
            RevisionKind::GraphicOnly,
            RevisionKind::CopyAndGraphic,
        ];
        let first = self.pick(u32::try_from(pending.len()).unwrap_or(u32::MAX)) as usize;
        for (i, ticket_id) in pending.iter().copied().enumerate() {
            if i == first || self.roll(0.3) {
                let kind = kinds[self.pick(3) as usize];
                if let Ok(feedback) =
                    NoteText::parse("Client: tighten the headline, brighter image.")
                {
                    let command = Command::RequestRevisions {
                        ticket_id,
                        kind,
                        feedback,
                    };
                    office.send(id, am, command).await;
                }
            } else if self.roll(0.3) {
                office
                    .send(id, am, Command::CompleteDeliverable { ticket_id })
                    .await;
            }
        }
    }
}
