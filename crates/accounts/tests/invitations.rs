//! Invitations on both backends: "Invite again" clicked twice, or by two Admins at once,
//! sends one email, and the link in it keeps working.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use freshet_accounts::links::{self, LinkPurpose};
use freshet_accounts::{AccountError, Password, SessionPolicy, invitations};
use freshet_domain::UserId;
use freshet_mail::{PublicUrl, Renderer};
use freshet_store::codec::DbUuid;
use freshet_store::testing::TestDatabase;
use freshet_store::{Database, on_pool};

freshet_store::on_both_backends!(
    an_invitation_sent_a_moment_ago_is_not_sent_again,
    choosing_a_password_while_invited_again_never_deadlocks,
);

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
    // so the link already on its way keeps working; the refusal says for how long. (A
    // request dated before the invitation, as one that waited for its lock can be, waits
    // the minute, not longer.)
    for (second, left) in [(5, 55), (59, 1), (-10, 60)] {
        let again = invitations::invite_again(db, &renderer, nina.user.id, None, at(second)).await;
        let Err(AccountError::InvitedMomentsAgo { retry_after }) = again else {
            panic!("at {second} s: {again:?}");
        };
        assert_eq!(retry_after.num_seconds(), left, "at {second} s");
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

/// The secret of the one invitation emailed to `user`.
async fn emailed_secret(db: &Database, user: UserId) -> String {
    let body: String = on_pool!(db, pool => {
        sqlx::query_scalar(
            "SELECT body_text FROM mail_outbox WHERE kind = 'invitation' AND recipient = $1",
        )
        .bind(DbUuid(user.as_uuid()))
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let start = body.find("fl_").unwrap();
    let end = body[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(body.len(), |end| start + end);
    body[start..end].to_owned()
}

// Every change to a person's links takes the person's row first (an invitation sent again,
// a deactivation, a new password): choosing a password from a link did it the other way
// round, so it and "Invite again" could each wait for the other, and PostgreSQL would abort
// one as a deadlock. Held on the person's row, it must not have touched the link yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_a_password_takes_the_persons_row_before_the_link() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let Database::Postgres(pool) = &db.database else {
        unreachable!("a PostgreSQL test database");
    };
    let renderer = renderer();
    let robin = invitations::invite(
        &db.database,
        &renderer,
        "Robin",
        "robin@example.com",
        false,
        None,
        at(0),
    )
    .await
    .unwrap();
    let secret = emailed_secret(&db.database, robin.user.id).await;
    let id = DbUuid(robin.user.id.as_uuid());
    let mut holding = pool.begin().await.unwrap();
    sqlx::query("UPDATE users SET name = name WHERE id = $1")
        .bind(id)
        .execute(&mut *holding)
        .await
        .unwrap();
    let database = db.database.clone();
    let choosing = tokio::spawn(async move {
        let password = Password::parse("orchard lantern seven").unwrap();
        let policy = SessionPolicy::default();
        links::redeem(
            &database,
            &secret,
            LinkPurpose::Invitation,
            &password,
            policy,
            at(60),
        )
        .await
    });
    // Wait until it waits for a lock (after hashing the password).
    let mut waiting: i64 = 0;
    for _ in 0..600 {
        waiting = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        waiting, 1,
        "choosing the password never waited for the person's row"
    );
    let link_free = sqlx::query("SELECT 1 FROM account_links WHERE user_id = $1 FOR UPDATE NOWAIT")
        .bind(id)
        .fetch_all(pool)
        .await;
    holding.rollback().await.unwrap();
    let chosen = choosing.await.unwrap();
    assert!(
        link_free.is_ok(),
        "it held the link while waiting: {link_free:?}"
    );
    assert!(chosen.is_ok(), "{chosen:?}");
}

// A person choosing their password from their invitation while an Admin invites them again:
// one of the two comes first, and neither is a server error.
async fn choosing_a_password_while_invited_again_never_deadlocks(db: TestDatabase) {
    let db = &db.database;
    let renderer = renderer();
    let password = Password::parse("orchard lantern seven").unwrap();
    for person in 0..20 {
        let email = format!("person{person}@example.com");
        let invited = invitations::invite(db, &renderer, "Robin", &email, false, None, at(0))
            .await
            .unwrap();
        let secret = emailed_secret(db, invited.user.id).await;
        let policy = SessionPolicy::default();
        let (chosen, again) = tokio::join!(
            links::redeem(
                db,
                &secret,
                LinkPurpose::Invitation,
                &password,
                policy,
                at(120)
            ),
            invitations::invite_again(db, &renderer, invited.user.id, None, at(120)),
        );
        assert!(
            !matches!(chosen, Err(AccountError::Database(_))),
            "{chosen:?}"
        );
        assert!(
            !matches!(again, Err(AccountError::Database(_))),
            "{again:?}"
        );
        // One of the two came first: the password from the first link, or a new link.
        assert!(chosen.is_ok() != again.is_ok(), "{chosen:?} {again:?}");
    }
}
