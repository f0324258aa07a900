//! From records to the process's own commands: which tickets form each portfolio's current
//! Ad Set, and the commands (with the instant each happened at) that take the portfolio
//! from where Freshet has it (nowhere, for a new one) to where the export has it. The
//! domain's `decide` then judges every one of them, so R7 and the other invariants are
//! checked by the one implementation the process uses.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Utc};
use freshet_domain::{
    AgencyCalendar, Approval, Command, NoteText, Portfolio, PortfolioId, RefreshStatus,
    RevisionKind, Ticket, TicketId, TicketStatus, work::KICKOFF_LEAD_DAYS,
};
use uuid::Uuid;

use crate::records::{Origin, PortfolioRecord, Refusal, TicketRecord};

/// Freshet's ids for HubSpot's records: derived, so a second import finds the same ones.
const NAMESPACE: Uuid = Uuid::from_u128(0x6d1e_4a51_97a3_4c8e_9f0b_2b1f_6c2d_8e11);

pub fn portfolio_id(record: &str) -> PortfolioId {
    PortfolioId::from_uuid(Uuid::new_v5(
        &NAMESPACE,
        format!("hubspot:creative-portfolio:{record}").as_bytes(),
    ))
}

pub fn ticket_id(record: &str) -> TicketId {
    TicketId::from_uuid(Uuid::new_v5(
        &NAMESPACE,
        format!("hubspot:ticket:{record}").as_bytes(),
    ))
}

/// The request every command of one HubSpot record belongs to (B2's "why").
pub fn correlation(record: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("hubspot:import:{record}").as_bytes())
}

/// One portfolio and the tickets of its current Ad Set, oldest first.
#[derive(Clone, Debug)]
pub struct PortfolioPlan {
    pub id: PortfolioId,
    pub record: PortfolioRecord,
    pub tickets: Vec<TicketRecord>,
}

impl PortfolioPlan {
    /// The status Freshet shows once the import is done: a closed cycle (declined or
    /// implemented) is empty in Freshet, its date already the next one (HubSpot moved it).
    pub fn expected_status(&self) -> Option<RefreshStatus> {
        match self.record.status {
            Some(RefreshStatus::NoRefreshRequested | RefreshStatus::CreativesImplemented) => None,
            other => other,
        }
    }
}

/// Puts each ticket with its portfolio; refuses those without one, those of an earlier
/// cycle's Ad Set, and those of a portfolio that was refused.
pub fn group(
    portfolios: Vec<PortfolioRecord>,
    tickets: Vec<TicketRecord>,
    refused_portfolios: &[Refusal],
) -> (Vec<PortfolioPlan>, Vec<Refusal>) {
    let mut refused = Vec::new();
    let mut by_record: BTreeMap<String, Vec<TicketRecord>> = BTreeMap::new();
    for ticket in tickets {
        by_record
            .entry(ticket.portfolio.clone())
            .or_default()
            .push(ticket);
    }
    let mut plans = Vec::new();
    for record in portfolios {
        let mut tickets = by_record.remove(&record.origin.record).unwrap_or_default();
        tickets.sort_by_key(|t| (t.created, t.origin.line));
        let plan = PortfolioPlan {
            id: portfolio_id(&record.origin.record),
            record,
            tickets: Vec::new(),
        };
        let cycle_open = plan.expected_status().is_some();
        // The current Ad Set is the folder of the newest ticket; older folders are history.
        let current = tickets
            .last()
            .map(|t| t.folder.clone())
            .filter(|_| cycle_open);
        let (current, earlier): (Vec<_>, Vec<_>) = tickets
            .into_iter()
            .partition(|t| Some(&t.folder) == current.as_ref());
        for ticket in earlier {
            refused.push(ticket.origin.refuse(if cycle_open {
                format!(
                    "belongs to an earlier Ad Set (folder \"{}\"); Freshet imports the current cycle's Ad Set only",
                    ticket.folder
                )
            } else {
                "its portfolio has no cycle under way, so the ticket is of an earlier cycle; Freshet imports the current cycle's Ad Set only".to_owned()
            }));
        }
        plans.push(PortfolioPlan {
            tickets: current,
            ..plan
        });
    }
    for (record, tickets) in by_record {
        let why = refused_portfolios
            .iter()
            .find(|r| r.record == record)
            .map_or_else(
                || {
                    format!(
                        "its Creative Portfolio (record {record}) is not in the portfolios file"
                    )
                },
                |r| {
                    format!(
                        "its Creative Portfolio (record {record}) was refused ({}:{})",
                        r.file, r.line
                    )
                },
            );
        refused.extend(tickets.iter().map(|t| t.origin.refuse(why.clone())));
    }
    (plans, refused)
}

/// One command of the import, when it happened, and the row it comes from.
#[derive(Clone, Debug)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub command: Command,
    pub origin: Origin,
}

/// Hands out instants: HubSpot's own (never before the previous step, never after `now`)
/// for a new portfolio, `now` for a change to one Freshet already has.
struct Timeline {
    last: DateTime<Utc>,
    now: DateTime<Utc>,
    historical: bool,
}

impl Timeline {
    fn at(&mut self, wanted: DateTime<Utc>) -> DateTime<Utc> {
        if self.historical {
            self.last = wanted.max(self.last).min(self.now);
        } else {
            self.last = self.now;
        }
        self.last
    }
}

/// How far a cycle has come, for "forward only".
fn rank(status: Option<RefreshStatus>) -> u8 {
    match status {
        None | Some(RefreshStatus::NoRefreshRequested | RefreshStatus::CreativesImplemented) => 0,
        Some(RefreshStatus::RefreshRequestSubmitted) => 1,
        Some(RefreshStatus::DeliverablesSubmitted) => 2,
        Some(RefreshStatus::CreativesPendingApproval) => 3,
        Some(RefreshStatus::CreativesCompletedAndApproved) => 4,
    }
}

fn label(status: Option<RefreshStatus>) -> &'static str {
    status.map_or("(empty)", RefreshStatus::label)
}

fn note(text: String) -> NoteText {
    NoteText::parse(&text).unwrap_or_else(|_| {
        NoteText::parse("Imported from HubSpot").unwrap_or_else(|_| unreachable!("a valid note"))
    })
}

/// The commands that bring Freshet's `state` of the portfolio to what the export says,
/// and the conflicts: changes the process cannot make (they are reported, not applied).
pub fn steps(
    plan: &PortfolioPlan,
    state: Option<&Portfolio>,
    now: DateTime<Utc>,
    calendar: &AgencyCalendar,
) -> (Vec<Step>, Vec<Refusal>) {
    let record = &plan.record;
    let origin = &record.origin;
    let target = plan.expected_status();
    let mut out = Vec::new();
    let mut conflicts = Vec::new();
    // A portfolio made in HubSpot after its refresh date is created on that date: Freshet
    // refuses a portfolio whose date is already past (the kickoff then fires at once).
    let first = record
        .created
        .min(calendar.noon_on(record.refresh_date))
        .min(now);
    let mut time = Timeline {
        last: first,
        now,
        historical: state.is_none(),
    };
    let push = |out: &mut Vec<Step>, at, command: Command, origin: &Origin| {
        out.push(step(at, command, origin));
    };
    let noon = |days_before: u64| {
        calendar.noon_on(
            record
                .refresh_date
                .checked_sub_days(Days::new(days_before))
                .unwrap_or(record.refresh_date),
        )
    };
    let current = match state {
        None => {
            let at = time.at(first);
            let command = Command::CreatePortfolio {
                portfolio_id: plan.id,
                client: record.client.clone(),
                team: record.team,
                cadence: record.cadence,
                refresh_date: record.refresh_date,
            };
            push(&mut out, at, command, origin);
            let text = format!(
                "Imported from HubSpot, Creative Portfolio record {} ({} line {}); its Creative Refresh Status there: {}.",
                origin.record,
                origin.file,
                origin.line,
                label(record.status)
            );
            let command = Command::LogPortfolioNote { text: note(text) };
            push(&mut out, at, command, origin);
            None
        }
        Some(state) => {
            if state.client != record.client {
                conflicts.push(origin.refuse(format!(
                    "Client Name changed from \"{}\" to \"{}\": Freshet has no rename; not applied",
                    state.client, record.client
                )));
            }
            if state.team != record.team {
                let command = Command::ChangeTeam { team: record.team };
                push(&mut out, now, command, origin);
            }
            let moved = state.refresh_date() != record.refresh_date
                || state.schedule.cadence != record.cadence;
            if moved && state.status().is_none() && target.is_none() {
                let command = Command::Reschedule {
                    cadence: record.cadence,
                    refresh_date: record.refresh_date,
                };
                push(&mut out, now, command, origin);
            } else if moved {
                conflicts.push(origin.refuse(format!(
                    "Creative Refresh Date or cadence changed to {} every {} {:?} while Freshet's cycle of {} is at {}: not applied",
                    record.refresh_date,
                    record.cadence.every(),
                    record.cadence.unit(),
                    state.refresh_date(),
                    label(state.status())
                )));
                return (out, conflicts);
            }
            if rank(state.status()) > rank(target) {
                conflicts.push(origin.refuse(format!(
                    "Creative Refresh Status went back from {} to {}: the process cannot move backwards; not applied",
                    label(state.status()),
                    label(target)
                )));
                return (out, conflicts);
            }
            state.status()
        }
    };
    if rank(target) >= 1 && current.is_none() {
        let at = time.at(noon(KICKOFF_LEAD_DAYS.unsigned_abs()));
        push(&mut out, at, Command::Tick, origin);
        let text = format!(
            "Refresh Request Submitted in HubSpot (imported from record {}).",
            origin.record
        );
        let command = Command::RequestRefresh {
            note: Some(note(text)),
        };
        push(&mut out, at, command, origin);
        if state.is_none() && noon(0) <= now {
            let at = time.at(noon(0));
            push(&mut out, at, Command::Tick, origin);
        }
    }
    create_tickets(plan, state, &mut time, &mut out);
    // R9 before the creative work: the last approval may move the set to review (R11).
    if rank(target) >= 2 && rank(current) < 2 {
        let at = time.at(time.last);
        let command = Command::MarkDeliverablesSubmitted;
        push(&mut out, at, command, origin);
    }
    creative_work(plan, state, &mut time, &mut out, &mut conflicts);
    reviews(plan, state, &mut time, &mut out, &mut conflicts);
    if rank(target) >= 4 && rank(current) < 4 {
        let at = time.at(time.last);
        push(&mut out, at, Command::SignOff, origin);
    }
    if state.is_none() {
        // What fell due between HubSpot's last date and today, as the scheduler would.
        push(&mut out, now, Command::Tick, origin);
    }
    (out, conflicts)
}

fn ticket_in(state: Option<&Portfolio>, id: TicketId) -> Option<&Ticket> {
    state?.current_ad_set()?.tickets.iter().find(|t| t.id == id)
}

/// R7's tickets: the first created, the others cloned from it, each with the file's folder
/// and count for the domain to check.
fn create_tickets(
    plan: &PortfolioPlan,
    state: Option<&Portfolio>,
    time: &mut Timeline,
    out: &mut Vec<Step>,
) {
    let first = plan.tickets.first().map(|t| ticket_id(&t.origin.record));
    let source = state
        .and_then(Portfolio::current_ad_set)
        .and_then(|set| set.tickets.first().map(|t| t.id))
        .or(first);
    for ticket in &plan.tickets {
        let id = ticket_id(&ticket.origin.record);
        let origin = &ticket.origin;
        let taken = state.is_some_and(|s| s.ticket_id_taken(id));
        if !taken {
            let at = time.at(ticket.created);
            let command = match source {
                Some(source) if source != id => Command::CloneTicket {
                    ticket_id: id,
                    source,
                    title: ticket.title.clone(),
                    folder: Some(ticket.folder.clone()),
                    deliverables: Some(ticket.deliverables),
                },
                _ => Command::CreateTicket {
                    ticket_id: id,
                    title: ticket.title.clone(),
                    folder: ticket.folder.clone(),
                    deliverables: ticket.deliverables,
                },
            };
            out.push(step(at, command, origin));
            let mut text = format!(
                "Imported from HubSpot, ticket {} ({} line {}).",
                origin.record, origin.file, origin.line
            );
            if !ticket.description.is_empty() {
                text.push_str("\n\n");
                text.push_str(&ticket.description);
            }
            let command = Command::LogTicketNote {
                ticket_id: id,
                text: note(text),
            };
            out.push(step(at, command, origin));
        }
    }
}

/// Each ticket's way to Pending Approval (R10), from where it stands.
fn creative_work(
    plan: &PortfolioPlan,
    state: Option<&Portfolio>,
    time: &mut Timeline,
    out: &mut Vec<Step>,
    conflicts: &mut Vec<Refusal>,
) {
    for ticket in &plan.tickets {
        let (id, now, status) = standing(state, ticket);
        let origin = &ticket.origin;
        if status == TicketStatus::CompletedDeliverable
            && ticket.status != TicketStatus::CompletedDeliverable
        {
            conflicts.push(origin.refuse(format!(
                "Ticket status went back from Completed Deliverable to {}: not applied",
                ticket.status
            )));
            continue;
        }
        let reaches_review = ticket.status != TicketStatus::InProgress
            || (ticket.needs_revisions.is_some() && now.is_none_or(|t| t.revision_round == 0));
        if status == TicketStatus::InProgress && reaches_review {
            let at = time.at(time.last);
            let (copy, graphic) = now
                .map_or((Approval::NotSubmitted, Approval::NotSubmitted), |t| {
                    (t.copy, t.graphic)
                });
            for command in part_steps(id, copy, true)
                .into_iter()
                .chain(part_steps(id, graphic, false))
            {
                out.push(step(at, command, origin));
            }
        }
    }
}

/// A part's way to `Approved` from where it stands (R10, R15 in a revision round).
fn part_steps(ticket_id: TicketId, approval: Approval, copy: bool) -> Vec<Command> {
    let submit = if copy {
        Command::SubmitCopy { ticket_id }
    } else {
        Command::SubmitGraphics { ticket_id }
    };
    let approve = if copy {
        Command::ApproveCopy { ticket_id }
    } else {
        Command::ApproveGraphics { ticket_id }
    };
    match approval {
        Approval::NotSubmitted | Approval::SentBack => vec![submit, approve],
        Approval::RevisionRequested => vec![submit],
        Approval::AwaitingQa => vec![approve],
        Approval::Approved => vec![],
    }
}

/// After the Ad Set reached the client: the client's answer per ticket (R13, R14).
fn reviews(
    plan: &PortfolioPlan,
    state: Option<&Portfolio>,
    time: &mut Timeline,
    out: &mut Vec<Step>,
    conflicts: &mut Vec<Refusal>,
) {
    for ticket in &plan.tickets {
        let (id, now, status) = standing(state, ticket);
        let origin = &ticket.origin;
        let first_round = now.is_none_or(|t| t.revision_round == 0);
        match (status, ticket.status, ticket.needs_revisions) {
            (TicketStatus::CompletedDeliverable, _, _) => {}
            (_, TicketStatus::CompletedDeliverable, _) => {
                let at = time.at(time.last);
                let command = Command::CompleteDeliverable { ticket_id: id };
                out.push(step(at, command, origin));
            }
            // In Progress with Needs Revisions: it went to the client and came back (R14);
            // a new ticket reaches Pending Approval first (`creative_work`).
            (TicketStatus::InProgress, TicketStatus::InProgress, Some(kind)) if first_round => {
                out.push(revisions(time, id, kind, origin));
            }
            (TicketStatus::PendingApproval, TicketStatus::InProgress, Some(kind)) => {
                out.push(revisions(time, id, kind, origin));
            }
            (TicketStatus::PendingApproval, TicketStatus::InProgress, None) => {
                conflicts.push(origin.refuse(
                    "Ticket status went back from Pending Approval to In Progress without Needs Revisions: not applied",
                ));
            }
            _ => {}
        }
    }
}

fn revisions(
    time: &mut Timeline,
    ticket_id: TicketId,
    kind: RevisionKind,
    origin: &Origin,
) -> Step {
    let at = time.at(time.last);
    let text = format!("Needs Revisions in HubSpot: {kind} (imported).");
    let command = Command::RequestRevisions {
        ticket_id,
        kind,
        feedback: note(text),
    };
    step(at, command, origin)
}

/// A ticket's id, and where Freshet has it (a new one: In Progress).
fn standing<'a>(
    state: Option<&'a Portfolio>,
    ticket: &TicketRecord,
) -> (TicketId, Option<&'a Ticket>, TicketStatus) {
    let id = ticket_id(&ticket.origin.record);
    let now = ticket_in(state, id);
    (id, now, now.map_or(TicketStatus::InProgress, |t| t.status))
}

fn step(at: DateTime<Utc>, command: Command, origin: &Origin) -> Step {
    Step {
        at,
        command,
        origin: origin.clone(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use freshet_domain::{Actor, Context, Deadlines, UserId, decide};

    use super::*;
    use crate::mapping::Mapping;
    use crate::records::{Directory, portfolios};
    use crate::table::Table;

    // R2: a portfolio made in HubSpot after its refresh date is created on that date, so
    // the domain takes it (it refuses a new portfolio whose date is past) and kicks it off.
    #[test]
    fn r2_a_portfolio_made_after_its_refresh_date_is_created_on_that_date() {
        let text = "Record ID,Client Name,Creative Refresh Status,Creative Refresh Date,Creative Refresh Cadence,Create Date,Account Manager,Social Ad Specialist,Copywriter,Graphic Designer,Team Lead\n\
                    9,Late Client,Refresh Request Submitted,2026-03-01,4 weeks,2026-03-05 10:00,a@x.io,a@x.io,a@x.io,a@x.io,a@x.io\n";
        let table = Table::read("p.csv", text.as_bytes()).expect("reads");
        let people = Directory::new([("a@x.io".to_owned(), UserId::from_uuid(Uuid::from_u128(3)))]);
        let calendar = AgencyCalendar::default();
        let (mut records, _) =
            portfolios(&table, &Mapping::default(), &people, &calendar).expect("columns");
        let record = records.pop().expect("one record");
        let plan = PortfolioPlan {
            id: portfolio_id("9"),
            record,
            tickets: Vec::new(),
        };
        let now = Utc
            .with_ymd_and_hms(2026, 3, 9, 12, 0, 0)
            .single()
            .expect("an instant");
        let (steps, conflicts) = steps(&plan, None, now, &calendar);
        assert!(conflicts.is_empty());
        assert_eq!(steps[0].at, calendar.noon_on(plan.record.refresh_date));
        let mut state = None;
        for step in &steps {
            let context = Context {
                actor: Actor::admin(UserId::from_uuid(Uuid::from_u128(1))),
                now: step.at,
                today: calendar.today(step.at),
                deadlines: Deadlines::default(),
            };
            let events = decide(state.as_ref(), &step.command, &context)
                .unwrap_or_else(|e| panic!("{}: {e}", step.command.action()));
            for event in &events {
                state = Portfolio::evolve(state, event).ok();
            }
        }
        let state = state.expect("created");
        assert_eq!(state.status(), Some(RefreshStatus::RefreshRequestSubmitted));
        assert!(state.cycle.kicked_off);
    }
}
