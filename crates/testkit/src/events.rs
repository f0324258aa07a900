//! Reading `/me/inbox/events` (server-sent events) in tests.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::http::App;

/// An open inbox event stream.
#[allow(missing_debug_implementations)] // handles and streams with no Debug of their own
pub struct InboxEvents {
    stream:
        std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    buffer: String,
}

impl App {
    /// Opens `/me/inbox/events` as `token`.
    pub async fn inbox_events(&self, token: &str) -> InboxEvents {
        let response = self
            .http
            .get(format!("{}/me/inbox/events", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        InboxEvents {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }
}

impl InboxEvents {
    /// Reads events until one named `name` arrives; returns its data.
    pub async fn next(&mut self, name: &str) -> Value {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = "";
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(rest) = line.strip_prefix("event:") {
                        event = rest.trim();
                    } else if let Some(rest) = line.strip_prefix("data:") {
                        data.push_str(rest.trim());
                    }
                }
                if event == name {
                    return serde_json::from_str(&data).unwrap();
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
