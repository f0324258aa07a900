//! The export for reporting: `GET /portfolios.csv` and `GET /portfolios/{id}/tickets.csv`
//! round-trip through a CSV parser to the same values the read models answer as JSON, and
//! are read with the permissions of `GET /portfolios` (B4).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use freshet_hubspot::spreadsheet::{PORTFOLIO_COLUMNS, TICKET_COLUMNS};
use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use reqwest::StatusCode;
use serde_json::json;

freshet_store::on_both_backends!(
    b4_the_export_round_trips_to_the_read_models_with_the_listing_permissions
);

/// The CSV at `path` as `token` reads it: status, content type and rows by header.
async fn sheet(
    app: &App,
    token: &str,
    path: &str,
) -> (StatusCode, String, Vec<BTreeMap<String, String>>) {
    let response = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    if !status.is_success() {
        return (status, kind, Vec::new());
    }
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            headers
                .iter()
                .cloned()
                .zip(record.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (status, kind, rows)
}

// B4
async fn b4_the_export_round_trips_to_the_read_models_with_the_listing_permissions(
    db: TestDatabase,
) {
    let app = App::start(db, date(2026, 3, 10)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Brief, with a comma"})),
    )
    .await;
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/tickets"),
        Some(json!({"title": "Carousel, spring", "folder": "Spring", "deliverables": 2})),
    )
    .await;
    let summary = app.summary(&p).await["summary"].clone();

    let (status, kind, rows) = sheet(&app, &app.admin, "/portfolios.csv?consistency=strong").await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.keys().count(), PORTFOLIO_COLUMNS.len());
    assert_eq!(row["Portfolio ID"], p);
    assert_eq!(row["Client Name"], summary["client"].as_str().unwrap());
    assert_eq!(row["Creative Refresh Status"], "Refresh Request Submitted");
    assert_eq!(row["Creative Refresh Date"], "2026-03-10");
    assert_eq!(row["Creative Refresh Cadence"], "1 months");
    assert_eq!(row["Deliverable Folder Name"], "Spring");
    assert_eq!(row["Number of Deliverables In This Ad Set"], "2");
    assert_eq!(row["Tickets Created"], "1");
    assert_eq!(row["Tickets In Progress"], "1");
    assert!(
        row["Account Manager"].contains('@'),
        "people by name and email: {row:?}"
    );
    assert_eq!(row["Cycle Started"], "2026-03-10");

    // The AM is on the team; the outsider sees no row and no tickets.
    let (_, _, mine) = sheet(&app, &app.am.token, "/portfolios.csv").await;
    assert_eq!(mine.len(), 1);
    let (_, _, theirs) = sheet(&app, &app.outsider.token, "/portfolios.csv").await;
    assert!(theirs.is_empty());
    let tickets = format!("/portfolios/{p}/tickets.csv");
    let (status, _, _) = sheet(&app, &app.outsider.token, &tickets).await;
    assert!(status.is_client_error(), "{status}");

    let (status, _, tickets) = sheet(&app, &app.am.token, &tickets).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tickets.len(), 1);
    let ticket = &tickets[0];
    assert_eq!(ticket.keys().count(), TICKET_COLUMNS.len());
    assert_eq!(ticket["Ticket name"], "Carousel, spring");
    assert_eq!(ticket["Ticket status"], "In Progress");
    assert_eq!(ticket["Copy Approval"], "Not Submitted");
    assert_eq!(ticket["Portfolio ID"], p);

    // The OpenAPI document names both with a text/csv answer.
    let document = app
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await
        .body;
    for path in ["/portfolios.csv", "/portfolios/{id}/tickets.csv"] {
        let content = &document["paths"][path]["get"]["responses"]["200"]["content"];
        assert!(content.get("text/csv").is_some(), "{path}: {content}");
    }
}
