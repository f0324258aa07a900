use chrono::NaiveDate;
use freshet_domain::{EmailDetails, StallGate, TicketId, TicketStatus, TicketSummary, UserId};
use uuid::Uuid;

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn email(kind: EmailKind, role: Role, details: EmailDetails) -> Email {
    let portfolio = PortfolioId::from_uuid(Uuid::from_u128(7));
    let recipient = UserId::from_uuid(Uuid::from_u128(1));
    Email {
        id: freshet_domain::EmailId::derive(portfolio, "c1/test/r0", recipient),
        kind,
        recipient,
        role,
        cycle: 1,
        round: 1,
        details,
    }
}

fn details() -> EmailDetails {
    EmailDetails {
        client: "Acme & Sons".to_owned(),
        refresh_date: date(2027, 3, 10),
        am_note: None,
        ad_lab_link: None,
        decision_missing: false,
        open_tickets: Vec::new(),
        next_refresh_date: None,
        tasks: Vec::new(),
        days_late: None,
    }
}

fn render(email: &Email) -> Rendered {
    let renderer = Renderer::new(
        "https://freshet.example/"
            .parse()
            .expect("a valid public URL"),
    );
    let renderer = renderer.unwrap_or_else(|error| panic!("templates load: {error:#}"));
    renderer
        .render(PortfolioId::from_uuid(Uuid::from_u128(7)), email)
        .unwrap_or_else(|error| panic!("renders: {error:#}"))
}

// R2
#[test]
fn the_kickoff_tells_the_am_to_reach_out_and_what_to_log() {
    let rendered = render(&email(EmailKind::Kickoff, Role::AccountManager, details()));
    assert_eq!(
        rendered.subject,
        "Acme & Sons: reach out to the client about their creative refresh"
    );
    assert!(rendered.text.contains("Wednesday, March 10, 2027"));
    assert!(
        rendered
            .text
            .contains("Reach out to client about creative refresh")
    );
    assert!(rendered.text.contains("\"No Refresh Requested\""));
    assert!(rendered.text.contains("\"Refresh Request Submitted\""));
    assert!(
        rendered.text.contains(
            "https://freshet.example/app/portfolios/00000000-0000-0000-0000-000000000007"
        )
    );
    assert!(rendered.html.contains("Acme &amp; Sons"), "HTML is escaped");
}

// R6
#[test]
fn the_sas_gets_the_am_note_or_hears_that_the_decision_is_missing() {
    let with_note = EmailDetails {
        am_note: Some("New spring photos in the drive.\nKeep the tagline.".to_owned()),
        ..details()
    };
    let rendered = render(&email(
        EmailKind::DeliverablesDue,
        Role::SocialAdSpecialist,
        with_note,
    ));
    assert_eq!(
        rendered.subject,
        "Acme & Sons: Create Paid Social Deliverables for Refresh"
    );
    assert!(
        rendered
            .text
            .contains("    New spring photos in the drive.")
    );
    assert!(rendered.text.contains("    Keep the tagline."));
    assert!(!rendered.text.contains("decision is missing"));

    let undecided = EmailDetails {
        decision_missing: true,
        ..details()
    };
    let rendered = render(&email(
        EmailKind::DeliverablesDue,
        Role::SocialAdSpecialist,
        undecided,
    ));
    assert!(rendered.text.contains("The AM's decision is missing"));
    assert!(rendered.html.contains("decision is missing"));
    assert!(rendered.text.contains("has not logged a Note"));
}

// R11, R12
#[test]
fn the_am_gets_the_ad_lab_link_or_is_told_to_ask_the_designer() {
    let rendered = render(&email(
        EmailKind::ReadyForClientReview,
        Role::AccountManager,
        details(),
    ));
    assert_eq!(
        rendered.subject,
        "Acme & Sons: Share Drafted Deliverables With Client"
    );
    assert!(rendered.text.contains("ask the Designer for it"));

    let linked = EmailDetails {
        ad_lab_link: Some("https://adlab.example/acme?a=1&b=2".to_owned()),
        ..details()
    };
    let rendered = render(&email(
        EmailKind::ReadyForClientReview,
        Role::AccountManager,
        linked,
    ));
    assert!(rendered.text.contains("https://adlab.example/acme?a=1&b=2"));
    assert!(!rendered.text.contains("ask the Designer"));
    assert!(rendered.html.contains("a=1&amp;b=2"), "HTML is escaped");

    let sas = render(&email(
        EmailKind::ReadyForClientReview,
        Role::SocialAdSpecialist,
        details(),
    ));
    assert_eq!(
        sas.subject,
        "Acme & Sons: the Ad Set is ready for client review"
    );
    assert!(sas.text.contains("No action is required from you"));
}

// R17, R20
#[test]
fn the_implementation_email_lists_the_open_tickets() {
    let open = EmailDetails {
        open_tickets: vec![TicketSummary {
            id: TicketId::from_uuid(Uuid::from_u128(3)),
            title: "Carousel 2".to_owned(),
            status: TicketStatus::PendingApproval,
        }],
        ..details()
    };
    let rendered = render(&email(
        EmailKind::CreativesApproved,
        Role::SocialAdSpecialist,
        open,
    ));
    assert_eq!(
        rendered.subject,
        "Acme & Sons: Implement New Creatives for Refresh"
    );
    assert!(rendered.text.contains("* Carousel 2 (Pending Approval)"));
    assert!(
        rendered
            .text
            .contains("the next refresh will not be scheduled")
    );
}

// R19
#[test]
fn the_live_email_names_the_next_refresh_date() {
    let live = EmailDetails {
        next_refresh_date: Some(date(2027, 4, 10)),
        ..details()
    };
    let rendered = render(&email(EmailKind::CreativesLive, Role::AccountManager, live));
    assert_eq!(rendered.subject, "Acme & Sons: the new creatives are live");
    assert!(
        rendered
            .text
            .contains("Next Creative Refresh Date: Saturday, April 10, 2027.")
    );
    assert!(rendered.text.contains("confirm their new ads are running"));
}

// B1
#[test]
fn a_stall_alert_names_the_missed_gate() {
    let rendered = render(&email(
        EmailKind::StallAlert(StallGate::Implementation),
        Role::TeamLead,
        details(),
    ));
    assert_eq!(
        rendered.subject,
        "Stalled: Acme & Sons: Approved creatives not yet implemented"
    );
    assert!(rendered.text.contains("as the Team Lead"));
}

#[test]
fn a_later_review_round_is_named_in_the_subject() {
    let mut second = email(
        EmailKind::ReadyForClientReview,
        Role::AccountManager,
        details(),
    );
    second.round = 2;
    let rendered = render(&second);
    assert_eq!(
        rendered.subject,
        "Acme & Sons: Share Drafted Deliverables With Client (round 2)"
    );
}

// The process changes agencies make: a cancel, a void handoff and moved work each say what
// happened and what (not) to do.
#[test]
fn a_cancel_a_void_handoff_and_moved_work_each_say_what_happened() {
    let mut cancelled = details();
    cancelled.am_note = Some("The client paused their campaigns.".to_owned());
    cancelled.next_refresh_date = Some(date(2027, 4, 10));
    let mut reassigned = details();
    reassigned.tasks = vec!["Write copy for deliverable".to_owned()];
    let cases = [
        (
            EmailKind::CycleCancelled,
            Role::Copywriter,
            cancelled,
            "cancelled",
            "The client paused their campaigns.",
        ),
        (
            EmailKind::HandoffVoided,
            Role::SocialAdSpecialist,
            details(),
            "void",
            "no tickets are needed",
        ),
        (
            EmailKind::WorkReassigned,
            Role::Copywriter,
            reassigned,
            "moved to you",
            "Write copy for deliverable",
        ),
    ];
    for (kind, role, details, subject, body) in cases {
        let rendered = render(&email(kind, role, details));
        assert!(
            rendered.subject.contains(subject),
            "{kind:?}: {}",
            rendered.subject
        );
        assert!(
            rendered.text.contains(body),
            "{kind:?} text: {}",
            rendered.text
        );
        assert!(
            rendered.html.contains(body),
            "{kind:?} html: {}",
            rendered.html
        );
    }
}

// B1: the overlap alert says how late the cycle is.
#[test]
fn b1_the_overlap_alert_says_how_many_days_late_the_cycle_is() {
    let gate = StallGate::NextKickoffOverlap;
    let mut late = details();
    late.days_late = Some(31);
    let rendered = render(&email(
        EmailKind::StallAlert(gate),
        Role::AccountManager,
        late,
    ));
    assert!(
        rendered
            .text
            .contains("31 days past its Creative Refresh Date"),
        "{}",
        rendered.text
    );
    let on_time = render(&email(
        EmailKind::StallAlert(gate),
        Role::AccountManager,
        details(),
    ));
    assert!(!on_time.text.contains("days past"));
}

/// The HTML body with minijinja's escaped slashes undone, so links can be looked for.
fn html_of(rendered: &Rendered) -> String {
    rendered.html.replace("&#x2f;", "/")
}

const PORTFOLIO_LINK: &str =
    "https://freshet.example/app/portfolios/00000000-0000-0000-0000-000000000007";

// Every task email and every stall alert leads to the portfolio page, in both bodies.
#[test]
fn task_emails_and_stall_alerts_link_to_the_portfolio_in_both_bodies() {
    let kinds = [
        (EmailKind::Kickoff, Role::AccountManager),
        (EmailKind::DeliverablesDue, Role::SocialAdSpecialist),
        (EmailKind::ReadyForClientReview, Role::AccountManager),
        (EmailKind::CreativesApproved, Role::SocialAdSpecialist),
        (EmailKind::CreativesLive, Role::AccountManager),
        (
            EmailKind::StallAlert(StallGate::ClientReview),
            Role::AccountManager,
        ),
        (EmailKind::StallAlert(StallGate::AmDecision), Role::TeamLead),
        (EmailKind::WorkReassigned, Role::Copywriter),
    ];
    for (kind, role) in kinds {
        let mut details = details();
        details.tasks = vec!["Write copy for deliverable".to_owned()];
        let rendered = render(&email(kind, role, details));
        assert!(
            rendered.text.contains(&format!(
                "Do this on the Creative Portfolio: {PORTFOLIO_LINK}"
            )),
            "{kind:?} text: {}",
            rendered.text
        );
        assert!(
            html_of(&rendered).contains(&format!("<a href=\"{PORTFOLIO_LINK}\">")),
            "{kind:?} html: {}",
            rendered.html
        );
    }
}

fn expires() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2027-03-13T14:05:00Z")
        .map(|at| at.to_utc())
        .unwrap_or_default()
}

#[test]
fn the_invitation_leads_to_the_page_to_choose_a_password_and_says_when_it_expires() {
    let renderer = Renderer::new(
        "https://freshet.example/"
            .parse()
            .expect("a valid public URL"),
    )
    .expect("templates load");
    let rendered = renderer
        .invitation("Robin <b>", "abc-123_XYZ", expires())
        .expect("renders");
    assert_eq!(rendered.subject, "You are invited to Freshet");
    let link = "https://freshet.example/app/invitation/abc-123_XYZ";
    assert!(
        rendered.text.contains("Hello Robin <b>,"),
        "{}",
        rendered.text
    );
    assert!(rendered.text.contains(link), "{}", rendered.text);
    assert!(
        rendered
            .text
            .contains("expires on Saturday, March 13, 2027 at 14:05 UTC")
    );
    assert!(html_of(&rendered).contains(&format!("<a href=\"{link}\">")));
    assert!(rendered.html.contains("Robin &lt;b&gt;"), "HTML is escaped");
}

#[test]
fn the_password_reset_leads_to_the_page_to_choose_a_new_one_and_may_be_ignored() {
    let renderer = Renderer::new(PublicUrl::default()).expect("templates load");
    let rendered = renderer
        .password_reset("Robin", "r3set", expires())
        .expect("renders");
    assert_eq!(rendered.subject, "Reset your Freshet password");
    let link = "http://127.0.0.1:8080/app/password-reset/r3set";
    for body in [&rendered.text, &html_of(&rendered)] {
        assert!(body.contains(link), "{body}");
        assert!(body.contains("If you did not ask for this, you can ignore this email"));
        assert!(body.contains("expires on Saturday, March 13, 2027 at 14:05 UTC"));
    }
}

#[test]
fn the_digest_lists_overdue_tasks_first_with_how_late_then_those_due_today_each_linked() {
    let renderer = Renderer::new(
        "https://freshet.example"
            .parse()
            .expect("a valid public URL"),
    )
    .expect("templates load");
    let portfolio = PortfolioId::from_uuid(Uuid::from_u128(7));
    let ticket = TicketId::from_uuid(Uuid::from_u128(3));
    let task = |title: &str, ticket_id: Option<TicketId>, due: NaiveDate| DigestTask {
        portfolio,
        ticket: ticket_id,
        client: "Acme".to_owned(),
        title: title.to_owned(),
        ticket_title: ticket_id.map(|_| "Carousel 1".to_owned()),
        due,
    };
    let today = date(2027, 3, 10);
    let rendered = renderer
        .digest(
            "Robin",
            today,
            &[
                task("Write copy for deliverable", Some(ticket), today),
                task(
                    "Reach out to client about creative refresh",
                    None,
                    date(2027, 3, 5),
                ),
                task("Later", None, date(2027, 3, 11)),
            ],
        )
        .expect("renders");
    assert_eq!(
        rendered.subject,
        "Your tasks for Wednesday, March 10, 2027: 1 overdue, 1 due today"
    );
    let text = &rendered.text;
    let overdue = text.find("Overdue:").expect("an overdue section");
    let due_today = text.find("Due today:").expect("a due-today section");
    assert!(overdue < due_today, "{text}");
    assert!(
        text.contains("Reach out to client about creative refresh (Acme), 5 days late"),
        "{text}"
    );
    assert!(text.contains(&format!("      {PORTFOLIO_LINK}")), "{text}");
    let ticket_link = format!("{PORTFOLIO_LINK}/tickets/00000000-0000-0000-0000-000000000003");
    assert!(text.contains("Write copy for deliverable: Carousel 1 (Acme)"));
    assert!(text.contains(&ticket_link), "{text}");
    assert!(!text.contains("Later"), "a task due tomorrow is not listed");
    assert!(text.contains("https://freshet.example/app/settings"));
    let html = html_of(&rendered);
    assert!(
        html.contains(&format!("<a href=\"{ticket_link}\">")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"{PORTFOLIO_LINK}\">")),
        "{html}"
    );
    assert!(html.contains("<p>Hello Robin,</p>"), "{html}");
    assert!(
        html.contains(
            "turn off the daily digest in your <a href=\"https://freshet.example/app/settings\">"
        ),
        "{html}"
    );
    assert!(!html.contains("You get this email as the"), "{html}");

    let only_today = renderer
        .digest("Robin", today, &[task("Write copy", Some(ticket), today)])
        .expect("renders");
    assert_eq!(
        only_today.subject,
        "Your tasks for Wednesday, March 10, 2027: 1 due today"
    );
    assert!(!only_today.text.contains("Overdue"));
}
