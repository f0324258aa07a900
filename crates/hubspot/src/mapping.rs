//! The mapping file: which HubSpot header is which field, and which label is which value.
//! Every default is the label HubSpot shows for the agency's properties and stages, in the
//! process documents' words; a portal in another language names its own in a TOML file.

use std::collections::BTreeMap;

use freshet_domain::{RefreshStatus, RevisionKind, TicketStatus};
use serde::Deserialize;

use crate::error::ImportError;

/// The whole mapping; every part has defaults, so a file names only what differs.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mapping {
    pub portfolios: PortfolioColumns,
    pub tickets: TicketColumns,
    pub owners: OwnerColumns,
    /// The ticket pipeline of the process: tickets of any other pipeline are refused.
    pub pipeline: String,
    /// Creative Refresh Status label → Freshet status (its label or code).
    pub refresh_status: BTreeMap<String, String>,
    /// Ticket status (pipeline stage) label → Freshet Ticket Status.
    pub ticket_status: BTreeMap<String, String>,
    /// Needs Revisions label → revision kind; the empty label is "none".
    pub needs_revisions: BTreeMap<String, String>,
    /// Words of the cadence ("Monthly" → "1 months", "Wochen" → "weeks").
    pub cadence_words: BTreeMap<String, String>,
}

/// Headers of the Creative Portfolio export.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortfolioColumns {
    pub record_id: String,
    pub client: String,
    pub status: String,
    pub refresh_date: String,
    pub cadence: String,
    pub created: String,
    pub account_manager: String,
    pub social_ad_specialist: String,
    pub copywriter: String,
    pub designer: String,
    pub team_lead: String,
}

/// Headers of the tickets export.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicketColumns {
    pub ticket_id: String,
    pub title: String,
    pub pipeline: String,
    pub status: String,
    pub created: String,
    pub folder: String,
    pub deliverables: String,
    pub needs_revisions: String,
    /// The association column: `Associated <label> IDs`, ids separated by `;`.
    pub portfolio: String,
    /// Optional: kept as the imported ticket's Note (may hold several lines).
    pub description: String,
}

/// Headers of HubSpot's users (owners) export: a name to an email.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnerColumns {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

impl Default for PortfolioColumns {
    fn default() -> Self {
        Self {
            record_id: "Record ID".into(),
            client: "Client Name".into(),
            status: "Creative Refresh Status".into(),
            refresh_date: "Creative Refresh Date".into(),
            cadence: "Creative Refresh Cadence".into(),
            created: "Create Date".into(),
            account_manager: "Account Manager".into(),
            social_ad_specialist: "Social Ad Specialist".into(),
            copywriter: "Copywriter".into(),
            designer: "Graphic Designer".into(),
            team_lead: "Team Lead".into(),
        }
    }
}

impl Default for TicketColumns {
    fn default() -> Self {
        Self {
            ticket_id: "Ticket ID".into(),
            title: "Ticket name".into(),
            pipeline: "Pipeline".into(),
            status: "Ticket status".into(),
            created: "Create date".into(),
            folder: "Deliverable Folder Name".into(),
            deliverables: "Number of Deliverables In This Ad Set".into(),
            needs_revisions: "Needs Revisions".into(),
            portfolio: "Associated Creative Portfolio IDs".into(),
            description: "Ticket description".into(),
        }
    }
}

impl Default for OwnerColumns {
    fn default() -> Self {
        Self {
            first_name: "First Name".into(),
            last_name: "Last Name".into(),
            email: "Email".into(),
        }
    }
}

impl Default for Mapping {
    fn default() -> Self {
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(from, to)| ((*from).to_owned(), (*to).to_owned()))
                .collect()
        };
        Self {
            portfolios: PortfolioColumns::default(),
            tickets: TicketColumns::default(),
            owners: OwnerColumns::default(),
            pipeline: "Creative Deliverables".into(),
            refresh_status: RefreshStatus::ALL
                .iter()
                .map(|s| (s.label().to_owned(), s.label().to_owned()))
                .collect(),
            ticket_status: [
                TicketStatus::InProgress,
                TicketStatus::PendingApproval,
                TicketStatus::CompletedDeliverable,
            ]
            .iter()
            .map(|s| (s.label().to_owned(), s.label().to_owned()))
            .collect(),
            needs_revisions: labels(&[
                ("Copy Revisions Only", "copy_only"),
                ("Graphic Revisions Only", "graphic_only"),
                ("Copy and Graphic Revisions", "copy_and_graphic"),
            ]),
            cadence_words: labels(&[
                ("weekly", "1 weeks"),
                ("monthly", "1 months"),
                ("quarterly", "3 months"),
            ]),
        }
    }
}

impl Mapping {
    /// Reads a TOML mapping; what it leaves out keeps its default.
    pub fn parse(text: &str) -> Result<Self, ImportError> {
        toml::from_str(text).map_err(|error| ImportError::Mapping(error.to_string()))
    }

    /// The Freshet status a HubSpot Creative Refresh Status label means; `Ok(None)` for an
    /// empty cell (between cycles).
    pub fn refresh_status(&self, label: &str) -> Result<Option<RefreshStatus>, String> {
        let label = label.trim();
        if label.is_empty() {
            return Ok(None);
        }
        lookup(&self.refresh_status, label)
            .and_then(RefreshStatus::parse)
            .map(Some)
            .ok_or_else(|| {
                format!("unknown Creative Refresh Status \"{label}\" (the mapping names none such)")
            })
    }

    pub fn ticket_status(&self, label: &str) -> Result<TicketStatus, String> {
        let label = label.trim();
        let target = lookup(&self.ticket_status, label).unwrap_or("");
        [
            TicketStatus::InProgress,
            TicketStatus::PendingApproval,
            TicketStatus::CompletedDeliverable,
        ]
        .into_iter()
        .find(|s| s.label().eq_ignore_ascii_case(target))
        .ok_or_else(|| format!("unknown Ticket status \"{label}\" (the mapping names none such)"))
    }

    pub fn needs_revisions(&self, label: &str) -> Result<Option<RevisionKind>, String> {
        let label = label.trim();
        if label.is_empty() {
            return Ok(None);
        }
        let kind = match lookup(&self.needs_revisions, label) {
            Some("copy_only") => RevisionKind::CopyOnly,
            Some("graphic_only") => RevisionKind::GraphicOnly,
            Some("copy_and_graphic") => RevisionKind::CopyAndGraphic,
            _ => return Err(format!("unknown Needs Revisions value \"{label}\"")),
        };
        Ok(Some(kind))
    }
}

/// A label's value, compared without regard to case or surrounding spaces.
fn lookup<'a>(table: &'a BTreeMap<String, String>, label: &str) -> Option<&'a str> {
    table
        .iter()
        .find(|(from, _)| from.trim().eq_ignore_ascii_case(label))
        .map(|(_, to)| to.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_process_labels_and_a_file_overrides_only_what_it_names() {
        let mapping = Mapping::default();
        assert_eq!(
            mapping.refresh_status("Creatives Pending Approval"),
            Ok(Some(RefreshStatus::CreativesPendingApproval))
        );
        assert_eq!(mapping.refresh_status(""), Ok(None));
        assert!(mapping.refresh_status("Waiting").is_err());
        let german = Mapping::parse(
            "[portfolios]\nclient = \"Kunde\"\n[refresh_status]\n\"Freigabe ausstehend\" = \"Creatives Pending Approval\"\n",
        )
        .expect("a valid mapping");
        assert_eq!(german.portfolios.client, "Kunde");
        assert_eq!(german.portfolios.record_id, "Record ID");
        assert_eq!(
            german.refresh_status("freigabe ausstehend"),
            Ok(Some(RefreshStatus::CreativesPendingApproval))
        );
        assert!(Mapping::parse("[portfolios]\nclinet = \"x\"\n").is_err());
    }
}
