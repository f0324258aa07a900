//! A browser for the web app's tests: one cookie jar (the session cookie), no automatic
//! redirects (a test looks at each one), and the headers a browser sends with a form.
#![allow(clippy::unwrap_used, dead_code)]

use freshet_api::ApiOptions;
use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};

pub const COOKIE_NAME: &str = "freshet_session";

/// The app with its pages; sign-in throttled after `limit` failures.
pub async fn app(db: TestDatabase, limit: u32) -> App {
    // Each test browser may say which address it comes from (`X-Forwarded-For`).
    let options = ApiOptions {
        sign_in_failure_limit: limit,
        trust_forwarded_for: true,
        ..ApiOptions::default()
    };
    App::start_with_pages(db, date(2027, 3, 1), options, freshet_web::pages()).await
}

/// The password [`signed_in`] gives.
pub const PASSWORD: &str = "orchard lantern seven";

/// Gives `email` the password [`PASSWORD`] and signs a new browser in with it.
pub async fn signed_in(app: &App, email: &str) -> Browser {
    let password = freshet_accounts::Password::parse(PASSWORD).unwrap();
    let now = freshet_service::Clock::now(&*app.clock);
    freshet_accounts::credentials::set_password(&app.db.database, email, &password, now)
        .await
        .unwrap();
    let mut browser = Browser::new(app);
    let page = browser.sign_in(email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    browser
}

/// What a page answered.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub body: String,
}

impl Page {
    /// The session secret the answer set, if any (empty when it cleared the cookie).
    pub fn session(&self) -> Option<String> {
        let header = self.set_cookie.as_deref()?;
        let value = header.strip_prefix(&format!("{COOKIE_NAME}="))?;
        Some(value.split(';').next().unwrap_or("").to_owned())
    }
}

#[derive(Debug, Clone)]
pub struct Browser {
    http: Client,
    base: String,
    pub cookie: Option<String>,
    /// The address this browser's requests come from (as a trusted proxy would say).
    pub address: String,
}

impl Browser {
    pub fn new(app: &App) -> Self {
        Self {
            http: Client::builder()
                .redirect(redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            base: app.base.clone(),
            cookie: None,
            address: "192.0.2.1".to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = request.header("x-forwarded-for", self.address.clone());
        let request = match &self.cookie {
            Some(secret) => request.header(COOKIE, format!("{COOKIE_NAME}={secret}")),
            None => request,
        };
        let response = request.send().await.unwrap();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
        };
        let page = Page {
            status: response.status(),
            location: header(LOCATION),
            set_cookie: header(SET_COOKIE),
            body: String::new(),
        };
        let body = response.text().await.unwrap();
        let page = Page { body, ..page };
        if let Some(session) = page.session() {
            self.cookie = (!session.is_empty()).then_some(session);
        }
        page
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// A form posted from one of this app's pages.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", self.base.clone())
            .header("sec-fetch-site", "same-origin")
            .form(form);
        self.send(request).await
    }

    /// The same form, posted by a page of another site (a forgery).
    pub async fn post_from_elsewhere(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(form);
        self.send(request).await
    }

    /// A JSON command of the API, sent from this app's pages with the session cookie.
    pub async fn api(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
        site: &str,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-forwarded-for", self.address.clone())
            .header("sec-fetch-site", site)
            .json(&body);
        if let Some(secret) = &self.cookie {
            request = request.header(COOKIE, format!("{COOKIE_NAME}={secret}"));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Signs in with the form; the answer.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        self.post(
            "/app/sign-in",
            &[("email", email), ("password", password), ("next", "/app/")],
        )
        .await
    }
}

/// The one-time link (`/app/invitation/fl_…` or `/app/password-reset/fl_…`) in the last
/// email of `kind` written to the outbox for `email`.
pub async fn emailed_link(app: &App, kind: &str, email: &str) -> String {
    let sql = "SELECT m.body_text FROM mail_outbox m JOIN users u ON u.id = m.recipient \
               WHERE m.kind = $1 AND u.email = $2 ORDER BY m.created_at DESC LIMIT 1";
    let body: String = match &app.db.database {
        freshet_store::Database::Postgres(pool) => sqlx::query_scalar(sql)
            .bind(kind)
            .bind(email)
            .fetch_one(pool)
            .await
            .unwrap(),
        freshet_store::Database::Sqlite(pool) => sqlx::query_scalar(sql)
            .bind(kind)
            .bind(email)
            .fetch_one(pool)
            .await
            .unwrap(),
    };
    link_in(&body).unwrap_or_else(|| panic!("no link in {body}"))
}

/// The path of the first one-time link in `text`.
pub fn link_in(text: &str) -> Option<String> {
    let start = text
        .find("/app/invitation/fl_")
        .or_else(|| text.find("/app/password-reset/fl_"))?;
    let rest = &text[start..];
    let end = rest.find("fl_")? + 3 + 64;
    Some(rest[..end].to_owned())
}

/// Waits (up to ten seconds) until the outbox holds at least `count` emails of `kind`, then
/// a moment more for any still being written: how many it holds then.
pub async fn emails_settled(app: &App, kind: &str, count: i64) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while emails(app, kind).await < count && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    emails(app, kind).await
}

/// How many emails of `kind` the outbox holds.
pub async fn emails(app: &App, kind: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM mail_outbox WHERE kind = $1";
    match &app.db.database {
        freshet_store::Database::Postgres(pool) => sqlx::query_scalar(sql)
            .bind(kind)
            .fetch_one(pool)
            .await
            .unwrap(),
        freshet_store::Database::Sqlite(pool) => sqlx::query_scalar(sql)
            .bind(kind)
            .fetch_one(pool)
            .await
            .unwrap(),
    }
}

/// A form of a page, as a browser would send it: its address and its hidden fields.
#[derive(Debug, Clone)]
pub struct FormOnPage {
    pub action: String,
    pub hidden: Vec<(String, String)>,
}

/// The first form on `page` whose id starts with `action-<prefix>`; `None` when the page
/// offers no such form.
pub fn form(page: &str, prefix: &str) -> Option<FormOnPage> {
    let start = page.find(&format!("id=\"action-{prefix}"))?;
    let opening = page[..start].rfind("<form")?;
    let end = opening + page[opening..].find("</form>")?;
    let html = &page[opening..end];
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(tag[start..start + tag[start..].find('"')?].to_owned())
    };
    let action = attribute(html, "action")?;
    let hidden = html
        .split("<input")
        .skip(1)
        .filter(|input| input.contains("type=\"hidden\""))
        .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
        .collect();
    Some(FormOnPage { action, hidden })
}

impl Browser {
    /// Opens `path`, fills the first form whose id starts with `action-<prefix>` with
    /// `fields`, and posts it: the answer. Panics, showing the page, when there is no such
    /// form.
    pub async fn act(&mut self, path: &str, prefix: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(path).await;
        let found = form(&page.body, prefix)
            .unwrap_or_else(|| panic!("no {prefix} form on {path}: {}", page.body));
        let mut sent: Vec<(&str, &str)> = found
            .hidden
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        sent.extend_from_slice(fields);
        self.post(&found.action, &sent).await
    }

    /// Whether `path` offers a form whose id starts with `action-<prefix>`.
    pub async fn offers(&mut self, path: &str, prefix: &str) -> bool {
        form(&self.get(path).await.body, prefix).is_some()
    }
}

/// A portfolio (refreshing on 2027-03-08, so kicked off at once) whose AM logged a Note and
/// declined the refresh (R5): a closed cycle for the metrics. Its id.
pub async fn declined_cycle(app: &App) -> String {
    let portfolio = app.create_portfolio(date(2027, 3, 8)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{portfolio}/notes"),
        Some(serde_json::json!({ "text": "Client is happy as is" })),
    )
    .await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{portfolio}/decline"),
        None,
    )
    .await;
    portfolio
}

/// Marks every email of `kind` in the outbox failed with `error`, as the delivery worker
/// does when its attempts run out.
pub async fn fail_emails(app: &App, kind: &str, error: &str) {
    let sql = "UPDATE mail_outbox SET status = 'failed', attempts = 5, last_error = $2 \
               WHERE kind = $1";
    match &app.db.database {
        freshet_store::Database::Postgres(pool) => {
            sqlx::query(sql)
                .bind(kind)
                .bind(error)
                .execute(pool)
                .await
                .unwrap();
        }
        freshet_store::Database::Sqlite(pool) => {
            sqlx::query(sql)
                .bind(kind)
                .bind(error)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

/// The value of the hidden `key` field (the idempotency key) of the form with `id` on `page`.
pub fn form_key(page: &str, id: &str) -> String {
    let form = &page[page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no form {id} in {page}"))..];
    let start = form.find("name=\"key\" value=\"").unwrap() + "name=\"key\" value=\"".len();
    form[start..start + 36].to_owned()
}

/// How many `event`s the portfolio's history holds (the API's, as the Admin).
pub async fn recorded(app: &App, portfolio: &str, event: &str) -> usize {
    let history = app
        .call(
            reqwest::Method::GET,
            &format!("/portfolios/{portfolio}/history"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    history
        .body
        .to_string()
        .matches(&format!("\"{event}\""))
        .count()
}
