//! The HubSpot import on both backends, from the fixture exports in `tests/fixtures`:
//! the dry run lists every refused row and writes nothing; the apply makes the read models
//! say what the files say; a second import is a no-op; a newer export applies only its
//! forward change and reports a backwards one as a conflict.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use freshet_accounts::users;
use freshet_follower::{Runner, RunnerConfig};
use freshet_hubspot::plan::portfolio_id;
use freshet_hubspot::{Directory, Exports, Importer, Mapping, Report, Table};
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::{Live, ReadModelConfig, all_projections, audit, board, portfolios};
use freshet_store::EventStore;
use freshet_store::testing::TestDatabase;

use support::{config, fixture_path, fixtures, now, people};

mod support;

freshet_store::on_both_backends!(
    the_dry_run_lists_every_refused_row_and_writes_nothing,
    the_apply_makes_the_read_models_match_the_files_and_a_second_import_is_a_no_op,
    a_newer_export_applies_only_the_forward_change_and_reports_the_backwards_one,
);

async fn import(
    db: &TestDatabase,
    store: &Arc<dyn EventStore>,
    exports: &Exports,
    apply: bool,
) -> Report {
    let (directory, admin) = match users::list(&db.database).await.unwrap() {
        list if list.is_empty() => people(&db.database).await,
        list => {
            let admin = list.iter().find(|u| u.admin).unwrap().id;
            (
                Directory::new(list.into_iter().map(|u| (u.email, u.id))),
                admin,
            )
        }
    };
    let importer = Importer::new(Arc::clone(store), config(), admin);
    let report = importer
        .run(
            exports,
            &Mapping::default(),
            directory,
            now(),
            apply,
            &|_, _| {},
        )
        .await
        .unwrap();
    let runner = Runner::new(
        db.database.clone(),
        Arc::clone(store),
        RunnerConfig::default(),
    );
    // Caught up to the import's last event: on PostgreSQL the log is read only up to the
    // oldest transaction still open in the cluster (other tests' too), so poll.
    let target = report.last_position.unwrap_or_default();
    let names = all_projections(store, ReadModelConfig::default())
        .iter()
        .map(|p| p.name().to_owned())
        .collect::<Vec<_>>();
    let names = names.iter().map(String::as_str).collect::<Vec<_>>();
    for _ in 0..400 {
        for projection in all_projections(store, ReadModelConfig::default()) {
            runner.catch_up(&Live(projection)).await.unwrap();
        }
        if runner
            .wait_for(&names, target, Duration::from_millis(1))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    report
}

fn refused_lines(report: &Report, file: &str) -> Vec<u64> {
    report
        .refused
        .iter()
        .filter(|r| r.file.ends_with(file))
        .map(|r| r.line)
        .collect()
}

async fn the_dry_run_lists_every_refused_row_and_writes_nothing(db: TestDatabase) {
    let store = db.store().await;
    let report = import(&db, &store, &fixtures(), false).await;
    println!("{report}");
    assert!(!report.applied);
    // Portfolios: unknown status (18008), owner by a name the owners file lacks (18009),
    // an owner with no Freshet user (18010), and 18011 whose folder's tickets disagree on
    // the count (refused on its second ticket by R7, its other rows with it).
    assert_eq!(
        refused_lines(&report, "portfolios.csv"),
        vec![9, 10, 11, 12]
    );
    let reasons = report
        .refused
        .iter()
        .map(|r| (r.record.as_str(), r.reason.as_str()))
        .collect::<Vec<_>>();
    let reason = |record: &str| {
        reasons
            .iter()
            .find(|(r, _)| *r == record)
            .map(|(_, why)| *why)
            .unwrap_or_default()
    };
    assert!(reason("18008").contains("unknown Creative Refresh Status \"Waiting on client\""));
    assert!(reason("18009").contains("\"Olga Unknown\""));
    assert!(reason("18010").contains("zed@elsewhere.example has no Freshet user"));
    assert!(
        reason("7041").contains("Number of Deliverables"),
        "{}",
        reason("7041")
    );
    assert!(reason("7009").contains("earlier Ad Set"));
    assert!(reason("7050").contains("record 99999) is not in the portfolios file"));
    assert!(reason("7051").contains("associated with 2 Creative Portfolios"));
    assert!(reason("7052").contains("not the Creative Deliverables pipeline"));
    assert!(reason("7053").contains("unknown Ticket status \"Blocked\""));
    assert!(reason("7054").contains("was refused (") && reason("7054").contains(":9)"));
    // The tickets' lines count the quoted newline of ticket 7001's description.
    assert_eq!(
        refused_lines(&report, "tickets.csv"),
        vec![8, 13, 14, 15, 16, 17, 18, 19]
    );
    assert_eq!(report.portfolios_created, 7);
    assert_eq!(report.tickets_created, 9);
    assert_eq!(report.ad_sets, 4);
    assert_eq!(report.people.len(), 5);
    assert_eq!(
        report.cycles_by_status.get("Creatives Pending Approval"),
        Some(&2)
    );
    assert_eq!(report.cycles_by_status.get("(empty)"), Some(&2));
    assert!(report.conflicts.is_empty());
    assert_eq!(
        store.head().await.unwrap(),
        Default::default(),
        "a dry run writes nothing"
    );
}

async fn the_apply_makes_the_read_models_match_the_files_and_a_second_import_is_a_no_op(
    db: TestDatabase,
) {
    let store = db.store().await;
    let report = import(&db, &store, &fixtures(), true).await;
    assert!(report.applied);
    assert_eq!(report.portfolios_created, 7);
    let row = |record: &'static str| {
        let db = db.database.clone();
        async move {
            portfolios::get(&db, portfolio_id(record))
                .await
                .unwrap()
                .unwrap()
        }
    };
    let acme = row("18001").await;
    assert_eq!(
        (acme.client.as_str(), acme.status.as_deref()),
        ("Acme, Inc.", None)
    );
    assert_eq!(acme.refresh_date.to_string(), "2026-04-20");
    let cedar = row("18003").await;
    assert_eq!(
        cedar.status_label.as_deref(),
        Some("Deliverables Submitted")
    );
    assert_eq!(
        (
            cedar.tickets_created,
            cedar.tickets_in_progress,
            cedar.tickets_pending
        ),
        (3, 2, 1)
    );
    assert_eq!(cedar.ad_set_folder.as_deref(), Some("Cedar_2026-03"));
    let delta = row("18004").await;
    assert_eq!(
        delta.status_label.as_deref(),
        Some("Creatives Pending Approval")
    );
    let echo = row("18005").await;
    assert_eq!(
        echo.status_label.as_deref(),
        Some("Creatives Completed & Approved")
    );
    assert_eq!((echo.tickets_completed, echo.tickets_pending), (1, 1));
    let fig = row("18006").await;
    assert_eq!(
        (fig.status.as_deref(), fig.refresh_date.to_string().as_str()),
        (None, "2026-04-15")
    );
    let grove = board::tickets(&db.database, portfolio_id("18007"), None)
        .await
        .unwrap();
    let listing = grove
        .iter()
        .find(|t| t.title == "Listing video, 30s")
        .unwrap();
    assert_eq!(
        (listing.status.as_str(), listing.needs_revisions.as_deref()),
        ("in_progress", Some("copy_only"))
    );
    assert!(
        portfolios::get(&db.database, portfolio_id("18008"))
            .await
            .unwrap()
            .is_none()
    );
    // The AM's share task of a cycle at Creatives Pending Approval is in the inbox.
    let filter = InboxFilter {
        portfolio: Some(portfolio_id("18004")),
        open: Some(true),
        limit: 100,
        ..InboxFilter::default()
    };
    let open = inbox::list(&db.database, &filter).await.unwrap();
    assert!(
        open.iter()
            .any(|t| t.title == "Share Drafted Deliverables With Client" && t.role == "am"),
        "{open:?}"
    );
    // B2: the history says where each fact came from, when HubSpot had it.
    let history = audit::history(store.as_ref(), portfolio_id("18003"), 0, 500)
        .await
        .unwrap();
    let note = history
        .iter()
        .find(|e| e.event_type == "PortfolioNoteLogged")
        .unwrap();
    assert!(
        note.payload["text"]
            .as_str()
            .unwrap()
            .starts_with("Imported from HubSpot, Creative Portfolio record 18003")
    );
    assert!(note.actor.as_deref().unwrap().starts_with("admin:"));
    assert_eq!(
        history[0].recorded_at.to_rfc3339(),
        "2025-09-15T18:45:00+00:00",
        "HubSpot's Create Date, 14:45 in New York"
    );
    assert_eq!(
        history[0].correlation_id,
        freshet_hubspot::plan::correlation("18003")
    );
    let head = store.head().await.unwrap();

    let again = import(&db, &store, &fixtures(), true).await;
    assert_eq!(
        store.head().await.unwrap(),
        head,
        "the second import wrote nothing"
    );
    assert_eq!(
        (
            again.portfolios_created,
            again.portfolios_changed,
            again.portfolios_unchanged
        ),
        (0, 0, 7)
    );
    assert_eq!(again.refused.len(), report.refused.len());
}

async fn a_newer_export_applies_only_the_forward_change_and_reports_the_backwards_one(
    db: TestDatabase,
) {
    let store = db.store().await;
    import(&db, &store, &fixtures(), true).await;
    let head = store.head().await.unwrap();
    let newer = |from: &str, to: &str| {
        let text = std::fs::read_to_string(fixture_path("portfolios.csv"))
            .unwrap()
            .replace(from, to);
        Table::read("portfolios-newer.csv", text.as_bytes()).unwrap()
    };
    // Bolt Bikes' ticket is made, and Echo Yoga's status goes back: a forward change and
    // a conflict in one newer export.
    let mut exports = fixtures();
    exports.portfolios = newer(
        "Creatives Completed & Approved,2026-03-01",
        "Deliverables Submitted,2026-03-01",
    );
    let report = import(&db, &store, &exports, true).await;
    assert_eq!(report.conflicts.len(), 1, "{report}");
    assert!(
        report.conflicts[0]
            .reason
            .contains("went back from Creatives Completed & Approved to Deliverables Submitted")
    );
    assert_eq!(
        store.head().await.unwrap(),
        head,
        "the backwards move is not applied"
    );
    let echo = portfolios::get(&db.database, portfolio_id("18005"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        echo.status_label.as_deref(),
        Some("Creatives Completed & Approved")
    );

    let mut exports = fixtures();
    let tickets = std::fs::read_to_string(fixture_path("tickets.csv"))
        .unwrap()
        .replace(
            "7003,\"Feed 1x1, testimonial\",Creative Deliverables,In Progress",
            "7003,\"Feed 1x1, testimonial\",Creative Deliverables,Pending Approval",
        );
    exports.tickets = Table::read("tickets-newer.csv", tickets.as_bytes()).unwrap();
    let report = import(&db, &store, &exports, true).await;
    assert_eq!(
        (report.portfolios_changed, report.portfolios_unchanged),
        (1, 6),
        "{report}"
    );
    let cedar = board::tickets(&db.database, portfolio_id("18003"), None)
        .await
        .unwrap();
    let feed = cedar
        .iter()
        .find(|t| t.title == "Feed 1x1, testimonial")
        .unwrap();
    assert_eq!(feed.status, "pending_approval");
    let carousel = cedar
        .iter()
        .find(|t| t.title == "Carousel, spring promo")
        .unwrap();
    assert_eq!(carousel.status, "in_progress", "only the change is applied");
}
