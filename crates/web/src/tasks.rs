//! A task as a page lists it: what to do, for which client and ticket, when, how urgent,
//! and the page where it is done.

use chrono::NaiveDate;
use freshet_domain::TaskKind;
use freshet_projections::inbox::InboxTask;

use freshet_mail::links::path;

/// One line of a task list.
#[derive(Debug, Clone)]
pub(crate) struct TaskLine {
    pub task_id: String,
    pub portfolio_id: String,
    /// `TaskKind::code`.
    pub kind: String,
    pub title: String,
    pub client: String,
    pub ticket: Option<String>,
    pub ticket_id: Option<String>,
    /// "Overdue by 3 days", "Due today", "Due Wed, Mar 10"...
    pub due: String,
    /// The CSS class: `overdue`, `soon` (due within a day) or empty.
    pub urgency: &'static str,
    pub href: String,
    /// What the rules show with it: the AM's Note (R6), the Ad Lab link (R12), the tickets
    /// not yet completed (R20).
    pub context: Vec<String>,
    due_on: Option<NaiveDate>,
}

impl TaskLine {
    pub(crate) fn new(task: &InboxTask, today: NaiveDate) -> Self {
        let href = match &task.ticket_id {
            Some(ticket) => path::ticket(&task.portfolio_id, ticket),
            None => path::portfolio(&task.portfolio_id),
        };
        let (due, urgency) = match task.due_on {
            None => ("No due date".to_owned(), ""),
            Some(due) => {
                let days = (due - today).num_days();
                match days {
                    ..0 => (format!("Overdue by {}", plural(-days, "day")), "overdue"),
                    0 => ("Due today".to_owned(), "soon"),
                    1 => ("Due tomorrow".to_owned(), "soon"),
                    _ => (format!("Due {}", due.format("%a, %b %-d")), ""),
                }
            }
        };
        Self {
            task_id: task.task_id.clone(),
            portfolio_id: task.portfolio_id.clone(),
            kind: task.kind.clone(),
            title: task.title.clone(),
            client: task.client.clone(),
            ticket: task.ticket_title.clone(),
            ticket_id: task.ticket_id.as_ref().map(ToString::to_string),
            due,
            urgency,
            href,
            context: context_lines(&task.context),
            due_on: task.due_on,
        }
    }

    /// The task's kind, unless it is one no page action finishes (an alert).
    pub(crate) fn kind(&self) -> Option<TaskKind> {
        serde_json::from_value(serde_json::Value::String(self.kind.clone())).ok()
    }
}

/// The lines a task's context (`freshet_domain::view::TaskContext`, as the inbox stores
/// it) shows.
fn context_lines(json: &str) -> Vec<String> {
    let Ok(context) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let text = |key: &str| context.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    match context.get("kind").and_then(|kind| kind.as_str()) {
        Some("submission") => {
            let mut lines = Vec::new();
            if context.get("am_decision_missing") == Some(&serde_json::Value::Bool(true)) {
                lines.push("AM decision missing: the Account Manager has not decided yet".into());
            }
            if let Some(note) = text("am_note") {
                lines.push(format!("AM's Note: {note}"));
            }
            lines
        }
        Some("share") => {
            let link = context.get("ad_lab_link");
            match link
                .and_then(|link| link.get("value"))
                .and_then(|v| v.as_str())
            {
                Some(link) => vec![format!("Ad Lab link: {link}")],
                None => vec!["No Ad Lab link yet: ask the Designer for it".into()],
            }
        }
        Some("implementation") => {
            let open: Vec<&str> = context
                .get("open_tickets")
                .and_then(|tickets| tickets.as_array())
                .into_iter()
                .flatten()
                .filter_map(|ticket| ticket.get("title").and_then(|t| t.as_str()))
                .collect();
            if open.is_empty() {
                Vec::new()
            } else {
                vec![format!("Not yet completed: {}", open.join(", "))]
            }
        }
        _ => Vec::new(),
    }
}

fn plural(count: i64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Tasks under one heading of My work.
#[derive(Debug)]
pub(crate) struct Group<T> {
    pub heading: &'static str,
    pub tasks: Vec<T>,
}

impl<T> Group<T> {
    pub(crate) fn map<U>(self, f: impl FnMut(T) -> U) -> Group<U> {
        Group {
            heading: self.heading,
            tasks: self.tasks.into_iter().map(f).collect(),
        }
    }
}

/// `tasks` (in due order) under Overdue, Today, This week and Later; empty groups left out.
pub(crate) fn grouped(tasks: Vec<TaskLine>, today: NaiveDate) -> Vec<Group<TaskLine>> {
    let mut groups = ["Overdue", "Today", "This week", "Later"].map(|heading| Group {
        heading,
        tasks: Vec::new(),
    });
    for task in tasks {
        let index = match task.due_on.map(|due| (due - today).num_days()) {
            Some(..0) => 0,
            Some(0) => 1,
            Some(1..=6) => 2,
            _ => 3,
        };
        groups[index].tasks.push(task);
    }
    groups
        .into_iter()
        .filter(|group| !group.tasks.is_empty())
        .collect()
}
