-- Read models of freshet-projections (SQLite: dates and times as ISO text). Every row carries the generation that wrote it
-- (blue/green rebuilds); queries read the active generation of projection_generations.

INSERT INTO projection_generations (name) VALUES
    ('inbox'), ('portfolios'), ('ad_set_board'), ('cycle_metrics');

-- Task inboxes: open and done tasks per person and role.
CREATE TABLE inbox_tasks (
    generation   INTEGER NOT NULL,
    task_id      TEXT NOT NULL,
    portfolio_id TEXT NOT NULL,
    client       TEXT NOT NULL,
    assignee     TEXT NOT NULL,
    role         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    ticket_id    TEXT,
    ticket_title TEXT,
    cycle        INTEGER NOT NULL,
    round        INTEGER NOT NULL,
    due_on       TEXT,
    -- due_on, or 9999-12-31 when there is none: sorts undated tasks last on both backends.
    sort_due     TEXT NOT NULL,
    is_open      INTEGER NOT NULL,
    -- freshet_domain::view::TaskContext as JSON: what the task shows (R6, R12, R20).
    context      TEXT NOT NULL,
    assigned_at  TEXT NOT NULL,
    done_at      TEXT,
    done_by      TEXT,
    PRIMARY KEY (generation, task_id)
) STRICT;
CREATE INDEX inbox_tasks_assignee_idx
    ON inbox_tasks (generation, assignee, is_open, sort_due, task_id);
CREATE INDEX inbox_tasks_role_idx
    ON inbox_tasks (generation, role, is_open, sort_due, task_id);
CREATE INDEX inbox_tasks_portfolio_idx
    ON inbox_tasks (generation, portfolio_id, is_open, sort_due, task_id);

-- One row per portfolio.
CREATE TABLE portfolios (
    generation          INTEGER NOT NULL,
    portfolio_id        TEXT NOT NULL,
    client              TEXT NOT NULL,
    account_manager     TEXT NOT NULL,
    social_ad_specialist TEXT NOT NULL,
    copywriter          TEXT NOT NULL,
    designer            TEXT NOT NULL,
    team_lead           TEXT NOT NULL,
    cadence_every       INTEGER NOT NULL,
    cadence_unit        TEXT NOT NULL,
    refresh_date        TEXT NOT NULL,
    status              TEXT,
    status_label        TEXT,
    cycle               INTEGER NOT NULL,
    ad_set_folder       TEXT,
    deliverables        INTEGER,
    tickets_created     INTEGER NOT NULL,
    tickets_in_progress INTEGER NOT NULL,
    tickets_pending     INTEGER NOT NULL,
    tickets_completed   INTEGER NOT NULL,
    latest_am_note      TEXT,
    ad_lab_link         TEXT,
    next_trigger_on     TEXT,
    changed_at          TEXT NOT NULL,
    PRIMARY KEY (generation, portfolio_id)
) STRICT;
CREATE INDEX portfolios_next_trigger_idx ON portfolios (generation, next_trigger_on);
CREATE INDEX portfolios_client_idx ON portfolios (generation, client);

-- The Ad Set board: every ticket of every cycle.
CREATE TABLE ad_set_tickets (
    generation       INTEGER NOT NULL,
    ticket_id        TEXT NOT NULL,
    portfolio_id     TEXT NOT NULL,
    cycle            INTEGER NOT NULL,
    ordinal          INTEGER NOT NULL,
    folder           TEXT NOT NULL,
    deliverables     INTEGER NOT NULL,
    title            TEXT NOT NULL,
    status           TEXT NOT NULL,
    copy_approval    TEXT NOT NULL,
    graphic_approval TEXT NOT NULL,
    needs_revisions  TEXT,
    revision_round   INTEGER NOT NULL,
    notes_count      INTEGER NOT NULL,
    PRIMARY KEY (generation, ticket_id)
) STRICT;
CREATE INDEX ad_set_tickets_portfolio_idx
    ON ad_set_tickets (generation, portfolio_id, cycle, ordinal);

-- B3: one row per cycle.
CREATE TABLE cycle_metrics (
    generation          INTEGER NOT NULL,
    portfolio_id        TEXT NOT NULL,
    cycle               INTEGER NOT NULL,
    account_manager     TEXT NOT NULL,
    social_ad_specialist TEXT NOT NULL,
    refresh_date        TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    closed_at           TEXT,
    outcome             TEXT,
    cycle_seconds       INTEGER NOT NULL,
    client_seconds      INTEGER NOT NULL,
    agency_seconds      INTEGER NOT NULL,
    -- Seconds per Creative Refresh Status code ("none" while empty), as a JSON object.
    status_seconds      TEXT NOT NULL,
    review_rounds       INTEGER NOT NULL,
    tickets             INTEGER NOT NULL,
    revision_rounds     INTEGER NOT NULL,
    max_ticket_revision_rounds INTEGER NOT NULL,
    on_time             INTEGER,
    PRIMARY KEY (generation, portfolio_id, cycle)
) STRICT;
CREATE INDEX cycle_metrics_am_idx ON cycle_metrics (generation, account_manager);
CREATE INDEX cycle_metrics_sas_idx ON cycle_metrics (generation, social_ad_specialist);
