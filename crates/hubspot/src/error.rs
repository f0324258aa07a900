//! `ImportError`: what stops an import or export as a whole. A row Freshet cannot take is
//! not an error: it is a [`crate::Refusal`] in the report.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read {file}: {message}")]
    Read { file: String, message: String },
    #[error(
        "{file} has no column \"{header}\" (name it in the mapping file if it is called otherwise)"
    )]
    MissingColumn { file: String, header: String },
    #[error("the mapping file is not valid: {0}")]
    Mapping(String),
    #[error("{0}")]
    Service(#[from] freshet_service::ServiceError),
    #[error("{0}")]
    Accounts(#[from] freshet_accounts::AccountError),
    #[error("cannot read the read models: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot write the spreadsheet: {0}")]
    Write(String),
}
