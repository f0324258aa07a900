//! Newtype identifiers. Task and email ids are derived deterministically from their cause,
//! so a replayed or retried decision yields the same id and never a second task or email.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Namespace of every derived id (UUID v5). Changing it would re-key history: never do.
const FRESHET_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_9a52_3d0e_4b7a_9e61_2c84_f0d3_a715);

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// One Creative Portfolio, one per client.
    PortfolioId
);
id_type!(
    /// A person who uses Freshet.
    UserId
);
id_type!(
    /// One deliverable ticket.
    TicketId
);
id_type!(
    /// One Note, on a portfolio or a ticket.
    NoteId
);
id_type!(
    /// One task in a person's inbox; derived from its cause.
    TaskId
);
id_type!(
    /// One email notification; derived from its cause and its recipient.
    EmailId
);

impl PortfolioId {
    /// The event stream that holds this portfolio's whole history.
    pub fn stream_name(&self) -> String {
        format!("{STREAM_PREFIX}{}", self.0)
    }

    /// The portfolio whose stream is `stream` (the inverse of [`Self::stream_name`]); `None`
    /// for any other stream.
    pub fn from_stream_name(stream: &str) -> Option<Self> {
        stream.strip_prefix(STREAM_PREFIX)?.parse().ok()
    }
}

const STREAM_PREFIX: &str = "portfolio-";

fn derive(portfolio: PortfolioId, kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(
        &FRESHET_NAMESPACE,
        format!("{kind}/{}/{key}", portfolio.0).as_bytes(),
    )
}

impl TaskId {
    /// The id of the task `key` (e.g. `c3/kickoff`) on `portfolio`.
    pub fn derive(portfolio: PortfolioId, key: &str) -> Self {
        Self(derive(portfolio, "task", key))
    }
}

impl EmailId {
    /// The id of the email caused by `cause` (e.g. `c3/kickoff`) to `recipient`.
    pub fn derive(portfolio: PortfolioId, cause: &str, recipient: UserId) -> Self {
        Self(derive(portfolio, "email", &format!("{cause}/{recipient}")))
    }
}

impl NoteId {
    /// Notes are numbered within their portfolio; the id is derived from that number so a
    /// note logged by a retried command keeps its identity.
    pub fn derive(portfolio: PortfolioId, sequence: u32) -> Self {
        Self(derive(portfolio, "note", &sequence.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portfolio_is_found_again_from_its_stream_name_and_only_from_it() {
        let portfolio = PortfolioId::from_uuid(Uuid::from_u128(0x0190_c6f2));
        let stream = portfolio.stream_name();
        assert_eq!(PortfolioId::from_stream_name(&stream), Some(portfolio));
        for other in [
            "bench-row-1",
            "portfolio-",
            "portfolio-not-a-uuid",
            "ticket-0190c6f2",
        ] {
            assert_eq!(PortfolioId::from_stream_name(other), None, "{other}");
        }
    }
}
