//! Extractors whose refusals are problem documents (never axum's plain-text rejections),
//! and the headers every command understands.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::ApiError;

/// `axum::Json` answering a problem (400, 413) for a bad body.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path` answering a problem (400) for a bad path parameter.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query` answering a problem (400) for a bad query parameter.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// How fresh the read side must be when the answer comes back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    /// Answer at once; the read side follows within moments.
    #[default]
    Eventual,
    /// Wait (bounded) until every projection has the command's events (or, for a query,
    /// everything committed before it).
    Strong,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    /// `strong` waits until the read side has caught up (bounded).
    #[serde(default)]
    pub consistency: Consistency,
}

/// The path of a call on one portfolio, documented for OpenAPI (handlers extract it as a
/// `PortfolioId`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct PortfolioPathDocs {
    /// the portfolio
    id: Uuid,
}

/// The path of a command on one ticket, documented for OpenAPI (handlers extract it as
/// `(PortfolioId, Uuid)`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct TicketPathDocs {
    /// the portfolio
    id: Uuid,
    /// the ticket
    ticket: Uuid,
}

/// The path of a command on one task, documented for OpenAPI (handlers extract it as
/// `(PortfolioId, Uuid)`).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct TaskPathDocs {
    /// the portfolio
    id: Uuid,
    /// the task
    task: Uuid,
}

/// The headers of a command, documented for OpenAPI.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct CommandHeaderDocs {
    /// B5: an exact retry with the same key gets the first response and changes nothing.
    /// 1 to 200 visible ASCII characters (spaces inside allowed).
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 200,
        pattern = r"^[!-~]([ -~]*[!-~])?$"
    )]
    idempotency_key: Option<String>,
    /// The stream version the client last saw (`ETag` of the portfolio); the command is
    /// refused with 412 when the portfolio has moved on. `"12"`, `W/"12"` or `12`.
    #[serde(rename = "If-Match")]
    #[param(rename = "If-Match", pattern = r#"^(W/)?("[0-9]{1,18}"|[0-9]{1,18})$"#)]
    if_match: Option<String>,
}

/// `Idempotency-Key` and `If-Match`, checked for shape.
#[derive(Debug, Clone, Default)]
pub struct CommandHeaders {
    pub idempotency_key: Option<String>,
    pub if_match: Option<i64>,
}

const MAX_KEY_LEN: usize = 200;

fn header<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, ApiError> {
    parts
        .headers
        .get(name)
        .map(|value| {
            value.to_str().map_err(|_| {
                ApiError::malformed("invalid-header", format!("the {name} header is not text"))
            })
        })
        .transpose()
}

impl<S: Send + Sync> FromRequestParts<S> for CommandHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let idempotency_key = match header(parts, "idempotency-key")? {
            None => None,
            Some(key) => {
                let key = key.trim();
                if key.is_empty() || key.len() > MAX_KEY_LEN {
                    return Err(ApiError::malformed(
                        "invalid-header",
                        format!("the Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"),
                    ));
                }
                Some(key.to_owned())
            }
        };
        let if_match = match header(parts, "if-match")? {
            None => None,
            Some(value) => Some(parse_version_tag(value).ok_or_else(|| {
                ApiError::malformed(
                    "invalid-header",
                    "If-Match must be the portfolio's version as an entity tag, e.g. \"12\"",
                )
            })?),
        };
        Ok(Self {
            idempotency_key,
            if_match,
        })
    }
}

/// `"12"`, `W/"12"` or `12` → 12.
pub fn parse_version_tag(value: &str) -> Option<i64> {
    let value = value.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    // Digits only: no sign, no spaces inside (as the document's pattern says).
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<i64>().ok()
}

/// The entity tag of a stream version.
pub fn version_tag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tags_round_trip() {
        assert_eq!(parse_version_tag(&version_tag(7)), Some(7));
        assert_eq!(parse_version_tag("W/\"3\""), Some(3));
        assert_eq!(parse_version_tag("12"), Some(12));
        assert_eq!(parse_version_tag("\"abc\""), None);
        assert_eq!(parse_version_tag("-1"), None);
        assert_eq!(parse_version_tag("+1"), None);
        assert_eq!(parse_version_tag("\"\""), None);
    }
}
