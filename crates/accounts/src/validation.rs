//! What a name, a token's label and an email address must look like.

use freshet_mail::Mailbox;

use crate::AccountError;

/// A name or a label: trimmed, 1 to 200 characters on one line, nothing hidden (the
/// domain's rule for names, `freshet_domain::values::single_line`).
fn one_line(input: &str, what: &'static str) -> Option<String> {
    freshet_domain::values::single_line(input, what, 200).ok()
}

/// A person's name and email address, trimmed.
pub(crate) fn name_and_email(name: &str, email: &str) -> Result<(String, String), AccountError> {
    let name = one_line(name, "name").ok_or(AccountError::InvalidName)?;
    Ok((name, bare_address(email)?))
}

/// A token's label, trimmed.
pub(crate) fn label(label: &str) -> Result<String, AccountError> {
    one_line(label, "label").ok_or(AccountError::InvalidLabel)
}

/// The bare address `input` is (`amy@agency.example`), trimmed. A display name or angle
/// brackets (`Bob <amy@…>`) are refused: the address is unique, so it must be stored as
/// the address alone.
fn bare_address(input: &str) -> Result<String, AccountError> {
    let email = input.trim();
    let bare = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || freshet_domain::values::is_hidden(c))
        && email
            .parse::<Mailbox>()
            .is_ok_and(|mailbox| mailbox.name.is_none() && mailbox.email.to_string() == email);
    if bare {
        Ok(email.to_owned())
    } else {
        Err(AccountError::InvalidEmail(email.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_and_emails_are_checked() {
        let validate = name_and_email;
        assert!(validate("Ann", "ann@example.com").is_ok());
        assert!(matches!(
            validate(" ", "ann@example.com"),
            Err(AccountError::InvalidName)
        ));
        assert!(matches!(
            validate("Ann", "not an email"),
            Err(AccountError::InvalidEmail(_))
        ));
        for dressed in [
            "Bob<ann@example.com>",
            "Bob <ann@example.com>",
            "<ann@example.com>",
        ] {
            assert!(
                matches!(validate("Bob", dressed), Err(AccountError::InvalidEmail(_))),
                "{dressed}"
            );
        }
        assert_eq!(
            validate(" Ann ", " ann@example.com ").unwrap(),
            ("Ann".to_owned(), "ann@example.com".to_owned())
        );
        assert!(matches!(
            validate("An\u{200b}n", "ann@example.com"),
            Err(AccountError::InvalidName)
        ));
        assert!(matches!(label("a\nb"), Err(AccountError::InvalidLabel)));
    }
}
