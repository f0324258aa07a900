//! Users and tokens on both backends, without HTTP: each query written once must read back
//! what it wrote on PostgreSQL and on SQLite alike.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use freshet_accounts::{AccountError, Authenticator, User, UserDirectory, tokens, users};
use freshet_mail::Directory;
use freshet_store::Database;
use freshet_store::testing::TestDatabase;
use secrecy::ExposeSecret as _;

freshet_store::on_both_backends!(
    a_user_is_created_with_a_token_that_authenticates_them,
    tokens_are_issued_listed_and_revoked_with_who_and_when,
    deactivating_a_user_revokes_every_token_and_refuses_new_ones,
    the_authenticator_forgets_a_token_revoked_through_it,
    a_revocation_by_another_connection_applies_at_once,
);

async fn a_user_is_created_with_a_token_that_authenticates_them(db: TestDatabase) {
    let db = &db.database;
    let (ann, token) = users::add(db, " Ann ", "ann@example.com", true, None)
        .await
        .unwrap();
    assert_eq!((ann.name.as_str(), ann.admin), ("Ann", true));
    let stored = users::get(db, ann.id).await.unwrap().unwrap();
    // Stored to the microsecond (the answer of `add` keeps the clock's precision).
    assert_eq!(
        (stored.created_at - ann.created_at)
            .num_microseconds()
            .map(i64::abs),
        Some(0)
    );
    let ann = User {
        created_at: stored.created_at,
        ..ann
    };
    assert_eq!(stored, ann);
    assert_eq!(users::list(db).await.unwrap(), vec![ann.clone()]);

    let hash = tokens::token_hash(token.secret.expose_secret());
    let found = tokens::authenticate(db, &hash).await.unwrap();
    assert_eq!(found.map(|user| user.id), Some(ann.id));
    assert!(tokens::authenticate(db, "nothing").await.unwrap().is_none());
    // Using a token records when (to the minute).
    let listed = tokens::of_user(db, ann.id).await.unwrap();
    assert!(listed[0].last_used_at.is_some());

    let taken = users::add(db, "Other Ann", "ann@example.com", false, None).await;
    assert!(
        matches!(taken, Err(AccountError::EmailTaken(_))),
        "{taken:?}"
    );
    let dressed = users::add(db, "Bob", "Bob <bob@example.com>", false, None).await;
    assert!(
        matches!(dressed, Err(AccountError::InvalidEmail(_))),
        "{dressed:?}"
    );

    let directory = UserDirectory::new(db.clone());
    let mailbox = directory.address(ann.id).await.unwrap();
    assert_eq!(mailbox.to_string(), "Ann <ann@example.com>");
}

async fn tokens_are_issued_listed_and_revoked_with_who_and_when(db: TestDatabase) {
    let db = &db.database;
    let (admin, _) = users::add(db, "Ada", "ada@example.com", true, None)
        .await
        .unwrap();
    let (ben, _) = users::add(db, "Ben", "ben@example.com", false, Some(admin.id))
        .await
        .unwrap();
    assert_eq!(ben.created_by, Some(admin.id));
    let laptop = tokens::issue(db, ben.id, "laptop", Some(admin.id))
        .await
        .unwrap();
    let blank = tokens::issue(db, ben.id, " ", None).await;
    assert!(
        matches!(blank, Err(AccountError::InvalidLabel)),
        "{blank:?}"
    );

    tokens::revoke(db, laptop.info.id, Some(admin.id))
        .await
        .unwrap();
    // Revoking again keeps the first revocation's actor.
    tokens::revoke(db, laptop.info.id, None).await.unwrap();
    let listed = tokens::of_user(db, ben.id).await.unwrap();
    let labels: Vec<_> = listed.iter().map(|t| t.label.as_str()).collect();
    assert_eq!(labels, ["initial", "laptop"]);
    assert_eq!(listed[1].created_by, Some(admin.id));
    assert_eq!(listed[1].revoked_by, Some(admin.id));
    assert!(listed[1].revoked_at.is_some() && listed[0].revoked_at.is_none());
    let hash = tokens::token_hash(laptop.secret.expose_secret());
    assert!(tokens::authenticate(db, &hash).await.unwrap().is_none());

    let unknown = uuid::Uuid::now_v7();
    let missing = tokens::revoke(db, unknown, None).await;
    assert!(matches!(missing, Err(AccountError::UnknownToken(id)) if id == unknown));
}

async fn deactivating_a_user_revokes_every_token_and_refuses_new_ones(db: TestDatabase) {
    let db = &db.database;
    let (admin, _) = users::add(db, "Ada", "ada@example.com", true, None)
        .await
        .unwrap();
    let (cy, first) = users::add(db, "Cy", "cy@example.com", false, None)
        .await
        .unwrap();
    tokens::issue(db, cy.id, "second", None).await.unwrap();
    let itself = users::deactivate(db, admin.id, Some(admin.id)).await;
    assert!(matches!(itself, Err(AccountError::DeactivatesItself)));

    let done = users::deactivate(db, cy.id, Some(admin.id)).await.unwrap();
    assert_eq!(done.revoked_tokens, 2);
    assert_eq!(done.user.deactivated_by, Some(admin.id));
    let again = users::deactivate(db, cy.id, None).await.unwrap();
    assert_eq!(again.revoked_tokens, 0);
    assert_eq!(again.user.deactivated_by, Some(admin.id));

    let hash = tokens::token_hash(first.secret.expose_secret());
    assert!(tokens::authenticate(db, &hash).await.unwrap().is_none());
    let refused = tokens::issue(db, cy.id, "third", None).await;
    assert!(
        matches!(refused, Err(AccountError::Deactivated(_))),
        "{refused:?}"
    );
}

async fn the_authenticator_forgets_a_token_revoked_through_it(db: TestDatabase) {
    let db = &db.database;
    let (dee, token) = users::add(db, "Dee", "dee@example.com", false, None)
        .await
        .unwrap();
    let accounts = Authenticator::new(db.clone(), Duration::from_secs(60), 100);
    let secret = token.secret.expose_secret();
    assert!(
        accounts
            .authenticate("fr_not-a-token")
            .await
            .unwrap()
            .is_none()
    );
    for _ in 0..3 {
        let found = accounts.authenticate(secret).await.unwrap().unwrap();
        assert_eq!(found.user.id, dee.id);
        assert_eq!(found.token_hash, tokens::token_hash(secret));
    }
    let revocations = accounts.revocations();
    accounts.revoke(token.info.id, None).await.unwrap();
    assert!(revocations.has_changed().unwrap());
    assert!(accounts.authenticate(secret).await.unwrap().is_none());
}

async fn a_revocation_by_another_connection_applies_at_once(db: TestDatabase) {
    let (eve, token) = users::add(&db.database, "Eve", "eve@example.com", false, None)
        .await
        .unwrap();
    let accounts = Authenticator::new(db.database.clone(), Duration::from_secs(60), 100);
    let secret = token.secret.expose_secret();
    // Let the listener start (PostgreSQL), then fill the cache.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let found = accounts.authenticate(secret).await.unwrap().unwrap();
    assert_eq!(found.user.id, eve.id);
    // What the command line does, from a process (a pool) of its own.
    let other = Database::connect(db.url()).await.unwrap();
    tokens::revoke(&other, token.info.id, None).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while accounts.authenticate(secret).await.unwrap().is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a revoked token still authenticates"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SQLite keeps ids as hyphenated text and instants as RFC 3339 UTC text with microseconds
/// and `Z`: what every row already stored was written as, and what its text order relies on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_stores_ids_and_instants_as_fixed_text() {
    use chrono::SecondsFormat;

    let db = TestDatabase::sqlite().await;
    let db = &db.database;
    let (ann, token) = users::add(db, "Ann", "ann@example.com", true, None)
        .await
        .unwrap();
    let (bo, _) = users::add(db, "Bo", "bo@example.com", false, Some(ann.id))
        .await
        .unwrap();
    let hash = tokens::token_hash(token.secret.expose_secret());
    tokens::authenticate(db, &hash).await.unwrap().unwrap();
    users::deactivate(db, bo.id, Some(ann.id)).await.unwrap();
    tokens::revoke(db, token.info.id, Some(ann.id))
        .await
        .unwrap();

    let Database::Sqlite(pool) = db else {
        panic!("a SQLite database")
    };
    let text = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(SecondsFormat::Micros, true);
    let bo = users::get(db, bo.id).await.unwrap().unwrap();
    let row: (String, String, String, String, String) = sqlx::query_as(
        "SELECT id, created_at, created_by, deactivated_at, deactivated_by FROM users \
         WHERE email = 'bo@example.com'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.0, bo.id.to_string());
    assert_eq!(row.1, text(bo.created_at));
    assert_eq!(row.2, ann.id.to_string());
    assert_eq!(row.3, text(bo.deactivated_at.unwrap()));
    assert_eq!(row.4, ann.id.to_string());
    assert!(row.1.len() == 27 && row.1.ends_with('Z'), "{}", row.1);

    let info = tokens::of_user(db, ann.id).await.unwrap().remove(0);
    let row: (String, String, String, String, String) = sqlx::query_as(
        "SELECT id, user_id, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1",
    )
    .bind(info.id.to_string())
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.0, info.id.to_string());
    assert_eq!(row.1, ann.id.to_string());
    assert_eq!(row.2, text(info.created_at));
    assert_eq!(row.3, text(info.last_used_at.unwrap()));
    assert_eq!(row.4, text(info.revoked_at.unwrap()));
}
