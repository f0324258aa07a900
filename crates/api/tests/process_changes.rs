//! End to end over HTTP: the AM's decision gate, and the changes real agencies make (withdraw
//! a ticket, correct the Number of Deliverables, QA send-back, reopen, cancel, pause, resume,
//! end), each with what every person's inbox shows afterwards.
#![allow(clippy::unwrap_used)]

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, created_ticket, date};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn sorted(list: &[&str]) -> Vec<String> {
    let mut kinds: Vec<String> = list.iter().map(|k| (*k).to_owned()).collect();
    kinds.sort();
    kinds
}

// R5, R6, R9: the SAS cannot skip the AM's decision; only the decision closes the kickoff.
async fn the_sas_cannot_skip_the_am_decision_over_http(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.clock.set_date(date(2026, 3, 10));
    app.ok(&app.admin, &format!("/portfolios/{p}/tick"), None)
        .await;
    let ticket = json!({"title": "Feed", "folder": "Spring", "deliverables": 1});
    app.refused(
        &app.sas.token,
        &format!("/portfolios/{p}/tickets"),
        Some(ticket.clone()),
        StatusCode::CONFLICT,
        "am-decision-missing",
    )
    .await;
    app.refused(
        &app.sas.token,
        &format!("/portfolios/{p}/deliverables-submitted"),
        None,
        StatusCode::CONFLICT,
        "am-decision-missing",
    )
    .await;
    let kickoff = app.task_of(&app.am.token, "reach_out_to_client").await;
    app.refused(
        &app.am.token,
        &format!("/portfolios/{p}/tasks/{kickoff}/complete"),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
        "task-completes-by-itself",
    )
    .await;
    // The decision alert goes to the AM and the Team Lead, none to the SAS.
    assert_eq!(
        app.open_kinds(&app.am.token).await,
        sorted(&["reach_out_to_client", "stall_alert:am_decision"])
    );
    assert_eq!(
        app.open_kinds(&app.team_lead.token).await,
        sorted(&["stall_alert:am_decision"])
    );
    assert_eq!(
        app.open_kinds(&app.sas.token).await,
        sorted(&["create_deliverables"])
    );
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Go ahead"})),
    )
    .await;
    assert_eq!(app.open_kinds(&app.am.token).await, Vec::<String>::new());
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/tickets"),
        Some(ticket),
    )
    .await;
}

// R7, R10, R14, R15, R16: withdraw, correct the count, QA send-back, reopen; then cancel,
// pause, resume and end.
async fn the_changes_agencies_make_over_http(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Three formats"})),
    )
    .await;
    let t1 = created_ticket(
        &app.ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets"),
            Some(json!({"title": "Feed", "folder": "Spring", "deliverables": 3})),
        )
        .await,
    );
    let t2 = created_ticket(
        &app.ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets/{t1}/clone"),
            Some(json!({"title": "Story"})),
        )
        .await,
    );
    let t3 = created_ticket(
        &app.ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets/{t1}/clone"),
            Some(json!({"title": "Reel"})),
        )
        .await,
    );

    // Withdraw: its tasks close; the count stays until corrected, never below the tickets.
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/tickets/{t3}/withdraw"),
        None,
    )
    .await;
    assert_eq!(
        app.open_kinds(&app.copywriter.token).await,
        sorted(&["write_copy", "write_copy"])
    );
    app.refused(
        &app.sas.token,
        &format!("/portfolios/{p}/tickets/{t3}/copy"),
        None,
        StatusCode::FORBIDDEN,
        "not-permitted",
    )
    .await;
    app.refused(
        &app.copywriter.token,
        &format!("/portfolios/{p}/tickets/{t3}/copy"),
        None,
        StatusCode::CONFLICT,
        "ticket-withdrawn",
    )
    .await;
    app.refused(
        &app.sas.token,
        &format!("/portfolios/{p}/deliverable-count"),
        Some(json!({"deliverables": 1})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "count-below-tickets",
    )
    .await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/deliverable-count"),
        Some(json!({"deliverables": 2})),
    )
    .await;
    let view = app.summary(&p).await;
    assert_eq!(view["summary"]["deliverables"], 2);
    let board_status = |id: &str| {
        view["board"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["ticket_id"] == id)
            .map(|t| t["status"].clone())
    };
    assert_eq!(board_status(&t3), Some(json!("withdrawn")), "{view}");
    assert_eq!(board_status(&t2), Some(json!("in_progress")));

    // QA sends the copy of t1 back: the Copywriter reworks it and it goes to QA again.
    for t in [&t1, &t2] {
        app.ok(
            &app.copywriter.token,
            &format!("/portfolios/{p}/tickets/{t}/copy"),
            None,
        )
        .await;
        app.ok(
            &app.designer.token,
            &format!("/portfolios/{p}/tickets/{t}/graphics"),
            None,
        )
        .await;
    }
    app.ok(
        &app.team_lead.token,
        &format!("/portfolios/{p}/tickets/{t1}/copy/send-back"),
        Some(json!({"note": "The headline is off brief"})),
    )
    .await;
    assert_eq!(
        app.open_kinds(&app.copywriter.token).await,
        sorted(&["rework_copy"])
    );
    app.ok(
        &app.copywriter.token,
        &format!("/portfolios/{p}/tickets/{t1}/copy"),
        None,
    )
    .await;
    // And the graphics of t2 go back to the Designer.
    app.refused(
        &app.designer.token,
        &format!("/portfolios/{p}/tickets/{t2}/graphics/send-back"),
        Some(json!({"note": "x"})),
        StatusCode::FORBIDDEN,
        "not-permitted",
    )
    .await;
    app.ok(
        &app.team_lead.token,
        &format!("/portfolios/{p}/tickets/{t2}/graphics/send-back"),
        Some(json!({"note": "The logo is cut off"})),
    )
    .await;
    assert_eq!(
        app.open_kinds(&app.designer.token).await,
        sorted(&["rework_graphics"])
    );
    app.ok(
        &app.designer.token,
        &format!("/portfolios/{p}/tickets/{t2}/graphics"),
        None,
    )
    .await;
    assert_eq!(
        app.open_kinds(&app.team_lead.token).await,
        sorted(&[
            "review_copy",
            "review_copy",
            "review_graphics",
            "review_graphics"
        ]),
        "both parts are back with QA"
    );
    for t in [&t1, &t2] {
        app.ok(
            &app.team_lead.token,
            &format!("/portfolios/{p}/tickets/{t}/copy/approval"),
            None,
        )
        .await;
        app.ok(
            &app.team_lead.token,
            &format!("/portfolios/{p}/tickets/{t}/graphics/approval"),
            None,
        )
        .await;
    }
    assert_eq!(
        app.open_kinds(&app.am.token).await,
        sorted(&["share_drafted_deliverables"])
    );

    // Reopen: the client changed their mind on a completed deliverable.
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t1}/complete"),
        None,
    )
    .await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t1}/revisions"),
        Some(json!({"kind": "copy", "feedback": "After all: a shorter headline"})),
    )
    .await;
    assert_eq!(
        app.open_kinds(&app.copywriter.token).await,
        sorted(&["revise_copy"])
    );
    // R16: t2 cannot be answered again for the client before the round is shared.
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t2}/revisions"),
        Some(json!({"kind": "graphic", "feedback": "Brighter"})),
    )
    .await;
    app.ok(
        &app.designer.token,
        &format!("/portfolios/{p}/tickets/{t2}/graphics"),
        None,
    )
    .await;
    app.refused(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t2}/complete"),
        None,
        StatusCode::CONFLICT,
        "ticket-not-shared",
    )
    .await;
    // R15: in a revision round the part approves itself.
    app.refused(
        &app.copywriter.token,
        &format!("/portfolios/{p}/tickets/{t1}/copy/approval"),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
        "approves-itself",
    )
    .await;

    // Cancel: the client withdrew. Every task of the cycle closes; the date moves on.
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/cancel"),
        Some(json!({"reason": "The client paused all campaigns"})),
    )
    .await;
    for (who, token) in app.everyone() {
        if who != "outsider" {
            assert_eq!(
                app.open_kinds(&token).await,
                Vec::<String>::new(),
                "{who}'s inbox after the cancel"
            );
        }
    }
    assert_eq!(
        app.summary(&p).await["summary"]["refresh_date"],
        "2026-04-10"
    );

    // Pause, resume, end: a paused portfolio refuses the process and its calendar says why.
    app.ok(&app.admin, &format!("/portfolios/{p}/pause"), None)
        .await;
    app.refused(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Go"})),
        StatusCode::CONFLICT,
        "portfolio-paused",
    )
    .await;
    let calendar = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}/calendar"),
            Some(&app.am.token),
            None,
        )
        .await;
    assert_eq!(
        calendar.body["lifecycle"]["state"], "paused",
        "{}",
        calendar.body
    );
    assert_eq!(calendar.body["upcoming"], json!([]));
    app.ok(
        &app.admin,
        &format!("/portfolios/{p}/resume"),
        Some(json!({"refresh_date": "2026-06-10"})),
    )
    .await;
    assert_eq!(
        app.summary(&p).await["summary"]["refresh_date"],
        "2026-06-10"
    );
    app.ok(&app.admin, &format!("/portfolios/{p}/end"), None)
        .await;
    app.refused(
        &app.admin,
        &format!("/portfolios/{p}/resume"),
        Some(json!({})),
        StatusCode::CONFLICT,
        "portfolio-ended",
    )
    .await;
}

freshet_store::on_both_backends!(
    the_sas_cannot_skip_the_am_decision_over_http,
    the_changes_agencies_make_over_http
);

// The new commands are in the API document, each with its problem responses.
#[test]
fn the_new_commands_are_documented_with_their_problems() {
    let document = serde_json::to_value(freshet_api::openapi()).unwrap();
    for path in [
        "/portfolios/{id}/pause",
        "/portfolios/{id}/resume",
        "/portfolios/{id}/end",
        "/portfolios/{id}/cancel",
        "/portfolios/{id}/deliverable-count",
        "/portfolios/{id}/tickets/{ticket}/withdraw",
        "/portfolios/{id}/tickets/{ticket}/copy/send-back",
        "/portfolios/{id}/tickets/{ticket}/graphics/send-back",
    ] {
        let post = &document["paths"][path]["post"];
        assert!(post.is_object(), "{path} is not documented");
        assert!(
            post["responses"]["4XX"].is_object(),
            "{path} documents no problems"
        );
    }
}
