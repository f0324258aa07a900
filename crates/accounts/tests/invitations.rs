//! Invitations on both backends: "Invite again" clicked twice, or by two Admins at once,
//! sends one email, and the link in it keeps working.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use freshet_accounts::{AccountError, invitations};
use freshet_mail::{PublicUrl, Renderer};
use freshet_store::testing::TestDatabase;
use freshet_store::{Database, on_pool};

freshet_store::on_both_backends!(an_invitation_sent_a_moment_ago_is_not_sent_again);

fn renderer() -> Renderer {
    Renderer::new("https://freshet.agency.test/".parse::<PublicUrl>().unwrap()).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, 1, 9, 0, 0).unwrap() + TimeDelta::seconds(seconds)
}

async fn invitations_sent(db: &Database) -> i64 {
    on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'invitation'")
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

async fn an_invitation_sent_a_moment_ago_is_not_sent_again(db: TestDatabase) {
    let db = &db.database;
    let renderer = renderer();
    let nina = invitations::invite(
        db,
        &renderer,
        "Nina",
        "nina@example.com",
        false,
        None,
        at(0),
    )
    .await
    .unwrap();
    // "Invite again" right after the invitation, then clicked twice: refused, nothing sent,
    // so the link already on its way keeps working.
    for second in [5, 6] {
        let again = invitations::invite_again(db, &renderer, nina.user.id, None, at(second)).await;
        assert!(
            matches!(again, Err(AccountError::InvitedMomentsAgo)),
            "{again:?}"
        );
    }
    assert_eq!(invitations_sent(db).await, 1);
    // Later (the first email was lost), it is sent; two Admins at once send it once.
    let (first, second) = tokio::join!(
        invitations::invite_again(db, &renderer, nina.user.id, None, at(120)),
        invitations::invite_again(db, &renderer, nina.user.id, None, at(120)),
    );
    assert_eq!(
        u8::from(first.is_ok()) + u8::from(second.is_ok()),
        1,
        "{first:?} {second:?}"
    );
    assert_eq!(invitations_sent(db).await, 2);
}
