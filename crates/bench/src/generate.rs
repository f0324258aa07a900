//! A synthetic agency, decided in memory: portfolios live through a year day by day, the
//! scheduler ticks the due ones each morning, and the people (`freshet_agency::Agents`, with
//! everyday habits: the simulation tier's people, without the rare turns) act on what the
//! portfolio shows with seeded random behaviour. Every event comes from
//! `freshet_domain::decide`, so the stored history is one Freshet could have written; nothing
//! goes through the store until it is bulk-loaded.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use freshet_agency::{ADMIN, Agents, Habits, Office, team_of};
use freshet_domain::{
    Actor, AgencyCalendar, Cadence, CadenceUnit, ClientName, Command, Context, Deadlines, Event,
    Portfolio, PortfolioId, UserId, decide, next_trigger_date,
};
use freshet_service::actor_label;
use rand::Rng;
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

#[derive(Debug)]
struct Sim {
    id: PortfolioId,
    stream: String,
    state: Option<Portfolio>,
    version: i64,
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
    agents: Agents,
    desk: Desk,
    start: NaiveDate,
    /// How many portfolios the world will hold: sets how many people share them.
    population: usize,
    pub tally: Tally,
}

/// Where the people act: the portfolios in memory, and the rows their events became.
#[derive(Debug)]
struct Desk {
    deadlines: Deadlines,
    sims: Vec<Sim>,
    index: HashMap<PortfolioId, usize>,
    today: NaiveDate,
    now: DateTime<Utc>,
    out: Vec<Row>,
    tally: Tally,
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
            let rng = world.agents.rng();
            let id = PortfolioId::from_uuid(Uuid::from_u128(rng.random()));
            let refresh_date = start + Days::new(rng.random_range(1..60));
            world.create(id, cadences[i % cadences.len()], refresh_date);
        }
        world
    }

    /// A world without portfolios yet, for `population` of them.
    pub fn empty(population: usize, start: NaiveDate, seed: u64) -> Self {
        let calendar = AgencyCalendar::default();
        Self {
            calendar,
            agents: Agents::new(seed, Habits::Everyday),
            desk: Desk {
                deadlines: Deadlines::default(),
                sims: Vec::with_capacity(population),
                index: HashMap::with_capacity(population),
                today: start,
                now: calendar.noon_on(start),
                out: Vec::new(),
                tally: Tally::default(),
            },
            start,
            population: population.max(1),
            tally: Tally::default(),
        }
    }

    /// A portfolio whose refresh date is `refresh_date`: `next_trigger_date` is then its
    /// kickoff, 15 days before.
    pub fn create(&mut self, id: PortfolioId, cadence: Cadence, refresh_date: NaiveDate) -> usize {
        let index = self.desk.sims.len();
        let total = self.population.max(index + 1);
        let team = team_of(|role| person(index, role, total));
        let client = ClientName::parse(&format!("Client {index:05}"))
            .unwrap_or_else(|_| unreachable!("a short client name is valid"));
        self.desk.sims.push(Sim {
            id,
            stream: id.stream_name(),
            state: None,
            version: 0,
        });
        self.desk.index.insert(id, index);
        self.desk.decide(
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
        self.tally = self.desk.tally;
        index
    }

    pub fn portfolio(&self, index: usize) -> Option<&Portfolio> {
        self.desk.sims.get(index)?.state.as_ref()
    }

    pub fn deadlines(&self) -> Deadlines {
        self.desk.deadlines
    }

    /// The events decided since the last call, in the order they were decided.
    pub fn drain(&mut self) -> Vec<Row> {
        std::mem::take(&mut self.desk.out)
    }

    /// One day: the morning tick of every due portfolio, then each portfolio's people.
    pub fn run_day(&mut self) {
        let desk = &mut self.desk;
        let today = self.start + Days::new(u64::from(desk.tally.days));
        desk.today = today;
        desk.now = self.calendar.noon_on(today);
        for index in 0..desk.sims.len() {
            let id = desk.sims[index].id;
            let due = desk.sims[index]
                .state
                .as_ref()
                .and_then(|state| next_trigger_date(state, &desk.deadlines))
                .is_some_and(|date| date <= today);
            if due {
                desk.decide(index, Actor::System, Command::Tick);
            }
            // The desk answers at once: every future the people make is ready when polled.
            futures::executor::block_on(self.agents.act(desk, id, today));
        }
        desk.tally.days += 1;
        self.tally = desk.tally;
    }
}

impl Desk {
    /// Decides `command` and folds its events; a refusal is counted and changes nothing.
    fn decide(&mut self, index: usize, actor: Actor, command: Command) {
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
}

impl Office for Desk {
    async fn portfolio(&mut self, id: PortfolioId) -> Option<Portfolio> {
        let index = *self.index.get(&id)?;
        self.sims[index].state.clone()
    }

    async fn send(&mut self, id: PortfolioId, actor: Actor, command: Command) {
        if let Some(&index) = self.index.get(&id) {
            self.decide(index, actor, command);
        }
    }

    /// Everyday habits send nothing the rules refuse: counted like any refusal if one came.
    async fn refused(&mut self, id: PortfolioId, actor: Actor, command: Command, _: &'static str) {
        self.send(id, actor, command).await;
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
    eprintln!("generating with seed {seed}");
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
