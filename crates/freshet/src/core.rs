//! The parts every subcommand builds the same way: the database, the event store, the
//! command service with the agency's calendar and deadlines.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use freshet_domain::{AgencyCalendar, Deadlines};
use freshet_follower::{Runner, RunnerConfig};
use freshet_projections::ReadModelConfig;
use freshet_service::{Clock, CommandService, ProcessConfig, SystemClock};
use freshet_store::{Database, EventStore};
use secrecy::ExposeSecret as _;

use crate::cli::Common;

#[derive(Debug, Clone)]
pub struct Core {
    pub db: Database,
    pub store: Arc<dyn EventStore>,
    pub service: CommandService,
    pub runner: Arc<Runner>,
    pub read_models: ReadModelConfig,
}

impl Core {
    pub fn process_config(common: &Common) -> Result<ProcessConfig> {
        let calendar = AgencyCalendar::parse(&common.time_zone)?;
        let deadlines = Deadlines {
            am_decision_after_refresh: common.deadline_am_decision_days,
            tickets_after_refresh: common.deadline_tickets_days,
            client_review: common.deadline_client_review_days,
            implementation: common.deadline_implementation_days,
        };
        Ok(ProcessConfig {
            calendar,
            deadlines,
            idempotency_ttl: common.idempotency_key_ttl,
            ..ProcessConfig::default()
        })
    }

    /// Connects (creating the SQLite file and its folder if needed) and migrates.
    pub async fn open(common: &Common, clock: Arc<dyn Clock>) -> Result<Self> {
        let config = Self::process_config(common)?;
        let url = common.database_url.expose_secret();
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = std::path::Path::new(path.split('?').next().unwrap_or(path));
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
        }
        let db = Database::connect(url)
            .await
            .context("cannot open the database")?;
        db.migrate().await.context("cannot apply the migrations")?;
        let store = db
            .event_store()
            .await
            .context("cannot open the event store")?;
        let service = CommandService::new(Arc::clone(&store), clock, config);
        let runner = Arc::new(Runner::new(
            db.clone(),
            Arc::clone(&store),
            RunnerConfig::default(),
        ));
        let read_models = ReadModelConfig {
            deadlines: config.deadlines,
            ..ReadModelConfig::default()
        };
        Ok(Self {
            db,
            store,
            service,
            runner,
            read_models,
        })
    }

    pub async fn open_now(common: &Common) -> Result<Self> {
        Self::open(common, Arc::new(SystemClock)).await
    }
}
