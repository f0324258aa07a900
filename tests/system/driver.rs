//! Commands over HTTP to several API processes in turn, each with an `Idempotency-Key`;
//! transport errors and contention are retried with the same key, so an acknowledged
//! command is never recorded twice. Every acknowledgement is kept for the final checks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use uuid::Uuid;

/// A person with an API token.
#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub token: String,
}

/// What a client was told a command recorded.
#[derive(Clone, Debug)]
pub struct Ack {
    pub portfolio: Uuid,
    /// The stream version after the command: its events are the versions
    /// `stream_version - event_types.len() + 1 ..= stream_version`.
    pub stream_version: i64,
    pub event_types: Vec<String>,
    pub replayed: bool,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub commands: AtomicUsize,
    pub transport_retries: AtomicUsize,
    pub contention_retries: AtomicUsize,
    pub replays: AtomicUsize,
}

#[derive(Debug)]
pub struct Driver {
    http: Client,
    apis: Vec<String>,
    next: AtomicUsize,
    pub acks: Mutex<Vec<Ack>>,
    pub stats: Stats,
}

const ATTEMPTS: usize = 8;

impl Driver {
    pub fn new(apis: Vec<String>) -> Self {
        let http = Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Self {
            http,
            apis,
            next: AtomicUsize::new(0),
            acks: Mutex::new(Vec::new()),
            stats: Stats::default(),
        }
    }

    /// POSTs a command to the next API in turn; returns the command's result document.
    /// Panics on any answer but success (after bounded retries of transport errors and
    /// contention, with the same idempotency key).
    pub async fn command(&self, who: &User, path: &str, body: Option<Value>, key: &str) -> Value {
        self.command_on(None, who, path, body, key).await.0
    }

    /// As [`Driver::command`], on API `api` (else the next in turn); also says whether the
    /// answer was a replay of an earlier request with the same key.
    pub async fn command_on(
        &self,
        api: Option<usize>,
        who: &User,
        path: &str,
        body: Option<Value>,
        key: &str,
    ) -> (Value, bool) {
        self.stats.commands.fetch_add(1, Ordering::Relaxed);
        let mut last_problem = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
            }
            let turn = self.next.fetch_add(1, Ordering::Relaxed);
            let api = &self.apis[api.unwrap_or(turn) % self.apis.len()];
            let mut request = self
                .http
                .post(format!("{api}{path}"))
                .bearer_auth(&who.token)
                .header("Idempotency-Key", key);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let answer = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let replayed = response.headers().contains_key("idempotent-replayed");
                    response
                        .bytes()
                        .await
                        .map(|bytes| (status, replayed, bytes))
                }
                Err(error) => Err(error),
            };
            let (status, replayed, bytes) = match answer {
                Ok(answer) => answer,
                Err(error) => {
                    self.stats.transport_retries.fetch_add(1, Ordering::Relaxed);
                    last_problem = format!("transport error: {error}");
                    continue;
                }
            };
            let document: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status.is_success() {
                self.record(&document, replayed);
                return (document, replayed);
            }
            if status == StatusCode::CONFLICT && document["code"] == "contention" {
                self.stats
                    .contention_retries
                    .fetch_add(1, Ordering::Relaxed);
                last_problem = format!("{status} {document}");
                continue;
            }
            panic!("POST {path} (key {key}) answered {status}: {document}");
        }
        panic!("POST {path} (key {key}) failed {ATTEMPTS} times; last: {last_problem}");
    }

    fn record(&self, document: &Value, replayed: bool) {
        if replayed {
            self.stats.replays.fetch_add(1, Ordering::Relaxed);
        }
        let ack = Ack {
            portfolio: document["portfolio_id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("no portfolio_id in {document}")),
            stream_version: document["stream_version"]
                .as_i64()
                .unwrap_or_else(|| panic!("no stream_version in {document}")),
            event_types: document["events"]
                .as_array()
                .unwrap_or_else(|| panic!("no events in {document}"))
                .iter()
                .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
                .collect(),
            replayed,
        };
        self.acks.lock().unwrap().push(ack);
    }

    /// A GET as `who` on the first API; the JSON document of a 200.
    pub async fn get(&self, who: &User, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.apis[0]))
            .bearer_auth(&who.token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status();
        let document: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "GET {path}: {document}");
        document
    }
}

/// The events of a result document with the given type.
pub fn events_of<'a>(document: &'a Value, event_type: &str) -> Vec<&'a Value> {
    document["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter(|e| e["type"] == event_type)
                .map(|e| &e["data"])
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug)]
pub struct People {
    pub admin: User,
    pub am: User,
    pub sas: User,
    pub copywriter: User,
    pub designer: User,
    pub team_lead: User,
}

impl People {
    pub fn all(&self) -> [&User; 6] {
        [
            &self.admin,
            &self.am,
            &self.sas,
            &self.copywriter,
            &self.designer,
            &self.team_lead,
        ]
    }
}

/// What one portfolio went through.
#[derive(Debug)]
pub struct Cycle {
    pub portfolio: Uuid,
    pub tickets: usize,
    pub revision: Option<&'static str>,
    pub by_task: bool,
}

impl Cycle {
    pub fn review_rounds(&self) -> i64 {
        if self.revision.is_some() { 2 } else { 1 }
    }
}
