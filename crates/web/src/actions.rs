//! The actions a person takes on a portfolio's page: one form each, offered only when the
//! domain would accept it from this person now (the same `decide` the command will run,
//! B4), and sent through the same `CommandService` as the API. Each form carries an
//! idempotency key made when the page was drawn, so a form posted twice (a double click, a
//! resent POST) does the thing once (B5). A refusal shows the problem's sentence next to
//! the form, with what the person typed kept.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_api::{ApiError, AppState};
use freshet_domain::{Command, NoteText, Portfolio, PortfolioId, decide};
use freshet_service::CommandRequest;
use serde::Deserialize;
use uuid::Uuid;

use crate::Viewer;
use crate::page::error_page;
use crate::portfolio::{Failed, show};

/// A portfolio-level action of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// The AM or SAS logs a Note (R5, R6).
    Note,
    /// The AM requests the refresh, with the client's direction as a Note (R5).
    Request,
    /// The AM declines this cycle's refresh (R4).
    Decline,
    /// The SAS marks the deliverables submitted (R9).
    DeliverablesSubmitted,
    /// The AM signs off the approved Ad Set (R17).
    SignOff,
    /// The SAS marks the new creatives implemented (R18).
    Implemented,
}

/// Whether an action's form has a Note, and whether it must be filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoteField {
    None,
    Optional,
    Required,
}

impl Action {
    pub(crate) const ALL: [Action; 6] = [
        Action::Request,
        Action::Decline,
        Action::Note,
        Action::DeliverablesSubmitted,
        Action::SignOff,
        Action::Implemented,
    ];

    pub(crate) fn slug(self) -> &'static str {
        match self {
            Action::Note => "note",
            Action::Request => "request",
            Action::Decline => "decline",
            Action::DeliverablesSubmitted => "deliverables-submitted",
            Action::SignOff => "sign-off",
            Action::Implemented => "implemented",
        }
    }

    fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.slug() == slug)
    }

    /// The button's words.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Action::Note => "Log the Note",
            Action::Request => "Request the refresh",
            Action::Decline => "Decline this refresh",
            Action::DeliverablesSubmitted => "Mark deliverables submitted",
            Action::SignOff => "Sign off the Ad Set",
            Action::Implemented => "Mark creatives implemented",
        }
    }

    pub(crate) fn note(self) -> NoteField {
        match self {
            Action::Note => NoteField::Required,
            Action::Request => NoteField::Optional,
            _ => NoteField::None,
        }
    }

    fn command(self, note: Option<NoteText>) -> Option<Command> {
        Some(match self {
            Action::Note => Command::LogPortfolioNote { text: note? },
            Action::Request => Command::RequestRefresh { note },
            Action::Decline => Command::DeclineRefresh,
            Action::DeliverablesSubmitted => Command::MarkDeliverablesSubmitted,
            Action::SignOff => Command::SignOff,
            Action::Implemented => Command::MarkCreativesImplemented,
        })
    }

    /// Whether the domain would accept this action from `viewer` on `portfolio` now. A
    /// Note that may be left out is tried both ways: the request is offered when either
    /// would do.
    pub(crate) fn offered(self, state: &AppState, viewer: &Viewer, portfolio: &Portfolio) -> bool {
        let context = state.service().context(viewer.0.actor());
        let sample = NoteText::parse("(a Note)").ok();
        let tries: &[Option<NoteText>] = match self.note() {
            NoteField::None => &[None],
            NoteField::Required => std::slice::from_ref(&sample),
            NoteField::Optional => &[None, sample.clone()],
        };
        tries.iter().any(|note| {
            self.command(note.clone())
                .is_some_and(|command| decide(Some(portfolio), &command, &context).is_ok())
        })
    }
}

/// What an action's form posts.
#[derive(Deserialize)]
pub(crate) struct ActionForm {
    /// Made when the page was drawn: the same form posted twice counts once.
    key: Uuid,
    #[serde(default)]
    note: String,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, slug)): Path<(Uuid, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    let Some(action) = Action::parse(&slug) else {
        let unknown = ApiError::NotFound(format!("there is no action \"{slug}\""));
        return error_page(&unknown, viewer.label());
    };
    let portfolio = PortfolioId::from_uuid(id);
    let typed = form.note.trim();
    let note = match (action.note(), typed.is_empty()) {
        (NoteField::None, _) | (NoteField::Optional, true) => None,
        (NoteField::Required, true) => {
            let problem = "Write the Note first.".to_owned();
            return refused(&state, &viewer, portfolio, action, problem, &form.note).await;
        }
        _ => match NoteText::parse(typed) {
            Ok(note) => Some(note),
            Err(error) => {
                let problem = ApiError::from(error).problem().detail;
                return refused(&state, &viewer, portfolio, action, problem, &form.note).await;
            }
        },
    };
    let Some(command) = action.command(note) else {
        return error_page(
            &ApiError::internal("an action without its Note"),
            viewer.label(),
        );
    };
    let request = CommandRequest::new(portfolio, command, viewer.0.actor())
        .with_idempotency_key(format!("web:{}", form.key));
    match state.service().execute(request).await {
        Ok(_) => Redirect::to(&format!(
            "{}?done={}",
            freshet_mail::links::path::portfolio(portfolio),
            action.slug()
        ))
        .into_response(),
        Err(error) => {
            let error = ApiError::from(error);
            let problem = error.problem().detail;
            let status = error.classify().0;
            if status.is_server_error() || status == StatusCode::NOT_FOUND {
                return error_page(&error, viewer.label());
            }
            refused(&state, &viewer, portfolio, action, problem, &form.note).await
        }
    }
}

/// The portfolio's page again, with `problem` next to `action`'s form and `typed` kept.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    portfolio: PortfolioId,
    action: Action,
    problem: String,
    typed: &str,
) -> Response {
    let failed = Failed {
        action,
        problem,
        typed: typed.to_owned(),
    };
    show(
        state,
        viewer,
        portfolio.as_uuid(),
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        Some(failed),
    )
    .await
}
