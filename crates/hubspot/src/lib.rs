#![doc = include_str!("../README.md")]

mod error;
mod import;
pub mod mapping;
pub mod plan;
pub mod records;
pub mod spreadsheet;
mod table;
mod workbook;

pub use error::ImportError;
pub use import::{DEFAULT_IMPORT_CONCURRENCY, Exports, Importer, Report};
pub use mapping::Mapping;
pub use records::{Directory, Refusal};
pub use table::{Column, Row, Table};
