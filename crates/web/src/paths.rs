//! The paths of the pages, written once.

pub(crate) fn portfolio(portfolio: &str) -> String {
    format!("/app/portfolios/{portfolio}")
}

pub(crate) fn ticket(portfolio: &str, ticket: &str) -> String {
    format!("/app/portfolios/{portfolio}/tickets/{ticket}")
}
