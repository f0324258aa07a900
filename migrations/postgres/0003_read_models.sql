-- Read models of freshet-projections. Every row carries the generation that wrote it
-- (blue/green rebuilds); queries read the active generation of projection_generations.

INSERT INTO projection_generations (name) VALUES
    ('inbox'), ('portfolios'), ('ad_set_board'), ('cycle_metrics');

-- Task inboxes: open and done tasks per person and role.
CREATE TABLE inbox_tasks (
    generation   bigint NOT NULL,
    task_id      text NOT NULL,
    portfolio_id text NOT NULL,
    client       text NOT NULL,
    assignee     text NOT NULL,
    role         text NOT NULL,
    kind         text NOT NULL,
    title        text NOT NULL,
    ticket_id    text,
    ticket_title text,
    cycle        bigint NOT NULL,
    round        bigint NOT NULL,
    due_on       date,
    -- due_on, or 9999-12-31 when there is none: sorts undated tasks last on both backends.
    sort_due     date NOT NULL,
    is_open      boolean NOT NULL,
    -- freshet_domain::view::TaskContext as JSON: what the task shows (R6, R12, R20).
    context      text NOT NULL,
    assigned_at  timestamptz NOT NULL,
    done_at      timestamptz,
    done_by      text,
    PRIMARY KEY (generation, task_id)
);
CREATE INDEX inbox_tasks_assignee_idx
    ON inbox_tasks (generation, assignee, is_open, sort_due, task_id);
CREATE INDEX inbox_tasks_role_idx
    ON inbox_tasks (generation, role, is_open, sort_due, task_id);
CREATE INDEX inbox_tasks_portfolio_idx
    ON inbox_tasks (generation, portfolio_id, is_open, sort_due, task_id);

-- One row per portfolio.
CREATE TABLE portfolios (
    generation          bigint NOT NULL,
    portfolio_id        text NOT NULL,
    client              text NOT NULL,
    account_manager     text NOT NULL,
    social_ad_specialist text NOT NULL,
    copywriter          text NOT NULL,
    designer            text NOT NULL,
    team_lead           text NOT NULL,
    cadence_every       bigint NOT NULL,
    cadence_unit        text NOT NULL,
    refresh_date        date NOT NULL,
    status              text,
    status_label        text,
    cycle               bigint NOT NULL,
    ad_set_folder       text,
    deliverables        bigint,
    tickets_created     bigint NOT NULL,
    tickets_in_progress bigint NOT NULL,
    tickets_pending     bigint NOT NULL,
    tickets_completed   bigint NOT NULL,
    latest_am_note      text,
    ad_lab_link         text,
    next_trigger_on     date,
    changed_at          timestamptz NOT NULL,
    PRIMARY KEY (generation, portfolio_id)
);
CREATE INDEX portfolios_next_trigger_idx ON portfolios (generation, next_trigger_on);
CREATE INDEX portfolios_client_idx ON portfolios (generation, client);

-- The Ad Set board: every ticket of every cycle.
CREATE TABLE ad_set_tickets (
    generation       bigint NOT NULL,
    ticket_id        text NOT NULL,
    portfolio_id     text NOT NULL,
    cycle            bigint NOT NULL,
    ordinal          bigint NOT NULL,
    folder           text NOT NULL,
    deliverables     bigint NOT NULL,
    title            text NOT NULL,
    status           text NOT NULL,
    copy_approval    text NOT NULL,
    graphic_approval text NOT NULL,
    needs_revisions  text,
    revision_round   bigint NOT NULL,
    notes_count      bigint NOT NULL,
    PRIMARY KEY (generation, ticket_id)
);
CREATE INDEX ad_set_tickets_portfolio_idx
    ON ad_set_tickets (generation, portfolio_id, cycle, ordinal);

-- B3: one row per cycle.
CREATE TABLE cycle_metrics (
    generation          bigint NOT NULL,
    portfolio_id        text NOT NULL,
    cycle               bigint NOT NULL,
    account_manager     text NOT NULL,
    social_ad_specialist text NOT NULL,
    refresh_date        date NOT NULL,
    started_at          timestamptz NOT NULL,
    closed_at           timestamptz,
    outcome             text,
    cycle_seconds       bigint NOT NULL,
    client_seconds      bigint NOT NULL,
    agency_seconds      bigint NOT NULL,
    -- Seconds per Creative Refresh Status code ("none" while empty), as a JSON object.
    status_seconds      text NOT NULL,
    review_rounds       bigint NOT NULL,
    tickets             bigint NOT NULL,
    revision_rounds     bigint NOT NULL,
    max_ticket_revision_rounds bigint NOT NULL,
    on_time             boolean,
    PRIMARY KEY (generation, portfolio_id, cycle)
);
CREATE INDEX cycle_metrics_am_idx ON cycle_metrics (generation, account_manager);
CREATE INDEX cycle_metrics_sas_idx ON cycle_metrics (generation, social_ad_specialist);
