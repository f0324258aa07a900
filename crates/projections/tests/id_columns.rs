//! The read models keep their ids as the rest of the database does (issue 15): `uuid` on
//! PostgreSQL, like the mail outbox and users, and the store codec's hyphenated text on
//! SQLite (migration 0064); and the same history read through the same queries gives the
//! same rows, in the same order, on both backends.
#![allow(clippy::unwrap_used)]

mod support;

use freshet_domain::*;
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::{metrics, portfolios};
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use support::*;
use uuid::Uuid;

freshet_store::on_both_backends!(every_id_column_of_the_read_models_holds_uuids);

const READ_MODELS: [&str; 4] = [
    "inbox_tasks",
    "portfolios",
    "ad_set_tickets",
    "cycle_metrics",
];

/// Columns that name a person rather than ending in `_id`.
const PEOPLE: [&str; 7] = [
    "assignee",
    "done_by",
    "account_manager",
    "social_ad_specialist",
    "copywriter",
    "designer",
    "team_lead",
];

fn is_id(column: &str) -> bool {
    column.ends_with("_id") || PEOPLE.contains(&column)
}

/// (table, column, type) of every id column of the read models.
async fn id_columns(db: &Database) -> Vec<(String, String, String)> {
    let columns: Vec<(String, String, String)> = match db {
        Database::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ANY($1) \
             ORDER BY 1, 2",
        )
        .bind(READ_MODELS.to_vec())
        .fetch_all(pool)
        .await
        .unwrap(),
        Database::Sqlite(pool) => {
            let mut columns = Vec::new();
            for table in READ_MODELS {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY 1")
                        .bind(table)
                        .fetch_all(pool)
                        .await
                        .unwrap();
                columns.extend(rows.into_iter().map(|(c, t)| (table.to_owned(), c, t)));
            }
            columns
        }
    };
    columns.into_iter().filter(|(_, c, _)| is_id(c)).collect()
}

async fn every_id_column_of_the_read_models_holds_uuids(db: TestDatabase) {
    let columns = id_columns(&db.database).await;
    // 5 in inbox_tasks, 6 in portfolios, 2 in ad_set_tickets, 3 in cycle_metrics.
    assert_eq!(columns.len(), 16, "{columns:?}");
    let expected = match db.database {
        Database::Postgres(_) => "uuid",
        // STRICT tables of text: the codec writes hyphenated lower-case UUIDs (checked below).
        Database::Sqlite(_) => "TEXT",
    };
    let other: Vec<_> = columns.iter().filter(|(_, _, t)| t != expected).collect();
    assert!(
        other.is_empty(),
        "id columns that are not {expected}: {other:?}"
    );

    // What the projections wrote is in the codec's form on both backends.
    let mut world = World::new(db).await;
    world.create("Acme", date(2027, 3, 10)).await;
    caught_up(&world).await;
    for (table, column, _) in &columns {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL AND \
             (length(CAST({column} AS TEXT)) <> 36 \
              OR CAST({column} AS TEXT) <> lower(CAST({column} AS TEXT)))"
        );
        let malformed: i64 = freshet_store::on_pool!(world.database(), pool => {
            sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap()
        });
        assert_eq!(malformed, 0, "{table}.{column}");
    }
}

/// One portfolio's history with fixed ids and times: a kickoff, a request, the handoff, a
/// ticket, and the SAS's task done by hand, so every id column holds a value.
async fn history(db: TestDatabase) -> World {
    let mut world = World::new(db).await;
    let p = PortfolioId::from_uuid(Uuid::from_u128(0xf0_0d));
    let am = Actor::user(user(AM));
    let sas = Actor::user(user(SAS));
    world.create_as(p, "Acme", date(2027, 3, 10)).await;
    world.send(p, Actor::System, Command::Tick).await;
    let note = NoteText::parse("Spring assets in the drive").unwrap();
    let requested = world
        .send(p, am, Command::RequestRefresh { note: Some(note) })
        .await;
    assert!(requested);
    // The handoff: the SAS's task to create the deliverables.
    world.clock.advance_days(15);
    world.send(p, Actor::System, Command::Tick).await;
    let ticket = TicketId::from_uuid(Uuid::from_u128(0x71c));
    let created = world
        .send(
            p,
            sas,
            Command::CreateTicket {
                ticket_id: ticket,
                title: TicketTitle::parse("Deliverable 1").unwrap(),
                folder: FolderName::parse("Spring").unwrap(),
                deliverables: DeliverableCount::new(1).unwrap(),
            },
        )
        .await;
    assert!(created);
    // The SAS completes that task by hand: a done row with `done_by`.
    caught_up(&world).await;
    let open = InboxFilter {
        assignee: Some(user(SAS)),
        open: Some(true),
        limit: 100,
        ..Default::default()
    };
    let tasks = inbox::list(world.database(), &open).await.unwrap();
    let task = tasks
        .iter()
        .find(|t| t.kind == "create_deliverables")
        .unwrap();
    let task_id = task.task_id.parse().unwrap();
    let completed = world.send(p, sas, Command::CompleteTask { task_id }).await;
    assert!(completed);
    caught_up(&world).await;
    world
}

/// Every query's rows for the one portfolio of [`history`].
async fn rows(
    world: &World,
) -> (
    Snapshot,
    Vec<inbox::InboxTask>,
    Vec<metrics::MetricsSummary>,
) {
    let db = world.database();
    let mine = InboxFilter {
        assignee: Some(user(SAS)),
        limit: 100,
        ..Default::default()
    };
    let mut mine = inbox::list(db, &mine).await.unwrap();
    let team = portfolios::PortfolioFilter {
        member: Some(user(COPYWRITER)),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(portfolios::list(db, &team).await.unwrap().len(), 1);
    let due = portfolios::due_for_trigger(db, date(2030, 1, 1))
        .await
        .unwrap();
    assert_eq!(due, world.portfolios);
    mine.extend(inbox::open_page(db, user(SAS), None, 100).await.unwrap());
    let summary = metrics::summary(db, metrics::GroupBy::AccountManager)
        .await
        .unwrap();
    (snapshot(db, &world.portfolios).await, mine, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_history_reads_the_same_on_both_backends() {
    let Some(postgres) = TestDatabase::postgres().await else {
        return;
    };
    let postgres = history(postgres).await;
    let sqlite = history(TestDatabase::sqlite().await).await;
    let (on_postgres, on_sqlite) = (rows(&postgres).await, rows(&sqlite).await);
    let (snapshot, inbox_pages, _) = &on_postgres;
    assert!(!inbox_pages.is_empty());
    assert!(!snapshot.inbox.is_empty() && !snapshot.board.is_empty());
    assert!(snapshot.inbox.iter().any(|t| t.ticket_id.is_some()));
    assert!(snapshot.inbox.iter().any(|t| t.done_by.is_some()));
    assert_eq!(
        snapshot.board[0].ticket_id,
        Uuid::from_u128(0x71c).to_string()
    );
    // Undated tasks (9999-12-31) sort after dated ones on both backends (migration 0065).
    for inbox in [&snapshot.inbox, &on_sqlite.0.inbox] {
        let undated = inbox.iter().position(|t| t.due_on.is_none()).unwrap();
        assert!(
            inbox[undated..].iter().all(|t| t.due_on.is_none()),
            "{inbox:?}"
        );
    }
    assert_eq!(on_postgres, on_sqlite);
}
