//! The API-facing inbox queries are served by indexes, checked on 10,000 portfolios' worth
//! of rows (five tasks each) with each backend's query planner.
#![allow(clippy::unwrap_used)]

use freshet_domain::{PortfolioId, Role, UserId};
use freshet_projections::inbox::{self, InboxFilter};
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use uuid::Uuid;

freshet_store::on_both_backends!(the_inbox_queries_use_an_index_on_ten_thousand_portfolios);

const FILL_POSTGRES: &str = "INSERT INTO inbox_tasks (generation, task_id, portfolio_id, client, \
    assignee, role, kind, title, cycle, round, due_on, sort_due, is_open, context, assigned_at) \
    SELECT 1, 't' || i, '00000000-0000-0000-0000-' || lpad((i / 5)::text, 12, '0'), 'Client', \
    '00000000-0000-0000-0000-' || lpad((i % 500)::text, 12, '0'), \
    (ARRAY['am','sas','copywriter','designer','team_lead'])[i % 5 + 1], 'write_copy', 'Write', \
    1, 0, DATE '2027-03-01' + (i % 60), DATE '2027-03-01' + (i % 60), i % 3 <> 0, '{}', now() \
    FROM generate_series(0, 49999) AS i";

const FILL_SQLITE: &str = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n \
    WHERE i < 49999) INSERT INTO inbox_tasks (generation, task_id, portfolio_id, client, \
    assignee, role, kind, title, cycle, round, due_on, sort_due, is_open, context, assigned_at) \
    SELECT 1, 't' || i, '00000000-0000-0000-0000-' || printf('%012d', i / 5), 'Client', \
    '00000000-0000-0000-0000-' || printf('%012d', i % 500), \
    CASE i % 5 WHEN 0 THEN 'am' WHEN 1 THEN 'sas' WHEN 2 THEN 'copywriter' \
    WHEN 3 THEN 'designer' ELSE 'team_lead' END, 'write_copy', 'Write', 1, 0, \
    date('2027-03-01', '+' || (i % 60) || ' days'), date('2027-03-01', '+' || (i % 60) || ' days'), \
    i % 3 <> 0, '{}', '2027-03-01T00:00:00Z' FROM n";

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

async fn plan(db: &Database, filter: &InboxFilter) -> String {
    match db {
        Database::Postgres(pool) => {
            let rows: Vec<(String,)> = inbox::select::<sqlx::Postgres>("EXPLAIN ", filter)
                .build_query_as()
                .fetch_all(pool)
                .await
                .unwrap();
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
        }
        Database::Sqlite(pool) => {
            let rows: Vec<(i64, i64, i64, String)> =
                inbox::select::<sqlx::Sqlite>("EXPLAIN QUERY PLAN ", filter)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
                    .unwrap();
            rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
        }
    }
}

async fn the_inbox_queries_use_an_index_on_ten_thousand_portfolios(db: TestDatabase) {
    let database = &db.database;
    match database {
        Database::Postgres(pool) => {
            sqlx::query(FILL_POSTGRES).execute(pool).await.unwrap();
            sqlx::query("ANALYZE inbox_tasks")
                .execute(pool)
                .await
                .unwrap();
        }
        Database::Sqlite(pool) => {
            sqlx::query(FILL_SQLITE).execute(pool).await.unwrap();
            sqlx::query("ANALYZE").execute(pool).await.unwrap();
        }
    }
    let filters = [
        InboxFilter {
            assignee: Some(UserId::from_uuid(id(7))),
            open: Some(true),
            limit: 50,
            ..Default::default()
        },
        InboxFilter {
            role: Some(Role::SocialAdSpecialist),
            open: Some(false),
            limit: 50,
            offset: 100,
            ..Default::default()
        },
        InboxFilter {
            portfolio: Some(PortfolioId::from_uuid(id(1234))),
            limit: 50,
            ..Default::default()
        },
    ];
    for filter in &filters {
        let plan = plan(database, filter).await;
        match database {
            Database::Postgres(_) => {
                assert!(
                    !plan.contains("Seq Scan on inbox_tasks"),
                    "{filter:?}\n{plan}"
                );
                assert!(plan.contains("Index"), "{filter:?}\n{plan}");
            }
            Database::Sqlite(_) => {
                let inbox_steps: Vec<_> =
                    plan.lines().filter(|l| l.contains("inbox_tasks")).collect();
                assert!(!inbox_steps.is_empty(), "{plan}");
                assert!(
                    inbox_steps
                        .iter()
                        .all(|l| l.contains("USING INDEX") || l.contains("USING COVERING INDEX")),
                    "{filter:?}\n{plan}"
                );
            }
        }
    }
    let rows = inbox::list(database, &filters[0]).await.unwrap();
    assert!(!rows.is_empty());
    assert!(rows.windows(2).all(|w| w[0].due_on <= w[1].due_on));
}
