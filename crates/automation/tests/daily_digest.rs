#![allow(clippy::unwrap_used)]
//! The daily digest on both backends: at 08:00 agency time, one email to each active person
//! with the digest on and something overdue or due today; once a day however often it runs.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use freshet_accounts::{User, digest, users};
use freshet_automation::{DEFAULT_DIGEST_TIME, DailyDigest, DigestReport, digest_id};
use freshet_domain::*;
use freshet_follower::{Runner, RunnerConfig};
use freshet_mail::{ListFilter, Outbox, OutboxEntry, PublicUrl, Renderer};
use freshet_projections::{Live, PROJECTION_NAMES, ReadModelConfig, all_projections};
use freshet_service::{CommandRequest, CommandService, ManualClock, ProcessConfig};
use freshet_store::codec::DbUuid;
use freshet_store::testing::TestDatabase;
use freshet_store::{Database, on_pool};
use uuid::Uuid;

freshet_store::on_both_backends!(
    the_digest_goes_once_a_day_at_eight_to_each_active_person_with_something_due
);

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 3, d).unwrap()
}

/// `hh:mm` UTC on March `d`; New York is five hours behind in early March.
fn utc(d: u32, hh: u32, mm: u32) -> DateTime<Utc> {
    day(d).and_hms_opt(hh, mm, 0).unwrap().and_utc()
}

async fn person(db: &Database, name: &str) -> User {
    let email = format!("{}@agency.test", name.to_lowercase());
    users::add(db, name, &email, false, None).await.unwrap().0
}

async fn digests(db: &Database) -> Vec<OutboxEntry> {
    let all = Outbox::new(db.clone())
        .list(&ListFilter::default())
        .await
        .unwrap();
    all.into_iter()
        .filter(|entry| entry.kind == "daily_digest")
        .collect()
}

async fn body_text(db: &Database, id: EmailId) -> String {
    on_pool!(db, pool => {
        sqlx::query_scalar("SELECT body_text FROM mail_outbox WHERE id = $1")
            .bind(DbUuid(id.as_uuid()))
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

async fn the_digest_goes_once_a_day_at_eight_to_each_active_person_with_something_due(
    db: TestDatabase,
) {
    let store = db.store().await;
    let clock = ManualClock::new(utc(1, 12, 0));
    let config = ProcessConfig {
        calendar: AgencyCalendar::parse("America/New_York").unwrap(),
        ..ProcessConfig::default()
    };
    let service = CommandService::new(Arc::clone(&store), Arc::new(clock.clone()), config);
    let database = db.database.clone();

    let alex = person(&database, "Alex").await;
    let sam = person(&database, "Sam").await;
    let robin = person(&database, "Robin").await;
    let dee = person(&database, "Dee").await;
    let crew = person(&database, "Crew").await;
    // Alex: one kickoff due March 5th, one due March 10th. Robin and Dee: one due March
    // 10th each. Sam (the SAS of every portfolio) has nothing due: no handoff has happened.
    let mut portfolios = Vec::new();
    for (am, refresh_day) in [(&alex, 5), (&alex, 10), (&robin, 10), (&dee, 10)] {
        let id = PortfolioId::from_uuid(Uuid::now_v7());
        let command = Command::CreatePortfolio {
            portfolio_id: id,
            client: ClientName::parse(&format!("Client of {}", am.name)).unwrap(),
            team: Team {
                account_manager: am.id,
                social_ad_specialist: sam.id,
                copywriter: crew.id,
                designer: crew.id,
                team_lead: crew.id,
            },
            cadence: Cadence::new(1, CadenceUnit::Months).unwrap(),
            refresh_date: day(refresh_day),
        };
        service
            .execute(CommandRequest::new(
                id,
                command,
                Actor::admin(UserId::from_uuid(Uuid::from_u128(99))),
            ))
            .await
            .unwrap();
        portfolios.push(id);
    }
    let runner = Runner::new(
        database.clone(),
        Arc::clone(&store),
        RunnerConfig::default(),
    );
    for projection in all_projections(&store, ReadModelConfig::default()) {
        runner.catch_up(&Live(projection)).await.unwrap();
    }
    runner
        .wait_for(
            &PROJECTION_NAMES,
            store.head().await.unwrap(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    digest::set_daily_digest(&database, robin.id, false)
        .await
        .unwrap();
    assert_eq!(
        digest::daily_digest(&database, robin.id).await.unwrap(),
        Some(false)
    );
    users::deactivate(&database, dee.id, None).await.unwrap();

    let renderer = || Renderer::new("https://freshet.agency.test".parse::<PublicUrl>().unwrap());
    let digest = DailyDigest::new(
        service.clone(),
        database.clone(),
        renderer().unwrap(),
        DEFAULT_DIGEST_TIME,
    );

    // March 10th, 07:59 in New York (12:59 UTC): not yet.
    clock.set(utc(10, 12, 59));
    assert_eq!(digest.send_due().await.unwrap(), None);
    assert!(digests(&database).await.is_empty());

    // 08:00 in New York: Alex only.
    clock.set(utc(10, 13, 0));
    assert_eq!(
        digest.send_due().await.unwrap(),
        Some(DigestReport {
            today: day(10),
            recipients: 1,
            written: 1
        })
    );
    let sent = digests(&database).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].recipient, alex.id,
        "not Sam, Robin (off) or Dee (deactivated)"
    );
    assert_eq!(sent[0].id, digest_id(alex.id, day(10)));
    let text = body_text(&database, sent[0].id).await;
    let link =
        |portfolio: PortfolioId| format!("https://freshet.agency.test/app/portfolios/{portfolio}");
    let overdue = text
        .find(&link(portfolios[0]))
        .expect("the overdue task's link");
    let due_today = text
        .find(&link(portfolios[1]))
        .expect("the due-today task's link");
    assert!(overdue < due_today, "overdue first: {text}");
    assert!(text.contains("5 days late"), "{text}");
    assert!(
        !text.contains(&link(portfolios[2])),
        "not Robin's task: {text}"
    );

    // Again the same day, from this worker, from a restarted one, and from a second one
    // with its own renderer: nothing more.
    clock.set(utc(10, 15, 0));
    assert_eq!(digest.send_due().await.unwrap(), None);
    for _ in 0..2 {
        let other = DailyDigest::new(
            service.clone(),
            database.clone(),
            renderer().unwrap(),
            DEFAULT_DIGEST_TIME,
        );
        let report = other.send_due().await.unwrap().unwrap();
        assert_eq!((report.recipients, report.written), (1, 0));
    }
    assert_eq!(digests(&database).await.len(), 1);

    // The next morning, Alex's tasks are still open: a new day, a new digest.
    clock.set(utc(11, 13, 30));
    let report = digest.send_due().await.unwrap().unwrap();
    assert_eq!((report.today, report.written), (day(11), 1));
    assert_eq!(digests(&database).await.len(), 2);
}
