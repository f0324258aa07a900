//! The creatives (copy and graphics for each ticket in progress) and the Team Lead (QA).

use freshet_domain::{Actor, AdLabLink, Approval, Command, PortfolioId, TicketStatus};

use uuid::Uuid;

use super::{Agents, Office};

impl Agents {
    pub(super) async fn creatives(&mut self, office: &mut impl Office, id: PortfolioId) {
        let Some(state) = office.portfolio(id).await else {
            return;
        };
        let Some(set) = state.current_ad_set() else {
            return;
        };
        let copywriter = Actor::user(state.team.copywriter);
        let designer = Actor::user(state.team.designer);
        for ticket in set
            .tickets
            .iter()
            .filter(|t| t.status == TicketStatus::InProgress)
        {
            let ticket_id = ticket.id;
            if ticket.copy.awaits_author() && self.roll(0.6) {
                office
                    .send(id, copywriter, Command::SubmitCopy { ticket_id })
                    .await;
            }
            if ticket.graphic.awaits_author() && self.roll(0.6) {
                office
                    .send(id, designer, Command::SubmitGraphics { ticket_id })
                    .await;
            }
        }
        if self.roll(0.05) {
            // The link's text matters to no rule: it draws nothing from the seed.
            let link = format!("https://adlab.example/{}", Uuid::now_v7());
            if let Ok(link) = AdLabLink::parse(&link) {
                office
                    .send(id, designer, Command::UpdateAdLabLink { link })
                    .await;
            }
        }
    }

    pub(super) async fn team_lead(&mut self, office: &mut impl Office, id: PortfolioId) {
        let Some(state) = office.portfolio(id).await else {
            return;
        };
        let Some(set) = state.current_ad_set() else {
            return;
        };
        let lead = Actor::user(state.team.team_lead);
        for ticket in &set.tickets {
            let ticket_id = ticket.id;
            if ticket.copy == Approval::AwaitingQa && self.roll(0.7) {
                office
                    .send(id, lead, Command::ApproveCopy { ticket_id })
                    .await;
            }
            if ticket.graphic == Approval::AwaitingQa && self.roll(0.7) {
                office
                    .send(id, lead, Command::ApproveGraphics { ticket_id })
                    .await;
            }
        }
    }
}
