//! What every handler shares: the command service, the database, the projections runner,
//! the outbox, the running rebuilds and the options.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use freshet_accounts::Authenticator;
use freshet_follower::Runner;
use freshet_mail::{Outbox, PublicUrl, Renderer};
use freshet_projections::{Projection, ReadModelConfig, RebuildProgress};
use freshet_service::CommandService;
use freshet_store::{Database, EventStore};
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

use crate::session_cookie::SessionCookie;
use crate::streams::StreamSlots;
use crate::throttle::{FailureThrottle, SignInThrottle};
use freshet_accounts::SessionPolicy;

/// More distinct tokens than this within a TTL and the cache starts over.
const TOKEN_CACHE_CAPACITY: usize = 10_000;

/// How the API behaves. `Default` gives sensible production values.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Largest accepted request body; larger ones get 413.
    pub body_limit_bytes: usize,
    /// How long `?consistency=strong` waits for the read side before answering anyway.
    pub consistency_timeout: Duration,
    /// `/readyz` fails when a projection is more events behind the log than this...
    pub ready_max_lag_events: i64,
    /// ...or its last event is older than this while events are waiting.
    pub ready_max_lag: Duration,
    /// The read models' configuration, for rebuilds started through the API (use the same
    /// as the live projections).
    pub read_models: ReadModelConfig,
    /// Largest `limit` a listing accepts.
    pub max_page_size: u32,
    /// How often the inbox event stream sends a keep-alive comment.
    pub sse_keep_alive: Duration,
    /// How long an authenticated token is trusted without asking the database again.
    /// Revocations apply at once regardless (see `freshet_accounts::Authenticator`). Zero turns the cache off.
    pub token_cache_ttl: Duration,
    /// How often an open event stream checks that its token still works, besides checking
    /// at once when this process hears of a revocation.
    pub stream_token_check: Duration,
    /// Inbox event streams one person may have open at once (tabs, devices); one more
    /// answers 429.
    pub max_streams_per_user: usize,
    /// Inbox event streams this process serves at once; one more answers 503.
    pub max_streams: usize,
    /// A request that has not been answered after this long is stopped with a 503
    /// (`timeout`). An event stream counts until its first byte only.
    pub request_timeout: Duration,
    /// Requests this process works on at once; one more answers 503 (`overloaded`) at once
    /// instead of queueing. Open event streams count until their first byte only.
    pub max_concurrent_requests: usize,
    /// Failed authentications from one address, each within `auth_failure_window` of the
    /// one before, after which the address is answered 429 for a window (see `throttle`).
    pub auth_failure_limit: u32,
    pub auth_failure_window: Duration,
    /// Take the client's address from the last entry of `X-Forwarded-For` (set it only
    /// behind a reverse proxy that appends it; else a client could name any address).
    pub trust_forwarded_for: bool,
    /// How long browser sessions last.
    pub sessions: SessionPolicy,
    /// How the session cookie is written (`Secure` behind https).
    pub session_cookie: SessionCookie,
    /// The address people reach Freshet at: the base of the links in the emails this
    /// process writes (invitations, password resets).
    pub public_url: PublicUrl,
    /// The origin people reach Freshet at (`https://freshet.agency.example`): a
    /// state-changing request from a browser must come from it or from the `Host` it was
    /// sent to (see `cross_origin`).
    pub public_origin: Option<String>,
    /// Failed sign-ins, per address and per account, each within `sign_in_failure_window`
    /// of the one before, after which sign-ins from that address or to that account are
    /// refused for a window.
    pub sign_in_failure_limit: u32,
    pub sign_in_failure_window: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024,
            consistency_timeout: Duration::from_secs(5),
            ready_max_lag_events: 10_000,
            ready_max_lag: Duration::from_secs(60),
            read_models: ReadModelConfig::default(),
            max_page_size: 500,
            sse_keep_alive: Duration::from_secs(15),
            token_cache_ttl: Duration::from_secs(10),
            stream_token_check: Duration::from_secs(5),
            max_streams_per_user: 4,
            max_streams: 1_000,
            request_timeout: Duration::from_secs(30),
            max_concurrent_requests: 512,
            auth_failure_limit: 20,
            auth_failure_window: Duration::from_secs(60),
            trust_forwarded_for: false,
            sessions: SessionPolicy::default(),
            session_cookie: SessionCookie::default(),
            public_origin: None,
            public_url: PublicUrl::default(),
            sign_in_failure_limit: 10,
            sign_in_failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// The shared state of the router; cheap to clone. On PostgreSQL it listens for token
/// revocations in the background, so it must be created inside a Tokio runtime.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    service: CommandService,
    db: Database,
    runner: Arc<Runner>,
    outbox: Outbox,
    options: ApiOptions,
    accounts: Authenticator,
    rebuilds: Mutex<HashMap<String, watch::Receiver<RebuildProgress>>>,
    streams: Arc<StreamSlots>,
    requests: Arc<Semaphore>,
    auth_failures: FailureThrottle<std::net::IpAddr>,
    sign_in_failures: SignInThrottle,
    renderer: Renderer,
    shutdown: CancellationToken,
}

impl AppState {
    pub fn new(
        service: CommandService,
        db: Database,
        runner: Arc<Runner>,
        options: ApiOptions,
    ) -> Self {
        let outbox = Outbox::new(db.clone());
        let accounts =
            Authenticator::new(db.clone(), options.token_cache_ttl, TOKEN_CACHE_CAPACITY);
        Self {
            inner: Arc::new(Inner {
                service,
                db,
                runner,
                outbox,
                accounts,
                streams: StreamSlots::new(options.max_streams_per_user, options.max_streams),
                requests: Arc::new(Semaphore::new(options.max_concurrent_requests)),
                auth_failures: FailureThrottle::new(
                    options.auth_failure_limit,
                    options.auth_failure_window,
                ),
                renderer: Renderer::new(options.public_url.clone())
                    .expect("the email templates are part of the binary and parse"),
                sign_in_failures: SignInThrottle::new(
                    options.sign_in_failure_limit,
                    options.sign_in_failure_window,
                ),
                options,
                rebuilds: Mutex::new(HashMap::new()),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    pub fn service(&self) -> &CommandService {
        &self.inner.service
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// Read-your-writes: waits (within `consistency_timeout`) until the read models `names`
    /// have applied the log up to `position`; whether they did.
    pub async fn read_side_caught_up(
        &self,
        names: &[&str],
        position: freshet_store::LogPosition,
    ) -> bool {
        let waited = self
            .runner()
            .wait_for(names, position, self.options().consistency_timeout)
            .await;
        if let Err(timeout) = &waited {
            tracing::warn!(error = %timeout, "the read side did not catch up in time");
        }
        waited.is_ok()
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        self.inner.service.store()
    }

    pub fn runner(&self) -> &Arc<Runner> {
        &self.inner.runner
    }

    pub fn outbox(&self) -> &Outbox {
        &self.inner.outbox
    }

    pub fn options(&self) -> &ApiOptions {
        &self.inner.options
    }

    /// Who a bearer token belongs to (cached; revocations apply at once).
    pub fn accounts(&self) -> &Authenticator {
        &self.inner.accounts
    }

    pub(crate) fn streams(&self) -> &Arc<StreamSlots> {
        &self.inner.streams
    }

    /// Failed sign-ins per address and per account.
    pub fn sign_in_failures(&self) -> &SignInThrottle {
        &self.inner.sign_in_failures
    }

    /// The current time of the command service's clock (sessions and links expire by it).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.service.clock().now()
    }

    /// Renders the emails this process writes (invitations, password resets).
    pub fn mail_renderer(&self) -> &Renderer {
        &self.inner.renderer
    }

    /// Today in the agency's time zone (R3), by the command service's clock.
    pub fn today(&self) -> chrono::NaiveDate {
        self.inner.service.config().calendar.today(self.now())
    }

    /// Failed authentications per address.
    pub(crate) fn auth_failures(&self) -> &FailureThrottle<std::net::IpAddr> {
        &self.inner.auth_failures
    }

    /// The permits of the concurrency limit (`max_concurrent_requests`).
    pub(crate) fn requests(&self) -> &Arc<Semaphore> {
        &self.inner.requests
    }

    /// Cancelled when the server shuts down: open event streams end at once, so that the
    /// connections they hold close and the shutdown completes.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// Fresh instances of every projection, for a rebuild.
    pub fn projections(&self) -> Vec<Arc<dyn Projection>> {
        freshet_projections::all_projections(self.store(), self.inner.options.read_models)
    }

    /// The progress of the last rebuild started through the API, per projection.
    pub fn rebuilds(&self) -> HashMap<String, RebuildProgress> {
        self.inner
            .rebuilds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, progress)| (name.clone(), progress.borrow().clone()))
            .collect()
    }

    /// Remembers a started rebuild's progress; `false` if one is already running.
    pub(crate) fn track_rebuild(
        &self,
        name: &str,
        progress: watch::Receiver<RebuildProgress>,
    ) -> bool {
        let mut rebuilds = self
            .inner
            .rebuilds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = rebuilds.get(name)
            && existing.has_changed().is_ok()
        {
            return false;
        }
        rebuilds.insert(name.to_owned(), progress);
        true
    }
}
