//! The cookie that carries a browser's session: `HttpOnly` (no script reads it),
//! `SameSite=Lax` (a link followed from an email arrives signed in; a cross-site form post
//! does not carry it), `Path=/`, and, whenever the public URL is https, `Secure` with the
//! `__Host-` prefix (the browser then refuses it from plain http or another subdomain).
//! It lasts as long as the session's absolute lifetime; the server ends it earlier when it
//! goes idle, at sign-out, or when its person changes password or is deactivated.

use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::header::COOKIE;
use chrono::{DateTime, Utc};
use cookie::{Cookie, SameSite};

const PLAIN_NAME: &str = "freshet_session";
const SECURE_NAME: &str = "__Host-freshet_session";

/// How the session cookie is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionCookie {
    /// `Secure` and `__Host-`: set when people reach Freshet over https.
    pub secure: bool,
}

impl SessionCookie {
    pub fn name(self) -> &'static str {
        if self.secure { SECURE_NAME } else { PLAIN_NAME }
    }

    /// The session secret a request carries, if any.
    pub fn read(self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == self.name())
            .map(|cookie| cookie.value().to_owned())
    }

    /// `Set-Cookie` for a session `secret` that ends at `expires_at` at the latest.
    pub fn set(self, secret: &str, expires_at: DateTime<Utc>) -> HeaderValue {
        let max_age = (expires_at - Utc::now()).num_seconds().max(0);
        self.header(
            Cookie::build((self.name(), secret.to_owned()))
                .max_age(cookie::time::Duration::seconds(max_age)),
        )
    }

    /// `Set-Cookie` that makes the browser forget the session cookie.
    pub fn clear(self) -> HeaderValue {
        self.header(
            Cookie::build((self.name(), String::new())).max_age(cookie::time::Duration::ZERO),
        )
    }

    fn header(self, cookie: cookie::CookieBuilder<'static>) -> HeaderValue {
        let cookie = cookie
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .build();
        HeaderValue::from_str(&cookie.to_string()).expect("a cookie of hex and ASCII names")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_with_the_host_prefix_over_https() {
        let secret = format!("fs_{}", "a".repeat(64));
        let later = Utc::now() + chrono::TimeDelta::days(14);
        let plain = SessionCookie { secure: false }.set(&secret, later);
        let plain = plain.to_str().expect("ascii");
        assert!(
            plain.starts_with(&format!("freshet_session={secret}")),
            "{plain}"
        );
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
            assert!(plain.contains(attribute), "{attribute} missing: {plain}");
        }
        assert!(!plain.contains("Secure"), "{plain}");

        let secure = SessionCookie { secure: true }.set(&secret, later);
        let secure = secure.to_str().expect("ascii");
        assert!(secure.starts_with("__Host-freshet_session="), "{secure}");
        assert!(
            secure.contains("Secure") && !secure.contains("Domain"),
            "{secure}"
        );
    }

    #[test]
    fn the_secret_is_read_among_other_cookies_and_only_under_its_own_name() {
        let cookie = SessionCookie { secure: false };
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("theme=dark; freshet_session=fs_1; x=y"),
        );
        assert_eq!(cookie.read(&headers).as_deref(), Some("fs_1"));
        assert_eq!(SessionCookie { secure: true }.read(&headers), None);
        let cleared = cookie.clear();
        assert!(cleared.to_str().expect("ascii").contains("Max-Age=0"));
    }
}
