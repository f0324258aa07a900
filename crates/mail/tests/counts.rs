//! The outbox's backlog is counted by the database, with no listing cap (issue: `/metrics`
//! showed at most 500 per status).
#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, Utc};
use freshet_domain::{Email, EmailDetails, EmailId, EmailKind, PortfolioId, Role, UserId};
use freshet_mail::{MessageStatus, NewMessage, Outbox, Rendered, insert_messages};
use freshet_store::Tx;
use freshet_store::testing::TestDatabase;
use uuid::Uuid;

freshet_store::on_both_backends!(the_outbox_counts_every_message_by_status_without_a_cap);

fn message(n: u32) -> NewMessage {
    let portfolio = PortfolioId::from_uuid(Uuid::from_u128(9));
    let recipient = UserId::from_uuid(Uuid::from_u128(1));
    NewMessage {
        portfolio,
        email: Email {
            id: EmailId::derive(portfolio, &format!("c{n}/kickoff/r0"), recipient),
            kind: EmailKind::Kickoff,
            recipient,
            role: Role::AccountManager,
            cycle: n,
            round: 0,
            details: EmailDetails {
                client: "Acme".to_owned(),
                refresh_date: NaiveDate::from_ymd_opt(2027, 3, 10).unwrap(),
                am_note: None,
                ad_lab_link: None,
                decision_missing: false,
                open_tickets: Vec::new(),
                next_refresh_date: None,
                tasks: Vec::new(),
                days_late: None,
            },
        },
        rendered: Rendered {
            subject: "s".to_owned(),
            text: "t".to_owned(),
            html: "h".to_owned(),
        },
        source_event_id: Uuid::now_v7(),
        created_at: Utc::now(),
    }
}

async fn the_outbox_counts_every_message_by_status_without_a_cap(db: TestDatabase) {
    let messages: Vec<NewMessage> = (1..=650).map(message).collect();
    let mut tx = Tx::begin(&db.database).await.unwrap();
    let inserted = insert_messages(&mut tx, &messages).await;
    tx.commit().await.unwrap();
    assert_eq!(inserted.unwrap(), 650);
    let counts = Outbox::new(db.database.clone()).counts().await.unwrap();
    assert_eq!(counts, [(MessageStatus::Pending, 650)]);
}
