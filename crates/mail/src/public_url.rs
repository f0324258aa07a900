//! The address people reach Freshet at (`FRESHET_PUBLIC_URL`): every link in an email starts
//! with it, and the web app compares a request's `Origin` with its origin. Behind a TLS proxy
//! it is the https address people use, not the address Freshet listens on.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::MailError;

/// A parsed public URL: http or https, a host and perhaps a port, nothing else. No path
/// prefix: the web app's pages link to `/app/…` and its `__Host-` cookie needs `Path=/`,
/// so Freshet is served at the root of its host. Kept without a trailing `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, without a trailing `/`.
    base: String,
    /// `scheme://host[:port]`, as a browser sends it in an `Origin` header.
    origin: String,
    https: bool,
}

impl PublicUrl {
    /// The default of `--public-url`: Freshet's default listening address.
    pub const DEFAULT: &'static str = "http://127.0.0.1:8080";

    /// Whether people reach Freshet over https (session cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `scheme://host[:port]` (the default port omitted): what a browser sends as `Origin`
    /// for a page of this Freshet.
    pub fn origin(&self) -> String {
        self.origin.clone()
    }

    /// The absolute address of `path` (which starts with `/`) under this base.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The base itself, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }
}

impl Default for PublicUrl {
    fn default() -> Self {
        Self::DEFAULT
            .parse()
            .unwrap_or_else(|_| unreachable!("the default public URL is valid"))
    }
}

impl FromStr for PublicUrl {
    type Err = MailError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let refuse = |reason: &'static str| MailError::InvalidPublicUrl {
            value: input.to_owned(),
            reason,
        };
        let url = Url::parse(input.trim())
            .map_err(|_| refuse("it is not an absolute URL like https://freshet.agency.example"))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(refuse("it must start with http:// or https://")),
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(refuse("it has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it must not hold a user name or password"));
        }
        if url.query().is_some() {
            return Err(refuse("it must not have a query (?...)"));
        }
        if url.fragment().is_some() {
            return Err(refuse("it must not have a fragment (#...)"));
        }
        if url.path() != "/" {
            return Err(refuse(
                "it must not have a path: serve Freshet at the root of its host",
            ));
        }
        Ok(Self {
            base: url.as_str().trim_end_matches('/').to_owned(),
            origin: url.origin().ascii_serialization(),
            https,
        })
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> PublicUrl {
        input
            .parse()
            .unwrap_or_else(|error| panic!("{input}: {error}"))
    }

    #[test]
    fn the_default_is_the_default_listening_address_over_http() {
        let url = PublicUrl::default();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080");
        assert_eq!(url.origin(), "http://127.0.0.1:8080");
        assert!(!url.is_https());
    }

    #[test]
    fn a_trailing_slash_is_trimmed_and_links_join_cleanly() {
        let url = parse("https://freshet.agency.example/");
        assert!(url.is_https());
        assert_eq!(url.link("/app/"), "https://freshet.agency.example/app/");
        assert_eq!(url.origin(), "https://freshet.agency.example");
    }

    #[test]
    fn a_port_is_kept_in_links_and_origin_unless_it_is_the_default() {
        let url = parse("https://Tools.Agency.example:8443/");
        assert_eq!(
            url.link("/app/sign-in"),
            "https://tools.agency.example:8443/app/sign-in"
        );
        assert_eq!(url.origin(), "https://tools.agency.example:8443");
        let default_port = parse("https://tools.agency.example:443");
        assert_eq!(default_port.origin(), "https://tools.agency.example");
    }

    #[test]
    fn anything_but_a_plain_http_or_https_base_is_refused_with_a_reason() {
        for (input, reason) in [
            ("freshet.agency.example", "absolute URL"),
            ("ftp://freshet.agency.example", "http:// or https://"),
            ("https://freshet.agency.example/?a=1", "query"),
            ("https://freshet.agency.example/#top", "fragment"),
            ("https://admin:pw@freshet.agency.example", "user name"),
            ("https://tools.agency.example/freshet", "root of its host"),
            ("", "absolute URL"),
        ] {
            let error = input.parse::<PublicUrl>().expect_err(input).to_string();
            assert!(error.contains(reason), "{input}: {error}");
        }
    }
}
