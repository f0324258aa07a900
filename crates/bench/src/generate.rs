//! A synthetic agency, decided in memory: portfolios live through a year day by day, the
//! scheduler ticks the due ones each morning, and the people act on what the portfolio shows
//! with seeded random behaviour (the same habits as the automation crate's simulated year).
//! Every event comes from `freshet_domain::decide`, so the stored history is one Freshet
//! could have written; nothing goes through the store until it is bulk-loaded.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use freshet_domain::{
    Actor, AdLabLink, AdSet, AgencyCalendar, Approval, Cadence, CadenceUnit, ClientName, Command,
    Context, Deadlines, DeliverableCount, Event, FolderName, NoteText, Portfolio, PortfolioId,
    RefreshStatus, RevisionKind, TaskId, TaskKind, Team, TicketId, TicketStatus, TicketTitle,
    UserId, decide, next_trigger_date,
};
use freshet_service::actor_label;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// An event ready to be stored, in the store's columns.
#[derive(Debug, Clone)]
pub struct Row {
    pub event_id: Uuid,
    pub stream_id: String,
    pub version: i64,
    pub event_type: String,
    pub schema_version: i32,
    /// The payload as JSON text.
    pub payload: String,
    pub recorded_at: DateTime<Utc>,
    pub actor: String,
    pub causation_id: Uuid,
    pub correlation_id: Uuid,
}

/// How one cycle of one portfolio will go, drawn when the cycle is first seen.
#[derive(Clone, Copy, Debug)]
struct Plan {
    decide_on: NaiveDate,
    decline: bool,
    tickets_on: NaiveDate,
    tickets: u32,
    mark_submitted: bool,
    revision_rounds: u32,
    client_days: u64,
    implementation_days: u64,
    close_by_task: bool,
}

#[derive(Debug)]
struct Sim {
    stream: String,
    state: Option<Portfolio>,
    version: i64,
    plans: HashMap<u32, Plan>,
}

/// Counts of what the world did so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub commands: u64,
    pub refused: u64,
    pub events: u64,
    pub tasks: u64,
    pub days: u32,
}

pub const ADMIN: UserId = UserId::from_uuid(Uuid::from_u128(0xad));

/// The people: teams overlap, as in an agency (an AM has about 25 clients).
pub fn person(portfolio: usize, role: u128, portfolios: usize) -> UserId {
    let people = match role {
        1 => portfolios / 25,
        2 => portfolios / 33,
        5 => portfolios / 100,
        _ => portfolios / 50,
    }
    .max(1);
    UserId::from_uuid(Uuid::from_u128(role << 96 | (portfolio % people) as u128))
}

/// Every person of a world of `portfolios` portfolios holding `role` (1 = AM ... 5 = TL).
pub fn people(role: u128, portfolios: usize) -> Vec<UserId> {
    let mut all: Vec<UserId> = (0..portfolios)
        .map(|i| person(i, role, portfolios))
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[derive(Debug)]
pub struct World {
    calendar: AgencyCalendar,
    deadlines: Deadlines,
    rng: StdRng,
    sims: Vec<Sim>,
    start: NaiveDate,
    today: NaiveDate,
    now: DateTime<Utc>,
    out: Vec<Row>,
    /// How many portfolios the world will hold: sets how many people share them.
    population: usize,
    pub tally: Tally,
}

impl World {
    /// `portfolios` new portfolios, created on `start` with refresh dates in its next 60 days
    /// and mixed cadences.
    pub fn new(portfolios: usize, start: NaiveDate, seed: u64) -> Self {
        let mut world = Self::empty(portfolios, start, seed);
        let cadences: Vec<Cadence> = [
            (1, CadenceUnit::Months),
            (2, CadenceUnit::Months),
            (6, CadenceUnit::Weeks),
            (4, CadenceUnit::Weeks),
            (45, CadenceUnit::Days),
            (3, CadenceUnit::Months),
        ]
        .into_iter()
        .filter_map(|(every, unit)| Cadence::new(every, unit).ok())
        .collect();
        for i in 0..portfolios {
            let id = PortfolioId::from_uuid(Uuid::from_u128(world.rng.random()));
            let refresh_date = start + Days::new(world.rng.random_range(1..60));
            world.create(id, cadences[i % cadences.len()], refresh_date);
        }
        world
    }

    /// A world without portfolios yet, for `population` of them.
    pub fn empty(population: usize, start: NaiveDate, seed: u64) -> Self {
        let calendar = AgencyCalendar::default();
        Self {
            calendar,
            deadlines: Deadlines::default(),
            rng: StdRng::seed_from_u64(seed),
            sims: Vec::with_capacity(population),
            start,
            today: start,
            now: calendar.noon_on(start),
            out: Vec::new(),
            population: population.max(1),
            tally: Tally::default(),
        }
    }

    /// A portfolio whose refresh date is `refresh_date`: `next_trigger_date` is then its
    /// kickoff, 15 days before.
    pub fn create(&mut self, id: PortfolioId, cadence: Cadence, refresh_date: NaiveDate) -> usize {
        let i = self.sims.len();
        let total = self.population.max(i + 1);
        let team = Team {
            account_manager: person(i, 1, total),
            social_ad_specialist: person(i, 2, total),
            copywriter: person(i, 3, total),
            designer: person(i, 4, total),
            team_lead: person(i, 5, total),
        };
        let client = ClientName::parse(&format!("Client {i:05}"))
            .unwrap_or_else(|_| unreachable!("a short client name is valid"));
        self.sims.push(Sim {
            stream: id.stream_name(),
            state: None,
            version: 0,
            plans: HashMap::new(),
        });
        let index = i;
        self.send(
            index,
            Actor::admin(ADMIN),
            Command::CreatePortfolio {
                portfolio_id: id,
                client,
                team,
                cadence,
                refresh_date,
            },
        );
        index
    }

    pub fn portfolio(&self, index: usize) -> Option<&Portfolio> {
        self.sims.get(index)?.state.as_ref()
    }

    pub fn deadlines(&self) -> Deadlines {
        self.deadlines
    }

    /// The events decided since the last call, in the order they were decided.
    pub fn drain(&mut self) -> Vec<Row> {
        std::mem::take(&mut self.out)
    }

    /// One day: the morning tick of every due portfolio, then each portfolio's people.
    pub fn run_day(&mut self) {
        self.today = self.start + Days::new(u64::from(self.tally.days));
        self.now = self.calendar.noon_on(self.today);
        for index in 0..self.sims.len() {
            let due = self
                .sims
                .get(index)
                .and_then(|sim| sim.state.as_ref())
                .and_then(|state| next_trigger_date(state, &self.deadlines))
                .is_some_and(|date| date <= self.today);
            if due {
                self.send(index, Actor::System, Command::Tick);
            }
            self.creatives(index);
            self.team_lead(index);
            self.account_manager(index);
            self.social_ad_specialist(index);
        }
        self.tally.days += 1;
    }

    /// Decides `command` and folds its events; a refusal is counted and changes nothing.
    fn send(&mut self, index: usize, actor: Actor, command: Command) {
        // Every command a little later than the last, so recorded times are distinct.
        self.now += TimeDelta::milliseconds(1);
        let context = Context {
            actor,
            now: self.now,
            today: self.today,
            deadlines: self.deadlines,
        };
        let Some(sim) = self.sims.get_mut(index) else {
            return;
        };
        self.tally.commands += 1;
        let events = match decide(sim.state.as_ref(), &command, &context) {
            Ok(events) => events,
            Err(_) => {
                self.tally.refused += 1;
                return;
            }
        };
        let command_id = Uuid::now_v7();
        let actor = actor_label(actor);
        for event in &events {
            match Portfolio::evolve(sim.state.take(), event) {
                Ok(next) => sim.state = Some(next),
                Err(_) => unreachable!("decide only emits events its state can fold"),
            }
            sim.version += 1;
            if matches!(event, Event::TaskAssigned { .. }) {
                self.tally.tasks += 1;
            }
            let encoded = event.encode();
            self.out.push(Row {
                event_id: Uuid::now_v7(),
                stream_id: sim.stream.clone(),
                version: sim.version,
                event_type: encoded.event_type,
                schema_version: encoded.schema_version,
                payload: encoded.payload.to_string(),
                recorded_at: self.now,
                actor: actor.clone(),
                causation_id: command_id,
                correlation_id: command_id,
            });
        }
        self.tally.events += events.len() as u64;
    }

    fn roll(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability)
    }

    fn pick(&mut self, below: u32) -> u32 {
        self.rng.random_range(0..below.max(1))
    }

    fn state(&self, index: usize) -> Option<&Portfolio> {
        self.sims.get(index)?.state.as_ref()
    }

    fn plan(&mut self, index: usize) -> Option<Plan> {
        let state = self.state(index)?;
        let (cycle, refresh) = (state.cycle.number, state.refresh_date());
        if let Some(plan) = self.sims[index].plans.get(&cycle) {
            return Some(*plan);
        }
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
        };
        self.sims[index].plans.insert(cycle, plan);
        Some(plan)
    }

    fn creatives(&mut self, index: usize) {
        let Some(state) = self.state(index) else {
            return;
        };
        let (copywriter, designer) = (state.team.copywriter, state.team.designer);
        let Some(set) = state.current_ad_set() else {
            return;
        };
        let work: Vec<(TicketId, bool, bool)> = set
            .tickets
            .iter()
            .filter(|t| t.status == TicketStatus::InProgress)
            .map(|t| (t.id, t.copy.awaits_author(), t.graphic.awaits_author()))
            .collect();
        for (ticket_id, copy, graphic) in work {
            if copy && self.roll(0.6) {
                self.send(
                    index,
                    Actor::user(copywriter),
                    Command::SubmitCopy { ticket_id },
                );
            }
            if graphic && self.roll(0.6) {
                self.send(
                    index,
                    Actor::user(designer),
                    Command::SubmitGraphics { ticket_id },
                );
            }
        }
        if self.roll(0.05) {
            let n: u32 = self.rng.random();
            if let Ok(link) = AdLabLink::parse(&format!("https://adlab.example/{n:08x}")) {
                self.send(
                    index,
                    Actor::user(designer),
                    Command::UpdateAdLabLink { link },
                );
            }
        }
    }

    fn team_lead(&mut self, index: usize) {
        let Some(state) = self.state(index) else {
            return;
        };
        let lead = state.team.team_lead;
        let Some(set) = state.current_ad_set() else {
            return;
        };
        let work: Vec<(TicketId, bool, bool)> = set
            .tickets
            .iter()
            .map(|t| {
                (
                    t.id,
                    t.copy == Approval::AwaitingQa,
                    t.graphic == Approval::AwaitingQa,
                )
            })
            .collect();
        for (ticket_id, copy, graphic) in work {
            if copy && self.roll(0.7) {
                self.send(index, Actor::user(lead), Command::ApproveCopy { ticket_id });
            }
            if graphic && self.roll(0.7) {
                self.send(
                    index,
                    Actor::user(lead),
                    Command::ApproveGraphics { ticket_id },
                );
            }
        }
    }

    fn open_task(&self, index: usize, kind: TaskKind) -> Option<TaskId> {
        self.state(index)?
            .open_tasks
            .values()
            .find(|t| t.kind == kind)
            .map(|t| t.id)
    }

    fn account_manager(&mut self, index: usize) {
        let Some(state) = self.state(index) else {
            return;
        };
        let am = Actor::user(state.team.account_manager);
        let confirm: Vec<TaskId> = state
            .open_tasks
            .values()
            .filter(|t| t.kind == TaskKind::ConfirmAdsRunning)
            .map(|t| t.id)
            .collect();
        for task_id in confirm {
            self.send(index, am, Command::CompleteTask { task_id });
        }
        let Some(plan) = self.plan(index) else {
            return;
        };
        let today = self.today;
        let Some(state) = self.state(index) else {
            return;
        };
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
                self.send(index, am, command);
            }
            Some(RefreshStatus::CreativesPendingApproval) => {
                let Some(set) = state.current_ad_set() else {
                    return;
                };
                let Some(started) = cycle.review_started_on else {
                    return;
                };
                if set.count_with(TicketStatus::InProgress) > 0
                    || today < started + Days::new(plan.client_days)
                {
                    return;
                }
                let pending: Vec<TicketId> = set
                    .tickets
                    .iter()
                    .filter(|t| t.status == TicketStatus::PendingApproval)
                    .map(|t| t.id)
                    .collect();
                let revisions_so_far = cycle.review_round.saturating_sub(1);
                if let Some(task_id) = self.open_task(index, TaskKind::ShareDraftedDeliverables) {
                    self.send(index, am, Command::CompleteTask { task_id });
                }
                if revisions_so_far < plan.revision_rounds && !pending.is_empty() {
                    let kinds = [
                        RevisionKind::CopyOnly,
                        RevisionKind::GraphicOnly,
                        RevisionKind::CopyAndGraphic,
                    ];
                    let first = self.pick(u32::try_from(pending.len()).unwrap_or(1)) as usize;
                    for (i, ticket_id) in pending.into_iter().enumerate() {
                        if i == first || self.roll(0.3) {
                            let kind = kinds[self.pick(3) as usize];
                            if let Ok(feedback) =
                                NoteText::parse("Client: tighten the headline, brighter image.")
                            {
                                self.send(
                                    index,
                                    am,
                                    Command::RequestRevisions {
                                        ticket_id,
                                        kind,
                                        feedback,
                                    },
                                );
                            }
                        } else if self.roll(0.3) {
                            self.send(index, am, Command::CompleteDeliverable { ticket_id });
                        }
                    }
                } else {
                    for ticket_id in pending {
                        if self.roll(0.5) {
                            self.send(index, am, Command::CompleteDeliverable { ticket_id });
                        }
                    }
                    self.send(index, am, Command::SignOff);
                }
            }
            _ => {}
        }
    }

    fn social_ad_specialist(&mut self, index: usize) {
        let Some(plan) = self.plan(index) else {
            return;
        };
        let today = self.today;
        let Some(state) = self.state(index) else {
            return;
        };
        let sas = Actor::user(state.team.social_ad_specialist);
        let cycle = state.cycle.clone();
        match cycle.status {
            Some(RefreshStatus::RefreshRequestSubmitted) if today >= plan.tickets_on => {
                let created = state.current_ad_set().map_or(0, AdSet::created);
                let first = state
                    .current_ad_set()
                    .and_then(|set| set.tickets.first())
                    .map(|t| t.id);
                let folder = format!("{} cycle {}", state.client, cycle.number);
                let first = match first {
                    Some(first) => first,
                    None => {
                        let ticket_id = TicketId::from_uuid(Uuid::now_v7());
                        let (Ok(title), Ok(folder), Ok(deliverables)) = (
                            TicketTitle::parse("Deliverable 1"),
                            FolderName::parse(&folder),
                            DeliverableCount::new(plan.tickets),
                        ) else {
                            return;
                        };
                        self.send(
                            index,
                            sas,
                            Command::CreateTicket {
                                ticket_id,
                                title,
                                folder,
                                deliverables,
                            },
                        );
                        ticket_id
                    }
                };
                for n in created.max(1)..plan.tickets {
                    let Ok(title) = TicketTitle::parse(&format!("Deliverable {}", n + 1)) else {
                        continue;
                    };
                    self.send(
                        index,
                        sas,
                        Command::CloneTicket {
                            ticket_id: TicketId::from_uuid(Uuid::now_v7()),
                            source: first,
                            title,
                            folder: None,
                            deliverables: None,
                        },
                    );
                }
                if plan.mark_submitted {
                    if let Some(task_id) = self.open_task(index, TaskKind::CreateDeliverables) {
                        self.send(index, sas, Command::CompleteTask { task_id });
                    }
                    self.send(index, sas, Command::MarkDeliverablesSubmitted);
                }
            }
            Some(RefreshStatus::CreativesCompletedAndApproved) => {
                let Some(approved_on) = cycle.approved_on else {
                    return;
                };
                if today < approved_on + Days::new(plan.implementation_days) {
                    return;
                }
                let closing = cycle.number;
                match self.open_task(index, TaskKind::ImplementNewCreatives) {
                    Some(task_id) if plan.close_by_task => {
                        self.send(index, sas, Command::CompleteTask { task_id });
                    }
                    _ => self.send(index, sas, Command::MarkCreativesImplemented),
                }
                // R20: the SAS tidies up the tickets the AM did not complete.
                let leftovers: Vec<TicketId> = self
                    .state(index)
                    .and_then(|s| s.ad_sets.get(&closing))
                    .map(|set| {
                        set.tickets
                            .iter()
                            .filter(|t| t.status == TicketStatus::PendingApproval)
                            .map(|t| t.id)
                            .collect()
                    })
                    .unwrap_or_default();
                for ticket_id in leftovers {
                    self.send(index, sas, Command::CompleteDeliverable { ticket_id });
                }
            }
            _ => {}
        }
    }
}

/// Generates the history of `portfolios` portfolios over up to a year, stopping once
/// `max_events` events (exactly) or `max_tasks` assigned tasks were decided.
pub fn history(
    portfolios: usize,
    start: NaiveDate,
    seed: u64,
    max_events: u64,
    max_tasks: u64,
) -> (Vec<Row>, Tally) {
    let mut world = World::new(portfolios, start, seed);
    let mut rows = world.drain();
    while world.tally.days < 365
        && (rows.len() as u64) < max_events
        && world.tally.tasks < max_tasks
    {
        world.run_day();
        rows.append(&mut world.drain());
    }
    // Cutting a suffix of the global order leaves every stream a whole prefix of itself.
    rows.truncate(usize::try_from(max_events).unwrap_or(usize::MAX));
    (rows, world.tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_world_lives_through_cycles_without_refusals() {
        let start = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
        let (rows, tally) = history(20, start, 7, u64::MAX, u64::MAX);
        assert_eq!(tally.days, 365);
        assert_eq!(tally.refused, 0, "{tally:?}");
        assert!(rows.iter().any(|r| r.event_type == "CreativesImplemented"));
        assert!(rows.iter().any(|r| r.event_type == "RevisionsRequested"));
        let mut versions: HashMap<&str, i64> = HashMap::new();
        for row in &rows {
            let last = versions.entry(&row.stream_id).or_default();
            assert_eq!(row.version, *last + 1, "versions are contiguous per stream");
            *last = row.version;
        }
    }

    #[test]
    fn a_history_stops_at_exactly_the_events_asked_for() {
        let start = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
        let (rows, _) = history(50, start, 1, 3_000, u64::MAX);
        assert_eq!(rows.len(), 3_000);
    }
}

#[cfg(test)]
mod density {
    use super::*;

    #[test]
    #[ignore = "prints the generator's density"]
    fn events_per_portfolio_year() {
        let start = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
        let (rows, tally) = history(500, start, 3, u64::MAX, u64::MAX);
        let mut kinds: HashMap<&str, usize> = HashMap::new();
        for row in &rows {
            *kinds.entry(&row.event_type).or_default() += 1;
        }
        let mut kinds: Vec<_> = kinds.into_iter().collect();
        kinds.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        eprintln!(
            "{} events per portfolio-year; {tally:?}; {kinds:?}",
            rows.len() / 500
        );
    }
}
