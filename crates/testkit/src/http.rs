//! The HTTP harness: the real server on a random loopback port, a real database, projections
//! followed by a runner, a settable clock, and users with tokens for every role.

use secrecy::ExposeSecret as _;
use std::sync::Arc;

use chrono::NaiveDate;
use freshet_accounts::users;
use freshet_api::{ApiOptions, AppState, ServerOptions};
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::{Live, ReadModelConfig, all_projections};
use freshet_service::{CommandService, ManualClock, ProcessConfig};
use freshet_store::testing::TestDatabase;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

#[allow(missing_debug_implementations)] // handles and streams with no Debug of their own
pub struct App {
    pub base: String,
    /// Where `/metrics` is served: a listener apart from the API's.
    pub metrics_base: String,
    pub http: Client,
    pub clock: Arc<ManualClock>,
    pub db: TestDatabase,
    pub admin: String,
    pub am: Person,
    pub sas: Person,
    pub copywriter: Person,
    pub designer: Person,
    pub team_lead: Person,
    pub outsider: Person,
    tasks: Vec<JoinHandle<()>>,
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: String,
    pub token: String,
}

impl Drop for App {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// The id of the ticket a create or clone command's answer created.
pub fn created_ticket(answer: &Value) -> String {
    answer["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["type"] == "TicketCreated")
        .and_then(|e| e["data"]["ticket_id"].as_str())
        .unwrap_or_else(|| panic!("no TicketCreated in {answer}"))
        .to_owned()
}

/// Renames `table` (both backends), e.g. to make every write to it fail for real.
pub async fn rename_table(db: &freshet_store::Database, from: &str, to: &str) {
    use freshet_store::Database;
    let sql = format!("ALTER TABLE {from} RENAME TO {to}");
    match db {
        Database::Postgres(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
        Database::Sqlite(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn problem_code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl App {
    pub async fn start(db: TestDatabase, today: NaiveDate) -> App {
        Self::start_with(db, today, ApiOptions::default()).await
    }

    pub async fn start_with(db: TestDatabase, today: NaiveDate, options: ApiOptions) -> App {
        Self::start_with_pages(db, today, options, axum::Router::new()).await
    }

    /// [`App::start_with`], serving `pages` (the web app's routes) beside the API.
    pub async fn start_with_pages(
        db: TestDatabase,
        today: NaiveDate,
        options: ApiOptions,
        pages: axum::Router<AppState>,
    ) -> App {
        let store = db.store().await;
        let clock = Arc::new(ManualClock::at_date(today));
        let service = CommandService::new(store.clone(), clock.clone(), ProcessConfig::default());
        let runner = Arc::new(Runner::new(
            db.database.clone(),
            store.clone(),
            RunnerConfig::default(),
        ));
        let mut tasks = Vec::new();
        for projection in all_projections(&store, ReadModelConfig::default()) {
            tasks.push(runner.spawn(Arc::new(Live(projection))));
        }
        let state = AppState::new(service, db.database.clone(), runner, options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_base = format!("http://{}", metrics_listener.local_addr().unwrap());
        let metrics = freshet_api::metrics_router(state.clone());
        tasks.push(tokio::spawn(async move {
            axum::serve(metrics_listener, metrics).await.unwrap();
        }));
        // The production server: it tells the router each request's peer address.
        let server = freshet_api::serve_with(
            listener,
            state,
            pages,
            ServerOptions::default(),
            std::future::pending(),
        );
        tasks.push(tokio::spawn(server));
        let (_, admin) = users::add(&db.database, "Ada Admin", "admin@example.com", true, None)
            .await
            .unwrap();
        let admin = admin.secret.expose_secret().to_owned();
        let mut app = App {
            base,
            metrics_base,
            // No reused connections: a request the server answers early (413 on a huge body)
            // closes its connection, and a pooled client could send the next one into it.
            http: Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            clock,
            db,
            admin,
            am: Person {
                id: String::new(),
                token: String::new(),
            },
            sas: Person {
                id: String::new(),
                token: String::new(),
            },
            copywriter: Person {
                id: String::new(),
                token: String::new(),
            },
            designer: Person {
                id: String::new(),
                token: String::new(),
            },
            team_lead: Person {
                id: String::new(),
                token: String::new(),
            },
            outsider: Person {
                id: String::new(),
                token: String::new(),
            },
            tasks,
        };
        app.am = app.add_user("Amy AM", "am@example.com").await;
        app.sas = app.add_user("Sam SAS", "sas@example.com").await;
        app.copywriter = app.add_user("Cora Copy", "copy@example.com").await;
        app.designer = app.add_user("Dev Designer", "design@example.com").await;
        app.team_lead = app.add_user("Tess Lead", "lead@example.com").await;
        app.outsider = app.add_user("Olly Outsider", "out@example.com").await;
        app
    }

    async fn add_user(&self, name: &str, email: &str) -> Person {
        let answer = self
            .call(
                Method::POST,
                "/admin/users",
                Some(&self.admin.clone()),
                Some(json!({ "name": name, "email": email })),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        Person {
            id: answer.body["user"]["id"].as_str().unwrap().to_owned(),
            token: answer.body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Issues `user` another token labelled `label`: its plaintext and its id.
    pub async fn issue_token(&self, user: &str, label: &str) -> (String, String) {
        let issued = self
            .call(
                Method::POST,
                &format!("/admin/users/{user}/tokens"),
                Some(&self.admin),
                Some(json!({ "label": label })),
            )
            .await;
        assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
        (
            issued.body["secret"].as_str().unwrap().to_owned(),
            issued.body["token"]["id"].as_str().unwrap().to_owned(),
        )
    }

    pub fn team(&self) -> Value {
        json!({
            "account_manager": self.am.id,
            "social_ad_specialist": self.sas.id,
            "copywriter": self.copywriter.id,
            "designer": self.designer.id,
            "team_lead": self.team_lead.id,
        })
    }

    pub fn everyone(&self) -> Vec<(&'static str, String)> {
        vec![
            ("admin", self.admin.clone()),
            ("am", self.am.token.clone()),
            ("sas", self.sas.token.clone()),
            ("copywriter", self.copywriter.token.clone()),
            ("designer", self.designer.token.clone()),
            ("team_lead", self.team_lead.token.clone()),
            ("outsider", self.outsider.token.clone()),
        ]
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A command that must succeed; waits for the read side (`consistency=strong`).
    pub async fn ok(&self, token: &str, path: &str, body: Option<Value>) -> Value {
        let separator = if path.contains('?') { '&' } else { '?' };
        let answer = self
            .call(
                Method::POST,
                &format!("{path}{separator}consistency=strong"),
                Some(token),
                body,
            )
            .await;
        assert!(
            answer.status.is_success(),
            "POST {path}: {} {}",
            answer.status,
            answer.body
        );
        answer.body
    }

    /// The open tasks of `person` (kinds, sorted), read with `consistency=strong`.
    pub async fn open_tasks(&self, token: &str) -> Vec<Value> {
        let answer = self
            .call(
                Method::GET,
                "/me/inbox?open=true&consistency=strong",
                Some(token),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["tasks"].as_array().unwrap().clone()
    }

    pub async fn open_kinds(&self, token: &str) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .open_tasks(token)
            .await
            .iter()
            .map(|t| t["kind"].as_str().unwrap().to_owned())
            .collect();
        kinds.sort();
        kinds
    }

    pub async fn task_of(&self, token: &str, kind: &str) -> String {
        self.open_tasks(token)
            .await
            .iter()
            .find(|t| t["kind"] == kind)
            .unwrap_or_else(|| panic!("no open {kind} task"))["task_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The portfolio's stream version.
    pub async fn version(&self, portfolio: &str) -> i64 {
        let answer = self
            .call(
                Method::GET,
                &format!("/portfolios/{portfolio}"),
                Some(&self.admin),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["version"].as_i64().unwrap()
    }

    /// Creates a portfolio refreshing on `refresh_date`, monthly.
    pub async fn create_portfolio(&self, refresh_date: NaiveDate) -> String {
        let body = self
            .ok(
                &self.admin,
                "/portfolios",
                Some(json!({
                    "client": "Acme Outdoor",
                    "team": self.team(),
                    "cadence": { "every": 1, "unit": "months" },
                    "refresh_date": refresh_date,
                })),
            )
            .await;
        body["portfolio_id"].as_str().unwrap().to_owned()
    }
}

impl App {
    /// A command that must be refused with `status` and problem `code`, changing nothing.
    pub async fn refused(
        &self,
        token: &str,
        path: &str,
        body: Option<Value>,
        status: StatusCode,
        code: &str,
    ) {
        let portfolio = path.split('/').nth(2).unwrap().to_owned();
        let before = self.version(&portfolio).await;
        let answer = self.call(Method::POST, path, Some(token), body).await;
        assert_eq!(
            (answer.status, answer.problem_code()),
            (status, code),
            "POST {path}: {}",
            answer.body
        );
        assert_eq!(
            self.version(&portfolio).await,
            before,
            "a refused {path} changed nothing"
        );
    }

    pub async fn summary(&self, portfolio: &str) -> Value {
        let answer = self
            .call(
                Method::GET,
                &format!("/portfolios/{portfolio}?consistency=strong"),
                Some(&self.admin),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }
}
