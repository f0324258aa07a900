//! The rows of the exports turned into parsed records, or refused with their file, line and
//! reason. Nothing is dropped: every row ends up a record or a refusal.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use freshet_domain::{
    AgencyCalendar, Cadence, CadenceUnit, ClientName, DeliverableCount, FolderName, RefreshStatus,
    RevisionKind, Team, TicketStatus, TicketTitle, UserId,
};

use crate::error::ImportError;
use crate::mapping::Mapping;
use crate::table::{Row, Table};

/// A row Freshet does not take (or a change it cannot make), and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Refusal {
    pub file: String,
    pub line: u64,
    /// The HubSpot record (Record ID or Ticket ID), when the row has one.
    pub record: String,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if !self.record.is_empty() {
            write!(f, " (record {})", self.record)?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Where a record came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: u64,
    pub record: String,
}

impl Origin {
    pub fn refuse(&self, reason: impl Into<String>) -> Refusal {
        Refusal {
            file: self.file.clone(),
            line: self.line,
            record: self.record.clone(),
            reason: reason.into(),
        }
    }
}

/// A Creative Portfolio as the export has it.
#[derive(Clone, Debug)]
pub struct PortfolioRecord {
    pub origin: Origin,
    pub client: ClientName,
    pub status: Option<RefreshStatus>,
    pub refresh_date: NaiveDate,
    pub cadence: Cadence,
    pub team: Team,
    pub created: DateTime<Utc>,
}

/// A ticket of the Creative Deliverables pipeline as the export has it.
#[derive(Clone, Debug)]
pub struct TicketRecord {
    pub origin: Origin,
    pub title: TicketTitle,
    pub status: TicketStatus,
    pub created: DateTime<Utc>,
    pub folder: FolderName,
    pub deliverables: DeliverableCount,
    pub needs_revisions: Option<RevisionKind>,
    /// The Record ID of its Creative Portfolio.
    pub portfolio: String,
    pub description: String,
}

/// Freshet's people by email, and HubSpot's owners' names to their emails.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    users: BTreeMap<String, UserId>,
    owner_emails: BTreeMap<String, String>,
}

impl Directory {
    /// `users`: (email, id) of each active Freshet user.
    pub fn new(users: impl IntoIterator<Item = (String, UserId)>) -> Self {
        Self {
            users: users
                .into_iter()
                .map(|(email, id)| (email.trim().to_lowercase(), id))
                .collect(),
            owner_emails: BTreeMap::new(),
        }
    }

    /// Adds HubSpot's owners export: "First Name", "Last Name", "Email".
    pub fn with_owners(mut self, owners: &Table, mapping: &Mapping) -> Result<Self, ImportError> {
        let first = owners.column(&mapping.owners.first_name)?;
        let last = owners.column(&mapping.owners.last_name)?;
        let email = owners.column(&mapping.owners.email)?;
        for row in &owners.rows {
            let name = format!("{} {}", row.get(first), row.get(last));
            self.owner_emails
                .insert(name.trim().to_lowercase(), row.get(email).to_lowercase());
        }
        Ok(self)
    }

    /// The email of a Freshet user, if the directory knows them.
    pub fn email_of(&self, id: UserId) -> Option<String> {
        self.users
            .iter()
            .find(|(_, user)| **user == id)
            .map(|(email, _)| email.clone())
    }

    /// An owner cell (an email, or a name the owners file knows) to a Freshet user.
    pub fn person(&self, owner: &str) -> Result<(UserId, String), String> {
        let owner = owner.trim();
        if owner.is_empty() {
            return Err("no owner given".into());
        }
        let email = if owner.contains('@') {
            owner.to_lowercase()
        } else {
            self.owner_emails
                .get(&owner.to_lowercase())
                .cloned()
                .ok_or_else(|| {
                    format!("owner \"{owner}\" is a name the owners file does not list")
                })?
        };
        self.users
            .get(&email)
            .map(|id| (*id, email.clone()))
            .ok_or_else(|| {
                format!("owner {email} has no Freshet user (add them with `freshet users add`)")
            })
    }
}

/// A HubSpot datetime (`2026-03-01 15:17`, in the account's time zone) or date.
pub fn instant(cell: &str, calendar: &AgencyCalendar) -> Result<DateTime<Utc>, String> {
    let cell = cell.trim();
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(cell, format) {
            return local
                .and_local_timezone(calendar.time_zone())
                .earliest()
                .map(|at| at.with_timezone(&Utc))
                .ok_or_else(|| format!("\"{cell}\" does not exist in the agency's time zone"));
        }
    }
    date(cell).map(|day| calendar.noon_on(day))
}

pub fn date(cell: &str) -> Result<NaiveDate, String> {
    let cell = cell.trim();
    let day = cell.get(..10).unwrap_or(cell);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| format!("\"{cell}\" is not a date like 2026-03-01"))
}

/// "4 weeks", "every 2 months", "Monthly" (through the mapping's words).
pub fn cadence(cell: &str, mapping: &Mapping) -> Result<Cadence, String> {
    let mut text = cell.trim().to_lowercase();
    for (word, meaning) in &mapping.cadence_words {
        let word = word.trim().to_lowercase();
        if text == word {
            text = meaning.to_lowercase();
        } else {
            text = text
                .split_whitespace()
                .map(|w| {
                    if w == word {
                        meaning.to_lowercase()
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    let words: Vec<&str> = text.split_whitespace().filter(|w| *w != "every").collect();
    let refused = || {
        format!(
            "cadence \"{}\" is not like \"4 weeks\" or \"1 month\"",
            cell.trim()
        )
    };
    let [every, unit] = words.as_slice() else {
        return Err(refused());
    };
    let every: u16 = every.parse().map_err(|_| refused())?;
    let unit = match unit.trim_end_matches('s') {
        "day" => CadenceUnit::Days,
        "week" => CadenceUnit::Weeks,
        "month" => CadenceUnit::Months,
        _ => return Err(refused()),
    };
    Cadence::new(every, unit).map_err(|error| error.to_string())
}

/// The Creative Portfolio export: records and refused rows.
pub fn portfolios(
    table: &Table,
    mapping: &Mapping,
    people: &Directory,
    calendar: &AgencyCalendar,
) -> Result<(Vec<PortfolioRecord>, Vec<Refusal>), ImportError> {
    let c = &mapping.portfolios;
    let id = table.column(&c.record_id)?;
    let client = table.column(&c.client)?;
    let status = table.column(&c.status)?;
    let refresh_date = table.column(&c.refresh_date)?;
    let cadence_column = table.column(&c.cadence)?;
    let created = table.column(&c.created)?;
    let roles = [
        table.column(&c.account_manager)?,
        table.column(&c.social_ad_specialist)?,
        table.column(&c.copywriter)?,
        table.column(&c.designer)?,
        table.column(&c.team_lead)?,
    ];
    let mut records = Vec::new();
    let mut refused = Vec::new();
    let mut seen = BTreeMap::new();
    for row in &table.rows {
        let origin = origin(table, row, row.get(id));
        let parsed = (|| {
            if origin.record.is_empty() {
                return Err("no Record ID".to_owned());
            }
            if let Some(line) = seen.insert(origin.record.clone(), row.line) {
                return Err(format!("Record ID repeats line {line}"));
            }
            let team = roles
                .iter()
                .map(|column| people.person(row.get(*column)).map(|(id, _)| id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(PortfolioRecord {
                client: ClientName::parse(row.get(client)).map_err(|e| e.to_string())?,
                status: mapping.refresh_status(row.get(status))?,
                refresh_date: date(row.get(refresh_date))?,
                cadence: cadence(row.get(cadence_column), mapping)?,
                team: Team {
                    account_manager: team[0],
                    social_ad_specialist: team[1],
                    copywriter: team[2],
                    designer: team[3],
                    team_lead: team[4],
                },
                created: instant(row.get(created), calendar)?,
                origin: origin.clone(),
            })
        })();
        match parsed {
            Ok(record) => records.push(record),
            Err(reason) => refused.push(origin.refuse(reason)),
        }
    }
    Ok((records, refused))
}

/// The tickets export: records of the process's pipeline and refused rows.
pub fn tickets(
    table: &Table,
    mapping: &Mapping,
    calendar: &AgencyCalendar,
) -> Result<(Vec<TicketRecord>, Vec<Refusal>), ImportError> {
    let c = &mapping.tickets;
    let id = table.column(&c.ticket_id)?;
    let title = table.column(&c.title)?;
    let pipeline = table.column(&c.pipeline)?;
    let status = table.column(&c.status)?;
    let created = table.column(&c.created)?;
    let folder = table.column(&c.folder)?;
    let deliverables = table.column(&c.deliverables)?;
    let needs_revisions = table.optional_column(&c.needs_revisions);
    let portfolio = table.column(&c.portfolio)?;
    let description = table.optional_column(&c.description);
    let mut records = Vec::new();
    let mut refused = Vec::new();
    for row in &table.rows {
        let origin = origin(table, row, row.get(id));
        let parsed = (|| {
            if origin.record.is_empty() {
                return Err("no Ticket ID".to_owned());
            }
            if !row
                .get(pipeline)
                .eq_ignore_ascii_case(mapping.pipeline.trim())
            {
                return Err(format!(
                    "pipeline \"{}\" is not the {} pipeline",
                    row.get(pipeline),
                    mapping.pipeline
                ));
            }
            let portfolios: Vec<&str> = row
                .get(portfolio)
                .split(';')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .collect();
            let portfolio = match portfolios.as_slice() {
                [one] => (*one).to_owned(),
                [] => return Err("associated with no Creative Portfolio".into()),
                many => {
                    return Err(format!(
                        "associated with {} Creative Portfolios ({}); a ticket belongs to one",
                        many.len(),
                        many.join(", ")
                    ));
                }
            };
            let count: u32 = row.get(deliverables).parse().map_err(|_| {
                format!(
                    "Number of Deliverables In This Ad Set \"{}\" is not a number",
                    row.get(deliverables)
                )
            })?;
            Ok(TicketRecord {
                title: TicketTitle::parse(row.get(title)).map_err(|e| e.to_string())?,
                status: mapping.ticket_status(row.get(status))?,
                created: instant(row.get(created), calendar)?,
                folder: FolderName::parse(row.get(folder)).map_err(|e| e.to_string())?,
                deliverables: DeliverableCount::new(count).map_err(|e| e.to_string())?,
                needs_revisions: mapping.needs_revisions(row.get_opt(needs_revisions))?,
                portfolio,
                description: row.get_opt(description).to_owned(),
                origin: origin.clone(),
            })
        })();
        match parsed {
            Ok(record) => records.push(record),
            Err(reason) => refused.push(origin.refuse(reason)),
        }
    }
    Ok((records, refused))
}

fn origin(table: &Table, row: &Row, record: &str) -> Origin {
    Origin {
        file: table.file.clone(),
        line: row.line,
        record: record.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubspot_dates_cadences_and_owners_parse_or_say_why_not() {
        let calendar = AgencyCalendar::parse("America/New_York").expect("a zone");
        let at = instant("2026-03-01 15:17", &calendar).expect("a datetime");
        assert_eq!(at.to_rfc3339(), "2026-03-01T20:17:00+00:00");
        assert!(instant("01/03/2026", &calendar).is_err());
        let mapping = Mapping::default();
        assert_eq!(
            cadence("Every 4 weeks", &mapping),
            Cadence::new(4, CadenceUnit::Weeks).map_err(|e| e.to_string())
        );
        assert_eq!(
            cadence("Quarterly", &mapping),
            Cadence::new(3, CadenceUnit::Months).map_err(|e| e.to_string())
        );
        assert!(cadence("sometimes", &mapping).is_err());
        let ana = UserId::from_uuid(uuid::Uuid::from_u128(1));
        let owners = Table::read(
            "owners.csv",
            "First Name,Last Name,Email\nAna,Lima,ana@example.com\n".as_bytes(),
        )
        .expect("reads");
        let people = Directory::new([("Ana@Example.com".to_owned(), ana)])
            .with_owners(&owners, &mapping)
            .expect("columns");
        assert_eq!(people.person("ana lima").map(|p| p.0), Ok(ana));
        assert_eq!(people.person("ANA@example.com").map(|p| p.0), Ok(ana));
        assert!(people.person("Bo Ek").is_err());
        assert!(people.person("bo@example.com").is_err());
    }

    #[test]
    fn headers_and_labels_in_another_language_work_through_the_mapping() {
        let mapping = Mapping::parse(
            r#"
[portfolios]
record_id = "Datensatz-ID"
client = "Kunde"
status = "Status der Auffrischung"
refresh_date = "Datum der Auffrischung"
cadence = "Rhythmus"
created = "Erstelldatum"
account_manager = "Kundenbetreuer"
social_ad_specialist = "Social-Ads-Spezialist"
copywriter = "Texter"
designer = "Grafiker"
team_lead = "Teamleiter"
[refresh_status]
"Anfrage eingereicht" = "Refresh Request Submitted"
[cadence_words]
"Wochen" = "weeks"
"alle" = "every"
"#,
        )
        .expect("a valid mapping");
        let text = "Datensatz-ID,Kunde,Status der Auffrischung,Datum der Auffrischung,Rhythmus,Erstelldatum,Kundenbetreuer,Social-Ads-Spezialist,Texter,Grafiker,Teamleiter\n\
                    42,Bäckerei Müller,Anfrage eingereicht,2026-04-01,alle 4 Wochen,2026-01-05 08:30,a@x.de,a@x.de,a@x.de,a@x.de,a@x.de\n";
        let table = Table::read("export.csv", text.as_bytes()).expect("reads");
        let a = UserId::from_uuid(uuid::Uuid::from_u128(7));
        let people = Directory::new([("a@x.de".to_owned(), a)]);
        let calendar = AgencyCalendar::default();
        let (records, refused) = portfolios(&table, &mapping, &people, &calendar).expect("columns");
        assert_eq!(refused, vec![]);
        assert_eq!(records[0].client.as_str(), "Bäckerei Müller");
        assert_eq!(
            records[0].status,
            Some(RefreshStatus::RefreshRequestSubmitted)
        );
        assert_eq!(
            records[0].cadence,
            Cadence::new(4, CadenceUnit::Weeks).expect("valid")
        );
        // The default headers are not there: a clear error names the missing one.
        let error = portfolios(&table, &Mapping::default(), &people, &calendar).err();
        assert!(error.is_some_and(|e| e.to_string().contains("\"Record ID\"")));
    }
}
