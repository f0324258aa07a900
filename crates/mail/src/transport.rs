//! How a built message leaves: over SMTP (lettre, tokio, rustls) or into a folder of `.eml`
//! files. Every message carries `Message-ID: <email-id@freshet>`, so a receiver can drop
//! the rare duplicate that at-least-once delivery allows.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use freshet_domain::EmailId;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret as _;

use crate::config::{Delivery, Security, SmtpConfig};
use crate::error::{DeliveryError, MailError};

/// The `Message-ID` of an email: `<email-id@freshet>`.
pub fn message_id(id: EmailId) -> String {
    format!("<{id}@freshet>")
}

/// Builds the MIME message: plain text and HTML alternatives, with the email id as Message-ID.
pub fn build_message(
    id: EmailId,
    from: &Mailbox,
    to: &Mailbox,
    subject: &str,
    text: &str,
    html: &str,
) -> Result<Message, DeliveryError> {
    Ok(Message::builder()
        .message_id(Some(message_id(id)))
        .from(from.clone())
        .to(to.clone())
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(
            text.to_owned(),
            html.to_owned(),
        ))?)
}

/// Sends one built message.
#[async_trait]
pub trait Transport: Send + Sync + std::fmt::Debug {
    async fn send(&self, id: EmailId, message: &Message) -> Result<(), DeliveryError>;
}

/// Opens the transport the configuration names.
pub fn from_config(delivery: &Delivery) -> Result<Box<dyn Transport>, MailError> {
    Ok(match delivery {
        Delivery::Smtp(config) => Box::new(SmtpTransport::new(config)?),
        Delivery::Folder { dir } => Box::new(FolderTransport::new(dir.clone())),
    })
}

/// An SMTP relay through lettre's pooled async transport.
#[derive(Clone, Debug)]
pub struct SmtpTransport {
    inner: AsyncSmtpTransport<Tokio1Executor>,
    timeout: Duration,
}

impl SmtpTransport {
    pub fn new(config: &SmtpConfig) -> Result<Self, MailError> {
        let builder = match config.security {
            Security::Plain => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            }
            Security::StartTls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &config.host,
            )
            .tls(Tls::Required(
                TlsParameters::new(config.host.clone()).map_err(MailError::Transport)?,
            )),
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                .tls(Tls::Wrapper(
                    TlsParameters::new(config.host.clone()).map_err(MailError::Transport)?,
                )),
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if let Some(credentials) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            inner: builder.build(),
            timeout: config.timeout,
        })
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    async fn send(&self, _id: EmailId, message: &Message) -> Result<(), DeliveryError> {
        // lettre bounds the connect; this bounds the whole exchange, so a server that stops
        // answering costs one attempt, not a stuck worker.
        let formatted = message.formatted();
        let exchange = self.inner.send_raw(message.envelope(), &formatted);
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => {
                result?;
                Ok(())
            }
            Err(_) => Err(DeliveryError::TimedOut {
                after: self.timeout,
            }),
        }
    }
}

/// Writes each message to `<dir>/<email-id>.eml` (the embedded default): a newcomer opens
/// them with any mail client or reads them as text.
#[derive(Clone, Debug)]
pub struct FolderTransport {
    dir: PathBuf,
}

impl FolderTransport {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn path_of(&self, id: EmailId) -> PathBuf {
        self.dir.join(format!("{id}.eml"))
    }
}

#[async_trait]
impl Transport for FolderTransport {
    async fn send(&self, id: EmailId, message: &Message) -> Result<(), DeliveryError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let path = self.path_of(id);
        // Write then rename, so a reader never sees half a message.
        let partial = self.dir.join(format!(".{id}.eml.partial"));
        tokio::fs::write(&partial, message.formatted()).await?;
        tokio::fs::rename(&partial, &path).await?;
        tracing::info!(mail.file = %path.display(), "wrote the message to the mail folder");
        Ok(())
    }
}
