//! The import: read, plan, judge every portfolio's commands with the pure `decide` in
//! memory (the dry run), and with `--apply` record the same commands through the
//! `CommandService` at HubSpot's instants, as the importing Admin, one append per portfolio.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use freshet_domain::{
    Actor, Command, Context, Portfolio, RefreshStatus, TicketStatus, UserId, decide,
};
use freshet_service::{CommandService, DatedCommands, ManualClock, ProcessConfig, load_portfolio};
use freshet_store::{EventStore, LogPosition};
use futures::{StreamExt, TryStreamExt, stream};

use crate::error::ImportError;
use crate::mapping::Mapping;
use crate::plan::{self, PortfolioPlan, Step, correlation, ticket_id};
use crate::records::{self, Directory, Refusal};
use crate::table::Table;

/// The exports to import.
#[derive(Clone, Debug)]
pub struct Exports {
    pub portfolios: Table,
    pub tickets: Table,
    pub owners: Option<Table>,
}

/// What an import did, or (dry run) would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub applied: bool,
    pub portfolios_created: usize,
    pub portfolios_changed: usize,
    pub portfolios_unchanged: usize,
    /// New portfolios by the status their cycle continues at ("(empty)" between cycles).
    pub cycles_by_status: BTreeMap<String, usize>,
    pub ad_sets: usize,
    pub tickets_created: usize,
    /// The Freshet people the new portfolios' teams name, by email.
    pub people: BTreeSet<String>,
    pub commands: usize,
    /// Rows Freshet does not take, with file, line and reason.
    pub refused: Vec<Refusal>,
    /// Changes in a newer export that the process cannot make (not applied).
    pub conflicts: Vec<Refusal>,
    /// Where the last event the import wrote stands in the log (read-your-writes).
    pub last_position: Option<LogPosition>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.applied {
            "imported"
        } else {
            "would import (dry run; --apply to import)"
        };
        writeln!(f, "{verb}:")?;
        writeln!(
            f,
            "  portfolios: {} new, {} changed, {} unchanged",
            self.portfolios_created, self.portfolios_changed, self.portfolios_unchanged
        )?;
        for (status, n) in &self.cycles_by_status {
            writeln!(f, "    cycles at {status}: {n}")?;
        }
        writeln!(f, "  Ad Sets: {}", self.ad_sets)?;
        writeln!(f, "  tickets: {} new", self.tickets_created)?;
        writeln!(f, "  people matched by email: {}", self.people.len())?;
        for email in &self.people {
            writeln!(f, "    {email}")?;
        }
        writeln!(f, "  commands: {}", self.commands)?;
        writeln!(f, "refused rows: {}", self.refused.len())?;
        for refusal in &self.refused {
            writeln!(f, "  {refusal}")?;
        }
        writeln!(f, "conflicts (not applied): {}", self.conflicts.len())?;
        for conflict in &self.conflicts {
            writeln!(f, "  {conflict}")?;
        }
        Ok(())
    }
}

/// One portfolio's accepted steps and the tag of this run's keys.
#[derive(Debug)]
struct Planned {
    version: String,
    steps: Vec<Step>,
}

/// Portfolios applied at once: each has its own stream, so they never conflict, and their
/// appends wait together in the store's queue to be committed a batch at a time (group
/// commit): as many at once as a batch holds keeps every batch full.
pub const DEFAULT_IMPORT_CONCURRENCY: usize = 256;

/// Stored portfolios read at once while planning: enough to hide the round trips, few
/// enough to leave the pool's other connections free.
const READS_IN_FLIGHT: usize = 32;

/// Runs imports against one event store, as one Admin.
#[derive(Debug)]
pub struct Importer {
    store: Arc<dyn EventStore>,
    config: ProcessConfig,
    admin: UserId,
    concurrency: usize,
}

impl Importer {
    pub fn new(store: Arc<dyn EventStore>, config: ProcessConfig, admin: UserId) -> Self {
        Self {
            store,
            config,
            admin,
            concurrency: DEFAULT_IMPORT_CONCURRENCY,
        }
    }

    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Reads the exports, plans and judges every portfolio; with `apply`, records them.
    /// `progress(done, total)` is called after each portfolio.
    pub async fn run(
        &self,
        exports: &Exports,
        mapping: &Mapping,
        people: Directory,
        now: DateTime<Utc>,
        apply: bool,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Report, ImportError> {
        let calendar = self.config.calendar;
        let people = match &exports.owners {
            Some(owners) => people.with_owners(owners, mapping)?,
            None => people,
        };
        let (portfolios, mut refused) =
            records::portfolios(&exports.portfolios, mapping, &people, &calendar)?;
        let (tickets, refused_tickets) = records::tickets(&exports.tickets, mapping, &calendar)?;
        let (plans, unplaced) = plan::group(portfolios, tickets, &refused);
        refused.extend(refused_tickets);
        refused.extend(unplaced);
        let mut report = Report {
            applied: apply,
            ..Report::default()
        };
        let total = u64::try_from(plans.len()).unwrap_or(u64::MAX);
        // The stored states are read concurrently (one round trip each); judging is in memory.
        let states: Vec<Option<Portfolio>> = stream::iter(&plans)
            .map(|plan| load_portfolio(self.store.as_ref(), plan.id))
            .buffered(self.concurrency.min(READS_IN_FLIGHT))
            .try_collect()
            .await?;
        let mut accepted = Vec::new();
        for (done, (plan, state)) in plans.iter().zip(states).enumerate() {
            if let Some(steps) = self.one(plan, state, &people, now, &mut report) {
                accepted.push((plan, steps));
            }
            if !apply {
                progress(u64::try_from(done + 1).unwrap_or(u64::MAX), total);
            }
        }
        if apply {
            report.last_position = self.apply(accepted, now, progress).await?;
        }
        report.refused.extend(refused);
        report.refused.sort();
        report.conflicts.sort();
        Ok(report)
    }

    /// Plans and judges one portfolio and counts it in `report`: its steps to apply, if any.
    fn one(
        &self,
        plan: &PortfolioPlan,
        state: Option<Portfolio>,
        people: &Directory,
        now: DateTime<Utc>,
        report: &mut Report,
    ) -> Option<Planned> {
        let (steps, conflicts) = plan::steps(plan, state.as_ref(), now, &self.config.calendar);
        report.conflicts.extend(conflicts);
        let actor = Actor::admin(self.admin);
        if let Err(refusal) = self.judge(plan, state.clone(), &steps, actor) {
            // Its other rows are not taken either: each says why.
            let origins =
                std::iter::once(&plan.record.origin).chain(plan.tickets.iter().map(|t| &t.origin));
            for origin in origins.filter(|o| o.line != refusal.line) {
                report.refused.push(origin.refuse(format!(
                    "not imported: its portfolio is refused at {}:{}",
                    refusal.file, refusal.line
                )));
            }
            report.refused.push(refusal);
            return None;
        }
        let changes = steps.iter().filter(|s| s.command != Command::Tick).count();
        match (&state, changes) {
            (Some(_), 0) => {
                report.portfolios_unchanged += 1;
                return None;
            }
            (Some(_), _) => report.portfolios_changed += 1,
            (None, _) => {
                report.portfolios_created += 1;
                let status = plan
                    .expected_status()
                    .map_or("(empty)", RefreshStatus::label);
                *report
                    .cycles_by_status
                    .entry(status.to_owned())
                    .or_default() += 1;
                let team = plan.record.team;
                for id in [
                    team.account_manager,
                    team.social_ad_specialist,
                    team.copywriter,
                    team.designer,
                    team.team_lead,
                ] {
                    if let Some(email) = people.email_of(id) {
                        report.people.insert(email);
                    }
                }
            }
        }
        let created = steps
            .iter()
            .filter(|s| {
                matches!(
                    s.command,
                    Command::CreateTicket { .. } | Command::CloneTicket { .. }
                )
            })
            .count();
        report.tickets_created += created;
        if state.as_ref().and_then(Portfolio::current_ad_set).is_none() && created > 0 {
            report.ad_sets += 1;
        }
        report.commands += steps.len();
        // A change to an existing portfolio is a new request each run; the plan, made from
        // the current state, never repeats one that was applied.
        let version = state.map_or_else(|| "new".to_owned(), |_| now.timestamp().to_string());
        Some(Planned { version, steps })
    }

    /// Records each accepted portfolio's steps through the service as one append (each
    /// event at its step's instant), `concurrency` portfolios at a time: a portfolio is
    /// imported whole or not at all, and the store commits many portfolios per transaction.
    async fn apply(
        &self,
        accepted: Vec<(&PortfolioPlan, Planned)>,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Option<LogPosition>, ImportError> {
        let total = u64::try_from(accepted.len()).unwrap_or(u64::MAX);
        let done = AtomicU64::new(0);
        let service = CommandService::new(
            Arc::clone(&self.store),
            Arc::new(ManualClock::new(now)),
            self.config,
        );
        let actor = Actor::admin(self.admin);
        let (service, done) = (&service, &done);
        let lasts: Vec<Option<LogPosition>> = stream::iter(accepted)
            .map(|(plan, planned)| async move {
                let record = &plan.record.origin.record;
                let request = DatedCommands {
                    portfolio: plan.id,
                    actor,
                    commands: planned
                        .steps
                        .into_iter()
                        .map(|step| (step.at, step.command))
                        .collect(),
                    idempotency_key: Some(format!("hubspot/{record}/{}", planned.version)),
                    correlation_id: Some(correlation(record)),
                };
                let outcome = service.execute_dated(request).await?;
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                Ok::<_, ImportError>(outcome.result.positions.last().copied())
            })
            .buffer_unordered(self.concurrency.max(1))
            .try_collect()
            .await?;
        Ok(lasts.into_iter().flatten().max())
    }

    /// Decides every step in memory, in order, and checks that the result is what the
    /// export says; the first refusal names its row.
    fn judge(
        &self,
        plan: &PortfolioPlan,
        mut state: Option<Portfolio>,
        steps: &[Step],
        actor: Actor,
    ) -> Result<(), Refusal> {
        for step in steps {
            let context = Context {
                actor,
                now: step.at,
                today: self.config.calendar.today(step.at),
                deadlines: self.config.deadlines,
            };
            let events = decide(state.as_ref(), &step.command, &context).map_err(|error| {
                step.origin.refuse(format!(
                    "Freshet refuses to {}: {error}",
                    step.command.action()
                ))
            })?;
            for event in &events {
                state = Some(
                    Portfolio::evolve(state, event)
                        .map_err(|error| step.origin.refuse(error.to_string()))?,
                );
            }
        }
        let Some(state) = state else {
            return Ok(());
        };
        let origin = &plan.record.origin;
        let expected = plan.expected_status();
        if state.status() != expected {
            return Err(origin.refuse(format!(
                "Creative Refresh Status is {} but its tickets bring Freshet's cycle to {}",
                expected.map_or("(empty)", RefreshStatus::label),
                state.status().map_or("(empty)", RefreshStatus::label),
            )));
        }
        for ticket in &plan.tickets {
            let now = state
                .current_ad_set()
                .and_then(|set| {
                    set.tickets
                        .iter()
                        .find(|t| t.id == ticket_id(&ticket.origin.record))
                })
                .map_or(TicketStatus::InProgress, |t| t.status);
            if now != ticket.status {
                return Err(ticket.origin.refuse(format!(
                    "Ticket status is {} but the process brings it to {now}",
                    ticket.status
                )));
            }
        }
        Ok(())
    }
}
