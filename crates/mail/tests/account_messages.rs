//! Account messages (invitations, password resets, the daily digest) go through the outbox
//! on both backends: written once per id, delivered like any message, and a secret link is
//! never listed and not kept once sent.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use freshet_domain::{EmailId, PortfolioId, UserId};
use freshet_mail::{
    AccountMessageKind, DeliveryWorker, DigestTask, InMemoryDirectory, ListFilter, Mailbox,
    MessageStatus, NewAccountMessage, Outbox, PublicUrl, Renderer, insert_account_message,
};
use freshet_service::{Clock, ManualClock};
use freshet_store::testing::TestDatabase;
use freshet_store::{Database, Tx, on_pool};
use support::sink::SmtpSink;
use support::{from, retry_policy, smtp};
use uuid::Uuid;

freshet_store::on_both_backends!(
    an_invitation_is_sent_with_its_link_and_its_body_is_not_kept_once_sent,
    an_account_message_is_written_once_per_id,
);

const SECRET: &str = "s3cr3t-Invitation-Token_0123456789";
const RESET_SECRET: &str = "s3cr3t-Reset-Token_9876543210";

fn person() -> UserId {
    UserId::from_uuid(Uuid::from_u128(41))
}

fn renderer() -> Renderer {
    Renderer::new("https://freshet.agency.test/".parse::<PublicUrl>().unwrap()).unwrap()
}

async fn insert(db: &Database, message: &NewAccountMessage) -> bool {
    let mut tx = Tx::begin(db).await.unwrap();
    let inserted = insert_account_message(&mut tx, message).await.unwrap();
    tx.commit().await.unwrap();
    inserted
}

async fn bodies(db: &Database, id: EmailId) -> (String, String) {
    let id = freshet_store::codec::DbUuid(id.as_uuid());
    on_pool!(db, pool => {
        sqlx::query_as("SELECT body_text, body_html FROM mail_outbox WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

async fn an_invitation_is_sent_with_its_link_and_its_body_is_not_kept_once_sent(db: TestDatabase) {
    let sink = SmtpSink::start();
    let clock = ManualClock::at_date(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
    let renderer = renderer();
    let now = clock.now();
    let messages = [
        (
            AccountMessageKind::Invitation,
            renderer
                .invitation("Robin", SECRET, now + Duration::hours(72))
                .unwrap(),
        ),
        (
            AccountMessageKind::PasswordReset,
            renderer
                .password_reset("Robin", RESET_SECRET, now + Duration::hours(1))
                .unwrap(),
        ),
        (
            AccountMessageKind::Digest,
            renderer
                .digest(
                    "Robin",
                    clock.now().date_naive(),
                    &[DigestTask {
                        portfolio: PortfolioId::from_uuid(Uuid::from_u128(7)),
                        ticket: None,
                        client: "Acme".to_owned(),
                        title: "Reach out to client about creative refresh".to_owned(),
                        ticket_title: None,
                        due: clock.now().date_naive(),
                    }],
                )
                .unwrap(),
        ),
    ];
    let mut ids = Vec::new();
    for (kind, rendered) in messages {
        let id = EmailId::from_uuid(Uuid::now_v7());
        let message = NewAccountMessage {
            id,
            recipient: person(),
            kind,
            rendered,
            created_at: now,
        };
        assert!(insert(&db.database, &message).await);
        ids.push(id);
    }
    let outbox = Outbox::new(db.database.clone());

    // Listed (to an Admin, the API and the CLI) without a body, pending or sent.
    let shows_no_secret = |entries: &[freshet_mail::OutboxEntry]| {
        let shown = format!("{entries:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(!shown.contains(RESET_SECRET), "{shown}");
    };
    let listed = outbox.list(&ListFilter::default()).await.unwrap();
    assert_eq!(listed.len(), 3);
    shows_no_secret(&listed);
    let invitation = outbox.get(ids[0]).await.unwrap().unwrap();
    assert_eq!(invitation.kind, "invitation");
    assert_eq!(invitation.portfolio, None);
    assert_eq!(invitation.subject, "You are invited to Freshet");
    shows_no_secret(&[invitation]);

    let directory = InMemoryDirectory::new().with(
        person(),
        Mailbox::new(
            Some("Robin".to_owned()),
            "robin@agency.test".parse().unwrap(),
        ),
    );
    let worker = DeliveryWorker::new(
        outbox.clone(),
        smtp(sink.port),
        Arc::new(directory),
        Arc::new(clock.clone()),
        from(),
        retry_policy(),
    );
    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.sent, 3, "{report:?}");

    let received = sink.received_by("robin@agency.test");
    assert_eq!(received.len(), 3);
    let text_of = |subject: &str| {
        received
            .iter()
            .find(|mail| mail.header("Subject").unwrap().contains(subject))
            .unwrap_or_else(|| panic!("no message {subject:?}"))
            .text()
    };
    let invitation = text_of("invited");
    assert!(
        invitation.contains(&format!(
            "https://freshet.agency.test/app/invitation/{SECRET}"
        )),
        "{invitation}"
    );
    let reset = text_of("Reset");
    assert!(
        reset.contains(&format!(
            "https://freshet.agency.test/app/password-reset/{RESET_SECRET}"
        )),
        "{reset}"
    );

    // Sent: the secret links are gone from the table; the digest is kept as it was.
    for id in &ids[..2] {
        assert_eq!(
            bodies(&db.database, *id).await,
            (String::new(), String::new())
        );
    }
    let (digest_text, digest_html) = bodies(&db.database, ids[2]).await;
    assert!(digest_text.contains("/app/portfolios/"), "{digest_text}");
    assert!(
        digest_html.contains("&#x2f;app&#x2f;portfolios&#x2f;"),
        "{digest_html}"
    );
    let sent = outbox
        .list(&ListFilter {
            status: Some(MessageStatus::Sent),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(sent.len(), 3);
    shows_no_secret(&sent);
}

async fn an_account_message_is_written_once_per_id(db: TestDatabase) {
    let renderer = renderer();
    let now = chrono::Utc::now();
    let message = |secret: &str| NewAccountMessage {
        id: EmailId::from_uuid(Uuid::from_u128(5)),
        recipient: person(),
        kind: AccountMessageKind::Invitation,
        rendered: renderer
            .invitation("Robin", secret, now + Duration::hours(72))
            .unwrap(),
        created_at: now,
    };
    assert!(insert(&db.database, &message(SECRET)).await);
    assert!(
        !insert(&db.database, &message("another-secret")).await,
        "the same id again adds nothing"
    );
    let (text, _) = bodies(&db.database, EmailId::from_uuid(Uuid::from_u128(5))).await;
    assert!(text.contains(SECRET), "the first message is kept");
    let counts = Outbox::new(db.database.clone()).counts().await.unwrap();
    assert_eq!(counts, [(MessageStatus::Pending, 1)]);
}
