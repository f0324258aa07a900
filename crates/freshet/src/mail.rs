//! The email settings: SMTP when a host is given, otherwise `.eml` files in a folder.

use anyhow::{Context as _, Result};
use freshet_mail::{
    Delivery, MailConfig, Mailbox, RetryPolicy, Security, SmtpConfig, SmtpCredentials,
};

use crate::cli::MailArgs;

pub fn config(args: &MailArgs) -> Result<MailConfig> {
    let from: Mailbox = args
        .mail_from
        .parse()
        .with_context(|| format!("--mail-from \"{}\" is not an email address", args.mail_from))?;
    let delivery = match &args.smtp_host {
        None => Delivery::Folder {
            dir: args.mail_dir.clone(),
        },
        Some(host) => {
            let security: Security = args
                .smtp_security
                .parse()
                .map_err(|e| anyhow::anyhow!("--smtp-security: {e}"))?;
            let mut smtp = SmtpConfig::plain(host.clone(), args.smtp_port);
            smtp.security = security;
            smtp.credentials = match (&args.smtp_username, &args.smtp_password) {
                (Some(username), Some(password)) => Some(SmtpCredentials {
                    username: username.clone(),
                    password: password.clone(),
                }),
                (None, None) => None,
                _ => anyhow::bail!("give both --smtp-username and --smtp-password, or neither"),
            };
            Delivery::Smtp(smtp)
        }
    };
    Ok(MailConfig {
        from,
        delivery,
        retry: RetryPolicy {
            lease: args.mail_lease,
            ..RetryPolicy::default()
        },
    })
}
