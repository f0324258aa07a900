//! The outbox end to end on both backends: a portfolio driven through the command service,
//! its EmailRequested events recorded by the follower's runner, and every message delivered
//! to a real SMTP server on loopback.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use freshet_domain::{Command, EmailId, NoteText, Role};
use freshet_follower::DecodedEvent;
use freshet_mail::{
    DeliveryError, FolderTransport, InMemoryDirectory, ListFilter, MailError, MessageStatus,
    Transport, message_id,
};
use freshet_store::testing::TestDatabase;
use support::sink::{DeadPort, SmtpSink};
use support::*;

freshet_store::on_both_backends!(
    r2_r6_r11_r17_r19_a_full_cycle_sends_each_required_email_once_to_the_right_person,
    replaying_the_log_never_yields_a_second_message,
    a_refusing_server_is_retried_with_backoff_and_the_message_delivered_once,
    a_server_down_for_the_whole_budget_fails_the_message_and_later_ones_still_go_out,
    one_bad_message_does_not_hold_up_the_others,
    concurrent_workers_never_send_the_same_message_twice,
    a_crash_between_send_and_record_costs_at_most_one_extra_delivery_with_the_same_message_id,
    the_embedded_default_writes_readable_eml_files,
    b1_stall_alerts_reach_the_responsible_person_and_the_team_lead_once,
);

// B1: every gate whose deadline passes alerts its responsible person and the Team Lead, by
// email over SMTP, once however often the scheduler runs.
async fn b1_stall_alerts_reach_the_responsible_person_and_the_team_lead_once(db: TestDatabase) {
    let sink = SmtpSink::start();
    let f = Fixture::new(db).await;
    // No AM decision by the refresh date (March 10th), ticked three times that day and after.
    for day in [10, 10, 11] {
        f.tick_on(date(2027, 3, day)).await;
    }
    f.by(
        AM,
        Command::RequestRefresh {
            note: Some(NoteText::parse(AM_NOTE).unwrap()),
        },
    )
    .await;
    // And no tickets two days after the refresh date.
    f.tick_on(date(2027, 3, 12)).await;
    f.tick_on(date(2027, 3, 13)).await;
    f.record_emails().await;
    let report = f.worker(smtp(sink.port)).deliver_due().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");

    let alerts = |who: u128| -> Vec<String> {
        let mut subjects: Vec<String> = sink
            .received_by(address(who))
            .iter()
            .map(|mail| mail.header("Subject").unwrap())
            .filter(|subject| {
                !subject.contains("reach out") && !subject.contains("Create Paid Social")
            })
            .collect();
        subjects.sort();
        subjects
    };
    let am = alerts(AM);
    let sas = alerts(SAS);
    let lead = alerts(TEAM_LEAD);
    assert_eq!(am.len(), 1, "the AM: the missed decision only: {am:?}");
    assert_eq!(sas.len(), 1, "the SAS: the missing tickets only: {sas:?}");
    assert_eq!(lead.len(), 2, "the Team Lead: both: {lead:?}");
    assert!(lead.contains(&am[0]) && lead.contains(&sas[0]));
    let ids: BTreeSet<String> = sink
        .received()
        .iter()
        .map(|mail| mail.message_id())
        .collect();
    assert_eq!(ids.len(), sink.received().len(), "each message once");
}

// R2, R6, R11, R17, R19: the kickoff to the AM, the handoff to the SAS with the AM's Note,
// the review to the AM (no Ad Lab link: ask the Designer) and the SAS, the sign-off to the
// SAS, the live email to the AM with the next refresh date. Each once, over SMTP.
async fn r2_r6_r11_r17_r19_a_full_cycle_sends_each_required_email_once_to_the_right_person(
    db: TestDatabase,
) {
    let sink = SmtpSink::start();
    let f = Fixture::new(db).await;
    f.full_cycle().await;
    f.record_emails().await;
    let report = f.worker(smtp(sink.port)).deliver_due().await.unwrap();
    assert_eq!(report.sent, 6, "{report:?}");

    let received = sink.received();
    assert_eq!(received.len(), 6);
    let ids: BTreeSet<String> = received.iter().map(|mail| mail.message_id()).collect();
    assert_eq!(ids.len(), 6, "each message once: {ids:?}");

    // Sent concurrently: compare as sets.
    let subjects = |who: u128| -> BTreeSet<String> {
        sink.received_by(address(who))
            .iter()
            .map(|mail| mail.header("Subject").unwrap())
            .collect()
    };
    let set = |subjects: &[&str]| subjects.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        subjects(AM),
        set(&[
            "Acme: reach out to the client about their creative refresh",
            "Acme: Share Drafted Deliverables With Client",
            "Acme: the new creatives are live",
        ])
    );
    assert_eq!(
        subjects(SAS),
        set(&[
            "Acme: Create Paid Social Deliverables for Refresh",
            "Acme: the Ad Set is ready for client review",
            "Acme: Implement New Creatives for Refresh",
        ])
    );
    let text_of = |subject: &str| {
        received
            .iter()
            .find(|mail| mail.header("Subject").as_deref() == Some(subject))
            .unwrap()
            .text()
    };
    for who in [COPYWRITER, DESIGNER, TEAM_LEAD] {
        assert!(subjects(who).is_empty(), "no email for user {who}");
    }

    let handoff = text_of("Acme: Create Paid Social Deliverables for Refresh");
    assert!(handoff.contains(AM_NOTE), "R6: the AM's Note: {handoff}");
    assert!(!handoff.contains("decision is missing"));
    let approved = text_of("Acme: Implement New Creatives for Refresh");
    assert!(
        approved.contains("* Carousel 2 (Pending Approval)"),
        "R20: the open ticket is listed: {approved}"
    );
    assert!(!approved.contains("Carousel 1 ("));

    let review = text_of("Acme: Share Drafted Deliverables With Client");
    assert!(
        review.contains("ask the Designer for it"),
        "R12: no Ad Lab link yet: {review}"
    );
    let live = text_of("Acme: the new creatives are live");
    assert!(
        live.contains("Next Creative Refresh Date: Saturday, April 10, 2027."),
        "R19: {live}"
    );

    let listed = f
        .outbox
        .list(&ListFilter {
            status: Some(MessageStatus::Sent),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 6);
    for entry in &listed {
        assert_eq!(entry.attempts, 1);
        assert!(entry.sent_at.is_some());
        let mail = received
            .iter()
            .find(|mail| mail.message_id() == message_id(entry.id))
            .unwrap();
        assert_eq!(mail.header("Subject").unwrap(), entry.subject);
        assert_eq!(
            entry.recipient_address.as_deref(),
            Some(mail.to[0].trim_matches(['<', '>']))
        );
    }
    let review_roles: BTreeSet<_> = listed
        .iter()
        .filter(|entry| entry.kind == "ready_for_review")
        .map(|entry| entry.recipient_role.clone())
        .collect();
    assert_eq!(
        review_roles,
        BTreeSet::from([
            Role::AccountManager.code().to_owned(),
            Role::SocialAdSpecialist.code().to_owned()
        ]),
        "R11: the AM and the SAS"
    );

    assert_eq!(
        f.worker(smtp(sink.port))
            .deliver_due()
            .await
            .unwrap()
            .claimed(),
        0
    );
    assert_eq!(sink.received().len(), 6, "nothing is sent twice");
}

// The same cause never yields two rows: the whole log applied again in a new transaction
// (as after a crash before the checkpoint) adds nothing.
async fn replaying_the_log_never_yields_a_second_message(db: TestDatabase) {
    let f = Fixture::new(db).await;
    f.full_cycle().await;
    f.record_emails().await;
    let before = f.outbox.list(&ListFilter::default()).await.unwrap();
    assert_eq!(before.len(), 6);

    let store = f.runner.store();
    let records = store
        .read_all(freshet_store::LogPosition::START, 10_000)
        .await
        .unwrap();
    let events: Vec<DecodedEvent> = freshet_follower::decode_all(records).unwrap();
    let mut tx = freshet_store::Tx::begin(&f.db.database).await.unwrap();
    let added = f.processor.write(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(added, 0);
    assert_eq!(f.outbox.list(&ListFilter::default()).await.unwrap(), before);
}

// R2: refused with 451, then 554, then accepted: three attempts, one delivery.
async fn a_refusing_server_is_retried_with_backoff_and_the_message_delivered_once(
    db: TestDatabase,
) {
    let sink = SmtpSink::start();
    let f = Fixture::new(db).await;
    f.record_emails().await;
    sink.refuse_next(&[
        (451, "4.3.0 Mailbox busy, try again later"),
        (554, "5.7.1 Transaction failed for now"),
    ]);
    let worker = f.worker(smtp(sink.port));

    let first = worker.deliver_due().await.unwrap();
    assert_eq!(first.retrying, 1, "{first:?}");
    let [entry] = f
        .outbox
        .list(&ListFilter::default())
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(entry.status, MessageStatus::Pending);
    assert!(
        entry
            .last_error
            .as_deref()
            .unwrap()
            .contains("Mailbox busy"),
        "{entry:?}"
    );
    assert_eq!(
        worker.deliver_due().await.unwrap().claimed(),
        0,
        "not due before its backoff"
    );

    f.wait(60);
    assert_eq!(worker.deliver_due().await.unwrap().retrying, 1);
    let entry = f.outbox.get(entry.id).await.unwrap().unwrap();
    assert!(
        entry
            .last_error
            .as_deref()
            .unwrap()
            .contains("Transaction failed")
    );
    f.wait(60);
    assert_eq!(
        worker.deliver_due().await.unwrap().claimed(),
        0,
        "the wait doubled"
    );
    f.wait(60);
    assert_eq!(worker.deliver_due().await.unwrap().sent, 1);

    let entry = f.outbox.get(entry.id).await.unwrap().unwrap();
    assert_eq!(entry.status, MessageStatus::Sent);
    assert_eq!(entry.attempts, 3);
    let received = sink.received_by(address(AM));
    assert_eq!(received.len(), 1, "delivered once");
    assert_eq!(received[0].message_id(), message_id(entry.id));
}

// Nothing listens for the whole retry budget: the message fails with the error in the
// listing; messages requested later still go out, and an operator can retry the failed one.
async fn a_server_down_for_the_whole_budget_fails_the_message_and_later_ones_still_go_out(
    db: TestDatabase,
) {
    let f = Fixture::new(db).await;
    f.record_emails().await;
    let dead = DeadPort::reserve();
    let down = f.worker(smtp(dead.port));
    for _ in 0..3 {
        down.deliver_due().await.unwrap();
        f.wait(3600);
    }
    let failed = f
        .outbox
        .list(&ListFilter {
            status: Some(MessageStatus::Failed),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    let [kickoff] = failed.try_into().unwrap();
    assert_eq!(kickoff.attempts, 3);
    assert_eq!(kickoff.recipient, user(AM));
    assert!(
        kickoff.last_error.as_deref().unwrap().starts_with("SMTP: "),
        "{kickoff:?}"
    );
    assert_eq!(
        down.deliver_due().await.unwrap().claimed(),
        0,
        "failed stays failed"
    );

    // The server is back; the next email goes out, the failed one waits for an operator.
    let sink = SmtpSink::start();
    let up = f.worker(smtp(sink.port));
    f.by(
        AM,
        freshet_domain::Command::RequestRefresh {
            note: Some(freshet_domain::NoteText::parse(AM_NOTE).unwrap()),
        },
    )
    .await;
    f.tick_on(date(2027, 3, 10)).await;
    f.record_emails().await;
    assert_eq!(up.deliver_due().await.unwrap().sent, 1);
    assert_eq!(sink.received_by(address(SAS)).len(), 1);
    assert!(sink.received_by(address(AM)).is_empty());

    f.outbox
        .retry_failed(kickoff.id, f.clock_now())
        .await
        .unwrap();
    assert_eq!(up.deliver_due().await.unwrap().sent, 1);
    let kickoff = f.outbox.get(kickoff.id).await.unwrap().unwrap();
    assert_eq!(kickoff.status, MessageStatus::Sent);
    assert_eq!(sink.received_by(address(AM)).len(), 1);

    let again = f.outbox.retry_failed(kickoff.id, f.clock_now()).await;
    assert!(
        matches!(again, Err(MailError::NotFailed { .. })),
        "{again:?}"
    );
    let unknown = EmailId::from_uuid(uuid::Uuid::nil());
    let missing = f.outbox.retry_failed(unknown, f.clock_now()).await;
    assert!(
        matches!(missing, Err(MailError::NotFound { .. })),
        "{missing:?}"
    );
}

// A mailbox the server always refuses and a user without an address fail on their own;
// the other messages of the same batch are delivered.
async fn one_bad_message_does_not_hold_up_the_others(db: TestDatabase) {
    let sink = SmtpSink::start();
    sink.refuse_mailbox(address(AM));
    let f = Fixture::new(db).await;
    f.full_cycle().await;
    f.record_emails().await;
    let directory = InMemoryDirectory::new();
    directory.insert(
        user(SAS),
        freshet_mail::Mailbox::new(None, address(SAS).parse().unwrap()),
    );
    let worker = f.worker_with(smtp(sink.port), Arc::new(directory));

    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.sent, 3, "the SAS's three emails: {report:?}");
    assert_eq!(report.failed, 3, "the AM has no address: {report:?}");
    assert_eq!(sink.received_by(address(SAS)).len(), 3);
    let failed = f
        .outbox
        .list(&ListFilter {
            status: Some(MessageStatus::Failed),
            recipient: Some(user(AM)),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 3);
    for entry in &failed {
        assert_eq!(
            entry.last_error.as_deref(),
            Some(format!("no email address is known for user {}", user(AM)).as_str())
        );
    }

    // With the address known, the operator retries; the server refuses that mailbox.
    for entry in &failed {
        f.outbox
            .retry_failed(entry.id, f.clock_now())
            .await
            .unwrap();
    }
    let worker = f.worker(smtp(sink.port));
    assert_eq!(worker.deliver_due().await.unwrap().retrying, 3);
    let entry = f.outbox.get(failed[0].id).await.unwrap().unwrap();
    assert!(
        entry
            .last_error
            .as_deref()
            .unwrap()
            .contains("No such mailbox"),
        "the server's answer is kept: {entry:?}"
    );
    let page = f
        .outbox
        .list(&ListFilter {
            limit: 4,
            offset: 4,
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(page.len(), 2, "pagination");
}

// Four workers claim from the same outbox at once (PostgreSQL: FOR UPDATE SKIP LOCKED):
// each of the six messages goes out once.
async fn concurrent_workers_never_send_the_same_message_twice(db: TestDatabase) {
    let sink = SmtpSink::start();
    let f = Fixture::new(db).await;
    f.full_cycle().await;
    f.record_emails().await;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            f.worker(smtp(sink.port))
                .with_options(freshet_mail::WorkerOptions {
                    batch_size: 1,
                    concurrency: 1,
                    ..freshet_mail::WorkerOptions::default()
                })
        })
        .collect();
    let reports =
        futures::future::join_all(workers.iter().map(|worker| worker.deliver_due())).await;
    let sent: usize = reports.into_iter().map(|report| report.unwrap().sent).sum();
    assert_eq!(sent, 6);
    let ids: BTreeSet<String> = sink
        .received()
        .iter()
        .map(|mail| mail.message_id())
        .collect();
    assert_eq!(sink.received().len(), 6);
    assert_eq!(ids.len(), 6);
}

/// Sends for real, then never returns: the process "dies" before recording the outcome.
#[derive(Debug)]
struct DiesAfterSending {
    inner: Arc<dyn Transport>,
    sent: AtomicBool,
}

#[async_trait]
impl Transport for DiesAfterSending {
    async fn send(&self, id: EmailId, message: &lettre::Message) -> Result<(), DeliveryError> {
        self.inner.send(id, message).await?;
        self.sent.store(true, Ordering::SeqCst);
        std::future::pending().await
    }
}

// At least once: a worker killed after the server accepted the message but before `sent`
// was recorded. Another worker takes the message over when the claim lapses and sends it
// once more, with the same Message-ID; nothing else is sent twice.
async fn a_crash_between_send_and_record_costs_at_most_one_extra_delivery_with_the_same_message_id(
    db: TestDatabase,
) {
    let sink = SmtpSink::start();
    let f = Arc::new(Fixture::new(db).await);
    f.record_emails().await;
    let dying = Arc::new(DiesAfterSending {
        inner: smtp(sink.port),
        sent: AtomicBool::new(false),
    });
    let doomed = f.worker(dying.clone());
    let task = tokio::spawn(async move { doomed.deliver_due().await });
    while !dying.sent.load(Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let [entry] = f
        .outbox
        .list(&ListFilter::default())
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(entry.status, MessageStatus::Sending);

    let restarted = f.worker(smtp(sink.port));
    assert_eq!(
        restarted.deliver_due().await.unwrap().claimed(),
        0,
        "the claim holds until its lease lapses"
    );
    f.wait(301);
    assert_eq!(restarted.deliver_due().await.unwrap().sent, 1);
    assert_eq!(restarted.deliver_due().await.unwrap().claimed(), 0);

    let received = sink.received();
    assert_eq!(received.len(), 2, "one extra delivery, no more");
    assert_eq!(received[0].message_id(), message_id(entry.id));
    assert_eq!(received[1].message_id(), message_id(entry.id));
    let entry = f.outbox.get(entry.id).await.unwrap().unwrap();
    assert_eq!(entry.status, MessageStatus::Sent);
    assert_eq!(entry.attempts, 2);
}

// R2: with no SMTP configured the kickoff lands as a readable .eml file.
async fn the_embedded_default_writes_readable_eml_files(db: TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let f = Fixture::new(db).await;
    f.record_emails().await;
    let folder = FolderTransport::new(dir.path().join("mail"));
    let report = f
        .worker(Arc::new(folder.clone()))
        .deliver_due()
        .await
        .unwrap();
    assert_eq!(report.sent, 1);

    let [entry] = f
        .outbox
        .list(&ListFilter::default())
        .await
        .unwrap()
        .try_into()
        .unwrap();
    let path = folder.path_of(entry.id);
    let eml = std::fs::read_to_string(&path).unwrap();
    assert!(
        eml.contains(&format!("Message-ID: {}", message_id(entry.id))),
        "{eml}"
    );
    assert!(eml.contains("Subject: Acme: reach out to the client about their creative refresh"));
    assert!(eml.contains(&format!("To: {}", address(AM))));
    assert!(eml.contains("From: Freshet <freshet@agency.test>"));
    let text = support::sink::decode_quoted_printable(&eml);
    assert!(
        text.contains("Reach out to client about creative refresh"),
        "{text}"
    );
    assert!(text.contains("Wednesday, March 10, 2027"));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .map(|file| file.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 1, "no partial files left: {files:?}");
}
