//! One export read into rows that remember their line: a CSV file through the `csv` crate
//! (quoted commas and newlines; a UTF-8 byte-order mark before the first header is
//! dropped), or an XLSX workbook's first sheet through [`crate::workbook`], whose rows are
//! the sheet's. What comes after the table reads both alike.

use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use crate::error::ImportError;
use crate::workbook;

/// An export: its headers and its rows.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file's name as the operator gave it, for refusals.
    pub file: String,
    headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// One record and the line it starts on (a quoted newline makes a CSV record span lines;
/// in a workbook, the line is the sheet's row number).
#[derive(Clone, Debug)]
pub struct Row {
    pub line: u64,
    fields: Vec<String>,
}

impl Table {
    /// Reads a CSV file, or an XLSX workbook: one named `.xlsx` or starting as a ZIP
    /// archive does (an XLSX file is one).
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let file = path.display().to_string();
        let failed = |error: std::io::Error| ImportError::Read {
            file: file.clone(),
            message: error.to_string(),
        };
        let mut reader = BufReader::new(std::fs::File::open(path).map_err(failed)?);
        if workbook::is_xlsx(path, reader.fill_buf().map_err(failed)?) {
            Self::read_xlsx(file, reader)
        } else {
            Self::read(file, reader)
        }
    }

    /// Reads a CSV export.
    pub fn read(file: impl Into<String>, input: impl Read) -> Result<Self, ImportError> {
        let file = file.into();
        let failed = |error: csv::Error| ImportError::Read {
            file: file.clone(),
            message: error.to_string(),
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let headers = reader
            .headers()
            .map_err(failed)?
            .iter()
            .map(str::to_owned)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(failed)?;
            rows.push(Row::new(
                record.position().map_or(0, csv::Position::line),
                record.iter().map(str::to_owned).collect(),
            ));
        }
        Ok(Self::new(file, headers, rows))
    }

    /// Reads an XLSX export: its first sheet, whose first row is the headers.
    pub fn read_xlsx(
        file: impl Into<String>,
        input: impl Read + Seek,
    ) -> Result<Self, ImportError> {
        let file = file.into();
        match workbook::first_sheet(input) {
            Ok((headers, rows)) => Ok(Self::new(file, headers, rows)),
            Err(error) => Err(ImportError::Read {
                file,
                message: format!("it is not a readable XLSX workbook ({error})"),
            }),
        }
    }

    /// The table both readers make: headers without a byte-order mark or surrounding
    /// spaces, and no blank rows.
    fn new(file: String, headers: Vec<String>, mut rows: Vec<Row>) -> Self {
        let headers = headers
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        rows.retain(|row| !row.fields.iter().all(|field| field.trim().is_empty()));
        Self {
            file,
            headers,
            rows,
        }
    }

    /// The index of `header` (case and surrounding spaces ignored), or a clear error.
    pub fn column(&self, header: &str) -> Result<Column, ImportError> {
        self.optional_column(header)
            .ok_or_else(|| ImportError::MissingColumn {
                file: self.file.clone(),
                header: header.to_owned(),
            })
    }

    pub fn optional_column(&self, header: &str) -> Option<Column> {
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(header.trim()))
            .map(Column)
    }
}

/// A column found in a table's headers.
#[derive(Clone, Copy, Debug)]
pub struct Column(usize);

impl Row {
    pub(crate) fn new(line: u64, fields: Vec<String>) -> Self {
        Self { line, fields }
    }

    /// The trimmed cell; empty when the row is short.
    pub fn get(&self, column: Column) -> &str {
        self.fields.get(column.0).map_or("", |f| f.trim())
    }

    pub fn get_opt(&self, column: Option<Column>) -> &str {
        column.map_or("", |c| self.get(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_quoted_commas_and_newlines_keep_their_cells_and_lines() {
        let text =
            "\u{feff}Record ID,Client Name,Notes\n1,\"Acme, Inc.\",\"two\nlines\"\n2,Bolt,x\n";
        let table = Table::read("p.csv", text.as_bytes()).expect("reads");
        let id = table.column("record id").expect("the BOM is gone");
        let client = table.column("Client Name").expect("column");
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].get(id), "1");
        assert_eq!(table.rows[0].get(client), "Acme, Inc.");
        assert_eq!(table.rows[0].line, 2);
        assert_eq!(table.rows[1].line, 4);
        assert!(table.column("Owner").is_err());
    }
}
