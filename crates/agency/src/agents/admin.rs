//! The Admin: holds between cycles, a new cadence and a new copywriter mid-cycle.

use chrono::{Days, NaiveDate};
use freshet_domain::{Actor, Command, Lifecycle, PortfolioId, Role, UserId};
use uuid::Uuid;

use super::{Agents, Office};
use crate::team::ADMIN;

impl Agents {
    pub(super) async fn admin(
        &mut self,
        office: &mut impl Office,
        id: PortfolioId,
        today: NaiveDate,
    ) {
        let Some(state) = office.portfolio(id).await else {
            return;
        };
        let admin = Actor::admin(ADMIN);
        if let Lifecycle::Paused(since) = state.lifecycle {
            if self.paused.get(&id).is_some_and(|on| today >= *on) {
                self.paused.remove(&id);
                office
                    .send(id, admin, Command::ResumePortfolio { refresh_date: None })
                    .await;
            }
            assert!(since <= today, "paused in the future");
            return;
        }
        let plan = self.plan(&state);
        let cycle = state.cycle.number;
        if let Some(days) = plan.pause_days
            && !state.cycle.is_underway()
            && state.current_ad_set().is_none()
            && state.open_tasks.is_empty()
            && self.done_once.insert((id, cycle, "pause"))
        {
            self.paused.insert(id, today + Days::new(days));
            office.send(id, admin, Command::PausePortfolio).await;
            return;
        }
        if let Some(cadence) = plan.new_cadence
            && state.cycle.is_underway()
            && self.done_once.insert((id, cycle, "cadence"))
        {
            let refresh_date = state.refresh_date();
            let command = Command::Reschedule {
                cadence,
                refresh_date,
            };
            office.send(id, admin, command).await;
        }
        let has_copy_work = state
            .open_tasks
            .values()
            .any(|t| t.role == Role::Copywriter);
        if plan.change_copywriter && has_copy_work && self.done_once.insert((id, cycle, "team")) {
            let mut team = state.team;
            team.copywriter =
                UserId::from_uuid(Uuid::from_u128(team.copywriter.as_uuid().as_u128() ^ 0x77));
            office.send(id, admin, Command::ChangeTeam { team }).await;
        }
    }
}
