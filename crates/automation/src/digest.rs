//! The daily digest: each morning (08:00 in the agency's time zone by default), everyone
//! active with the digest on and at least one open task overdue or due today gets one
//! email listing those tasks, each with its link. Nobody with nothing due gets one.
//!
//! Exactly once per person and day, whatever restarts or however many workers: the email's
//! id is derived from the person and the agency date, and the outbox keeps the first row of
//! an id (`insert_account_message`, `ON CONFLICT DO NOTHING`). The clock and the calendar
//! are the command service's, so tests drive time. Who and what come from the users table
//! (`freshet_accounts::digest`) and the inbox read model (`freshet_projections::inbox`); a
//! lagging inbox only leaves out a task that became due moments before.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{NaiveDate, NaiveTime};
use freshet_accounts::AccountError;
use freshet_domain::{EmailId, PortfolioId, TicketId, UserId};
use freshet_mail::{
    AccountMessageKind, DigestTask, MailError, NewAccountMessage, Renderer, insert_account_message,
};
use freshet_projections::inbox::{self, InboxTask};
use freshet_service::CommandService;
use freshet_store::{Database, Tx};
use uuid::Uuid;

/// When the digest goes out unless configured otherwise: 08:00, agency time.
pub const DEFAULT_DIGEST_TIME: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// Namespace of the digests' email ids (UUID v5). Changing it would send a second digest
/// on the day of the change: never do.
const DIGEST_NAMESPACE: Uuid = Uuid::from_u128(0x3a8e_51c2_7f04_4d19_b6a3_90e2_d75c_1f48);

/// What can stop a digest run (it is tried again at the next tick).
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("cannot read who gets the digest")]
    Accounts(#[from] AccountError),
    #[error("cannot read the inbox or write the outbox")]
    Database(#[from] sqlx::Error),
    #[error("cannot render or record a digest")]
    Mail(#[from] MailError),
}

/// What one run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestReport {
    pub today: NaiveDate,
    /// People with something due who get a digest today.
    pub recipients: usize,
    /// Digests written now (the others were written by an earlier run or another worker).
    pub written: usize,
}

/// The daily digest of one Freshet; run it at every scheduler tick ([`send_due`]).
///
/// [`send_due`]: DailyDigest::send_due
#[derive(Debug)]
pub struct DailyDigest {
    service: CommandService,
    db: Database,
    renderer: Renderer,
    at: NaiveTime,
    /// The last agency date this process wrote every digest of: later ticks that day only
    /// look at the clock. (Another process, or this one after a restart, finds the rows.)
    done_on: Mutex<Option<NaiveDate>>,
}

impl DailyDigest {
    /// Digests at `at` (agency time) each day, with the service's clock and calendar.
    pub fn new(service: CommandService, db: Database, renderer: Renderer, at: NaiveTime) -> Self {
        Self {
            service,
            db,
            renderer,
            at,
            done_on: Mutex::new(None),
        }
    }

    /// Writes today's digests to the outbox if their time has come and this process has not
    /// written them yet; `None` before the time of day, or when already done today.
    #[tracing::instrument(name = "automation.digest", skip_all, err)]
    pub async fn send_due(&self) -> Result<Option<DigestReport>, DigestError> {
        let now = self.service.clock().now();
        let calendar = self.service.config().calendar;
        let local = now.with_timezone(&calendar.time_zone());
        let today = local.date_naive();
        if local.time() < self.at || self.done_on() == Some(today) {
            return Ok(None);
        }
        let report = self.write(today, now).await?;
        *self.done_on.lock().unwrap_or_else(PoisonError::into_inner) = Some(today);
        tracing::info!(
            today = %today,
            recipients = report.recipients,
            written = report.written,
            "daily digests written"
        );
        Ok(Some(report))
    }

    fn done_on(&self) -> Option<NaiveDate> {
        *self.done_on.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn write(
        &self,
        today: NaiveDate,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<DigestReport, DigestError> {
        let recipients = freshet_accounts::digest::digest_recipients(&self.db).await?;
        let mut due: HashMap<String, Vec<DigestTask>> = HashMap::new();
        for row in inbox::open_due_by(&self.db, today).await? {
            if let Some(task) = digest_task(&row) {
                due.entry(row.assignee).or_default().push(task);
            }
        }
        let mut report = DigestReport {
            today,
            recipients: 0,
            written: 0,
        };
        let mut tx = Tx::begin(&self.db).await?;
        for user in recipients {
            let Some(tasks) = due.get(&user.id.to_string()) else {
                continue;
            };
            report.recipients += 1;
            let message = NewAccountMessage {
                id: digest_id(user.id, today),
                recipient: user.id,
                kind: AccountMessageKind::Digest,
                rendered: self.renderer.digest(&user.name, today, tasks)?,
                created_at: now,
            };
            if insert_account_message(&mut tx, &message).await? {
                report.written += 1;
            }
        }
        tx.commit().await?;
        Ok(report)
    }
}

/// The id of `user`'s digest of `day`: the same in every process, so a day has one.
pub fn digest_id(user: UserId, day: NaiveDate) -> EmailId {
    EmailId::from_uuid(Uuid::new_v5(
        &DIGEST_NAMESPACE,
        format!("daily-digest/{user}/{day}").as_bytes(),
    ))
}

/// An inbox row as a digest line; `None` (logged) for a row whose ids do not parse back.
fn digest_task(row: &InboxTask) -> Option<DigestTask> {
    let parsed = (|| {
        let portfolio: PortfolioId = row.portfolio_id.parse().ok()?;
        let ticket: Option<TicketId> = match &row.ticket_id {
            Some(id) => Some(id.parse().ok()?),
            None => None,
        };
        Some(DigestTask {
            portfolio,
            ticket,
            client: row.client.clone(),
            title: row.title.clone(),
            ticket_title: row.ticket_title.clone(),
            due: row.due_on?,
        })
    })();
    if parsed.is_none() {
        tracing::warn!(task.id = %row.task_id, "an inbox row the digest cannot read; left out");
    }
    parsed
}
