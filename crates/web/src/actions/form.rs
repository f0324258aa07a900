//! An action's form as a page draws it (`templates/action_form.html`), and which actions a
//! page offers: those the domain would accept from this person now.

use freshet_api::AppState;
use freshet_domain::{Portfolio, PortfolioId, TicketId, decide};
use uuid::Uuid;

use super::catalog::{Action, Field, REVISION_KINDS, Scope, Target, Typed};
use crate::Viewer;
use crate::tasks::TaskLine;
use freshet_mail::links::path;

/// Where a form was posted from: where to go once it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The page of the portfolio or ticket the action is on.
    Own,
    /// My work.
    Work,
}

/// An action that was just refused: its problem, and what was typed.
#[derive(Debug, Clone)]
pub(crate) struct Failed {
    pub action: Action,
    pub target: Target,
    pub problem: String,
    pub typed: Typed,
}

/// One input of a form.
pub(crate) struct FieldView {
    pub name: &'static str,
    pub id: String,
    pub label: &'static str,
    /// `textarea`, `select`, or an `<input>` type.
    pub input: &'static str,
    pub required: bool,
    pub value: String,
    pub hint: &'static str,
    /// The ids of what describes it (its hint, the problem shown with the form).
    pub described: String,
    pub options: Vec<(&'static str, &'static str, bool)>,
}

/// An action's form.
pub(crate) struct ActionView {
    pub label: &'static str,
    /// Unique on its page.
    pub id: String,
    pub href: String,
    /// A fresh idempotency key: one drawing of the form is one intent (B5).
    pub key: Uuid,
    pub hidden: Vec<(&'static str, String)>,
    pub fields: Vec<FieldView>,
    pub problem: Option<String>,
    /// The button's accessible name when its words alone are ambiguous on the page.
    pub aria_label: Option<String>,
}

impl ActionView {
    pub(crate) fn new(
        action: Action,
        portfolio: PortfolioId,
        target: Target,
        origin: Origin,
        failed: Option<&Failed>,
        prefill: &Typed,
    ) -> Self {
        let suffix = target
            .ticket
            .map(|t| t.to_string())
            .or_else(|| target.task.map(|t| t.to_string()))
            .map(|id| format!("-{}", &id[..8]))
            .unwrap_or_default();
        let id = format!("{}{suffix}", action.slug());
        let failed = failed.filter(|f| f.action == action && f.target == target);
        let typed = failed.map_or(prefill, |f| &f.typed);
        let mut hidden = Vec::new();
        if let Some(ticket) = target.ticket {
            hidden.push(("ticket", ticket.to_string()));
        }
        if let Some(task) = target.task {
            hidden.push(("task", task.to_string()));
        }
        if origin == Origin::Work {
            hidden.push(("from", "work".to_owned()));
        }
        let problem = failed.map(|f| f.problem.clone());
        let fields = action
            .fields()
            .iter()
            .map(|field| {
                let mut view = field_view(*field, &id, typed);
                let hint = (!view.hint.is_empty()).then(|| format!("{}-hint", view.id));
                let shown = problem.as_ref().map(|_| format!("action-{id}-problem"));
                view.described = hint.into_iter().chain(shown).collect::<Vec<_>>().join(" ");
                view
            })
            .collect();
        Self {
            label: action.label(),
            href: format!("{}/actions/{}", path::portfolio(portfolio), action.slug()),
            key: Uuid::new_v4(),
            hidden,
            fields,
            problem,
            aria_label: None,
            id,
        }
    }

    /// Names the form after a task too, for a page that lists one form per task, and
    /// tells screen readers which task its button is for.
    pub(crate) fn for_task_line(mut self, line: &TaskLine) -> Self {
        let task = line.task_id.as_str();
        let suffix = format!("-t{}", task.get(..8).unwrap_or(task));
        let form = self.id.clone();
        self.id.push_str(&suffix);
        for field in &mut self.fields {
            field.id = format!("{}-{}", self.id, field.name);
            field.described = field.described.replace(&form, &self.id);
        }
        let ticket = line
            .ticket
            .as_deref()
            .map(|ticket| format!(", {ticket}"))
            .unwrap_or_default();
        self.aria_label = Some(format!(
            "{}: {}, {}{ticket}",
            self.label, line.title, line.client
        ));
        self
    }
}

fn field_view(field: Field, form: &str, typed: &Typed) -> FieldView {
    let (name, label, input, required, value, hint) = match field {
        Field::Note { label, required } => ("note", label, "textarea", required, &typed.note, ""),
        Field::Title => ("title", "Ticket name", "text", true, &typed.title, ""),
        Field::Folder => (
            "folder",
            "Deliverable Folder Name",
            "text",
            true,
            &typed.folder,
            "Every clone carries it; it cannot be changed later.",
        ),
        Field::Deliverables => (
            "deliverables",
            "Number of Deliverables In This Ad Set",
            "number",
            true,
            &typed.deliverables,
            "",
        ),
        Field::Link => ("link", "Ad Lab link", "url", true, &typed.link, ""),
        Field::Confirm { label } => ("confirm", label, "checkbox", true, &typed.confirm, ""),
        Field::RevisionKind => ("kind", "Needs Revisions", "select", true, &typed.kind, ""),
    };
    let options = if field == Field::RevisionKind {
        REVISION_KINDS
            .iter()
            .map(|(code, kind)| (*code, kind.label(), *code == typed.kind.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    FieldView {
        name,
        id: format!("{form}-{name}"),
        label,
        input,
        required,
        value: value.clone(),
        hint,
        described: String::new(),
        options,
    }
}

/// Whether the domain would accept `action` on `target` from `viewer` now.
pub(crate) fn offered(
    state: &AppState,
    viewer: &Viewer,
    portfolio: &Portfolio,
    action: Action,
    target: Target,
) -> bool {
    let context = state.service().context(viewer.0.actor());
    let probe = TicketId::from_uuid(Uuid::new_v4());
    action.samples(portfolio).iter().any(|typed| {
        action
            .command(target, typed, probe)
            .is_ok_and(|command| decide(Some(portfolio), &command, &context).is_ok())
    })
}

/// The forms of `scope` a page of `portfolio` shows: those offered now, and the one just
/// refused (so its problem shows by what was typed).
pub(crate) fn forms(
    state: &AppState,
    viewer: &Viewer,
    portfolio: &Portfolio,
    scope: Scope,
    target: Target,
    failed: Option<&Failed>,
    prefill: &Typed,
) -> Vec<ActionView> {
    Action::ALL
        .into_iter()
        .filter(|action| action.scope() == scope)
        .filter(|action| {
            failed.is_some_and(|f| f.action == *action && f.target == target)
                || offered(state, viewer, portfolio, *action, target)
        })
        .map(|action| ActionView::new(action, portfolio.id, target, Origin::Own, failed, prefill))
        .collect()
}
