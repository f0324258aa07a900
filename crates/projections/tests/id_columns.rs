//! The read models keep their ids as the rest of the database does (issue 15): `uuid` on
//! PostgreSQL, like the mail outbox and users, and the store codec's hyphenated text on
//! SQLite (migration 0064).
#![allow(clippy::unwrap_used)]

mod support;

use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use support::*;

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
