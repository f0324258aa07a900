//! The people: each day they look at the portfolio and do their part, sometimes late.

use chrono::{Days, NaiveDate};
use freshet_domain::*;
use uuid::Uuid;

use crate::world::Simulation;

/// How one cycle of one portfolio will go, drawn when the cycle is first seen.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// When the AM records the client's decision (sometimes after the refresh date).
    pub decide_on: NaiveDate,
    pub decline: bool,
    /// When the SAS creates the tickets (relative to the refresh date).
    pub tickets_on: NaiveDate,
    pub tickets: u32,
    /// The SAS moves the status to Deliverables Submitted (or forgets).
    pub mark_submitted: bool,
    /// Revision rounds the client will ask for before signing off.
    pub revision_rounds: u32,
    /// Days the client takes to answer each review round.
    pub client_days: u64,
    /// Days between sign-off and implementation.
    pub implementation_days: u64,
    /// Close by completing the implementation task (else by moving the status).
    pub close_by_task: bool,
    /// The SAS first sets the Number of Deliverables one too high, then corrects it.
    pub count_too_high: bool,
    /// The SAS withdraws a wrong ticket and clones a replacement.
    pub replace_a_ticket: bool,
    /// The client withdraws once the tickets exist: the AM cancels the cycle.
    pub cancel: bool,
    /// The Admin moves the copywriting to another person mid-cycle.
    pub change_copywriter: bool,
    /// Between cycles, the Admin puts the client on hold for this many days.
    pub pause_days: Option<u64>,
    /// Mid-cycle, the Admin agrees a new cadence with the client (weekly and daily ones).
    pub new_cadence: Option<Cadence>,
}

impl Simulation {
    fn plan(&self, state: &Portfolio) -> Plan {
        let key = (state.id, state.cycle.number);
        if let Some(plan) = self.plans.lock().unwrap().get(&key) {
            return *plan;
        }
        let refresh = state.refresh_date();
        let plan = Plan {
            decide_on: refresh - Days::new(15) + Days::new(u64::from(self.pick(19))),
            decline: self.roll(0.25),
            tickets_on: refresh - Days::new(2) + Days::new(u64::from(self.pick(6))),
            tickets: 1 + self.pick(10),
            mark_submitted: self.roll(0.8),
            revision_rounds: self.pick(4),
            client_days: u64::from(self.pick(10)),
            implementation_days: u64::from(self.pick(6)),
            close_by_task: self.roll(0.5),
            count_too_high: self.roll(0.1),
            replace_a_ticket: self.roll(0.1),
            cancel: self.roll(0.05),
            change_copywriter: self.roll(0.05),
            pause_days: self.roll(0.04).then(|| 20 + u64::from(self.pick(40))),
            new_cadence: (state.schedule.cadence.unit() != CadenceUnit::Months && self.roll(0.15))
                .then(|| Cadence::new(3 + self.pick(4) as u16, CadenceUnit::Weeks).unwrap()),
        };
        self.plans.lock().unwrap().insert(key, plan);
        plan
    }

    /// One day of one portfolio: the creatives, the Team Lead, the AM, then the SAS.
    pub(super) async fn act(&self, portfolio: PortfolioId, today: NaiveDate) {
        self.admin(portfolio, today).await;
        self.creatives(portfolio).await;
        self.team_lead(portfolio).await;
        self.account_manager(portfolio, today).await;
        self.social_ad_specialist(portfolio, today).await;
    }

    /// The Admin: team changes mid-cycle, and holds between cycles.
    async fn admin(&self, portfolio: PortfolioId, today: NaiveDate) {
        let state = self.state(portfolio).await;
        if let Lifecycle::Paused(since) = state.lifecycle {
            let resume_on = self.paused.lock().unwrap().get(&portfolio).copied();
            if resume_on.is_some_and(|on| today >= on) {
                self.paused.lock().unwrap().remove(&portfolio);
                self.send_as_admin(portfolio, Command::ResumePortfolio { refresh_date: None })
                    .await;
            }
            assert!(since <= today);
            return;
        }
        let plan = self.plan(&state);
        if let Some(days) = plan.pause_days
            && !state.cycle.is_underway()
            && state.current_ad_set().is_none()
            && state.open_tasks.is_empty()
            && self.first_time(portfolio, state.cycle.number, "pause")
        {
            self.paused
                .lock()
                .unwrap()
                .insert(portfolio, today + Days::new(days));
            self.send_as_admin(portfolio, Command::PausePortfolio).await;
            return;
        }
        if let Some(cadence) = plan.new_cadence
            && state.cycle.is_underway()
            && self.first_time(portfolio, state.cycle.number, "cadence")
        {
            let refresh_date = state.refresh_date();
            self.send_as_admin(
                portfolio,
                Command::Reschedule {
                    cadence,
                    refresh_date,
                },
            )
            .await;
        }
        let has_copy_work = state
            .open_tasks
            .values()
            .any(|t| t.role == Role::Copywriter);
        if plan.change_copywriter
            && has_copy_work
            && self.first_time(portfolio, state.cycle.number, "team")
        {
            let mut team = state.team;
            team.copywriter =
                UserId::from_uuid(Uuid::from_u128(team.copywriter.as_uuid().as_u128() ^ 0x77));
            self.send_as_admin(portfolio, Command::ChangeTeam { team })
                .await;
        }
    }

    async fn creatives(&self, portfolio: PortfolioId) {
        let state = self.state(portfolio).await;
        let Some(set) = state.current_ad_set() else {
            return;
        };
        for ticket in set
            .tickets
            .iter()
            .filter(|t| t.status == TicketStatus::InProgress)
        {
            if ticket.copy.awaits_author() && self.roll(0.6) {
                self.send(
                    portfolio,
                    state.team.copywriter,
                    Command::SubmitCopy {
                        ticket_id: ticket.id,
                    },
                )
                .await;
            }
            if ticket.graphic.awaits_author() && self.roll(0.6) {
                self.send(
                    portfolio,
                    state.team.designer,
                    Command::SubmitGraphics {
                        ticket_id: ticket.id,
                    },
                )
                .await;
            }
        }
        if self.roll(0.05) {
            let link =
                AdLabLink::parse(&format!("https://adlab.example/{}", Uuid::now_v7())).unwrap();
            self.send(
                portfolio,
                state.team.designer,
                Command::UpdateAdLabLink { link },
            )
            .await;
        }
    }

    async fn team_lead(&self, portfolio: PortfolioId) {
        let state = self.state(portfolio).await;
        let Some(set) = state.current_ad_set() else {
            return;
        };
        for ticket in &set.tickets {
            if ticket.copy == Approval::AwaitingQa && self.roll(0.7) {
                self.send(
                    portfolio,
                    state.team.team_lead,
                    Command::ApproveCopy {
                        ticket_id: ticket.id,
                    },
                )
                .await;
            }
            if ticket.graphic == Approval::AwaitingQa && self.roll(0.7) {
                self.send(
                    portfolio,
                    state.team.team_lead,
                    Command::ApproveGraphics {
                        ticket_id: ticket.id,
                    },
                )
                .await;
            }
        }
    }

    async fn account_manager(&self, portfolio: PortfolioId, today: NaiveDate) {
        let state = self.state(portfolio).await;
        let am = state.team.account_manager;
        for task in state
            .open_tasks
            .values()
            .filter(|t| t.kind == TaskKind::ConfirmAdsRunning)
        {
            self.send(portfolio, am, Command::CompleteTask { task_id: task.id })
                .await;
        }
        let plan = self.plan(&state);
        let cycle = &state.cycle;
        match cycle.status {
            None if cycle.kicked_off && today >= plan.decide_on => {
                let command = if plan.decline && state.current_ad_set().is_none() {
                    Command::DeclineRefresh
                } else {
                    Command::RequestRefresh {
                        note: Some(
                            NoteText::parse("New assets attached; keep the brand voice.").unwrap(),
                        ),
                    }
                };
                self.send(portfolio, am, command).await;
            }
            Some(
                RefreshStatus::RefreshRequestSubmitted
                | RefreshStatus::DeliverablesSubmitted
                | RefreshStatus::CreativesPendingApproval,
            ) if plan.cancel && state.current_ad_set().is_some_and(AdSet::is_complete) => {
                let reason = NoteText::parse("The client withdrew this month.").unwrap();
                self.send(portfolio, am, Command::CancelCycle { reason })
                    .await;
            }
            Some(RefreshStatus::CreativesPendingApproval) => {
                let set = state.current_ad_set().expect("an Ad Set in review");
                // R16: a revised ticket back in Pending Approval cannot be answered for the
                // client before its round is shared: the AM who tries is refused.
                if let Some(early) = set
                    .tickets
                    .iter()
                    .find(|t| t.status == TicketStatus::PendingApproval && !t.is_with_client())
                {
                    self.refused(
                        portfolio,
                        am,
                        Command::CompleteDeliverable {
                            ticket_id: early.id,
                        },
                        "ticket-not-shared",
                    )
                    .await;
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
                if let Some(share) = state
                    .open_tasks
                    .values()
                    .find(|t| t.kind == TaskKind::ShareDraftedDeliverables)
                {
                    self.send(portfolio, am, Command::CompleteTask { task_id: share.id })
                        .await;
                }
                let revisions_so_far = cycle.review_round - 1;
                if revisions_so_far < plan.revision_rounds && !pending.is_empty() {
                    let kinds = [
                        RevisionKind::CopyOnly,
                        RevisionKind::GraphicOnly,
                        RevisionKind::CopyAndGraphic,
                    ];
                    let first = self.pick(u32::try_from(pending.len()).unwrap()) as usize;
                    for (i, ticket) in pending.iter().enumerate() {
                        if i == first || self.roll(0.3) {
                            let kind = kinds[self.pick(3) as usize];
                            let feedback =
                                NoteText::parse("Client: tighten the headline, brighter image.")
                                    .unwrap();
                            self.send(
                                portfolio,
                                am,
                                Command::RequestRevisions {
                                    ticket_id: *ticket,
                                    kind,
                                    feedback,
                                },
                            )
                            .await;
                        } else if self.roll(0.3) {
                            self.send(
                                portfolio,
                                am,
                                Command::CompleteDeliverable { ticket_id: *ticket },
                            )
                            .await;
                        }
                    }
                } else {
                    for ticket in pending {
                        if self.roll(0.5) {
                            self.send(
                                portfolio,
                                am,
                                Command::CompleteDeliverable { ticket_id: ticket },
                            )
                            .await;
                        }
                    }
                    self.send(portfolio, am, Command::SignOff).await;
                }
            }
            _ => {}
        }
    }

    async fn social_ad_specialist(&self, portfolio: PortfolioId, today: NaiveDate) {
        let state = self.state(portfolio).await;
        let sas = state.team.social_ad_specialist;
        let plan = self.plan(&state);
        let cycle = &state.cycle;
        match cycle.status {
            Some(RefreshStatus::RefreshRequestSubmitted) if today >= plan.tickets_on => {
                let created = state.current_ad_set().map_or(0, AdSet::created);
                let first = state.current_ad_set().map(|set| set.tickets[0].id);
                let first = match first {
                    Some(first) => first,
                    None => {
                        let id = TicketId::from_uuid(Uuid::now_v7());
                        let command = Command::CreateTicket {
                            ticket_id: id,
                            title: TicketTitle::parse("Deliverable 1").unwrap(),
                            folder: FolderName::parse(&format!(
                                "{} cycle {}",
                                state.client, cycle.number
                            ))
                            .unwrap(),
                            deliverables: DeliverableCount::new(
                                plan.tickets + u32::from(plan.count_too_high),
                            )
                            .unwrap(),
                        };
                        self.send(portfolio, sas, command).await;
                        id
                    }
                };
                for n in created.max(1)..plan.tickets {
                    let command = Command::CloneTicket {
                        ticket_id: TicketId::from_uuid(Uuid::now_v7()),
                        source: first,
                        title: TicketTitle::parse(&format!("Deliverable {}", n + 1)).unwrap(),
                        folder: None,
                        deliverables: None,
                    };
                    self.send(portfolio, sas, command).await;
                }
                let state = self.state(portfolio).await;
                let set = state.current_ad_set().expect("the tickets just created");
                if plan.count_too_high && set.deliverables.get() > plan.tickets {
                    let deliverables = DeliverableCount::new(plan.tickets).unwrap();
                    self.send(
                        portfolio,
                        sas,
                        Command::CorrectDeliverableCount { deliverables },
                    )
                    .await;
                }
                if plan.replace_a_ticket && set.tickets.len() > 1 && set.withdrawn.is_empty() {
                    let wrong = set.tickets[set.tickets.len() - 1].id;
                    self.send(portfolio, sas, Command::WithdrawTicket { ticket_id: wrong })
                        .await;
                    let command = Command::CloneTicket {
                        ticket_id: TicketId::from_uuid(Uuid::now_v7()),
                        source: first,
                        title: TicketTitle::parse("Replacement").unwrap(),
                        folder: None,
                        deliverables: None,
                    };
                    self.send(portfolio, sas, command).await;
                }
                if plan.mark_submitted {
                    let state = self.state(portfolio).await;
                    if let Some(task) = state
                        .open_tasks
                        .values()
                        .find(|t| t.kind == TaskKind::CreateDeliverables)
                    {
                        self.send(portfolio, sas, Command::CompleteTask { task_id: task.id })
                            .await;
                    }
                    self.send(portfolio, sas, Command::MarkDeliverablesSubmitted)
                        .await;
                }
            }
            Some(RefreshStatus::CreativesCompletedAndApproved) => {
                let due =
                    cycle.approved_on.expect("signed off") + Days::new(plan.implementation_days);
                if today < due {
                    return;
                }
                let closing = cycle.number;
                if plan.close_by_task {
                    let task = state
                        .open_tasks
                        .values()
                        .find(|t| t.kind == TaskKind::ImplementNewCreatives)
                        .expect("R17: the implementation task");
                    self.send(portfolio, sas, Command::CompleteTask { task_id: task.id })
                        .await;
                } else {
                    self.send(portfolio, sas, Command::MarkCreativesImplemented)
                        .await;
                }
                // R20: the SAS tidies up the tickets the AM did not complete.
                let state = self.state(portfolio).await;
                let leftovers: Vec<TicketId> = state.ad_sets[&closing]
                    .tickets
                    .iter()
                    .filter(|t| t.status == TicketStatus::PendingApproval)
                    .map(|t| t.id)
                    .collect();
                for ticket in leftovers {
                    self.send(
                        portfolio,
                        sas,
                        Command::CompleteDeliverable { ticket_id: ticket },
                    )
                    .await;
                }
            }
            _ => {}
        }
    }
}
