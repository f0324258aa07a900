//! HubSpot's XLSX export read through `calamine`: the first sheet, each cell turned into
//! the text HubSpot's CSV export has for it, so the records, the mapping and the plan read
//! both alike. Dates and datetimes are `2026-03-01` and `2026-03-01 15:17` (the number
//! format tells a midnight datetime from a date), whole numbers have no `.0`, and each
//! row keeps the sheet's row number.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

use calamine::{DataRef, ExcelDateTime, Reader, Xlsx, XlsxError};
use chrono::{NaiveTime, SubsecRound as _, Timelike as _};

use crate::table::Row;

/// How every ZIP archive, and so every XLSX file, starts.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Whether the file at `path`, which starts with `start`, is to be read as a workbook.
pub fn is_xlsx(path: &Path, start: &[u8]) -> bool {
    path.extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("xlsx"))
        || start.starts_with(ZIP_MAGIC)
}

/// The first sheet's headers (its first row that has a value) and its other rows, each
/// with its row number as the spreadsheet shows it.
pub fn first_sheet(input: impl Read + Seek) -> Result<(Vec<String>, Vec<Row>), XlsxError> {
    let mut workbook = Xlsx::new(input)?;
    let Some(sheet) = workbook.sheet_names().into_iter().next() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut cells = workbook.worksheet_cells_reader(&sheet)?;
    let mut rows: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    while let Some((cell, style)) = cells.next_cell_with_style_id()? {
        let format = cells
            .styles()
            .get(style)
            .and_then(|style| style.number_format.as_ref())
            .map(|format| format.format_code.as_str());
        let text = text(cell.get_value(), format);
        if text.is_empty() {
            continue;
        }
        let (row, column) = cell.get_position();
        let fields = rows.entry(row).or_default();
        let column = usize::try_from(column).unwrap_or(usize::MAX);
        match fields.get_mut(column) {
            Some(field) => *field = text,
            None => {
                fields.resize(column, String::new());
                fields.push(text);
            }
        }
    }
    let mut rows = rows.into_iter();
    let headers = rows.next().map(|(_, headers)| headers).unwrap_or_default();
    let rows = rows
        .map(|(row, fields)| Row::new(u64::from(row) + 1, fields))
        .collect();
    Ok((headers, rows))
}

/// A cell as HubSpot's CSV export writes the same value.
fn text(value: &DataRef<'_>, format: Option<&str>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => {
            text.clone()
        }
        DataRef::SharedString(text) => (*text).to_owned(),
        DataRef::Int(number) => number.to_string(),
        // Display writes 18001.0 as "18001", as the CSV has a Record ID.
        DataRef::Float(number) => number.to_string(),
        DataRef::Bool(value) => value.to_string(),
        DataRef::DateTime(at) => datetime(at, format),
        DataRef::Error(error) => error.to_string(),
    }
}

/// A date cell as `2026-03-01`, a datetime one as `2026-03-01 15:17` (seconds only when
/// it has some), a duration as hours, minutes and seconds.
fn datetime(at: &ExcelDateTime, format: Option<&str>) -> String {
    if at.is_duration() {
        let seconds = at
            .as_duration()
            .map_or(0, |duration| duration.num_seconds());
        return format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
    }
    let Some(at) = at.as_datetime() else {
        return at.as_f64().to_string();
    };
    // Excel keeps a fraction of a day: 15:17 may come back as 15:16:59.999.
    let at = at.round_subsecs(0);
    if at.time() == NaiveTime::MIN && !format.is_some_and(shows_time) {
        at.format("%Y-%m-%d").to_string()
    } else if at.second() == 0 {
        at.format("%Y-%m-%d %H:%M").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// Whether a number format shows the time of day (`yyyy-mm-dd hh:mm` does, `yyyy-mm-dd`
/// does not). Quoted text, `[...]` (colours, locales) and escaped characters are not
/// codes, and only the first section (for positive numbers) counts.
fn shows_time(format: &str) -> bool {
    let mut codes = format.chars();
    while let Some(code) = codes.next() {
        match code {
            '"' => {
                codes.by_ref().find(|&c| c == '"');
            }
            '[' => {
                codes.by_ref().find(|&c| c == ']');
            }
            '\\' | '_' | '*' => {
                codes.next();
            }
            ';' => return false,
            'h' | 'H' | 's' | 'S' => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use calamine::ExcelDateTimeType;

    use super::*;

    fn excel(serial: f64) -> DataRef<'static> {
        DataRef::DateTime(ExcelDateTime::new(
            serial,
            ExcelDateTimeType::DateTime,
            false,
        ))
    }

    // 46082 is 2026-03-01 in Excel's 1900 date system.
    #[test]
    fn dates_and_datetimes_read_as_hubspot_writes_them_in_its_csv() {
        assert_eq!(text(&excel(46_082.0), Some("yyyy-mm-dd")), "2026-03-01");
        assert_eq!(
            text(
                &excel(46_082.0 + 15.0 / 24.0 + 17.0 / 1440.0),
                Some("yyyy-mm-dd")
            ),
            "2026-03-01 15:17",
            "a time of day is never dropped"
        );
        assert_eq!(
            text(&excel(46_082.0), Some("yyyy-mm-dd hh:mm")),
            "2026-03-01 00:00",
            "a datetime at midnight is not a date"
        );
        assert_eq!(
            text(
                &excel(46_082.0 + 0.5 + 30.0 / 86_400.0),
                Some("m/d/yy h:mm:ss")
            ),
            "2026-03-01 12:00:30"
        );
        assert_eq!(
            text(&excel(46_082.0), Some("[$-409]d\\-mmm\\-yy;@")),
            "2026-03-01"
        );
    }

    #[test]
    fn numbers_read_without_a_trailing_zero_and_text_as_it_is() {
        assert_eq!(text(&DataRef::Float(18_001.0), None), "18001");
        assert_eq!(text(&DataRef::Float(2.5), None), "2.5");
        assert_eq!(text(&DataRef::Int(3), None), "3");
        assert_eq!(
            text(&DataRef::SharedString("2026-03-01 15:17"), None),
            "2026-03-01 15:17"
        );
        assert_eq!(text(&DataRef::Empty, None), "");
    }

    #[test]
    fn an_xlsx_file_is_known_by_its_name_or_its_first_bytes() {
        assert!(is_xlsx(Path::new("portfolios.XLSX"), b"garbage"));
        assert!(is_xlsx(Path::new("portfolios"), b"PK\x03\x04rest"));
        assert!(!is_xlsx(Path::new("portfolios.csv"), b"Record ID,"));
    }
}
