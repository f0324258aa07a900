//! One error type for the whole API, answered as an RFC 9457 problem document
//! (`application/problem+json`) with a stable `type` per kind of error. The mapping from
//! every domain refusal to an HTTP status lives here and nowhere else. Errors are logged
//! once, here, at the boundary.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use freshet_accounts::AccountError;
use freshet_domain::{DomainError, InvalidValue};
use freshet_service::ServiceError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The base of every problem `type`: `https://freshet.dev/problems/<code>`.
pub const PROBLEM_BASE: &str = "https://freshet.dev/problems/";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `https://freshet.dev/problems/<code>`: stable, one per kind of error.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of error.
    pub title: String,
    pub status: u16,
    /// What went wrong this time, for a person.
    pub detail: String,
    /// The stable code alone (the last segment of `type`).
    pub code: String,
}

/// Everything a handler can answer instead of a result.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The process refused the command (or the portfolio is unknown).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A value in the request is not acceptable (empty folder name, bad link, ...).
    #[error("{0}")]
    InvalidValue(#[from] InvalidValue),
    /// The request is malformed: bad JSON, unknown field, bad path or query parameter.
    #[error("{detail}")]
    Malformed { code: &'static str, detail: String },
    #[error("a valid bearer token or session is required")]
    Unauthenticated,
    /// A state-changing request a browser marked as coming from another site
    /// (see `cross_origin`).
    #[error("this request came from another site and was refused")]
    CrossOrigin,
    /// Authenticated, but not allowed to read or do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// `If-Match` named another stream version than the current one.
    #[error("the portfolio is at version {current}, not {expected}: reload it and try again")]
    PreconditionFailed { expected: i64, current: i64 },
    #[error("the idempotency key \"{key}\" was already used for a different request")]
    IdempotencyKeyReused { key: String },
    #[error("the portfolio was changed concurrently {attempts} times in a row; try again")]
    Contention { attempts: u32 },
    /// A conflict outside the domain (a user's email address already taken, ...).
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than this server accepts")]
    PayloadTooLarge,
    #[error("the read side did not catch up in time")]
    NotReady(String),
    /// The database cannot be reached (closed pool, no connection within the pool's wait,
    /// a restart): worth retrying soon. The cause is logged, never answered.
    #[error("the database cannot be reached right now; try again shortly")]
    DatabaseUnavailable(String),
    /// More requests at once than this process serves (the concurrency limit).
    #[error("the server is busy; try again shortly")]
    Overloaded,
    /// The request did not finish within the server's request timeout.
    #[error("the request took longer than {seconds:.1} s and was stopped; try again")]
    Timeout { seconds: f64 },
    /// The caller already has as many inbox event streams open as one person may.
    #[error("you already have {limit} inbox event streams open; close one first")]
    TooManyStreams { limit: usize },
    /// The caller's address failed authentication too often of late (see `throttle`).
    #[error("too many failed attempts from your address; try again in {} s", retry_after.as_secs())]
    TooManyFailures { retry_after: std::time::Duration },
    /// "Invite again" moments after the last invitation, whose link is on its way: not a
    /// conflict, which would read as "never", but "not before `retry_after`".
    #[error("{detail}")]
    InvitedMomentsAgo {
        detail: String,
        retry_after: std::time::Duration,
    },
    /// This process already serves as many inbox event streams as it may.
    #[error("the server serves as many event streams as it can; try again later")]
    StreamCapacity,
    /// Anything else: logged in full, answered without internals.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::Internal(error.to_string())
    }

    /// A failure of the layers below: [`ApiError::DatabaseUnavailable`] when a database
    /// error in its chain of sources says the database cannot be reached, else internal.
    pub fn failure(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut cause = Some(error);
        while let Some(error) = cause {
            if let Some(error) = error.downcast_ref::<sqlx::Error>()
                && database_unreachable(error)
            {
                return ApiError::DatabaseUnavailable(chain(error));
            }
            cause = error.source();
        }
        ApiError::Internal(chain(error))
    }

    /// Seconds a client should wait before retrying, for the errors that pass.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::DatabaseUnavailable(_) => Some(5),
            ApiError::Overloaded | ApiError::Timeout { .. } => Some(1),
            ApiError::TooManyStreams { .. } | ApiError::StreamCapacity => Some(10),
            ApiError::TooManyFailures { retry_after }
            | ApiError::InvitedMomentsAgo { retry_after, .. } => {
                // Rounded up: a client that waits exactly this long is not refused again.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Some(u32::try_from(seconds.max(1)).unwrap_or(u32::MAX))
            }
            _ => None,
        }
    }

    pub fn malformed(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Malformed {
            code,
            detail: detail.into(),
        }
    }

    /// The status, the stable code and the title of this error.
    pub fn classify(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Domain(error) => domain_status(visible(error)),
            ApiError::InvalidValue(_) => (StatusCode::BAD_REQUEST, "invalid-value", "Bad value"),
            ApiError::Malformed { code, .. } => (StatusCode::BAD_REQUEST, code, "Bad request"),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::CrossOrigin => (
                StatusCode::FORBIDDEN,
                "cross-origin-request",
                "Cross-origin request refused",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "Version mismatch",
            ),
            ApiError::IdempotencyKeyReused { .. } => (
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "Idempotency key reused",
            ),
            ApiError::Contention { .. } => (StatusCode::CONFLICT, "contention", "Contention"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            ApiError::NotReady(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not-ready",
                "Service unavailable",
            ),
            ApiError::DatabaseUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database-unavailable",
                "Database unavailable",
            ),
            ApiError::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Service overloaded",
            ),
            ApiError::Timeout { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "Request timed out",
            ),
            ApiError::TooManyStreams { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-streams",
                "Too many event streams",
            ),
            ApiError::TooManyFailures { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-failures",
                "Too many failed attempts",
            ),
            ApiError::InvitedMomentsAgo { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "invited-moments-ago",
                "Invited moments ago",
            ),
            ApiError::StreamCapacity => (
                StatusCode::SERVICE_UNAVAILABLE,
                "stream-capacity",
                "No event stream available",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The problem document of this error (internals never leave the process).
    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.classify();
        let detail = match self {
            ApiError::Internal(_) => "something went wrong on our side; it has been logged".into(),
            ApiError::Domain(error) => visible(error).to_string(),
            other => other.to_string(),
        };
        Problem {
            problem_type: format!("{PROBLEM_BASE}{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
        }
    }
}

/// Whether `error` says the database cannot be reached now (rather than that a statement
/// is wrong): the pool is closed or gave no connection in time, the connection broke, the
/// server is starting, shutting down or out of connections (SQLSTATE classes 08, 57P,
/// 53300) or refused a new connection (class 28, a role that may not log in; 3D000, no such
/// database: said at log-in, before any statement of ours), or SQLite's file stayed busy.
fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            code.starts_with("08")
                // (Five characters: a PostgreSQL SQLSTATE, not SQLite's numeric 28, a warning.)
                || (code.len() == 5 && code.starts_with("28"))
                || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300" | "3D000")
                // SQLite: SQLITE_BUSY or SQLITE_LOCKED, also as extended codes (at most four
                // digits; an all-digit SQLSTATE such as 42501 is PostgreSQL's).
                || (code.len() < 5
                    && code.parse::<u32>().is_ok_and(|code| matches!(code & 0xff, 5 | 6)))
        }),
        _ => false,
    }
}

/// An error with its sources, for the log.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// What the caller is told of a domain refusal: to someone not on its team a portfolio is
/// as unknown as one that does not exist (same status, code and detail), so neither a read
/// nor a command shows which portfolio ids exist. The log keeps the real reason.
fn visible(error: &DomainError) -> &DomainError {
    match error {
        DomainError::NotOnTeam => &DomainError::PortfolioNotFound,
        other => other,
    }
}

/// The one place where each domain refusal gets its HTTP status.
///
/// - 403: the person may not do this (B4).
/// - 404: what the command names does not exist (or, to someone not on the portfolio's
///   team, is not theirs to see: answered as [`DomainError::PortfolioNotFound`]).
/// - 409: the command does not fit the current state (wrong status, already done, exists).
/// - 422: a rule of the process refuses it (R7, R17, the Note a request needs, ...).
pub fn domain_status(error: &DomainError) -> (StatusCode, &'static str, &'static str) {
    use DomainError as E;
    let code = error.code();
    match error {
        E::NotPermitted { .. } | E::NotOnTeam | E::NotYourTask { .. } => {
            (StatusCode::FORBIDDEN, code, "Not permitted")
        }
        E::PortfolioNotFound | E::TicketNotFound(_) | E::TaskNotFound(_) => {
            (StatusCode::NOT_FOUND, code, "Not found")
        }
        E::PortfolioAlreadyExists
        | E::TicketAlreadyExists(_)
        | E::WrongStatus { .. }
        | E::AmDecisionMissing { .. }
        | E::TicketNotShared(_)
        | E::TicketWithdrawn(_)
        | E::PortfolioPaused { .. }
        | E::PortfolioEnded { .. }
        | E::NotPaused
        | E::TicketsAlreadyCreated
        | E::AdSetAlreadyStarted
        | E::AdSetNotStarted
        | E::WrongTicketStatus { .. }
        | E::WrongApproval { .. }
        | E::NotYetReviewed
        | E::TaskAlreadyDone(_) => (
            StatusCode::CONFLICT,
            code,
            "Conflicts with the current state",
        ),
        E::RefreshDateInPast
        | E::NoteRequired
        | E::FolderNameImmutable { .. }
        | E::DeliverableCountMismatch { .. }
        | E::TooManyTickets { .. }
        | E::AdSetIncomplete { .. }
        | E::RevisionsOutstanding { .. }
        | E::TaskCompletesByItself { .. }
        | E::ApprovesItself { .. }
        | E::LastTicket
        | E::CountBelowTickets { .. }
        | E::NothingToCancel
        | E::CancelCycleFirst => (
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Refused by a rule of the process",
        ),
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Domain(error) => ApiError::Domain(error),
            ServiceError::IdempotencyKeyReused { key } => ApiError::IdempotencyKeyReused { key },
            ServiceError::Contention { attempts } => ApiError::Contention { attempts },
            ServiceError::VersionMismatch { expected, current } => {
                ApiError::PreconditionFailed { expected, current }
            }
            other => ApiError::failure(&other),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::InvalidName
            | AccountError::InvalidLabel
            | AccountError::InvalidEmail(_)
            | AccountError::WeakPassword(_) => Self::malformed("invalid-value", error.to_string()),
            AccountError::EmailTaken(_)
            | AccountError::Deactivated(_)
            | AccountError::DeactivatesItself
            | AccountError::AlreadySignedUp(_)
            | AccountError::LinkInvalid => Self::Conflict(error.to_string()),
            AccountError::InvitedMomentsAgo { retry_after } => Self::InvitedMomentsAgo {
                detail: error.to_string(),
                retry_after: retry_after.to_std().unwrap_or_default(),
            },
            AccountError::UnknownUser(_)
            | AccountError::UnknownToken(_)
            | AccountError::UnknownEmail(_) => Self::NotFound(error.to_string()),
            AccountError::WrongCredentials => Self::Unauthenticated,
            AccountError::Hashing => Self::internal(error),
            AccountError::Mail(error) => Self::failure(&error),
            AccountError::Database(error) => Self::failure(&error),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::failure(&error)
    }
}

impl From<freshet_projections::ProjectionError> for ApiError {
    fn from(error: freshet_projections::ProjectionError) -> Self {
        ApiError::failure(&error)
    }
}

impl From<freshet_store::StoreError> for ApiError {
    fn from(error: freshet_store::StoreError) -> Self {
        ApiError::from(ServiceError::from(error))
    }
}

impl From<freshet_mail::MailError> for ApiError {
    fn from(error: freshet_mail::MailError) -> Self {
        ApiError::failure(&error)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::malformed(
                "unsupported-media-type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(ref inner)
                if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::PayloadTooLarge
            }
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::malformed("malformed-json", rejection.body_text())
            }
            other => ApiError::malformed("invalid-body", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::malformed("invalid-path", rejection.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::malformed("invalid-query", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        match &self {
            ApiError::Internal(error) => tracing::error!(error = %error, "request failed"),
            ApiError::DatabaseUnavailable(error) => {
                tracing::warn!(error = %error, "request failed: the database cannot be reached")
            }
            other if problem.status >= 500 => {
                tracing::warn!(problem = problem.code, detail = %other, "request failed")
            }
            other => tracing::info!(problem = problem.code, detail = %other, "request refused"),
        }
        let mut response = problem_response(&problem);
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The response carrying `problem`.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_worth_retrying_and_says_nothing_of_the_pool() {
        let error = ApiError::from(sqlx::Error::PoolTimedOut);
        assert!(
            matches!(error, ApiError::DatabaseUnavailable(_)),
            "{error:?}"
        );
        let problem = error.problem();
        assert_eq!(problem.status, 503);
        assert!(!problem.detail.contains("pool"), "{}", problem.detail);
        let response = error.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        // Through the layers: a store error inside a service error.
        let nested =
            ServiceError::from(freshet_store::StoreError::Database(sqlx::Error::PoolClosed));
        assert!(matches!(
            ApiError::from(nested),
            ApiError::DatabaseUnavailable(_)
        ));
        // A broken statement is still ours.
        let broken = ApiError::from(sqlx::Error::RowNotFound);
        assert!(matches!(broken, ApiError::Internal(_)), "{broken:?}");
    }

    /// A database error with only a code, as a driver reports it.
    #[derive(Debug)]
    struct Coded(&'static str);

    impl std::fmt::Display for Coded {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error {}", self.0)
        }
    }

    impl std::error::Error for Coded {}

    impl sqlx::error::DatabaseError for Coded {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
            Some(self.0.into())
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    #[test]
    fn a_server_refusing_new_connections_is_a_503_not_a_500() {
        let unavailable = |code: &'static str| {
            let error =
                freshet_store::StoreError::Database(sqlx::Error::Database(Box::new(Coded(code))));
            matches!(
                ApiError::from(ServiceError::from(error)),
                ApiError::DatabaseUnavailable(_)
            )
        };
        // PostgreSQL at log-in: a role that may not log in, a wrong password, no such database;
        // SQLite's file busy or locked.
        for code in ["28000", "28P01", "3D000", "57P03", "08006", "5", "517", "6"] {
            assert!(unavailable(code), "{code}");
        }
        // A statement's own error is still ours; SQLite's numeric 28 is a warning.
        for code in ["23505", "42P01", "42501", "22021", "28"] {
            assert!(!unavailable(code), "{code}");
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let problem = ApiError::internal("password=hunter2").problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("hunter2"));
    }

    // B4
    #[test]
    fn refusals_by_role_are_403() {
        let refusal = DomainError::NotPermitted {
            action: "sign off",
            allowed: "the Account Manager".to_owned(),
        };
        let (status, code, _) = ApiError::Domain(refusal).classify();
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(code, "not-permitted");
    }

    #[test]
    fn a_portfolio_of_another_team_is_answered_as_one_that_does_not_exist() {
        let unknown = ApiError::Domain(DomainError::PortfolioNotFound).problem();
        let not_ours = ApiError::Domain(DomainError::NotOnTeam).problem();
        assert_eq!(not_ours, unknown);
        assert_eq!(not_ours.status, 404);
    }
}
