//! People: everyone with an account, inviting someone (the link goes out through the
//! outbox), inviting again someone who has not chosen a password yet, and deactivating
//! (after a confirmation: it ends their sessions and tokens at once).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_accounts::{User, invitations, users};
use freshet_api::{ApiError, AppState};
use freshet_domain::UserId;
use serde::Deserialize;
use uuid::Uuid;

use super::{Admin, Done, Refusal, when};
use crate::page::{Person, error_page, render};

struct PersonRow {
    id: Uuid,
    name: String,
    email: String,
    /// "Admin" or empty: the only role an account holds; the process roles are each
    /// portfolio's team.
    admin: bool,
    /// "Active", "Invited, no password yet" or "Deactivated on …".
    state: String,
    since: String,
    /// No password yet and not deactivated: may be invited again.
    invited: bool,
    active: bool,
    /// The Admin looking at the page (who may not deactivate themselves).
    me: bool,
}

/// What the invitation form had in it.
#[derive(Deserialize, Default)]
pub(crate) struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    /// `on` when ticked.
    admin: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/people.html")]
struct PeoplePage {
    person: Option<Person>,
    section: &'static str,
    notice: Option<&'static str>,
    people: Vec<PersonRow>,
    typed: InviteForm,
    problem: Option<String>,
    /// A problem of inviting one person again: whom, and why.
    again_problem: Option<(Uuid, String)>,
}

#[derive(Template)]
#[template(path = "admin/deactivate.html")]
struct DeactivatePage {
    person: Option<Person>,
    section: &'static str,
    id: Uuid,
    name: String,
    email: String,
    problem: Option<String>,
}

async fn rows(state: &AppState, admin: &Admin) -> Result<Vec<PersonRow>, ApiError> {
    let people = users::list_with_password(state.db()).await?;
    Ok(people
        .into_iter()
        .map(|(user, has_password)| row(user, has_password, admin.0.0.id()))
        .collect())
}

fn row(user: User, has_password: bool, me: UserId) -> PersonRow {
    let (state, since, invited) = match (user.deactivated_at, has_password) {
        (Some(at), _) => ("Deactivated".to_owned(), when(at), false),
        (None, false) => (
            "Invited, no password yet".to_owned(),
            when(user.created_at),
            true,
        ),
        (None, true) => ("Active".to_owned(), when(user.created_at), false),
    };
    PersonRow {
        id: user.id.as_uuid(),
        name: user.name,
        email: user.email,
        admin: user.admin,
        state,
        since,
        invited,
        active: user.deactivated_at.is_none(),
        me: user.id == me,
    }
}

async fn show(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    notice: Option<&'static str>,
    typed: InviteForm,
    problem: Option<String>,
    again_problem: Option<(Uuid, String)>,
) -> Response {
    let people = match rows(state, admin).await {
        Ok(people) => people,
        Err(error) => return error_page(&error, admin.0.label()),
    };
    render(
        status,
        &PeoplePage {
            person: admin.0.label(),
            section: "people",
            notice,
            people,
            typed,
            problem,
            again_problem,
        },
    )
}

pub(crate) async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Query(done): Query<Done>,
) -> Response {
    let notice = match done.done.as_deref() {
        Some("invited") => Some("Invited: the email with their link is on its way."),
        Some("invited-again") => Some("Invited again: earlier links no longer work."),
        Some("deactivated") => Some("Deactivated: their sessions and tokens have ended."),
        _ => None,
    };
    show(
        &state,
        &admin,
        StatusCode::OK,
        notice,
        InviteForm::default(),
        None,
        None,
    )
    .await
}

/// Invites a person, as the API's `POST /admin/invitations` does (the email goes through
/// the outbox in the same transaction).
pub(crate) async fn invite(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<InviteForm>,
) -> Response {
    let invited = invitations::invite(
        state.db(),
        state.mail_renderer(),
        form.name.trim(),
        form.email.trim(),
        form.admin.is_some(),
        Some(admin.0.0.id()),
        state.now(),
    )
    .await;
    match invited {
        Ok(_) => Redirect::to("/app/admin/people?done=invited").into_response(),
        Err(error) => match Refusal::of(ApiError::from(error), &admin) {
            Refusal::Page(page) => *page,
            Refusal::Sentence(problem) => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                show(&state, &admin, status, None, form, Some(problem), None).await
            }
        },
    }
}

pub(crate) async fn invite_again(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
) -> Response {
    let invited = invitations::invite_again(
        state.db(),
        state.mail_renderer(),
        UserId::from_uuid(id),
        Some(admin.0.0.id()),
        state.now(),
    )
    .await;
    match invited {
        Ok(_) => Redirect::to("/app/admin/people?done=invited-again").into_response(),
        Err(error) => match Refusal::of(ApiError::from(error), &admin) {
            Refusal::Page(page) => *page,
            Refusal::Sentence(problem) => {
                let status = StatusCode::UNPROCESSABLE_ENTITY;
                let again = Some((id, problem));
                show(
                    &state,
                    &admin,
                    status,
                    None,
                    InviteForm::default(),
                    None,
                    again,
                )
                .await
            }
        },
    }
}

async fn confirmation(
    state: &AppState,
    admin: &Admin,
    id: Uuid,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    let user = match users::get(state.db(), UserId::from_uuid(id)).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let missing = ApiError::NotFound(format!("no person {id}"));
            return error_page(&missing, admin.0.label());
        }
        Err(error) => return error_page(&ApiError::from(error), admin.0.label()),
    };
    render(
        status,
        &DeactivatePage {
            person: admin.0.label(),
            section: "people",
            id,
            name: user.name,
            email: user.email,
            problem,
        },
    )
}

/// The confirmation step: deactivating ends the person's sessions at once.
pub(crate) async fn confirm_deactivation(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
) -> Response {
    confirmation(&state, &admin, id, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(crate) struct DeactivateForm {
    /// `on` when the Admin ticked that they mean it.
    confirm: Option<String>,
}

pub(crate) async fn deactivate(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Form(form): Form<DeactivateForm>,
) -> Response {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    if form.confirm.is_none() {
        let problem = "Tick the box to confirm first.".to_owned();
        return confirmation(&state, &admin, id, status, Some(problem)).await;
    }
    let deactivated = state
        .accounts()
        .deactivate(UserId::from_uuid(id), Some(admin.0.0.id()))
        .await;
    match deactivated {
        Ok(_) => Redirect::to("/app/admin/people?done=deactivated").into_response(),
        Err(error) => match Refusal::of(ApiError::from(error), &admin) {
            Refusal::Page(page) => *page,
            Refusal::Sentence(problem) => {
                confirmation(&state, &admin, id, status, Some(problem)).await
            }
        },
    }
}
