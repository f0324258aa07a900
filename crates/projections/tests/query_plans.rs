//! The API-facing inbox queries are served by indexes, checked on 10,000 portfolios' worth
//! of rows (five tasks each) with each backend's query planner.
#![allow(clippy::unwrap_used)]

use freshet_domain::{PortfolioId, Role, UserId};
use freshet_projections::inbox::{self, InboxFilter};
use freshet_projections::portfolios::{self, PortfolioFilter};
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use uuid::Uuid;

freshet_store::on_both_backends!(
    the_inbox_queries_use_an_index_on_ten_thousand_portfolios,
    a_team_members_portfolios_are_found_by_index_on_ten_thousand_portfolios
);

const FILL_POSTGRES: &str = "INSERT INTO inbox_tasks (generation, task_id, portfolio_id, client, \
    assignee, role, kind, title, cycle, round, due_on, sort_due, is_open, context, assigned_at) \
    SELECT 1, ('00000000-0000-0000-0002-' || lpad(i::text, 12, '0'))::uuid, \
    ('00000000-0000-0000-0000-' || lpad((i / 5)::text, 12, '0'))::uuid, 'Client', \
    ('00000000-0000-0000-0000-' || lpad((i % 500)::text, 12, '0'))::uuid, \
    (ARRAY['am','sas','copywriter','designer','team_lead'])[i % 5 + 1], 'write_copy', 'Write', \
    1, 0, DATE '2027-03-01' + (i % 60), DATE '2027-03-01' + (i % 60), i % 3 <> 0, '{}', now() \
    FROM generate_series(0, 49999) AS i";

const FILL_SQLITE: &str = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n \
    WHERE i < 49999) INSERT INTO inbox_tasks (generation, task_id, portfolio_id, client, \
    assignee, role, kind, title, cycle, round, due_on, sort_due, is_open, context, assigned_at) \
    SELECT 1, '00000000-0000-0000-0002-' || printf('%012d', i), \
    '00000000-0000-0000-0000-' || printf('%012d', i / 5), 'Client', \
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
            explain_postgres(pool, inbox::select::<sqlx::Postgres>("EXPLAIN ", filter)).await
        }
        Database::Sqlite(pool) => {
            explain_sqlite(
                pool,
                inbox::select::<sqlx::Sqlite>("EXPLAIN QUERY PLAN ", filter),
            )
            .await
        }
    }
}

async fn explain_postgres(
    pool: &sqlx::PgPool,
    mut query: sqlx::QueryBuilder<'_, sqlx::Postgres>,
) -> String {
    let rows: Vec<(String,)> = query.build_query_as().fetch_all(pool).await.unwrap();
    rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
}

async fn explain_sqlite(
    pool: &sqlx::SqlitePool,
    mut query: sqlx::QueryBuilder<'_, sqlx::Sqlite>,
) -> String {
    let rows: Vec<(i64, i64, i64, String)> = query.build_query_as().fetch_all(pool).await.unwrap();
    rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
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

const PORTFOLIOS_POSTGRES: &str = "INSERT INTO portfolios (generation, portfolio_id, client, \
    account_manager, social_ad_specialist, copywriter, designer, team_lead, cadence_every, \
    cadence_unit, refresh_date, cycle, tickets_created, tickets_in_progress, tickets_pending, \
    tickets_completed, changed_at) \
    SELECT 1, ('00000000-0000-0000-0001-' || lpad(i::text, 12, '0'))::uuid, \
    'Client ' || (i % 97), \
    ('00000000-0000-0000-0000-' || lpad((i % 50)::text, 12, '0'))::uuid, \
    ('00000000-0000-0000-0000-' || lpad((1000 + i % 40)::text, 12, '0'))::uuid, \
    ('00000000-0000-0000-0000-' || lpad((i % 30)::text, 12, '0'))::uuid, \
    ('00000000-0000-0000-0000-' || lpad((2000 + i % 30)::text, 12, '0'))::uuid, \
    ('00000000-0000-0000-0000-' || lpad((3000 + i % 20)::text, 12, '0'))::uuid, \
    1, 'months', DATE '2027-03-01', 1, 0, 0, 0, 0, now() FROM generate_series(0, 9999) AS i";

const PORTFOLIOS_SQLITE: &str = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n \
    WHERE i < 9999) INSERT INTO portfolios (generation, portfolio_id, client, account_manager, \
    social_ad_specialist, copywriter, designer, team_lead, cadence_every, cadence_unit, \
    refresh_date, cycle, tickets_created, tickets_in_progress, tickets_pending, \
    tickets_completed, changed_at) \
    SELECT 1, '00000000-0000-0000-0001-' || printf('%012d', i), 'Client ' || (i % 97), \
    '00000000-0000-0000-0000-' || printf('%012d', i % 50), \
    '00000000-0000-0000-0000-' || printf('%012d', 1000 + i % 40), \
    '00000000-0000-0000-0000-' || printf('%012d', i % 30), \
    '00000000-0000-0000-0000-' || printf('%012d', 2000 + i % 30), \
    '00000000-0000-0000-0000-' || printf('%012d', 3000 + i % 20), \
    1, 'months', '2027-03-01', 1, 0, 0, 0, 0, '2027-03-01T00:00:00Z' FROM n";

// GET /portfolios for a team member is filtered and paged in SQL: keyset pages hold exactly
// the member's portfolios, each once, in client order; on PostgreSQL through the role
// indexes, never a scan of every portfolio. (SQLite's planner prefers walking the client
// index in listing order: one pass over an embedded single agency's rows.)
async fn a_team_members_portfolios_are_found_by_index_on_ten_thousand_portfolios(db: TestDatabase) {
    let database = &db.database;
    // Person 7 is the AM of every 50th portfolio and the Copywriter of every 30th.
    let member = UserId::from_uuid(id(7));
    let mut filter = PortfolioFilter {
        member: Some(member),
        limit: 57,
        ..Default::default()
    };
    match database {
        Database::Postgres(pool) => {
            sqlx::query(PORTFOLIOS_POSTGRES)
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("ANALYZE portfolios")
                .execute(pool)
                .await
                .unwrap();
            let plan = explain_postgres(
                pool,
                portfolios::select::<sqlx::Postgres>("EXPLAIN ", &filter),
            )
            .await;
            assert!(!plan.contains("Seq Scan on portfolios"), "{plan}");
        }
        Database::Sqlite(pool) => {
            sqlx::query(PORTFOLIOS_SQLITE).execute(pool).await.unwrap();
        }
    }
    let mut seen = Vec::new();
    loop {
        let page = portfolios::list(database, &filter).await.unwrap();
        seen.extend(
            page.iter()
                .map(|r| (r.client.clone(), r.portfolio_id.clone())),
        );
        let Some(last) = page.last().filter(|_| page.len() == 57) else {
            break;
        };
        filter.after = Some(last.portfolio_id.parse().unwrap());
    }
    let mut expected: Vec<(String, String)> = (0..10_000)
        .filter(|i| i % 50 == 7 || i % 30 == 7)
        .map(|i| {
            let id = format!("00000000-0000-0000-0001-{i:012}");
            (format!("Client {}", i % 97), id)
        })
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
}
