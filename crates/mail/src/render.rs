//! Messages from templates. Each kind of email has three files in `templates/`: the
//! subject (`<kind>.subject.txt`), the plain-text body (`<kind>.txt`) and the HTML body
//! (`<kind>.html`, autoescaped, extending `layout.html`). They are compiled into the binary,
//! so a deployed Freshet needs no template folder.

use chrono::NaiveDate;
use freshet_domain::{Email, EmailKind, PortfolioId, Role, TaskKind};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::MailError;
use crate::links;
use crate::public_url::PublicUrl;

mod account;

pub use account::DigestTask;

/// `(name, source)` of every template file.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("footer.txt", include_str!("../templates/footer.txt")),
    (
        "kickoff.subject.txt",
        include_str!("../templates/kickoff.subject.txt"),
    ),
    ("kickoff.txt", include_str!("../templates/kickoff.txt")),
    ("kickoff.html", include_str!("../templates/kickoff.html")),
    (
        "deliverables_due.subject.txt",
        include_str!("../templates/deliverables_due.subject.txt"),
    ),
    (
        "deliverables_due.txt",
        include_str!("../templates/deliverables_due.txt"),
    ),
    (
        "deliverables_due.html",
        include_str!("../templates/deliverables_due.html"),
    ),
    (
        "ready_for_review.subject.txt",
        include_str!("../templates/ready_for_review.subject.txt"),
    ),
    (
        "ready_for_review.txt",
        include_str!("../templates/ready_for_review.txt"),
    ),
    (
        "ready_for_review.html",
        include_str!("../templates/ready_for_review.html"),
    ),
    (
        "creatives_approved.subject.txt",
        include_str!("../templates/creatives_approved.subject.txt"),
    ),
    (
        "creatives_approved.txt",
        include_str!("../templates/creatives_approved.txt"),
    ),
    (
        "creatives_approved.html",
        include_str!("../templates/creatives_approved.html"),
    ),
    (
        "creatives_live.subject.txt",
        include_str!("../templates/creatives_live.subject.txt"),
    ),
    (
        "creatives_live.txt",
        include_str!("../templates/creatives_live.txt"),
    ),
    (
        "creatives_live.html",
        include_str!("../templates/creatives_live.html"),
    ),
    (
        "stall_alert.subject.txt",
        include_str!("../templates/stall_alert.subject.txt"),
    ),
    (
        "stall_alert.txt",
        include_str!("../templates/stall_alert.txt"),
    ),
    (
        "stall_alert.html",
        include_str!("../templates/stall_alert.html"),
    ),
    (
        "cycle_cancelled.subject.txt",
        include_str!("../templates/cycle_cancelled.subject.txt"),
    ),
    (
        "cycle_cancelled.txt",
        include_str!("../templates/cycle_cancelled.txt"),
    ),
    (
        "cycle_cancelled.html",
        include_str!("../templates/cycle_cancelled.html"),
    ),
    (
        "handoff_voided.subject.txt",
        include_str!("../templates/handoff_voided.subject.txt"),
    ),
    (
        "handoff_voided.txt",
        include_str!("../templates/handoff_voided.txt"),
    ),
    (
        "handoff_voided.html",
        include_str!("../templates/handoff_voided.html"),
    ),
    (
        "work_reassigned.subject.txt",
        include_str!("../templates/work_reassigned.subject.txt"),
    ),
    (
        "work_reassigned.txt",
        include_str!("../templates/work_reassigned.txt"),
    ),
    (
        "work_reassigned.html",
        include_str!("../templates/work_reassigned.html"),
    ),
];

/// A rendered message, ready to be stored in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The template environment; build once, render many.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
    public_url: PublicUrl,
}

/// What every template can use.
#[derive(Serialize)]
struct TemplateContext<'a> {
    client: &'a str,
    portfolio_id: String,
    /// Where the email's task is done (none of today's emails is about one ticket), and
    /// where a stall alert's portfolio is.
    portfolio_url: String,
    role: String,
    role_code: &'static str,
    task: Option<&'static str>,
    gate: Option<&'static str>,
    cycle: u32,
    round: u32,
    refresh_date: String,
    am_note: Option<&'a str>,
    ad_lab_link: Option<&'a str>,
    decision_missing: bool,
    open_tickets: Vec<TicketLine<'a>>,
    next_refresh_date: Option<String>,
    tasks: &'a [String],
    days_late: Option<i64>,
}

#[derive(Serialize)]
struct TicketLine<'a> {
    title: &'a str,
    status: &'static str,
}

impl Renderer {
    /// Loads every template; links in messages start with `public_url`.
    pub fn new(public_url: PublicUrl) -> Result<Self, MailError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        for (name, source) in TEMPLATES.iter().chain(account::TEMPLATES) {
            env.add_template(name, source)?;
        }
        Ok(Self { env, public_url })
    }

    /// The base of every link this renderer writes.
    pub fn public_url(&self) -> &PublicUrl {
        &self.public_url
    }

    /// Renders the subject and both bodies of `email` about `portfolio`.
    pub fn render(&self, portfolio: PortfolioId, email: &Email) -> Result<Rendered, MailError> {
        let name = template_name(email.kind);
        let details = &email.details;
        let context = TemplateContext {
            client: &details.client,
            portfolio_id: portfolio.to_string(),
            portfolio_url: links::portfolio(&self.public_url, portfolio),
            role: email.role.to_string(),
            role_code: email.role.code(),
            task: task_of(email.kind, email.role).map(TaskKind::title),
            gate: match email.kind {
                EmailKind::StallAlert(gate) => Some(gate.describe()),
                _ => None,
            },
            cycle: email.cycle,
            round: email.round,
            refresh_date: long_date(details.refresh_date),
            am_note: details.am_note.as_deref(),
            ad_lab_link: details.ad_lab_link.as_deref(),
            decision_missing: details.decision_missing,
            open_tickets: details
                .open_tickets
                .iter()
                .map(|ticket| TicketLine {
                    title: &ticket.title,
                    status: ticket.status.label(),
                })
                .collect(),
            next_refresh_date: details.next_refresh_date.map(long_date),
            tasks: &details.tasks,
            days_late: details.days_late.filter(|days| *days > 0),
        };
        self.render_named(name, &context)
    }

    /// The subject and both bodies of the templates `name.*` in `context`.
    fn render_named(&self, name: &str, context: &impl Serialize) -> Result<Rendered, MailError> {
        let context = minijinja::Value::from(Serde(context));
        let part = |suffix: &str| {
            self.env
                .get_template(&format!("{name}.{suffix}"))
                .and_then(|template| template.render(context.clone()))
        };
        let subject = part("subject.txt")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Rendered {
            subject,
            text: part("txt")?,
            html: part("html")?,
        })
    }
}

fn template_name(kind: EmailKind) -> &'static str {
    match kind {
        EmailKind::Kickoff => "kickoff",
        EmailKind::DeliverablesDue => "deliverables_due",
        EmailKind::ReadyForClientReview => "ready_for_review",
        EmailKind::CreativesApproved => "creatives_approved",
        EmailKind::CreativesLive => "creatives_live",
        EmailKind::StallAlert(_) => "stall_alert",
        EmailKind::CycleCancelled => "cycle_cancelled",
        EmailKind::HandoffVoided => "handoff_voided",
        EmailKind::WorkReassigned => "work_reassigned",
    }
}

/// The task that comes with the email, if the recipient gets one.
fn task_of(kind: EmailKind, role: Role) -> Option<TaskKind> {
    match (kind, role) {
        (EmailKind::Kickoff, _) => Some(TaskKind::ReachOutToClient),
        (EmailKind::DeliverablesDue, _) => Some(TaskKind::CreateDeliverables),
        (EmailKind::ReadyForClientReview, Role::AccountManager) => {
            Some(TaskKind::ShareDraftedDeliverables)
        }
        (EmailKind::ReadyForClientReview, _) => None,
        (EmailKind::CreativesApproved, _) => Some(TaskKind::ImplementNewCreatives),
        (EmailKind::CreativesLive, _) => Some(TaskKind::ConfirmAdsRunning),
        (EmailKind::StallAlert(gate), _) => Some(TaskKind::StallAlert(gate)),
        (EmailKind::CycleCancelled | EmailKind::HandoffVoided | EmailKind::WorkReassigned, _) => {
            None
        }
    }
}

/// "Wednesday, March 10, 2027".
fn long_date(date: NaiveDate) -> String {
    date.format("%A, %B %-d, %Y").to_string()
}

/// A short name of the kind for listings and logs (`kickoff`, `stall_alert`, ...).
pub fn kind_code(kind: EmailKind) -> &'static str {
    template_name(kind)
}

#[cfg(test)]
mod tests;
