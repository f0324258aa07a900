//! Cross-site request forgery: a page on another site cannot make a signed-in browser
//! change anything. A browser says where a request comes from (`Sec-Fetch-Site`, and
//! `Origin` on every non-GET request); a state-changing request it marks as coming from
//! another site is refused with 403 before any handler runs, whatever it carries. The
//! algorithm is the one Go's `net/http.CrossOriginProtection` uses:
//!
//! 1. `GET`, `HEAD` and `OPTIONS` change nothing here: allowed.
//! 2. `Sec-Fetch-Site: same-origin` or `none` (typed in the address bar): allowed; any other
//!    value (`same-site`, `cross-site`): refused.
//! 3. Without `Sec-Fetch-Site` (an older browser), an `Origin` must name this server: the
//!    public URL's origin, or the `Host` the request was sent to.
//! 4. Neither header: not a browser (curl, an API client with a bearer token): allowed,
//!    since forgery needs a victim's browser.
//!
//! Being header-based, it needs no token in forms and works for the API's own requests
//! made from the web app's pages with the session cookie.

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Whether a request with `method` and `headers` may be handled.
pub fn allowed(method: &Method, headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|value| value.to_str().ok()) else {
        return true;
    };
    if public_origin.is_some_and(|public| public.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    let host = headers.get(HOST).and_then(|value| value.to_str().ok());
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// Middleware: refuses (403 `cross-origin-request`) what [`allowed`] does not allow.
pub(crate) async fn protect(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let origin = state.options().public_origin.as_deref();
    if allowed(request.method(), request.headers(), origin) {
        next.run(request).await
    } else {
        ApiError::CrossOrigin.into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    const PUBLIC: Option<&str> = Some("https://freshet.agency.example");

    #[test]
    fn a_cross_site_post_is_refused_and_a_same_origin_one_allowed() {
        let post = Method::POST;
        assert!(!allowed(
            &post,
            &headers(&[("sec-fetch-site", "cross-site")]),
            PUBLIC
        ));
        assert!(!allowed(
            &post,
            &headers(&[("sec-fetch-site", "same-site")]),
            PUBLIC
        ));
        assert!(allowed(
            &post,
            &headers(&[("sec-fetch-site", "same-origin")]),
            PUBLIC
        ));
        assert!(allowed(
            &post,
            &headers(&[("sec-fetch-site", "none")]),
            PUBLIC
        ));
        // Sec-Fetch-Site decides even when Origin would pass.
        assert!(!allowed(
            &post,
            &headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://freshet.agency.example")
            ]),
            PUBLIC
        ));
    }

    #[test]
    fn without_sec_fetch_site_the_origin_must_be_this_server() {
        let post = Method::POST;
        assert!(!allowed(
            &post,
            &headers(&[("origin", "https://evil.example")]),
            PUBLIC
        ));
        assert!(!allowed(&post, &headers(&[("origin", "null")]), PUBLIC));
        assert!(allowed(
            &post,
            &headers(&[("origin", "https://freshet.agency.example")]),
            PUBLIC
        ));
        assert!(allowed(
            &post,
            &headers(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080")
            ]),
            None
        ));
    }

    #[test]
    fn reads_and_requests_from_outside_a_browser_are_allowed() {
        let evil = headers(&[("sec-fetch-site", "cross-site")]);
        assert!(allowed(&Method::GET, &evil, PUBLIC));
        assert!(allowed(&Method::HEAD, &evil, PUBLIC));
        assert!(allowed(&Method::DELETE, &HeaderMap::new(), PUBLIC));
    }
}
