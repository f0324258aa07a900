//! A task as a page lists it: what to do, for which client and ticket, when, how urgent,
//! and the page where it is done.

use chrono::NaiveDate;
use freshet_projections::inbox::InboxTask;

use freshet_mail::links::path;

/// One line of a task list.
#[derive(Debug, Clone)]
pub(crate) struct TaskLine {
    pub title: String,
    pub client: String,
    pub ticket: Option<String>,
    pub ticket_id: Option<String>,
    /// "Overdue by 3 days", "Due today", "Due Wed, Mar 10"...
    pub due: String,
    /// The CSS class: `overdue`, `soon` (due within a day) or empty.
    pub urgency: &'static str,
    pub href: String,
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
            title: task.title.clone(),
            client: task.client.clone(),
            ticket: task.ticket_title.clone(),
            ticket_id: task.ticket_id.as_ref().map(ToString::to_string),
            due,
            urgency,
            href,
            due_on: task.due_on,
        }
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
pub(crate) struct Group {
    pub heading: &'static str,
    pub tasks: Vec<TaskLine>,
}

/// `tasks` (in due order) under Overdue, Today, This week and Later; empty groups left out.
pub(crate) fn grouped(tasks: Vec<TaskLine>, today: NaiveDate) -> Vec<Group> {
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
