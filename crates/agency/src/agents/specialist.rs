//! The SAS: creates the tickets (sometimes with a wrong count or a wrong ticket, then fixes
//! it), moves the status to Deliverables Submitted, and closes the cycle after
//! implementation.

use chrono::{Days, NaiveDate};
use freshet_domain::{
    Actor, AdSet, Command, DeliverableCount, FolderName, Portfolio, PortfolioId, RefreshStatus,
    TaskKind, TicketId, TicketStatus, TicketTitle,
};
use uuid::Uuid;

use super::{Agents, Office, Plan, open_task};

impl Agents {
    pub(super) async fn social_ad_specialist(
        &mut self,
        office: &mut impl Office,
        id: PortfolioId,
        today: NaiveDate,
    ) {
        let Some(state) = office.portfolio(id).await else {
            return;
        };
        let plan = self.plan(&state);
        match state.cycle.status {
            Some(RefreshStatus::RefreshRequestSubmitted) if today >= plan.tickets_on => {
                create_tickets(office, &state, plan).await;
            }
            Some(RefreshStatus::CreativesCompletedAndApproved) => {
                let due = state.cycle.approved_on.expect("signed off")
                    + Days::new(plan.implementation_days);
                if today >= due {
                    close(office, &state, plan).await;
                }
            }
            _ => {}
        }
    }
}

/// The first ticket and its clones up to the planned number, the fixes the plan calls for,
/// and the move to Deliverables Submitted.
async fn create_tickets(office: &mut impl Office, state: &Portfolio, plan: Plan) {
    let (id, sas) = (state.id, Actor::user(state.team.social_ad_specialist));
    let created = state.current_ad_set().map_or(0, AdSet::created);
    let first = state
        .current_ad_set()
        .and_then(|set| set.tickets.first())
        .map(|t| t.id);
    let first = match first {
        Some(first) => first,
        None => {
            let ticket_id = TicketId::from_uuid(Uuid::now_v7());
            let folder = format!("{} cycle {}", state.client, state.cycle.number);
            let deliverables = plan.tickets + u32::from(plan.count_too_high);
            let (Ok(title), Ok(folder), Ok(deliverables)) = (
                TicketTitle::parse("Deliverable 1"),
                FolderName::parse(&folder),
                DeliverableCount::new(deliverables),
            ) else {
                return;
            };
            let command = Command::CreateTicket {
                ticket_id,
                title,
                folder,
                deliverables,
            };
            office.send(id, sas, command).await;
            ticket_id
        }
    };
    for n in created.max(1)..plan.tickets {
        clone(office, id, sas, first, &format!("Deliverable {}", n + 1)).await;
    }
    if plan.count_too_high || plan.replace_a_ticket {
        let state = office.portfolio(id).await.expect("the portfolio");
        let set = state.current_ad_set().expect("the tickets just created");
        if plan.count_too_high
            && set.deliverables.get() > plan.tickets
            && let Ok(deliverables) = DeliverableCount::new(plan.tickets)
        {
            let command = Command::CorrectDeliverableCount { deliverables };
            office.send(id, sas, command).await;
        }
        if plan.replace_a_ticket && set.tickets.len() > 1 && set.withdrawn.is_empty() {
            let wrong = set.tickets[set.tickets.len() - 1].id;
            office
                .send(id, sas, Command::WithdrawTicket { ticket_id: wrong })
                .await;
            clone(office, id, sas, first, "Replacement").await;
        }
    }
    if plan.mark_submitted {
        let state = office.portfolio(id).await.expect("the portfolio");
        if let Some(task_id) = open_task(&state, TaskKind::CreateDeliverables) {
            office
                .send(id, sas, Command::CompleteTask { task_id })
                .await;
        }
        office
            .send(id, sas, Command::MarkDeliverablesSubmitted)
            .await;
    }
}

async fn clone(
    office: &mut impl Office,
    id: PortfolioId,
    sas: Actor,
    source: TicketId,
    title: &str,
) {
    let Ok(title) = TicketTitle::parse(title) else {
        return;
    };
    let command = Command::CloneTicket {
        ticket_id: TicketId::from_uuid(Uuid::now_v7()),
        source,
        title,
        folder: None,
        deliverables: None,
    };
    office.send(id, sas, command).await;
}

/// Implementation done: the SAS closes the cycle (by its task or by the status) and, R20,
/// tidies up the tickets the AM did not complete.
async fn close(office: &mut impl Office, state: &Portfolio, plan: Plan) {
    let (id, sas) = (state.id, Actor::user(state.team.social_ad_specialist));
    let closing = state.cycle.number;
    if plan.close_by_task {
        let task_id = open_task(state, TaskKind::ImplementNewCreatives)
            .expect("R17: the implementation task");
        office
            .send(id, sas, Command::CompleteTask { task_id })
            .await;
    } else {
        office
            .send(id, sas, Command::MarkCreativesImplemented)
            .await;
    }
    let Some(state) = office.portfolio(id).await else {
        return;
    };
    let leftovers: Vec<TicketId> = state.ad_sets[&closing]
        .tickets
        .iter()
        .filter(|t| t.status == TicketStatus::PendingApproval)
        .map(|t| t.id)
        .collect();
    for ticket_id in leftovers {
        office
            .send(id, sas, Command::CompleteDeliverable { ticket_id })
            .await;
    }
}
