//! Parsed value types: once constructed, a value is valid, so the rest of the domain never
//! re-checks it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

/// Whether `c` is invisible or changes how text around it reads: a control character (other
/// than the line breaks and tabs a multi-line text may hold) or a Unicode format character
/// (general category Cf: bidirectional overrides and isolates, zero-width spaces and joiners,
/// the byte order mark, soft hyphens, tag characters). Names, titles and notes refuse them,
/// so what a person reads is what is stored.
pub fn is_hidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_format(c)
}

/// Unicode general category Cf (Unicode 15.1).
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0001}'
            | '\u{e0020}'..='\u{e007f}'
    )
}

/// A trimmed text of 1 to `max_chars` characters on one line with nothing [hidden](is_hidden)
/// in it (names of people, labels of tokens: text outside the domain held to its rules).
pub fn single_line(
    input: &str,
    what: &'static str,
    max_chars: usize,
) -> Result<String, InvalidValue> {
    let value = printable(input, what, max_chars)?;
    if value.contains(['\n', '\r', '\t']) {
        return Err(InvalidValue::MultiLine { what });
    }
    Ok(value)
}

fn printable(input: &str, what: &'static str, max_chars: usize) -> Result<String, InvalidValue> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue::Empty { what });
    }
    if trimmed.chars().count() > max_chars {
        return Err(InvalidValue::TooLong { what, max_chars });
    }
    if trimmed.chars().any(is_hidden) {
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
                if $single {
                    single_line(input, $what, $max).map(Self)
                } else {
                    printable(input, $what, $max).map(Self)
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_titles_and_notes_refuse_bidi_overrides_and_zero_width_characters() {
        for hidden in [
            '\u{202e}', '\u{2066}', '\u{200b}', '\u{200f}', '\u{feff}', '\u{2060}',
        ] {
            let text = format!("Spring{hidden}Sale");
            assert!(
                matches!(
                    ClientName::parse(&text),
                    Err(InvalidValue::ControlCharacter { .. })
                ),
                "{hidden:?} in a client name"
            );
            assert!(TicketTitle::parse(&text).is_err(), "{hidden:?} in a title");
            assert!(FolderName::parse(&text).is_err(), "{hidden:?} in a folder");
            assert!(NoteText::parse(&text).is_err(), "{hidden:?} in a note");
        }
        assert!(NoteText::parse("Two\nlines,\ttabbed, accents é and emoji 🎉").is_ok());
        assert!(ClientName::parse("Café Ünïcödé 東京").is_ok());
    }

    #[test]
    fn hidden_characters_are_control_and_format_characters() {
        assert!(is_hidden('\u{7}') && is_hidden('\u{202a}') && is_hidden('\u{ad}'));
        assert!(is_hidden('\u{e0041}'), "tag characters");
        assert!(!is_hidden('a') && !is_hidden(' ') && !is_hidden('é') && !is_hidden('\n'));
    }
}
