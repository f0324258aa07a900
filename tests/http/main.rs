//! The HTTP tier: two full Creative Refresh cycles driven over HTTP by every party, with
//! every party's inbox checked (read-your-writes, `consistency=strong`) at each step, on
//! both databases.
#![allow(clippy::unwrap_used)]

use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, created_ticket, date};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn kinds(list: &[&str]) -> Vec<String> {
    let mut kinds: Vec<String> = list.iter().map(|k| (*k).to_owned()).collect();
    kinds.sort();
    kinds
}

async fn inboxes(app: &App) -> [Vec<String>; 5] {
    [
        app.open_kinds(&app.am.token).await,
        app.open_kinds(&app.sas.token).await,
        app.open_kinds(&app.copywriter.token).await,
        app.open_kinds(&app.designer.token).await,
        app.open_kinds(&app.team_lead.token).await,
    ]
}

macro_rules! expect_inboxes {
    ($app:expr, am: [$($am:expr),*], sas: [$($sas:expr),*], copywriter: [$($cw:expr),*], designer: [$($de:expr),*], team_lead: [$($tl:expr),*]) => {{
        let [am, sas, cw, de, tl] = inboxes(&$app).await;
        assert_eq!(am, kinds(&[$($am),*]), "AM's inbox");
        assert_eq!(sas, kinds(&[$($sas),*]), "SAS's inbox");
        assert_eq!(cw, kinds(&[$($cw),*]), "Copywriter's inbox");
        assert_eq!(de, kinds(&[$($de),*]), "Designer's inbox");
        assert_eq!(tl, kinds(&[$($tl),*]), "Team Lead's inbox");
    }};
}

// R2 R4-R21 B2 B5: a full cycle closed by the implementation task, a second one closed by
// moving the status by hand.
async fn two_cycles_over_http(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;

    // R2: the refresh date is 9 days away: the AM is asked at once.
    expect_inboxes!(app, am: ["reach_out_to_client"], sas: [], copywriter: [], designer: [], team_lead: []);
    app.ok(&app.admin, &format!("/portfolios/{p}/tick"), None)
        .await;
    expect_inboxes!(app, am: ["reach_out_to_client"], sas: [], copywriter: [], designer: [], team_lead: []);

    // R5: a Note and the request; the kickoff task is done, nothing else happens.
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/notes"),
        Some(json!({"text": "Spring colours, new logo"})),
    )
    .await;
    app.ok(&app.am.token, &format!("/portfolios/{p}/request"), None)
        .await;
    expect_inboxes!(app, am: [], sas: [], copywriter: [], designer: [], team_lead: []);

    // R6: on the refresh date the SAS is asked for the deliverables.
    app.clock.set_date(date(2026, 3, 10));
    app.ok(&app.admin, &format!("/portfolios/{p}/tick"), None)
        .await;
    expect_inboxes!(app, am: [], sas: ["create_deliverables"], copywriter: [], designer: [], team_lead: []);

    // R7, R8: the first ticket and its clone.
    let first = app
        .ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets"),
            Some(json!({"title": "Carousel A", "folder": "Spring 2026", "deliverables": 2})),
        )
        .await;
    let t1 = created_ticket(&first);
    let second = app
        .ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets/{t1}/clone"),
            Some(json!({"title": "Carousel B"})),
        )
        .await;
    let t2 = created_ticket(&second);
    expect_inboxes!(app, am: [], sas: ["create_deliverables"], copywriter: ["write_copy", "write_copy"],
        designer: ["create_graphics", "create_graphics"], team_lead: []);

    // R9: a notation that closes the submission task.
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/deliverables-submitted"),
        None,
    )
    .await;
    expect_inboxes!(app, am: [], sas: [], copywriter: ["write_copy", "write_copy"],
        designer: ["create_graphics", "create_graphics"], team_lead: []);

    // R10: copy, graphics, QA.
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
    expect_inboxes!(app, am: [], sas: [], copywriter: [], designer: [],
        team_lead: ["review_copy", "review_copy", "review_graphics", "review_graphics"]);
    app.ok(
        &app.designer.token,
        &format!("/portfolios/{p}/ad-lab-link"),
        Some(json!({"link": "https://adlab.example.com/acme"})),
    )
    .await;
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
    // R11: the whole Ad Set is pending approval: the AM shares it with the client.
    expect_inboxes!(app, am: ["share_drafted_deliverables"], sas: [], copywriter: [], designer: [], team_lead: []);

    // R14, R15: a copy round on one ticket, a graphics round on the other.
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t1}/revisions"),
        Some(json!({"kind": "copy", "feedback": "Shorter headline"})),
    )
    .await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t2}/revisions"),
        Some(json!({"kind": "graphic", "feedback": "Brighter"})),
    )
    .await;
    expect_inboxes!(app, am: [], sas: [], copywriter: ["revise_copy"], designer: ["revise_graphics"], team_lead: []);
    app.ok(
        &app.copywriter.token,
        &format!("/portfolios/{p}/tickets/{t1}/copy"),
        None,
    )
    .await;
    expect_inboxes!(app, am: [], sas: [], copywriter: [], designer: ["revise_graphics"], team_lead: []);
    app.ok(
        &app.designer.token,
        &format!("/portfolios/{p}/tickets/{t2}/graphics"),
        None,
    )
    .await;
    // R16: round 2 goes to the AM.
    expect_inboxes!(app, am: ["share_drafted_deliverables"], sas: [], copywriter: [], designer: [], team_lead: []);

    // A second round of the other kind: copy and graphics on the first ticket.
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t2}/complete"),
        None,
    )
    .await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tickets/{t1}/revisions"),
        Some(json!({"kind": "copy_and_graphic", "feedback": "New photo and text"})),
    )
    .await;
    expect_inboxes!(app, am: [], sas: [], copywriter: ["revise_copy"], designer: ["revise_graphics"], team_lead: []);
    // R17: no sign-off while a revision is outstanding.
    let refused = app
        .call(
            Method::POST,
            &format!("/portfolios/{p}/sign-off"),
            Some(&app.am.token),
            None,
        )
        .await;
    assert_eq!(
        (refused.status, refused.problem_code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "revisions-outstanding")
    );
    app.ok(
        &app.copywriter.token,
        &format!("/portfolios/{p}/tickets/{t1}/copy"),
        None,
    )
    .await;
    app.ok(
        &app.designer.token,
        &format!("/portfolios/{p}/tickets/{t1}/graphics"),
        None,
    )
    .await;
    expect_inboxes!(app, am: ["share_drafted_deliverables"], sas: [], copywriter: [], designer: [], team_lead: []);

    // R17: sign-off; the SAS implements.
    app.ok(&app.am.token, &format!("/portfolios/{p}/sign-off"), None)
        .await;
    expect_inboxes!(app, am: [], sas: ["implement_new_creatives"], copywriter: [], designer: [], team_lead: []);
    // R18 by the task; R19 the AM confirms with the client.
    let task = app.task_of(&app.sas.token, "implement_new_creatives").await;
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/tasks/{task}/complete"),
        None,
    )
    .await;
    expect_inboxes!(app, am: ["confirm_ads_running"], sas: [], copywriter: [], designer: [], team_lead: []);
    let view = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}?consistency=strong"),
            Some(&app.am.token),
            None,
        )
        .await;
    assert_eq!(
        view.body["summary"]["refresh_date"], "2026-04-10",
        "{}",
        view.body
    );
    assert!(view.body["summary"]["status"].is_null(), "{}", view.body);

    // Cycle 2: kicked off 15 days ahead, one deliverable, closed by hand.
    let task = app.task_of(&app.am.token, "confirm_ads_running").await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/tasks/{task}/complete"),
        None,
    )
    .await;
    app.clock.set_date(date(2026, 3, 26));
    app.ok(&app.admin, &format!("/portfolios/{p}/tick"), None)
        .await;
    expect_inboxes!(app, am: ["reach_out_to_client"], sas: [], copywriter: [], designer: [], team_lead: []);
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Summer sale"})),
    )
    .await;
    let created = app
        .ok(
            &app.sas.token,
            &format!("/portfolios/{p}/tickets"),
            Some(json!({"title": "Story", "folder": "Summer 2026", "deliverables": 1})),
        )
        .await;
    let t3 = created_ticket(&created);
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/deliverables-submitted"),
        None,
    )
    .await;
    app.ok(
        &app.copywriter.token,
        &format!("/portfolios/{p}/tickets/{t3}/copy"),
        None,
    )
    .await;
    app.ok(
        &app.designer.token,
        &format!("/portfolios/{p}/tickets/{t3}/graphics"),
        None,
    )
    .await;
    app.ok(
        &app.team_lead.token,
        &format!("/portfolios/{p}/tickets/{t3}/copy/approval"),
        None,
    )
    .await;
    app.ok(
        &app.team_lead.token,
        &format!("/portfolios/{p}/tickets/{t3}/graphics/approval"),
        None,
    )
    .await;
    expect_inboxes!(app, am: ["share_drafted_deliverables"], sas: [], copywriter: [], designer: [], team_lead: []);
    app.ok(&app.am.token, &format!("/portfolios/{p}/sign-off"), None)
        .await;
    expect_inboxes!(app, am: [], sas: ["implement_new_creatives"], copywriter: [], designer: [], team_lead: []);
    app.ok(
        &app.sas.token,
        &format!("/portfolios/{p}/implemented"),
        None,
    )
    .await;
    expect_inboxes!(app, am: ["confirm_ads_running"], sas: [], copywriter: [], designer: [], team_lead: []);
    // R18: exactly once.
    let again = app
        .call(
            Method::POST,
            &format!("/portfolios/{p}/implemented"),
            Some(&app.sas.token),
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.problem_code()),
        (StatusCode::CONFLICT, "wrong-status")
    );

    // B2: the history names who did what; the portfolio can be seen as it stood.
    let history = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}/history"),
            Some(&app.am.token),
            None,
        )
        .await;
    let entries = history.body["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["actor"] == format!("user:{}", app.am.id))
    );
    let first_at = entries[0]["recorded_at"].as_str().unwrap();
    let past = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}?as_of={}", first_at.replace('+', "%2B")),
            Some(&app.am.token),
            None,
        )
        .await;
    assert_eq!(past.status, StatusCode::OK, "{}", past.body);
    assert!(past.body["state"].is_object());

    // B3: metrics of the two cycles.
    let metrics = app
        .call(
            Method::GET,
            "/metrics/cycles?group_by=am&consistency=strong",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.body);
}

freshet_store::on_both_backends!(two_cycles_over_http);
