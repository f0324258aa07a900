//! What every page shares: rendering a template into a response, the headers every page
//! carries, and the pages for what went wrong.

use askama::Template;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use freshet_api::ApiError;

/// `template` as an HTML response with `status`.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be shown.",
            )
                .into_response()
        }
    }
}

/// The signed-in person as the layout shows them: their name, and whether the nav offers
/// the Admin pages. Every page's `person` field is one (filled by `Viewer::label`).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: String,
    pub admin: bool,
}

impl std::fmt::Display for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// A page with a heading, a sentence and, perhaps, a link on.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message {
    pub person: Option<Person>,
    pub heading: &'static str,
    pub text: String,
    pub link: Option<(&'static str, &'static str)>,
}

impl Message {
    pub(crate) fn page(self, status: StatusCode) -> Response {
        render(status, &self)
    }
}

/// A problem's detail as a page shows it: a sentence, capitalized and ended with a full stop
/// (the API's details are clauses, "the refresh date must not be in the past").
pub(crate) fn sentence(detail: &str) -> String {
    let detail = detail.trim();
    let mut chars = detail.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut sentence: String = first.to_uppercase().chain(chars).collect();
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// The page for an error of the layers below: the problem's sentence (internals never).
pub(crate) fn error_page(error: &ApiError, person: Option<Person>) -> Response {
    let problem = error.problem();
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let heading = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not yours to see",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        status if status.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    let mut response = Message {
        person,
        heading,
        text: sentence(&problem.detail),
        link: Some(("/app/", "Back to My work")),
    }
    .page(status);
    if let Some(seconds) = error.retry_after() {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}

pub(crate) async fn not_found() -> Response {
    Message {
        person: None,
        heading: "Not found",
        text: "There is no page at this address.".into(),
        link: Some(("/app/", "Go to My work")),
    }
    .page(StatusCode::NOT_FOUND)
}

/// Every page: only this server's own resources, never inside another site's frame, no
/// referrer to other sites (a page's address may hold a link's secret), and, unless the
/// page says otherwise (the stylesheet), kept in no cache.
pub(crate) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn a_problem_clause_reads_as_a_sentence() {
        assert_eq!(
            sentence("the refresh date must not be in the past"),
            "The refresh date must not be in the past."
        );
        assert_eq!(sentence(" Already one. "), "Already one.");
        assert_eq!(sentence("why not?"), "Why not?");
        assert_eq!(sentence("écrit"), "Écrit.");
        assert_eq!(sentence(""), "");
    }
}
