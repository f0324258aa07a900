//! Passwords and sessions on both backends, without HTTP: signing in, the two lifetimes of
//! a session, and what ends every session of a person (deactivation, a new password).
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, TimeDelta, Utc};
use freshet_accounts::{AccountError, Password, SessionPolicy, User, credentials, sessions, users};
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use secrecy::{ExposeSecret as _, SecretString};

freshet_store::on_both_backends!(
    a_person_signs_in_with_their_password_and_nothing_else,
    a_session_ends_when_idle_and_at_its_absolute_lifetime,
    signing_out_ends_the_session_on_the_server,
    deactivation_ends_every_session_at_once,
    a_new_password_ends_every_other_session,
    a_session_written_after_a_password_change_under_the_old_password_never_works,
);

const PASSWORD: &str = "violet kettle harbour";

fn policy() -> SessionPolicy {
    SessionPolicy {
        idle: TimeDelta::hours(2),
        absolute: TimeDelta::hours(10),
    }
}

fn t0() -> DateTime<Utc> {
    "2027-03-01T09:00:00Z".parse().unwrap()
}

/// A person with `PASSWORD`.
async fn person(db: &Database, email: &str) -> User {
    let (user, _) = users::add(db, "Amy", email, false, None).await.unwrap();
    let password = Password::parse(PASSWORD).unwrap();
    credentials::set_password(db, email, &password, t0())
        .await
        .unwrap();
    user
}

async fn signed_in(db: &Database, email: &str, at: DateTime<Utc>) -> SecretString {
    let (_, session) = credentials::sign_in(db, email, PASSWORD, policy(), at)
        .await
        .unwrap();
    session.secret
}

async fn who(db: &Database, secret: &SecretString, at: DateTime<Utc>) -> Option<User> {
    sessions::authenticate(db, secret.expose_secret(), policy(), at)
        .await
        .unwrap()
        .map(|found| found.user)
}

async fn a_person_signs_in_with_their_password_and_nothing_else(db: TestDatabase) {
    let db = &db.database;
    let amy = person(db, "amy@agency.example").await;
    let (user, session) =
        credentials::sign_in(db, " AMY@agency.example ", PASSWORD, policy(), t0())
            .await
            .unwrap();
    assert_eq!(user.id, amy.id, "the address matches whatever its case");
    assert_eq!(session.expires_at, t0() + policy().absolute);
    assert_eq!(
        who(db, &session.secret, t0()).await.map(|u| u.id),
        Some(amy.id)
    );

    for (email, password) in [
        ("amy@agency.example", "violet kettle harbouR"),
        ("nobody@agency.example", PASSWORD),
        ("amy@agency.example", ""),
    ] {
        let refused = credentials::sign_in(db, email, password, policy(), t0()).await;
        assert!(
            matches!(refused, Err(AccountError::WrongCredentials)),
            "{email}: {refused:?}"
        );
    }
    // Someone who never chose a password cannot sign in with any.
    users::add(db, "Bea", "bea@agency.example", false, None)
        .await
        .unwrap();
    let refused = credentials::sign_in(db, "bea@agency.example", "", policy(), t0()).await;
    assert!(matches!(refused, Err(AccountError::WrongCredentials)));
    // Two sign-ins are two sessions with two secrets.
    let again = signed_in(db, "amy@agency.example", t0()).await;
    assert_ne!(again.expose_secret(), session.secret.expose_secret());
    // A value that is not a session is refused without a lookup.
    assert!(
        sessions::authenticate(db, "fs_nope", policy(), t0())
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_session_ends_when_idle_and_at_its_absolute_lifetime(db: TestDatabase) {
    let db = &db.database;
    person(db, "amy@agency.example").await;
    let idle = signed_in(db, "amy@agency.example", t0()).await;
    let busy = signed_in(db, "amy@agency.example", t0()).await;
    // Used every 90 minutes for 9 hours, the busy one stays; the idle one ends after 2
    // hours unused.
    let mut at = t0();
    for _ in 0..6 {
        at += TimeDelta::minutes(90);
        assert!(
            who(db, &busy, at).await.is_some(),
            "busy session ended at {at}"
        );
    }
    assert!(
        who(db, &idle, t0() + policy().idle - TimeDelta::minutes(1))
            .await
            .is_some()
    );
    // That use was a minute before the idle limit: the idle clock starts again from it.
    let last_use = t0() + policy().idle - TimeDelta::minutes(1);
    assert!(who(db, &idle, last_use + policy().idle).await.is_none());
    // However busy, a session ends at its absolute lifetime.
    let end = t0() + policy().absolute;
    assert!(who(db, &busy, end - TimeDelta::minutes(1)).await.is_some());
    assert!(who(db, &busy, end).await.is_none());
    // Ended sessions are cleaned up: both are gone from the table.
    let deleted = sessions::delete_ended(db, policy(), end).await.unwrap();
    assert_eq!(deleted, 2);
}

async fn signing_out_ends_the_session_on_the_server(db: TestDatabase) {
    let db = &db.database;
    person(db, "amy@agency.example").await;
    let session = signed_in(db, "amy@agency.example", t0()).await;
    let other = signed_in(db, "amy@agency.example", t0()).await;
    sessions::end(db, &session).await.unwrap();
    assert!(
        who(db, &session, t0()).await.is_none(),
        "the secret no longer works"
    );
    assert!(
        who(db, &other, t0()).await.is_some(),
        "another browser stays signed in"
    );
    sessions::end(db, &session).await.unwrap();
}

async fn deactivation_ends_every_session_at_once(db: TestDatabase) {
    let db = &db.database;
    let amy = person(db, "amy@agency.example").await;
    let one = signed_in(db, "amy@agency.example", t0()).await;
    let two = signed_in(db, "amy@agency.example", t0()).await;
    users::deactivate(db, amy.id, None).await.unwrap();
    assert_eq!(
        sessions_of(db, &amy).await,
        0,
        "the rows are gone, not just hidden"
    );
    assert!(who(db, &one, t0()).await.is_none());
    assert!(who(db, &two, t0()).await.is_none());
    let refused = credentials::sign_in(db, "amy@agency.example", PASSWORD, policy(), t0()).await;
    assert!(
        matches!(refused, Err(AccountError::WrongCredentials)),
        "{refused:?}"
    );
}

async fn a_new_password_ends_every_other_session(db: TestDatabase) {
    let db = &db.database;
    let amy = person(db, "amy@agency.example").await;
    let here = signed_in(db, "amy@agency.example", t0()).await;
    let elsewhere = signed_in(db, "amy@agency.example", t0()).await;
    let here_hash = freshet_accounts::tokens::token_hash(here.expose_secret());
    let new = Password::parse("a completely new one").unwrap();

    let wrong =
        credentials::change_password(db, amy.id, "not it at all", &new, Some(&here_hash), t0())
            .await;
    assert!(
        matches!(wrong, Err(AccountError::WrongCredentials)),
        "{wrong:?}"
    );
    assert!(
        who(db, &elsewhere, t0()).await.is_some(),
        "a refused change ends nothing"
    );

    credentials::change_password(db, amy.id, PASSWORD, &new, Some(&here_hash), t0())
        .await
        .unwrap();
    assert!(
        who(db, &here, t0()).await.is_some(),
        "the session that changed it goes on"
    );
    assert!(
        who(db, &elsewhere, t0()).await.is_none(),
        "every other session ended"
    );
    let old = credentials::sign_in(db, "amy@agency.example", PASSWORD, policy(), t0()).await;
    assert!(matches!(old, Err(AccountError::WrongCredentials)));
    credentials::sign_in(
        db,
        "amy@agency.example",
        "a completely new one",
        policy(),
        t0(),
    )
    .await
    .unwrap();

    // The operator's reset ends every session, the operator having none.
    credentials::set_password(
        db,
        "amy@agency.example",
        &Password::parse(PASSWORD).unwrap(),
        t0(),
    )
    .await
    .unwrap();
    assert!(who(db, &here, t0()).await.is_none());
}

async fn sessions_of(db: &Database, user: &User) -> i64 {
    let id = freshet_store::codec::DbUuid(user.id.as_uuid());
    freshet_store::on_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// A sign-in checks the password, then writes the session: a reset committed in between
/// must not leave that session working. Here the late write is made by hand, stamped with
/// the password version the sign-in checked.
async fn a_session_written_after_a_password_change_under_the_old_password_never_works(
    db: TestDatabase,
) {
    let db = &db.database;
    let amy = person(db, "amy@agency.example").await;
    let checked_version: i64 = 1; // `person` set the first password
    credentials::set_password(
        db,
        "amy@agency.example",
        &Password::parse("brand new words").unwrap(),
        t0(),
    )
    .await
    .unwrap();
    let secret = format!("fs_{}", "7".repeat(64));
    let hash = freshet_accounts::tokens::token_hash(&secret);
    let (id, now, end) = (
        freshet_store::codec::DbUuid(amy.id.as_uuid()),
        freshet_store::codec::DbTime(t0()),
        freshet_store::codec::DbTime(t0() + policy().absolute),
    );
    freshet_store::on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, \
             password_version) VALUES ($1, $2, $3, $3, $4, $5)",
        )
        .bind(&hash)
        .bind(id)
        .bind(now)
        .bind(end)
        .bind(checked_version)
        .execute(pool)
        .await
        .unwrap()
        .rows_affected()
    });
    let late = SecretString::from(secret);
    assert!(
        who(db, &late, t0()).await.is_none(),
        "a session of the old password"
    );
    // The same row under the current version would work: the version is what refuses it.
    freshet_store::on_pool!(db, pool => {
        sqlx::query("UPDATE sessions SET password_version = password_version + 1 WHERE id_hash = $1")
            .bind(&hash)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected()
    });
    assert_eq!(who(db, &late, t0()).await.map(|u| u.id), Some(amy.id));
}
