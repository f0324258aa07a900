//! B4 permissions, B5 bad input and idempotency, and the OpenAPI document against the routes.
#![allow(clippy::unwrap_used)]

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A portfolio with the request submitted and the first of two tickets created.
async fn ticketed(app: &App) -> (String, String) {
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Brief"})),
    )
    .await;
    let created = app
        .ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets"),
            Some(json!({"title": "A", "folder": "Spring", "deliverables": 2})),
        )
        .await;
    (p, freshet_testkit::created_ticket(&created))
}

struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [&'static str],
}

fn endpoints(app: &App, p: &str, t: &str, task: &str) -> Vec<Endpoint> {
    let post = |path: String, body: Option<Value>, allowed: &'static [&'static str]| Endpoint {
        method: Method::POST,
        path,
        body,
        allowed,
    };
    vec![
        // First, while the task is still open.
        post(
            format!("/portfolios/{p}/tasks/{task}/complete"),
            None,
            &["admin", "am"],
        ),
        post(
            "/portfolios".into(),
            Some(json!({"client": "Other", "team": app.team(),
                "cadence": {"every": 1, "unit": "months"}, "refresh_date": "2026-06-01"})),
            &["admin"],
        ),
        post(
            format!("/portfolios/{p}/team"),
            Some(json!({"team": app.team()})),
            &["admin"],
        ),
        post(
            format!("/portfolios/{p}/schedule"),
            Some(json!({"cadence": {"every": 2, "unit": "weeks"}, "refresh_date": "2026-03-10"})),
            &["admin"],
        ),
        post(format!("/portfolios/{p}/tick"), None, &["admin"]),
        post(
            format!("/portfolios/{p}/notes"),
            Some(json!({"text": "n"})),
            &["admin", "am", "sas"],
        ),
        post(format!("/portfolios/{p}/decline"), None, &["admin", "am"]),
        post(format!("/portfolios/{p}/request"), None, &["admin", "am"]),
        post(
            format!("/portfolios/{p}/tickets"),
            Some(json!({"title": "X", "folder": "Spring", "deliverables": 2})),
            &["admin", "sas"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/clone"),
            Some(json!({"title": "B"})),
            &["admin", "sas"],
        ),
        Endpoint {
            method: Method::PATCH,
            path: format!("/portfolios/{p}/tickets/{t}"),
            body: Some(json!({"title": "A2"})),
            allowed: &["admin", "sas"],
        },
        post(
            format!("/portfolios/{p}/deliverables-submitted"),
            None,
            &["admin", "sas"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/copy"),
            None,
            &["admin", "copywriter"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/graphics"),
            None,
            &["admin", "designer"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/copy/approval"),
            None,
            &["admin", "team_lead"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/graphics/approval"),
            None,
            &["admin", "team_lead"],
        ),
        post(
            format!("/portfolios/{p}/ad-lab-link"),
            Some(json!({"link": "https://adlab.example.com/x"})),
            &["admin", "designer"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/notes"),
            Some(json!({"text": "Question?"})),
            &["admin", "am", "sas", "copywriter", "designer", "team_lead"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/revisions"),
            Some(json!({"kind": "copy", "feedback": "f"})),
            &["admin", "am"],
        ),
        post(
            format!("/portfolios/{p}/tickets/{t}/complete"),
            None,
            &["admin", "am", "sas"],
        ),
        post(format!("/portfolios/{p}/sign-off"), None, &["admin", "am"]),
        post(
            format!("/portfolios/{p}/implemented"),
            None,
            &["admin", "sas"],
        ),
    ]
}

// B4: every command endpoint with every role: the others get 403 and nothing changes;
// without a token, 401.
async fn only_the_roles_the_process_names_may_send_each_command(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let (p, t) = ticketed(&app).await;
    // The AM's kickoff task is done by the request; use an open one: the Copywriter's.
    let task = app.task_of(&app.copywriter.token, "write_copy").await;
    for endpoint in endpoints(&app, &p, &t, &task) {
        let allowed: &[&str] = if endpoint.path.contains("/tasks/") {
            &["admin", "copywriter"]
        } else {
            endpoint.allowed
        };
        let before = app.version(&p).await;
        let anonymous = app
            .call(
                endpoint.method.clone(),
                &endpoint.path,
                None,
                endpoint.body.clone(),
            )
            .await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            endpoint.method,
            endpoint.path
        );
        assert_eq!(anonymous.problem_code(), "unauthenticated");
        let everyone = app.everyone();
        // The refused first, then the allowed (whose success may change the state).
        let (ok, refused): (Vec<_>, Vec<_>) = everyone
            .iter()
            .partition(|(role, _)| allowed.contains(role));
        for (role, token) in refused {
            let answer = app
                .call(
                    endpoint.method.clone(),
                    &endpoint.path,
                    Some(token),
                    endpoint.body.clone(),
                )
                .await;
            // Someone not on the team is not told the portfolio exists: a refusal that
            // depends on the portfolio answers like an unknown one (the hardening tests).
            let hidden = *role == "outsider" && endpoint.path.starts_with("/portfolios/");
            let expected: &[(StatusCode, &str)] = if hidden {
                &[
                    (StatusCode::NOT_FOUND, "portfolio-not-found"),
                    (StatusCode::FORBIDDEN, "not-permitted"),
                ]
            } else {
                &[
                    (StatusCode::FORBIDDEN, "not-permitted"),
                    (StatusCode::FORBIDDEN, "not-your-task"),
                ]
            };
            assert!(
                expected.contains(&(answer.status, answer.problem_code())),
                "{role} on {} {}: {} {}",
                endpoint.method,
                endpoint.path,
                answer.status,
                answer.body
            );
            assert!(
                answer.body["detail"].as_str().unwrap().len() > 10,
                "a clear reason"
            );
            assert_eq!(app.version(&p).await, before, "{role} changed nothing");
        }
        for (role, token) in ok {
            let answer = app
                .call(
                    endpoint.method.clone(),
                    &endpoint.path,
                    Some(token),
                    endpoint.body.clone(),
                )
                .await;
            assert!(
                answer.status != StatusCode::FORBIDDEN && answer.status != StatusCode::UNAUTHORIZED,
                "{role} may {} {}: {} {}",
                endpoint.method,
                endpoint.path,
                answer.status,
                answer.body
            );
        }
    }
    // Reads: a portfolio is for its team and Admins; to others it does not exist.
    let outsider = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}"),
            Some(&app.outsider.token),
            None,
        )
        .await;
    assert_eq!(
        (outsider.status, outsider.problem_code()),
        (StatusCode::NOT_FOUND, "portfolio-not-found")
    );
    let others = app
        .call(
            Method::GET,
            &format!("/inbox?assignee={}", app.am.id),
            Some(&app.outsider.token),
            None,
        )
        .await;
    assert_eq!(others.status, StatusCode::FORBIDDEN);
    let team = app
        .call(
            Method::GET,
            &format!("/inbox?portfolio={p}"),
            Some(&app.designer.token),
            None,
        )
        .await;
    assert_eq!(team.status, StatusCode::OK, "{}", team.body);
    let admin_only = app
        .call(Method::GET, "/admin/users", Some(&app.am.token), None)
        .await;
    assert_eq!(admin_only.status, StatusCode::FORBIDDEN);
}

// B4: a revoked token stops working at once.
async fn revoked_tokens_are_refused(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let issued = app
        .call(
            Method::POST,
            &format!("/admin/users/{}/tokens", app.am.id),
            Some(&app.admin),
            Some(json!({"label": "laptop"})),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let secret = issued.body["secret"].as_str().unwrap().to_owned();
    let id = issued.body["token"]["id"].as_str().unwrap().to_owned();
    let me = app.call(Method::GET, "/me", Some(&secret), None).await;
    assert_eq!(me.body["id"], app.am.id.as_str());
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/admin/tokens/{id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let me = app.call(Method::GET, "/me", Some(&secret), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let garbage = app
        .call(Method::GET, "/me", Some("fr_nonsense"), None)
        .await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        garbage.headers["content-type"], "application/problem+json",
        "problems are RFC 9457 documents"
    );
}

// B5: malformed requests get a 4xx problem with a stable type, never a 500, and change nothing.
async fn malformed_requests_are_refused_and_change_nothing(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let (p, t) = ticketed(&app).await;
    let before = app.version(&p).await;
    let huge = "x".repeat(200 * 1024);
    let cases: Vec<(&str, String, Value, StatusCode, &str)> = vec![
        (
            "POST",
            "/portfolios".into(),
            json!({"client": "", "team": app.team(),
            "cadence": {"every": 1, "unit": "months"}, "refresh_date": "2026-06-01"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            "/portfolios".into(),
            json!({"client": "C", "team": app.team(),
            "cadence": {"every": 1, "unit": "months"}, "refresh_date": "1066-10-14"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            "/portfolios".into(),
            json!({"client": "C", "team": app.team(),
            "cadence": {"every": 1, "unit": "months"}, "refresh_date": "2026-02-30"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            "POST",
            "/portfolios".into(),
            json!({"client": "C", "team": app.team(),
            "cadence": {"every": 0, "unit": "months"}, "refresh_date": "2026-06-01"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            "/portfolios".into(),
            json!({"client": "C", "team": app.team(),
            "cadence": {"every": 1, "unit": "fortnights"}, "refresh_date": "2026-06-01"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            "POST",
            format!("/portfolios/{p}/notes"),
            json!({"text": ""}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/notes"),
            json!({"text": "hi", "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            "POST",
            format!("/portfolios/{p}/notes"),
            json!({"text": huge}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/clone"),
            json!({"title": "B", "folder": ""}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/clone"),
            json!({"title": "B", "deliverables": 0}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/clone"),
            json!({"title": "B", "deliverables": -1}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        // R7: rules of the process refuse with 422.
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/clone"),
            json!({"title": "B", "folder": "Autumn"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "folder-name-immutable",
        ),
        (
            "PATCH",
            format!("/portfolios/{p}/tickets/{t}"),
            json!({"folder": "Autumn"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "folder-name-immutable",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/clone"),
            json!({"title": "B", "deliverables": 3}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "deliverable-count-mismatch",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets"),
            json!({"title": "X", "folder": "Spring", "deliverables": 2}),
            StatusCode::CONFLICT,
            "ad-set-already-started",
        ),
        (
            "POST",
            format!("/portfolios/{p}/ad-lab-link"),
            json!({"link": "not a link"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/revisions"),
            json!({"kind": "everything", "feedback": "f"}),
            StatusCode::BAD_REQUEST,
            "invalid-body",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/revisions"),
            json!({"kind": "copy", "feedback": "f"}),
            StatusCode::CONFLICT,
            "not-yet-reviewed",
        ),
        (
            "POST",
            format!("/portfolios/{p}/sign-off"),
            Value::Null,
            StatusCode::CONFLICT,
            "wrong-status",
        ),
        (
            "POST",
            "/portfolios/not-a-uuid/notes".into(),
            json!({"text": "hi"}),
            StatusCode::BAD_REQUEST,
            "invalid-path",
        ),
        (
            "POST",
            format!("/portfolios/{}/notes", uuid_nil()),
            json!({"text": "hi"}),
            StatusCode::NOT_FOUND,
            "portfolio-not-found",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{}/copy", uuid_nil()),
            Value::Null,
            StatusCode::NOT_FOUND,
            "ticket-not-found",
        ),
        (
            "GET",
            "/inbox?limit=100000".to_owned(),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            "/inbox?role=boss".to_owned(),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            format!("/portfolios/{p}?as_of=yesterday"),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            format!("/portfolios/{p}/as-of/yesterday"),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-path",
        ),
        // Hidden characters (a right-to-left override, a zero-width space) are refused like
        // control characters.
        (
            "POST",
            format!("/portfolios/{p}/notes"),
            json!({"text": "Approved \u{202e}txt.exe"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            "/portfolios".into(),
            json!({"client": "Acme\u{200b}", "team": app.team(),
            "cadence": {"every": 1, "unit": "months"}, "refresh_date": "2026-06-01"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/cancel"),
            json!({"reason": ""}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/deliverable-count"),
            json!({"deliverables": 0}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        (
            "POST",
            format!("/portfolios/{p}/tickets/{t}/copy/send-back"),
            json!({"note": "bad\u{0007}bell"}),
            StatusCode::BAD_REQUEST,
            "invalid-value",
        ),
        // Paging: limits and cursors are checked.
        (
            "GET",
            format!("/portfolios/{p}/history?limit=0"),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            "/portfolios?after=not-a-portfolio".into(),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            "/alerts?limit=100000".into(),
            Value::Null,
            StatusCode::BAD_REQUEST,
            "invalid-query",
        ),
        (
            "GET",
            "/no/such/thing".into(),
            Value::Null,
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            "DELETE",
            "/portfolios".into(),
            Value::Null,
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let token = if path.contains("sign-off") || path.contains("revisions") {
            app.am.token.clone()
        } else if path.ends_with("/copy") {
            app.copywriter.token.clone()
        } else if path.starts_with("/portfolios/") && path.contains("/tickets") {
            app.sas.token.clone()
        } else if path.contains("ad-lab-link") {
            app.designer.token.clone()
        } else {
            app.admin.clone()
        };
        let body = (!body.is_null()).then_some(body);
        let answer = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(
            (answer.status, answer.problem_code()),
            (status, code),
            "{method} {path}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["type"],
            format!("https://freshet.dev/problems/{code}"),
            "{}",
            answer.body
        );
        assert_eq!(
            app.version(&p).await,
            before,
            "{method} {path} changed nothing"
        );
    }
    // Raw bodies: broken JSON, no content type.
    for (content_type, raw, code) in [
        ("application/json", "{\"text\": ", "malformed-json"),
        ("text/plain", "{\"text\": \"hi\"}", "unsupported-media-type"),
    ] {
        let response = app
            .http
            .post(format!("{}/portfolios/{p}/notes", app.base))
            .bearer_auth(&app.am.token)
            .header("content-type", content_type)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], code);
    }
    assert_eq!(app.version(&p).await, before);
}

fn uuid_nil() -> &'static str {
    "00000000-0000-0000-0000-000000000000"
}

// B5: an exact retry with the same Idempotency-Key returns the first response; the same key
// for another request is a conflict; If-Match guards against lost updates.
async fn retries_are_answered_once_and_stale_versions_refused(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    let path = format!("/portfolios/{p}/notes");
    let key = [("Idempotency-Key", "note-1")];
    let first = app
        .call_with(
            Method::POST,
            &path,
            Some(&app.am.token),
            Some(json!({"text": "Hello"})),
            &key,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let version = app.version(&p).await;
    let retry = app
        .call_with(
            Method::POST,
            &path,
            Some(&app.am.token),
            Some(json!({"text": "Hello"})),
            &key,
        )
        .await;
    assert_eq!((retry.status, &retry.body), (first.status, &first.body));
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(app.version(&p).await, version, "nothing happened twice");
    let reused = app
        .call_with(
            Method::POST,
            &path,
            Some(&app.am.token),
            Some(json!({"text": "Other"})),
            &key,
        )
        .await;
    assert_eq!(
        (reused.status, reused.problem_code()),
        (StatusCode::CONFLICT, "idempotency-key-reused")
    );

    // A ticket created with a key keeps its id on retry.
    app.ok(&app.am.token, &format!("/portfolios/{p}/request"), None)
        .await;
    let body = json!({"title": "A", "folder": "F", "deliverables": 1});
    let tkey = [("Idempotency-Key", "ticket-1")];
    let a = app
        .call_with(
            Method::POST,
            &format!("/portfolios/{p}/tickets"),
            Some(&app.sas.token),
            Some(body.clone()),
            &tkey,
        )
        .await;
    let b = app
        .call_with(
            Method::POST,
            &format!("/portfolios/{p}/tickets"),
            Some(&app.sas.token),
            Some(body),
            &tkey,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!((b.status, &b.body), (a.status, &a.body));

    // If-Match: a stale version is refused and nothing is written.
    let version = app.version(&p).await;
    let stale = (version - 1).to_string();
    let refused = app
        .call_with(
            Method::POST,
            &path,
            Some(&app.am.token),
            Some(json!({"text": "late"})),
            &[("If-Match", &stale)],
        )
        .await;
    assert_eq!(
        (refused.status, refused.problem_code()),
        (StatusCode::PRECONDITION_FAILED, "version-mismatch")
    );
    assert_eq!(app.version(&p).await, version);
    let tag = format!("\"{version}\"");
    let accepted = app
        .call_with(
            Method::POST,
            &path,
            Some(&app.am.token),
            Some(json!({"text": "fresh"})),
            &[("If-Match", &tag)],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let bad = app
        .call_with(
            Method::POST,
            &path,
            Some(&app.am.token),
            Some(json!({"text": "x"})),
            &[("If-Match", "soon")],
        )
        .await;
    assert_eq!(
        (bad.status, bad.problem_code()),
        (StatusCode::BAD_REQUEST, "invalid-header")
    );
}

// The OpenAPI document and the routes agree: every documented operation is served (never the
// unknown-route or wrong-method answer), and the served document is the generated one.
async fn the_openapi_document_matches_the_routes(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let document = freshet_api::openapi();
    let served = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body, serde_json::to_value(&document).unwrap());
    assert!(served.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut operations = 0;
    for (path, item) in &document.paths.paths {
        let item = serde_json::to_value(item).unwrap();
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let concrete = path
                .split('/')
                .map(|segment| {
                    if segment == "{instant}" {
                        "2026-01-01T00:00:00Z"
                    } else if segment == "{name}" {
                        "inbox"
                    } else if segment.starts_with('{') {
                        uuid_nil()
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = app.call(method.clone(), &concrete, None, None).await;
            assert!(
                !["not-found", "method-not-allowed"].contains(&answer.problem_code()),
                "{method} {path} is documented but not served: {}",
                answer.body
            );
        }
    }
    assert!(operations >= 40, "{operations} operations documented");
    for path in freshet_api::UNDOCUMENTED_ROUTES {
        let answer = app.call(Method::GET, path, None, None).await;
        assert_ne!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Operations endpoints.
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.metrics_base))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    // Not on the API's listener: metrics are for the operators' scraper only.
    let on_the_api = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(on_the_api.status, StatusCode::NOT_FOUND);
    assert!(
        text.contains("freshet_http_request_duration_seconds"),
        "{text}"
    );
    assert!(text.contains("freshet_projection_lag_events"), "{text}");
}

// R8: my inbox streams its changes live (Server-Sent Events).
async fn my_inbox_streams_its_changes(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Brief"})),
    )
    .await;
    let mut events = app.inbox_events(&app.copywriter.token).await;
    let snapshot = events.next("snapshot").await;
    assert_eq!(snapshot, json!([]));
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/tickets"),
        Some(json!({"title": "A", "folder": "Spring", "deliverables": 1})),
    )
    .await;
    let tasks = events.next("tasks").await;
    assert_eq!(tasks[0]["kind"], "write_copy", "{tasks}");
    assert_eq!(tasks[0]["assignee"], app.copywriter.id.as_str());
}

freshet_store::on_both_backends!(
    my_inbox_streams_its_changes,
    only_the_roles_the_process_names_may_send_each_command,
    revoked_tokens_are_refused,
    malformed_requests_are_refused_and_change_nothing,
    retries_are_answered_once_and_stale_versions_refused,
    the_openapi_document_matches_the_routes,
);
