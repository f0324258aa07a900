//! HubSpot's XLSX exports import as its CSV ones do. The fixtures of `tests/fixtures` are
//! written as workbooks when the test runs (ids and counts as numbers, dates and datetimes
//! as date cells, as a spreadsheet has them); their dry run plans the same commands at the
//! same instants and refuses the same rows for the same reasons, each at its sheet row. A
//! file that is not a workbook is refused with its name.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use freshet_hubspot::{
    Directory, Exports, Importer, Mapping, Refusal, Report, Table, plan, records,
};
use freshet_store::testing::TestDatabase;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use support::{config, fixture_path, fixtures, now, people};

mod support;

/// A folder of the test's own, empty.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hubspot-xlsx")
        .join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the fixture `csv` as a workbook at `to`: whole numbers as numbers, dates and
/// datetimes as date cells with a date or a date-and-time format, the rest as text.
fn workbook_of(csv: &str, to: &Path) {
    let mut cells = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(fixture_path(csv))
        .unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (row, record) in cells.records().enumerate() {
        let row = u32::try_from(row).unwrap();
        for (column, cell) in record.unwrap().iter().enumerate() {
            let column = u16::try_from(column).unwrap();
            let cell = cell.trim_start_matches('\u{feff}');
            if cell.is_empty() {
                continue;
            }
            if NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M").is_ok() {
                let at = ExcelDateTime::parse_from_str(cell).unwrap();
                sheet
                    .write_datetime_with_format(row, column, at, &datetime)
                    .unwrap();
            } else if NaiveDate::parse_from_str(cell, "%Y-%m-%d").is_ok() {
                let day = ExcelDateTime::parse_from_str(cell).unwrap();
                sheet
                    .write_datetime_with_format(row, column, day, &date)
                    .unwrap();
            } else if let Ok(number) = cell.parse::<u32>() {
                sheet.write_number(row, column, number).unwrap();
            } else {
                sheet.write_string(row, column, cell).unwrap();
            }
        }
    }
    workbook.save(to).unwrap();
}

/// The fixtures as XLSX exports, read back.
fn xlsx_fixtures() -> Exports {
    let dir = scratch("fixtures");
    let open = |name: &str| {
        let path = dir.join(format!("{name}.xlsx"));
        workbook_of(&format!("{name}.csv"), &path);
        Table::open(&path).unwrap()
    };
    Exports {
        portfolios: open("portfolios"),
        tickets: open("tickets"),
        owners: Some(open("owners")),
    }
}

/// Where each row of the exports is in terms both formats share: which export, and its
/// record's row as a spreadsheet numbers it (the headers are row 1). A CSV line counts a
/// quoted newline; a sheet row does not.
struct Places(Vec<(String, u64, &'static str, u64)>);

impl Places {
    fn of(exports: &Exports) -> Self {
        let mut places = Vec::new();
        for (kind, table) in [
            ("portfolios", Some(&exports.portfolios)),
            ("tickets", Some(&exports.tickets)),
            ("owners", exports.owners.as_ref()),
        ] {
            for (index, row) in table.into_iter().flat_map(|t| t.rows.iter()).enumerate() {
                let file = table.map(|t| t.file.clone()).unwrap_or_default();
                places.push((file, row.line, kind, u64::try_from(index).unwrap() + 2));
            }
        }
        // The longest line numbers first, so that "file:1" is not found inside "file:13".
        places.sort_by_key(|(_, line, _, _)| std::cmp::Reverse(*line));
        Self(places)
    }

    /// A text that names rows ("tickets.csv:14", "tickets.csv line 14") naming them by
    /// export and row instead.
    fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (file, line, kind, row) in &self.0 {
            let place = format!("{kind} row {row}");
            text = text
                .replace(&format!("{file}:{line}"), &place)
                .replace(&format!("{file} line {line}"), &place);
        }
        text
    }

    fn refusal(&self, refusal: &Refusal) -> Refusal {
        let (_, _, kind, row) = self
            .0
            .iter()
            .find(|(file, line, _, _)| *file == refusal.file && *line == refusal.line)
            .unwrap();
        Refusal {
            file: (*kind).to_owned(),
            line: *row,
            record: refusal.record.clone(),
            reason: self.text(&refusal.reason),
        }
    }

    fn report(&self, report: &Report) -> Report {
        let refusals = |refusals: &[Refusal]| {
            let mut refusals: Vec<_> = refusals.iter().map(|r| self.refusal(r)).collect();
            refusals.sort();
            refusals
        };
        Report {
            refused: refusals(&report.refused),
            conflicts: refusals(&report.conflicts),
            ..report.clone()
        }
    }
}

/// Every command the exports plan for new portfolios: its record, instant and command.
fn planned(exports: &Exports, people: &Directory) -> Vec<(String, DateTime<Utc>, String)> {
    let mapping = Mapping::default();
    let calendar = config().calendar;
    let places = Places::of(exports);
    let people = people
        .clone()
        .with_owners(exports.owners.as_ref().unwrap(), &mapping)
        .unwrap();
    let (portfolios, refused) =
        records::portfolios(&exports.portfolios, &mapping, &people, &calendar).unwrap();
    let (tickets, _) = records::tickets(&exports.tickets, &mapping, &calendar).unwrap();
    let (plans, _) = plan::group(portfolios, tickets, &refused);
    plans
        .iter()
        .flat_map(|plan| plan::steps(plan, None, now(), &calendar).0)
        .map(|step| {
            let command = places.text(&format!("{:?}", step.command));
            (step.origin.record, step.at, command)
        })
        .collect()
}

#[tokio::test]
async fn an_xlsx_export_plans_what_the_same_csv_export_plans() {
    let db = TestDatabase::sqlite().await;
    let store = db.store().await;
    let (people, admin) = people(&db.database).await;
    let importer = Importer::new(store, config(), admin);
    let dry_run = |exports: Exports| {
        let people = people.clone();
        let importer = &importer;
        async move {
            importer
                .run(
                    &exports,
                    &Mapping::default(),
                    people,
                    now(),
                    false,
                    &|_, _| {},
                )
                .await
                .unwrap()
        }
    };
    let (csv, xlsx) = (fixtures(), xlsx_fixtures());

    let csv_report = dry_run(csv.clone()).await;
    let xlsx_report = dry_run(xlsx.clone()).await;

    assert_eq!(csv_report.portfolios_created, 7, "{csv_report}");
    assert_eq!(
        Places::of(&xlsx).report(&xlsx_report),
        Places::of(&csv).report(&csv_report)
    );
    let steps = planned(&xlsx, &people);
    assert!(steps.len() > 20, "{steps:?}");
    assert_eq!(steps, planned(&csv, &people));
    // A sheet's rows are its own: ticket 7001's description of two lines is one row, so
    // the tickets after it are a row above their CSV line.
    let rows = |report: &Report, file: &str| {
        report
            .refused
            .iter()
            .filter(|r| r.file.ends_with(file))
            .map(|r| r.line)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows(&csv_report, "tickets.csv"),
        [8, 13, 14, 15, 16, 17, 18, 19]
    );
    assert_eq!(
        rows(&xlsx_report, "tickets.xlsx"),
        [7, 12, 13, 14, 15, 16, 17, 18]
    );
    assert_eq!(rows(&xlsx_report, "portfolios.xlsx"), [9, 10, 11, 12]);
    let harbor = xlsx_report
        .refused
        .iter()
        .find(|r| r.record == "7054")
        .unwrap();
    assert!(
        harbor.reason.contains("portfolios.xlsx:9)"),
        "a refusal names the sheet's row: {harbor}"
    );
}

#[test]
fn a_workbook_is_known_by_its_first_bytes_whatever_its_name() {
    let path = scratch("named-otherwise").join("owners.export");
    workbook_of("owners.csv", &path);

    let owners = Table::open(&path).unwrap();

    let email = owners.column("Email").unwrap();
    let user = owners.column("User ID").unwrap();
    assert_eq!(owners.rows.len(), 5);
    assert_eq!(owners.rows[4].get(email), "tess@agency.example");
    assert_eq!(
        owners.rows[4].get(user),
        "905",
        "a number reads without a .0"
    );
    assert_eq!(owners.rows[4].line, 6);
}

#[test]
fn a_file_that_is_not_a_workbook_is_refused_with_its_name() {
    let dir = scratch("not-a-workbook");
    for (name, bytes) in [
        (
            "portfolios.xlsx",
            &b"Record ID,Client Name\n18001,Acme\n"[..],
        ),
        ("tickets.csv", &b"PK\x03\x04 and then no archive"[..]),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();

        let error = Table::open(&path).unwrap_err().to_string();

        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("not a readable XLSX workbook"), "{error}");
    }
}
