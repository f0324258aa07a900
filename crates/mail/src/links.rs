//! The address of every page an email leads to: the only place page paths are written, so
//! the web app's routes and the links in emails cannot drift apart unnoticed. A link opens
//! a page; fetching it never changes anything (mail scanners open links).

use freshet_domain::{PortfolioId, TicketId};

use crate::public_url::PublicUrl;

/// The same pages' paths, for the web app's own links (relative to its host).
pub mod path {
    use std::fmt::Display;

    /// A Creative Portfolio's page.
    pub fn portfolio(portfolio: impl Display) -> String {
        format!("/app/portfolios/{portfolio}")
    }

    /// A ticket's page.
    pub fn ticket(portfolio: impl Display, ticket: impl Display) -> String {
        format!("/app/portfolios/{portfolio}/tickets/{ticket}")
    }
}

/// A Creative Portfolio: where its tasks are done.
pub fn portfolio(base: &PublicUrl, portfolio: PortfolioId) -> String {
    base.link(&path::portfolio(portfolio))
}

/// One deliverable ticket of a portfolio: where a task about that ticket is done.
pub fn ticket(base: &PublicUrl, portfolio: PortfolioId, ticket: TicketId) -> String {
    base.link(&path::ticket(portfolio, ticket))
}

/// The signed-in person's own tasks.
pub fn my_work(base: &PublicUrl) -> String {
    base.link("/app/")
}

/// The signed-in person's settings (e.g. the daily digest).
pub fn settings(base: &PublicUrl) -> String {
    base.link("/app/settings")
}

/// The page where an invited person chooses their password.
pub fn invitation(base: &PublicUrl, secret: &str) -> String {
    base.link(&format!("/app/invitation/{}", path_segment(secret)))
}

/// The page where a person who forgot their password chooses a new one.
pub fn password_reset(base: &PublicUrl, secret: &str) -> String {
    base.link(&format!("/app/password-reset/{}", path_segment(secret)))
}

pub fn sign_in(base: &PublicUrl) -> String {
    base.link("/app/sign-in")
}

/// `value` as one path segment: unreserved characters as they are, every other byte
/// percent-encoded, so a secret of any alphabet stays one segment.
fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn every_page_has_its_path_under_the_base() {
        let base: PublicUrl = "https://freshet.agency.example/"
            .parse()
            .expect("a valid public URL");
        let portfolio_id = PortfolioId::from_uuid(Uuid::from_u128(7));
        let ticket_id = TicketId::from_uuid(Uuid::from_u128(3));
        let root = "https://freshet.agency.example";
        assert_eq!(
            portfolio(&base, portfolio_id),
            format!("{root}/app/portfolios/00000000-0000-0000-0000-000000000007")
        );
        assert_eq!(
            ticket(&base, portfolio_id, ticket_id),
            format!(
                "{root}/app/portfolios/00000000-0000-0000-0000-000000000007/tickets/\
                 00000000-0000-0000-0000-000000000003"
            )
        );
        assert_eq!(my_work(&base), format!("{root}/app/"));
        assert_eq!(settings(&base), format!("{root}/app/settings"));
        assert_eq!(sign_in(&base), format!("{root}/app/sign-in"));
        assert_eq!(
            invitation(&base, "Ab_9-x"),
            format!("{root}/app/invitation/Ab_9-x")
        );
        assert_eq!(
            password_reset(&base, "a/b+c"),
            format!("{root}/app/password-reset/a%2Fb%2Bc"),
            "a secret stays one path segment"
        );
    }
}
