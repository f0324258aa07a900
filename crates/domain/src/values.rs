//! Parsed value types: once constructed, a value is valid, so the rest of the domain never
//! re-checks it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

fn printable(input: &str, what: &'static str, max_chars: usize) -> Result<String, InvalidValue> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::Empty { what });
    }
    if trimmed.chars().count() > max_chars {
        return Err(InvalidValue::TooLong { what, max_chars });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(InvalidValue::ControlCharacter { what });
    }
    Ok(trimmed.to_owned())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, single_line = $single:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const WHAT: &'static str = $what;

            pub fn parse(input: &str) -> Result<Self, InvalidValue> {
                let value = printable(input, $what, $max)?;
                if $single && value.contains(['\n', '\r', '\t']) {
                    return Err(InvalidValue::MultiLine { what: $what });
                }
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// The client's name on the Creative Portfolio.
    ClientName, "client name", 200, single_line = true
);
text_value!(
    /// The Deliverable Folder Name that binds the tickets of one Ad Set (R7).
    FolderName, "Deliverable Folder Name", 200, single_line = true
);
text_value!(
    /// What one deliverable ticket is (e.g. "Story 1080x1920, offer A").
    TicketTitle, "ticket title", 200, single_line = true
);
text_value!(
    /// The text of a Note on a portfolio or a ticket.
    NoteText, "note", 20_000, single_line = false
);

/// The Most Recent Ad Lab Link: an http(s) address without spaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AdLabLink(String);

impl AdLabLink {
    const MAX_CHARS: usize = 2_000;

    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let value = input.trim();
        let what = "Ad Lab link";
        if value.is_empty() {
            return Err(InvalidValue::Empty { what });
        }
        if value.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::TooLong {
                what,
                max_chars: Self::MAX_CHARS,
            });
        }
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"));
        match rest {
            Some(rest)
                if !rest.is_empty()
                    && !rest.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Ok(Self(value.to_owned()))
            }
            _ => Err(InvalidValue::NotALink),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AdLabLink {
    type Error = InvalidValue;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AdLabLink> for String {
    fn from(value: AdLabLink) -> String {
        value.0
    }
}

impl fmt::Display for AdLabLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Number of Deliverables In This Ad Set: 1 to 50.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct DeliverableCount(u32);

impl DeliverableCount {
    pub const MAX: u32 = 50;

    pub fn new(count: u32) -> Result<Self, InvalidValue> {
        if (1..=Self::MAX).contains(&count) {
            Ok(Self(count))
        } else {
            Err(InvalidValue::DeliverableCount {
                count,
                max: Self::MAX,
            })
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for DeliverableCount {
    type Error = InvalidValue;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<DeliverableCount> for u32 {
    fn from(value: DeliverableCount) -> u32 {
        value.0
    }
}

impl fmt::Display for DeliverableCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
