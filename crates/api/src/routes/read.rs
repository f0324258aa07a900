//! What the queries share: reading one's writes (`consistency=strong`), who may read a
//! portfolio, and paging.

use freshet_domain::{Portfolio, PortfolioId};
use uuid::Uuid;

use super::extract::Consistency;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// With `consistency=strong`, waits (bounded) until every projection has everything that
/// was committed before this request.
pub(crate) async fn settle(state: &AppState, consistency: Consistency) -> Result<(), ApiError> {
    if consistency != Consistency::Strong {
        return Ok(());
    }
    let head = state.store().head().await?;
    if let Err(timeout) = state
        .runner()
        .wait_for(
            &freshet_projections::PROJECTION_NAMES,
            head,
            state.options().consistency_timeout,
        )
        .await
    {
        tracing::warn!(error = %timeout, "the read side did not catch up in time");
    }
    Ok(())
}

/// The portfolio as it stands, if `caller` may read it (404 unknown, 403 not on the team).
pub async fn readable_portfolio(
    state: &AppState,
    caller: &Caller,
    id: PortfolioId,
) -> Result<Portfolio, ApiError> {
    let portfolio = state
        .service()
        .portfolio(id)
        .await?
        .ok_or(ApiError::Domain(
            freshet_domain::DomainError::PortfolioNotFound,
        ))?;
    // Answered like a portfolio that does not exist (see `error::visible`).
    if !caller.is_admin() && !portfolio.team.includes(caller.id()) {
        return Err(ApiError::Domain(freshet_domain::DomainError::NotOnTeam));
    }
    Ok(portfolio)
}

/// The page size a listing asked for: 100 (or the maximum) when absent.
pub(crate) fn page(state: &AppState, limit: Option<u32>) -> Result<u32, ApiError> {
    let max = state.options().max_page_size;
    match limit {
        None => Ok(100.min(max)),
        Some(limit) if (1..=max).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::malformed(
            "invalid-query",
            format!("limit must be between 1 and {max}, not {limit}"),
        )),
    }
}

/// The keyset cursor of a page: its last row, when the page is full.
pub(crate) fn next_cursor<T>(
    rows: &[T],
    limit: u32,
    id: impl Fn(&T) -> Option<Uuid>,
) -> Option<Uuid> {
    (rows.len() >= usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| rows.last().and_then(id))
        .flatten()
}
