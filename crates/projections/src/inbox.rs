//! Task inboxes: every task with what it must show (R6, R12, R20), open and done, per person,
//! role and portfolio, sorted by due date.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use freshet_domain::view::task_context;
use freshet_domain::{Event, Portfolio, PortfolioId, Role, Task, TaskId, UserId};
use freshet_follower::DecodedEvent;
use freshet_store::codec::DbUuid;
use freshet_store::{Database, EventStore, LogPosition};
use serde::Serialize;
use sqlx::QueryBuilder;

use crate::fold::{Fold, Tracks};
use crate::ids::{IdText, optional};
use crate::projection::{Projection, Target, hash_of};
use crate::state::Tracked;
use freshet_follower::ProcessorError;
use freshet_store::Tx;
use freshet_store::{on_pool, on_tx};

pub const NAME: &str = "inbox";
/// `sort_due` of an undated task: 9999-12-31, the last date both backends write alike.
/// (`NaiveDate::MAX`, year 262142, is `+262142-12-31` as SQLite text, which sorts first.)
const NO_DUE: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(date) => date,
    None => panic!("9999-12-31 is a date"),
};
/// Rows per multi-row statement (well under both backends' bind limits).
const CHUNK: usize = 1_000;
/// The columns of [`InboxTask`], ids read as text (see [`crate::ids`]).
const COLUMNS: &str = "CAST(task_id AS TEXT) AS task_id, \
    CAST(portfolio_id AS TEXT) AS portfolio_id, client, CAST(assignee AS TEXT) AS assignee, \
    role, kind, title, CAST(ticket_id AS TEXT) AS ticket_id, ticket_title, cycle, round, \
    due_on, is_open, context, assigned_at, done_at, CAST(done_by AS TEXT) AS done_by";
const ACTIVE: &str =
    "generation = (SELECT active FROM projection_generations WHERE name = 'inbox')";

/// One inbox row as written and read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, sqlx::FromRow)]
pub struct InboxTask {
    pub task_id: String,
    pub portfolio_id: String,
    pub client: String,
    pub assignee: String,
    /// Role code (`am`, `sas`, ...).
    pub role: String,
    /// Task kind code (`TaskKind::code`, e.g. `stall_alert:client_review`).
    pub kind: String,
    pub title: String,
    pub ticket_id: Option<String>,
    pub ticket_title: Option<String>,
    pub cycle: i64,
    pub round: i64,
    pub due_on: Option<NaiveDate>,
    pub is_open: bool,
    /// `freshet_domain::view::TaskContext` as JSON.
    pub context: String,
    pub assigned_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

/// Tasks met while folding a batch: when each was assigned, and the tasks completed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskLog {
    assigned_at: HashMap<TaskId, DateTime<Utc>>,
    /// A hash of each open task's row as last written, so a batch rewrites only the rows it
    /// changed. (Reset with the state whenever the state is reloaded, e.g. after a rollback.)
    written: HashMap<TaskId, u64>,
    /// Done rows to write whole: their open row was never written as it stood when completed.
    done: Vec<InboxTask>,
    /// Tasks completed whose open row is written as it stood: only what completing changes.
    completed: Vec<Completion>,
}

/// What completing a task changes in its row.
#[derive(Debug, Clone)]
struct Completion {
    task_id: String,
    done_at: DateTime<Utc>,
    done_by: Option<String>,
}

impl Tracked for TaskLog {
    fn before(&mut self, state: Option<&Portfolio>, event: &DecodedEvent) {
        let (Some(state), Event::TaskCompleted { task_id, by }) = (state, &event.event) else {
            return;
        };
        let Some(task) = state.open_tasks.get(task_id) else {
            return;
        };
        let assigned_at = self
            .assigned_at
            .get(task_id)
            .copied()
            .unwrap_or(event.record.recorded_at);
        let mut row = row(state, task, assigned_at);
        let done_at = event.record.recorded_at;
        let done_by = by.map(|user| user.to_string());
        if self.written.remove(task_id) == Some(hash_of(&row)) {
            self.completed.push(Completion {
                task_id: row.task_id,
                done_at,
                done_by,
            });
        } else {
            row.is_open = false;
            row.done_at = Some(done_at);
            row.done_by = done_by;
            self.done.push(row);
        }
        self.assigned_at.remove(task_id);
    }

    fn after(&mut self, _state: &Portfolio, event: &DecodedEvent) {
        if let Event::TaskAssigned { task } = &event.event {
            self.assigned_at.insert(task.id, event.record.recorded_at);
        }
    }

    fn discard_pending(&mut self) {
        self.done.clear();
        self.completed.clear();
    }
}

fn row(state: &Portfolio, task: &Task, assigned_at: DateTime<Utc>) -> InboxTask {
    let ticket = task.ticket.and_then(|id| state.ticket(id));
    InboxTask {
        task_id: task.id.to_string(),
        portfolio_id: state.id.to_string(),
        client: state.client.to_string(),
        assignee: task.assignee.to_string(),
        role: task.role.code().to_owned(),
        kind: task.kind.code(),
        title: task.kind.title().to_owned(),
        ticket_id: task.ticket.map(|id| id.to_string()),
        ticket_title: ticket.map(|t| t.title.to_string()),
        cycle: i64::from(task.cycle),
        round: i64::from(task.round),
        due_on: task.due,
        is_open: true,
        context: serde_json::to_string(&task_context(state, task)).unwrap_or_default(),
        assigned_at,
        done_at: None,
        done_by: None,
    }
}

/// The inbox projection.
#[derive(Debug)]
pub struct Inbox {
    store: Arc<dyn EventStore>,
    fold: Fold,
}

impl Inbox {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            fold: Fold::own(Tracks::tasks()),
        }
    }
}

#[async_trait]
impl Projection for Inbox {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static str] {
        &["inbox_tasks"]
    }

    fn fresh(&self) -> Arc<dyn Projection> {
        Arc::new(Self::new(Arc::clone(&self.store)))
    }

    async fn fresh_sharing(&self, fold: &Fold) -> Arc<dyn Projection> {
        fold.track_tasks().await;
        Arc::new(Self {
            store: Arc::clone(&self.store),
            fold: fold.clone(),
        })
    }

    #[tracing::instrument(
        skip_all,
        fields(projection = NAME, generation = target.generation, events = events.len()),
        err
    )]
    async fn apply(
        &self,
        tx: &mut Tx,
        target: Target,
        events: &[DecodedEvent],
    ) -> Result<(), ProcessorError> {
        let mut fold = self.fold.lock().await;
        let touched = fold.advance(self.store.as_ref(), events).await?;
        let states = fold.states();
        let mut rows = Vec::new();
        let mut completed = Vec::new();
        for id in touched.into_keys() {
            let Some(entry) = states.get_mut(&id) else {
                continue;
            };
            let Some(tracked) = entry.tracked.tasks.as_mut() else {
                continue;
            };
            rows.append(&mut tracked.done);
            completed.append(&mut tracked.completed);
            let state = &entry.state;
            tracked
                .written
                .retain(|id, _| state.open_tasks.contains_key(id));
            for task in state.open_tasks.values() {
                let at = tracked
                    .assigned_at
                    .get(&task.id)
                    .copied()
                    .unwrap_or_default();
                let row = row(state, task, at);
                let hash = hash_of(&row);
                if tracked.written.insert(task.id, hash) != Some(hash) {
                    rows.push(row);
                }
            }
        }
        // Other projections sharing the fold build their rows while these are written.
        drop(fold);
        let Some(last) = events.last() else {
            return Ok(());
        };
        let at = last.record.position;
        // Completions first, as the rows' order in the page: a task id completed and then
        // assigned again ends open.
        complete(tx, target, at, &completed).await?;
        upsert(tx, target, at, &rows).await?;
        Ok(())
    }
}

/// Marks the `completed` tasks' rows done, one set-based update per chunk, each marked as
/// changed at `at` (the batch's last event).
async fn complete(
    tx: &mut Tx,
    target: Target,
    at: LogPosition,
    completed: &[Completion],
) -> Result<(), sqlx::Error> {
    for chunk in completed.chunks(CHUNK) {
        on_tx!(tx, conn => {
            completion("", target, at, chunk).build().execute(&mut **conn).await?;
        });
    }
    Ok(())
}

/// The update of [`complete`] for one chunk, after `prefix` (`EXPLAIN ` in the test of its
/// plan).
fn completion<'a, DB: sqlx::Database>(
    prefix: &str,
    target: Target,
    at: LogPosition,
    chunk: &'a [Completion],
) -> QueryBuilder<'a, DB>
where
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    IdText<'a>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<IdText<'a>>: sqlx::Encode<'a, DB>,
    DateTime<Utc>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let table = target.table("inbox_tasks");
    // A `VALUES` list names its columns `column1`, `column2`, … on both backends.
    let mut sql = QueryBuilder::new(format!(
        "{prefix}UPDATE {table} SET is_open = FALSE, done_at = done.column2, \
         done_by = done.column3, changed_commit = "
    ));
    sql.push_bind(at.commit)
        .push(", changed_position = ")
        .push_bind(at.position)
        .push(" FROM (");
    sql.push_values(chunk, |mut b, c| {
        b.push_bind(IdText(&c.task_id))
            .push_bind(c.done_at)
            .push_bind(optional(&c.done_by));
    });
    sql.push(format!(") AS done WHERE {table}.generation = "))
        .push_bind(target.generation)
        .push(format!(" AND {table}.task_id = done.column1"));
    sql
}

/// Writes `rows`, each marked as changed at `at` (the batch's last event).
async fn upsert(
    tx: &mut Tx,
    target: Target,
    at: LogPosition,
    rows: &[InboxTask],
) -> Result<(), sqlx::Error> {
    let table = target.table("inbox_tasks");
    for chunk in rows.chunks(CHUNK) {
        on_tx!(tx, conn => {
            let mut sql = QueryBuilder::new(format!(
                "INSERT INTO {table} (generation, task_id, portfolio_id, client, assignee, \
                 role, kind, title, ticket_id, ticket_title, cycle, round, due_on, sort_due, \
                 is_open, context, assigned_at, done_at, done_by, changed_commit, \
                 changed_position) ",
            ));
            sql.push_values(chunk, |mut b, r| {
                b.push_bind(target.generation)
                    .push_bind(IdText(&r.task_id))
                    .push_bind(IdText(&r.portfolio_id))
                    .push_bind(&r.client)
                    .push_bind(IdText(&r.assignee))
                    .push_bind(&r.role)
                    .push_bind(&r.kind)
                    .push_bind(&r.title)
                    .push_bind(optional(&r.ticket_id))
                    .push_bind(&r.ticket_title)
                    .push_bind(r.cycle)
                    .push_bind(r.round)
                    .push_bind(r.due_on)
                    .push_bind(r.due_on.unwrap_or(NO_DUE))
                    .push_bind(r.is_open)
                    .push_bind(&r.context)
                    .push_bind(r.assigned_at)
                    .push_bind(r.done_at)
                    .push_bind(optional(&r.done_by))
                    .push_bind(at.commit)
                    .push_bind(at.position);
            });
            // An assigned time once known is kept: a reloaded state may not know it.
            sql.push(
                " ON CONFLICT (generation, task_id) DO UPDATE SET client = excluded.client, \
                 assignee = excluded.assignee, ticket_title = excluded.ticket_title, \
                 due_on = excluded.due_on, sort_due = excluded.sort_due, \
                 is_open = excluded.is_open, context = excluded.context, \
                 done_at = excluded.done_at, done_by = excluded.done_by, \
                 changed_commit = excluded.changed_commit, \
                 changed_position = excluded.changed_position",
            );
            sql.build().execute(&mut **conn).await?;
        });
    }
    Ok(())
}

/// Which inbox rows to list. Unset filters match everything; at least one of `assignee`,
/// `role` or `portfolio` should be set so an index serves the query.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub assignee: Option<UserId>,
    pub role: Option<Role>,
    pub portfolio: Option<PortfolioId>,
    /// `Some(true)`: open only; `Some(false)`: done only.
    pub open: Option<bool>,
    /// Stall alerts only (B1).
    pub alerts_only: bool,
    /// Keyset paging: the rows after this task in the listing's order.
    pub after: Option<TaskId>,
    pub limit: u32,
    pub offset: u32,
}

/// Lists inbox rows of the active generation, by due date (undated last), then task id.
pub async fn list(db: &Database, filter: &InboxFilter) -> Result<Vec<InboxTask>, sqlx::Error> {
    let rows = on_pool!(db, pool => {
        let mut sql = select("", filter);
        sql.build_query_as::<InboxTask>().fetch_all(pool).await?
    });
    Ok(rows)
}

/// An [`InboxTask`]'s columns from the active generation, up to `is_open = `: the caller
/// binds `true` and adds its conditions.
/// The active inbox's rows, open or not: push the bound `is_open` next.
fn open_rows() -> String {
    format!("SELECT {COLUMNS} FROM inbox_tasks WHERE {ACTIVE} AND is_open = ")
}

/// `assignee`'s open tasks in the listing's order (due date, then id), at most `limit`,
/// after the row whose order key is `after`: a snapshot read a page at a time that skips
/// nothing even when that row's due date changes between two pages.
pub async fn open_page(
    db: &Database,
    assignee: UserId,
    after: Option<&InboxTask>,
    limit: u32,
) -> Result<Vec<InboxTask>, sqlx::Error> {
    let rows = on_pool!(db, pool => {
        let mut sql = QueryBuilder::new(open_rows());
        sql.push_bind(true)
            .push(" AND assignee = ")
            .push_bind(DbUuid(assignee.as_uuid()));
        if let Some(after) = after {
            sql.push(" AND (sort_due, task_id) > (")
                .push_bind(after.due_on.unwrap_or(NO_DUE))
                .push(", ")
                .push_bind(IdText(&after.task_id))
                .push(")");
        }
        sql.push(" ORDER BY inbox_tasks.sort_due, inbox_tasks.task_id LIMIT ")
            .push_bind(i64::from(limit.max(1)));
        sql.build_query_as::<InboxTask>().fetch_all(pool).await?
    });
    Ok(rows)
}

/// Every open task due on or before `day` (overdue or due that day), of every assignee, by
/// assignee, then due date, then id: what the daily digest lists. Undated tasks are never
/// due.
pub async fn open_due_by(db: &Database, day: NaiveDate) -> Result<Vec<InboxTask>, sqlx::Error> {
    let rows = on_pool!(db, pool => {
        let mut sql = QueryBuilder::new(open_rows());
        sql.push_bind(true)
            .push(" AND due_on IS NOT NULL AND due_on <= ")
            .push_bind(day)
            .push(" ORDER BY inbox_tasks.assignee, due_on, inbox_tasks.task_id");
        sql.build_query_as::<InboxTask>().fetch_all(pool).await?
    });
    Ok(rows)
}

/// Where a reader of [`changes`] stands: after the rows changed before `at`, and of those
/// changed exactly at `at`, after `task_id` (or all of them, without one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeCursor {
    pub at: LogPosition,
    pub task_id: Option<String>,
}

impl ChangeCursor {
    /// After every row the inbox had written by its checkpoint `at`.
    pub fn after(at: LogPosition) -> Self {
        Self { at, task_id: None }
    }
}

/// An inbox row with the position of the batch that last changed it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct ChangedRow {
    #[sqlx(flatten)]
    task: InboxTask,
    changed_commit: i64,
    changed_position: i64,
}

/// `assignee`'s rows (open or done) changed after `cursor`, in the order the inbox wrote
/// them, at most `limit`; and the cursor after the last of them.
pub async fn changes(
    db: &Database,
    assignee: UserId,
    cursor: &ChangeCursor,
    limit: u32,
) -> Result<(Vec<InboxTask>, ChangeCursor), sqlx::Error> {
    let rows: Vec<ChangedRow> = on_pool!(db, pool => {
        let mut sql = QueryBuilder::new(format!(
            "SELECT {COLUMNS}, changed_commit, changed_position FROM inbox_tasks \
             WHERE {ACTIVE} AND assignee = "
        ));
        sql.push_bind(DbUuid(assignee.as_uuid()));
        match &cursor.task_id {
            Some(task_id) => sql
                .push(" AND (changed_commit, changed_position, task_id) > (")
                .push_bind(cursor.at.commit)
                .push(", ")
                .push_bind(cursor.at.position)
                .push(", ")
                .push_bind(IdText(task_id)),
            None => sql
                .push(" AND (changed_commit, changed_position) > (")
                .push_bind(cursor.at.commit)
                .push(", ")
                .push_bind(cursor.at.position),
        };
        sql.push(
            ") ORDER BY inbox_tasks.changed_commit, inbox_tasks.changed_position, \
             inbox_tasks.task_id LIMIT ",
        )
            .push_bind(i64::from(limit.max(1)));
        sql.build_query_as::<ChangedRow>().fetch_all(pool).await?
    });
    let next = rows.last().map_or_else(
        || cursor.clone(),
        |row| ChangeCursor {
            at: LogPosition {
                commit: row.changed_commit,
                position: row.changed_position,
            },
            task_id: Some(row.task.task_id.clone()),
        },
    );
    Ok((rows.into_iter().map(|row| row.task).collect(), next))
}

/// The query of [`list`], after `prefix` (e.g. `EXPLAIN ` to check its plan).
pub fn select<'a, DB: sqlx::Database>(prefix: &str, filter: &InboxFilter) -> QueryBuilder<'a, DB>
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DbUuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut sql = QueryBuilder::new(prefix);
    sql.push(format!("SELECT {COLUMNS} FROM inbox_tasks WHERE {ACTIVE}"));
    if let Some(assignee) = filter.assignee {
        sql.push(" AND assignee = ")
            .push_bind(DbUuid(assignee.as_uuid()));
    }
    if let Some(role) = filter.role {
        sql.push(" AND role = ").push_bind(role.code().to_owned());
    }
    if let Some(portfolio) = filter.portfolio {
        sql.push(" AND portfolio_id = ")
            .push_bind(DbUuid(portfolio.as_uuid()));
    }
    if let Some(open) = filter.open {
        sql.push(" AND is_open = ").push_bind(open);
    }
    if filter.alerts_only {
        sql.push(" AND kind LIKE 'stall_alert:%'");
    }
    if let Some(after) = filter.after {
        // Row values compare in the listing's order on both backends.
        sql.push(
            " AND (sort_due, task_id) > (SELECT sort_due, task_id FROM inbox_tasks AS cursor \
             WHERE cursor.generation = inbox_tasks.generation AND cursor.task_id = ",
        )
        .push_bind(DbUuid(after.as_uuid()))
        .push(")");
    }
    sql.push(" ORDER BY inbox_tasks.sort_due, inbox_tasks.task_id LIMIT ")
        .push_bind(i64::from(filter.limit.max(1)))
        .push(" OFFSET ")
        .push_bind(i64::from(filter.offset));
    sql
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use freshet_store::testing::TestDatabase;

    use super::*;
    use crate::partition;

    /// Inserts rows `from..to` of a rebuild's detached inbox table of generation 7.
    async fn fill(pool: &sqlx::PgPool, from: i64, to: i64) {
        sqlx::query(
            "INSERT INTO inbox_tasks_g7 (generation, task_id, portfolio_id, client, assignee, \
             role, kind, title, cycle, round, due_on, sort_due, is_open, context, assigned_at) \
             SELECT 7, ('00000000-0000-0000-0002-' || lpad(i::text, 12, '0'))::uuid, \
             ('00000000-0000-0000-0000-' || lpad((i / 5)::text, 12, '0'))::uuid, 'Client', \
             ('00000000-0000-0000-0000-' || lpad((i % 500)::text, 12, '0'))::uuid, 'am', \
             'write_copy', 'Write', 1, 0, NULL, DATE '9999-12-31', TRUE, repeat('x', 400), now() \
             FROM generate_series($1, $2 - 1) AS i",
        )
        .bind(from)
        .bind(to)
        .execute(pool)
        .await
        .unwrap();
    }

    // A rebuild's completions (a page's tasks done) find their rows by primary key, however
    // large the generation grew after its first page: they once hash-joined the whole table,
    // because the planner, without statistics, took `generation = 7` for a rare value.
    #[tokio::test]
    async fn a_rebuilds_completions_find_their_rows_by_primary_key() {
        let Some(db) = TestDatabase::postgres().await else {
            return;
        };
        let Database::Postgres(pool) = &db.database else {
            unreachable!("a PostgreSQL test database");
        };
        let inbox = Inbox::new(db.store().await);
        let mut tx = Tx::begin(&db.database).await.unwrap();
        partition::create_detached(&mut tx, &inbox, 7)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let analyzed = partition::analyze_filled(&db.database, &inbox, 7).await;
        assert!(!analyzed.unwrap(), "an empty table has nothing to analyze");
        // The first page, after which the rebuild gives the planner statistics; then more.
        fill(pool, 0, 5_000).await;
        let analyzed = partition::analyze_filled(&db.database, &inbox, 7).await;
        assert!(analyzed.unwrap());
        fill(pool, 5_000, 60_000).await;
        let completed: Vec<Completion> = (0..CHUNK)
            .map(|i| Completion {
                task_id: format!("00000000-0000-0000-0002-{:012}", i * 50),
                done_at: Utc::now(),
                done_by: None,
            })
            .collect();
        let at = LogPosition {
            commit: 1,
            position: 1,
        };
        let plan: Vec<String> =
            completion::<sqlx::Postgres>("EXPLAIN ", Target::detached(7), at, &completed)
                .build_query_scalar()
                .fetch_all(pool)
                .await
                .unwrap();
        let plan = plan.join("\n");
        assert!(
            plan.contains("Index Scan using inbox_tasks_g7_pkey"),
            "{plan}"
        );
        assert!(!plan.contains("Hash Join"), "{plan}");
    }
}
