//! What the import's tests share: the fixture exports, the instant and agency of the
//! import, and the agency's people.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use freshet_accounts::users;
use freshet_domain::{AgencyCalendar, UserId};
use freshet_hubspot::{Directory, Exports, Table};
use freshet_service::ProcessConfig;
use freshet_store::Database;

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Table {
    Table::open(&fixture_path(name)).unwrap()
}

/// The CSV exports of `tests/fixtures`.
pub fn fixtures() -> Exports {
    Exports {
        portfolios: fixture("portfolios.csv"),
        tickets: fixture("tickets.csv"),
        owners: Some(fixture("owners.csv")),
    }
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 20, 16, 0, 0).unwrap()
}

pub fn config() -> ProcessConfig {
    ProcessConfig {
        calendar: AgencyCalendar::parse("America/New_York").unwrap(),
        ..ProcessConfig::default()
    }
}

/// The agency's people in Freshet, and the Admin who imports.
pub async fn people(db: &Database) -> (Directory, UserId) {
    for (name, email) in [
        ("Ana Lima", "ana@agency.example"),
        ("Sam Ortiz", "sam@agency.example"),
        ("Cora Wren", "cora@agency.example"),
        ("Dev Patel", "dev@agency.example"),
        ("Tess Long", "tess@agency.example"),
    ] {
        users::add(db, name, email, false, None).await.unwrap();
    }
    let (admin, _) = users::add(db, "Ops", "ops@agency.example", true, None)
        .await
        .unwrap();
    let all = users::list(db).await.unwrap();
    (
        Directory::new(all.into_iter().map(|u| (u.email, u.id))),
        admin.id,
    )
}
