//! Who is who: the names the read pages show for the ids the read models keep (a team's
//! members, the actor of a change).

use std::collections::HashMap;

use freshet_accounts::{AccountError, users};
use freshet_api::AppState;

/// Every person's name by id (deactivated people too: their past changes keep a name).
pub(crate) struct Names {
    by_id: HashMap<String, String>,
    /// Active people by name, for the pickers of a filter form.
    pub active: Vec<(String, String)>,
}

impl Names {
    pub(crate) async fn load(state: &AppState) -> Result<Self, AccountError> {
        let people = users::list(state.db()).await?;
        let mut active: Vec<(String, String)> = people
            .iter()
            .filter(|person| person.deactivated_at.is_none())
            .map(|person| (person.id.to_string(), person.name.clone()))
            .collect();
        active.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(Self {
            by_id: people
                .into_iter()
                .map(|person| (person.id.to_string(), person.name))
                .collect(),
            active,
        })
    }

    /// The name of the person with id `id`, or the id itself for someone unknown.
    pub(crate) fn of(&self, id: &str) -> String {
        self.by_id.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// Who made a change, from the audit's actor (`user:<id>`, `admin:<id>` or `system`).
    pub(crate) fn actor(&self, actor: Option<&str>) -> String {
        match actor.and_then(|actor| actor.split_once(':')) {
            Some(("admin", id)) => format!("{} (Admin)", self.of(id)),
            Some((_, id)) => self.of(id),
            None => "Freshet (automatic)".to_owned(),
        }
    }
}
