//! The signed-in person a page is for. Without a valid session a page redirects to the
//! sign-in page, which comes back to it afterwards.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use freshet_api::{ApiError, AppState, Caller};

use crate::page::{Person, error_page};

/// The person signed in (through the same [`Caller`] as the API, so the same permissions
/// apply, B4).
#[derive(Debug, Clone)]
pub struct Viewer(pub Caller);

impl Viewer {
    /// How the page header names them (and whether it offers the Admin pages).
    pub(crate) fn label(&self) -> Option<Person> {
        Some(Person {
            name: self.0.user.name.clone(),
            admin: self.0.is_admin(),
        })
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Self(caller)),
            Err(ApiError::Unauthenticated) => Err(to_sign_in(parts)),
            Err(error) => Err(error_page(&error, None)),
        }
    }
}

/// The sign-in page, coming back to this page (its path and query) afterwards.
fn to_sign_in(parts: &Parts) -> Response {
    let back = parts
        .uri
        .path_and_query()
        .map_or("/app/", |path| path.as_str());
    let query = next_query(back);
    Redirect::to(&format!("/app/sign-in?{query}")).into_response()
}

fn next_query(back: &str) -> String {
    let mut encoded = String::from("next=");
    for byte in back.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(char::from(byte));
            }
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

/// Where to go after signing in: `next` when it is one of this app's pages, else My work.
/// Anything else (another host, `//evil.example`, a path outside the app) is ignored, so
/// the sign-in page cannot be used to send people elsewhere.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with("/app/")
                && !next.contains("//")
                && !next.contains('\\')
                && !next.chars().any(char::is_control) =>
        {
            next.to_owned()
        }
        _ => "/app/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_the_app_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/app/portfolios/1?x=y")),
            "/app/portfolios/1?x=y"
        );
        for evil in [
            "https://evil.example/",
            "//evil.example/app/",
            "/app//evil.example",
            "/docs",
            "/app/\\evil",
            "/app/\nx",
        ] {
            assert_eq!(safe_next(Some(evil)), "/app/", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/app/");
    }

    #[test]
    fn the_way_back_is_encoded_in_the_query() {
        assert_eq!(next_query("/app/x?a=b&c"), "next=/app/x%3Fa%3Db%26c");
    }
}
