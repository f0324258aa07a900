//! The projections: each read model's checkpoint, lag and generation, and a button that
//! starts the same rebuild as the API's `POST /admin/projections/{name}/rebuild`. The page
//! shows the rebuild's progress each time it is opened (its "Refresh" link).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_api::{ApiError, AppState, ProjectionStatus, projection_statuses, start_rebuild};
use freshet_projections::generation;

use super::{Admin, Refusal};
use crate::page::{Person, error_page, render};

struct Row {
    name: String,
    checkpoint: String,
    events_behind: i64,
    seconds_behind: String,
    generation: String,
    /// The last rebuild started here or through the API: phase and how far.
    rebuild: Option<String>,
    failure: Option<String>,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/projections.html")]
struct ProjectionsPage {
    person: Option<Person>,
    section: &'static str,
    notice: Option<String>,
    rows: Vec<Row>,
}

async fn row(state: &AppState, status: ProjectionStatus) -> Result<Row, ApiError> {
    let generations = generation::current(state.db(), &status.name)
        .await
        .map_err(ApiError::from)?;
    let generation = match generations.building {
        Some(building) => format!("{} (building {building})", generations.active),
        None => generations.active.to_string(),
    };
    let rebuild = status.rebuild.map(|progress| {
        let phase = format!("{:?}", progress.phase);
        let eta = progress
            .eta_seconds
            .map(|seconds| format!(", about {seconds:.0} s left"))
            .unwrap_or_default();
        format!(
            "{phase}: generation {}, {} of {} events{eta}",
            progress.generation, progress.events_done, progress.events_total
        )
    });
    Ok(Row {
        checkpoint: status.checkpoint.to_string(),
        events_behind: status.events_behind,
        seconds_behind: format!("{:.1}", status.seconds_behind),
        generation,
        rebuild,
        failure: status.failure.map(|failure| {
            format!(
                "{} failures in a row since {}: {}",
                failure.failures,
                super::when(failure.since),
                failure.last_error
            )
        }),
        problem: None,
        name: status.name,
    })
}

async fn show(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    notice: Option<String>,
    failed: Option<(String, String)>,
) -> Response {
    let rows = async {
        let mut rows = Vec::new();
        for projection in projection_statuses(state).await? {
            let mut row = row(state, projection).await?;
            if let Some((name, problem)) = &failed
                && *name == row.name
            {
                row.problem = Some(problem.clone());
            }
            rows.push(row);
        }
        Ok::<_, ApiError>(rows)
    }
    .await;
    match rows {
        Ok(rows) => render(
            status,
            &ProjectionsPage {
                person: admin.0.label(),
                section: "projections",
                notice,
                rows,
            },
        ),
        Err(error) => error_page(&error, admin.0.label()),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct Started {
    started: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(started): Query<Started>,
) -> Response {
    // Only a projection's own name: the address cannot be made to say anything else.
    let notice = started
        .started
        .filter(|name| freshet_projections::PROJECTION_NAMES.contains(&name.as_str()))
        .map(|name| format!("The rebuild of {name} has started. Refresh to follow it."));
    show(&state, &admin, StatusCode::OK, notice, None).await
}

/// Starts the rebuild; a second press while one runs is refused next to its button.
pub(crate) async fn rebuild(
    State(state): State<AppState>,
    admin: Admin,
    Path(name): Path<String>,
) -> Response {
    match start_rebuild(&state, &name) {
        Ok(_) => Redirect::to(&format!("/app/admin/projections?started={name}")).into_response(),
        Err(error) => match Refusal::of(error, &admin) {
            Refusal::Page(page) => *page,
            Refusal::Sentence(problem) => {
                let status = StatusCode::CONFLICT;
                show(&state, &admin, status, None, Some((name, problem))).await
            }
        },
    }
}
