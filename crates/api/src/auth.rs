//! Who is calling: a bearer token (`Authorization: Bearer fr_…`) looked up by its hash
//! (through a short-lived cache, see [`freshet_accounts::Authenticator`]), or else a
//! browser's session cookie (see [`crate::session_cookie`]), looked up with its person on
//! every request. Both give the same [`Caller`], so the same permissions (B4) apply to a
//! person whichever way they come. An address whose credentials keep failing is held back
//! (see [`crate::throttle`]).

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use freshet_domain::{Actor, UserId};

use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::{self, Refused};
use freshet_accounts::{User, sessions};

/// The authenticated person of a request. Extracting it answers 401 without a valid token
/// or session.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    credential: Credential,
}

/// What a request authenticated with, by its stored hash (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Token { hash: String },
    Session { hash: String },
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    pub fn is_admin(&self) -> bool {
        self.user.admin
    }

    /// The acting party of this person's commands.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.user.id,
            admin: self.user.admin,
        }
    }

    /// Refuses (403) unless the caller is an Admin.
    pub fn require_admin(&self, action: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!("only an Admin may {action}")))
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        // Only presented credentials count: a request without any guesses nothing, and
        // is answered 401 without a database query anyway.
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .or_else(|| state.options().session_cookie.read(&parts.headers));
        let address = presented
            .as_ref()
            .and_then(|_| throttle::client_address(parts, state.options().trust_forwarded_for));
        let attempt = match (&address, &presented) {
            (Some(address), Some(credential)) => {
                match state.auth_failures().attempt(*address, credential) {
                    Ok(attempt) => Some(attempt),
                    Err(Refused::AlreadyFailed) => return Err(ApiError::Unauthenticated),
                    Err(Refused::HeldBack { retry_after }) => {
                        return Err(ApiError::TooManyFailures { retry_after });
                    }
                }
            }
            _ => None,
        };
        let caller = authenticate(parts, state).await;
        if let (Err(ApiError::Unauthenticated), Some(attempt)) = (&caller, attempt) {
            attempt.failed();
        }
        let caller = caller?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A bearer token when the request has an `Authorization` header (even a malformed one:
/// a client that sends one means it), else the session cookie.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    if parts.headers.contains_key(AUTHORIZATION) {
        let token = bearer(parts).ok_or(ApiError::Unauthenticated)?;
        let found = state.accounts().authenticate(token).await?;
        let found = found.ok_or(ApiError::Unauthenticated)?;
        return Ok(Caller {
            user: found.user,
            credential: Credential::Token {
                hash: found.token_hash,
            },
        });
    }
    let secret = state
        .options()
        .session_cookie
        .read(&parts.headers)
        .ok_or(ApiError::Unauthenticated)?;
    let found = sessions::authenticate(state.db(), &secret, state.options().sessions, state.now())
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Caller {
        user: found.user,
        credential: Credential::Session {
            hash: found.session_hash,
        },
    })
}
