//! The emails about a person's account rather than a portfolio: the invitation, the
//! password reset (both carry a one-time secret link) and the daily digest of due tasks.

use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::{PortfolioId, TicketId};
use serde::Serialize;

use super::{Rendered, Renderer, long_date};
use crate::error::MailError;
use crate::links;

/// `(name, source)` of the account emails' template files.
pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "account_layout.html",
        include_str!("../../templates/account_layout.html"),
    ),
    (
        "invitation.subject.txt",
        include_str!("../../templates/invitation.subject.txt"),
    ),
    (
        "invitation.txt",
        include_str!("../../templates/invitation.txt"),
    ),
    (
        "invitation.html",
        include_str!("../../templates/invitation.html"),
    ),
    (
        "password_reset.subject.txt",
        include_str!("../../templates/password_reset.subject.txt"),
    ),
    (
        "password_reset.txt",
        include_str!("../../templates/password_reset.txt"),
    ),
    (
        "password_reset.html",
        include_str!("../../templates/password_reset.html"),
    ),
    (
        "daily_digest.subject.txt",
        include_str!("../../templates/daily_digest.subject.txt"),
    ),
    (
        "daily_digest.txt",
        include_str!("../../templates/daily_digest.txt"),
    ),
    (
        "daily_digest.html",
        include_str!("../../templates/daily_digest.html"),
    ),
];

/// One open task of a daily digest, as the inbox knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestTask {
    pub portfolio: PortfolioId,
    /// The ticket the task is about, if any: the link then opens that ticket.
    pub ticket: Option<TicketId>,
    pub client: String,
    /// The task's title (`TaskKind::title`).
    pub title: String,
    pub ticket_title: Option<String>,
    pub due: NaiveDate,
}

#[derive(Serialize)]
struct SecretLinkContext<'a> {
    name: &'a str,
    link: String,
    expires: String,
}

#[derive(Serialize)]
struct DigestContext<'a> {
    name: &'a str,
    today: String,
    overdue: Vec<DigestLine<'a>>,
    due_today: Vec<DigestLine<'a>>,
    my_work_url: String,
    settings_url: String,
}

#[derive(Serialize)]
struct DigestLine<'a> {
    title: &'a str,
    ticket_title: Option<&'a str>,
    client: &'a str,
    days_late: i64,
    link: String,
}

impl Renderer {
    /// The invitation: a link to the page where `to_name` chooses a password, valid until
    /// `expires_at`.
    pub fn invitation(
        &self,
        to_name: &str,
        secret: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Rendered, MailError> {
        let link = links::invitation(&self.public_url, secret);
        self.secret_link("invitation", to_name, link, expires_at)
    }

    /// The password reset: a link to the page where `to_name` chooses a new password, valid
    /// until `expires_at`, and that they may ignore it if they did not ask.
    pub fn password_reset(
        &self,
        to_name: &str,
        secret: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Rendered, MailError> {
        let link = links::password_reset(&self.public_url, secret);
        self.secret_link("password_reset", to_name, link, expires_at)
    }

    fn secret_link(
        &self,
        template: &str,
        name: &str,
        link: String,
        expires_at: DateTime<Utc>,
    ) -> Result<Rendered, MailError> {
        let context = SecretLinkContext {
            name,
            link,
            expires: instant(expires_at),
        };
        self.render_named(template, &context)
    }

    /// The daily digest of `to_name`'s open `tasks` due on or before `today`: the overdue
    /// ones first (the latest first) with how late each is, then those due today, each
    /// with the link to the page where it is done. Tasks due after `today` are left out.
    pub fn digest(
        &self,
        to_name: &str,
        today: NaiveDate,
        tasks: &[DigestTask],
    ) -> Result<Rendered, MailError> {
        let mut sorted: Vec<&DigestTask> = tasks.iter().filter(|task| task.due <= today).collect();
        sorted.sort_by(|a, b| a.due.cmp(&b.due).then_with(|| a.client.cmp(&b.client)));
        let lines = |on_time: bool| -> Vec<DigestLine<'_>> {
            sorted
                .iter()
                .filter(|task| (task.due == today) == on_time)
                .map(|task| DigestLine {
                    title: &task.title,
                    ticket_title: task.ticket_title.as_deref(),
                    client: &task.client,
                    days_late: (today - task.due).num_days(),
                    link: match task.ticket {
                        Some(ticket) => links::ticket(&self.public_url, task.portfolio, ticket),
                        None => links::portfolio(&self.public_url, task.portfolio),
                    },
                })
                .collect()
        };
        let context = DigestContext {
            name: to_name,
            today: long_date(today),
            overdue: lines(false),
            due_today: lines(true),
            my_work_url: links::my_work(&self.public_url),
            settings_url: links::settings(&self.public_url),
        };
        self.render_named("daily_digest", &context)
    }
}

/// "Wednesday, March 10, 2027 at 14:00 UTC".
fn instant(at: DateTime<Utc>) -> String {
    at.format("%A, %B %-d, %Y at %H:%M UTC").to_string()
}
