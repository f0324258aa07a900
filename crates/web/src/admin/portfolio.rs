//! Portfolios: the list to pick one from, creating one (client, team, cadence, first
//! Creative Refresh Date), and on a portfolio's Admin page changing its team,
//! rescheduling it (the domain says when a date may move, R1), pausing, resuming, ending
//! it and cancelling its cycle. Each is one domain command, offered when the domain would
//! accept it now, and refused with the domain's sentence next to its form otherwise.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use freshet_accounts::users;
use freshet_api::{ApiError, AppState, readable_portfolio};
use freshet_domain::{
    Cadence, CadenceUnit, ClientName, Command, Lifecycle, NoteText, Portfolio, PortfolioId, Role,
    Team, UserId, decide,
};
use freshet_projections::portfolios::{self, PortfolioFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::{Admin, Done, Refusal, run};
use crate::page::{Person, error_page, render};

/// Everything any of the portfolio forms posts; each form sends the fields it has.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct PortfolioForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    am: String,
    #[serde(default)]
    sas: String,
    #[serde(default)]
    copywriter: String,
    #[serde(default)]
    designer: String,
    #[serde(default)]
    team_lead: String,
    #[serde(default)]
    every: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    refresh_date: String,
    #[serde(default)]
    reason: String,
    confirm: Option<String>,
    /// What a refused resume form had as its date (it posts it as `refresh_date`).
    #[serde(skip)]
    resume_date: String,
}

impl PortfolioForm {
    fn member(&self, role: Role) -> &str {
        match role {
            Role::AccountManager => &self.am,
            Role::SocialAdSpecialist => &self.sas,
            Role::Copywriter => &self.copywriter,
            Role::Designer => &self.designer,
            Role::TeamLead => &self.team_lead,
        }
    }

    fn field(role: Role) -> &'static str {
        match role {
            Role::AccountManager => "am",
            Role::SocialAdSpecialist => "sas",
            Role::Copywriter => "copywriter",
            Role::Designer => "designer",
            Role::TeamLead => "team_lead",
        }
    }

    /// The form as a portfolio's present values fill it.
    fn of(portfolio: &Portfolio) -> Self {
        let member = |role| portfolio.team.member(role).to_string();
        Self {
            am: member(Role::AccountManager),
            sas: member(Role::SocialAdSpecialist),
            copywriter: member(Role::Copywriter),
            designer: member(Role::Designer),
            team_lead: member(Role::TeamLead),
            every: portfolio.schedule.cadence.every().to_string(),
            unit: unit_code(portfolio.schedule.cadence.unit()).to_owned(),
            refresh_date: portfolio.refresh_date().to_string(),
            ..Self::default()
        }
    }

    fn key(&self) -> Result<Uuid, Refusal> {
        Uuid::parse_str(&self.key)
            .map_err(|_| Refusal::Sentence("The form is out of date: try again.".into()))
    }

    fn team(&self) -> Result<Team, Refusal> {
        let member = |role: Role| {
            Uuid::parse_str(self.member(role))
                .map(UserId::from_uuid)
                .map_err(|_| Refusal::Sentence(format!("Choose the {role}.")))
        };
        Ok(Team {
            account_manager: member(Role::AccountManager)?,
            social_ad_specialist: member(Role::SocialAdSpecialist)?,
            copywriter: member(Role::Copywriter)?,
            designer: member(Role::Designer)?,
            team_lead: member(Role::TeamLead)?,
        })
    }

    fn cadence(&self) -> Result<Cadence, Refusal> {
        let every = self.every.trim().parse::<u16>().map_err(|_| {
            Refusal::Sentence("The cadence needs a whole number, such as 2 (weeks).".into())
        })?;
        let unit = UNITS
            .into_iter()
            .find(|(code, _, _)| *code == self.unit)
            .map(|(_, _, unit)| unit)
            .ok_or_else(|| Refusal::Sentence("Choose days, weeks or months.".into()))?;
        Cadence::new(every, unit).map_err(Refusal::invalid)
    }

    fn date(&self) -> Result<Option<NaiveDate>, Refusal> {
        let typed = self.refresh_date.trim();
        if typed.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(typed, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Refusal::Sentence(format!("\"{typed}\" is not a date (YYYY-MM-DD).")))
    }

    fn required_date(&self) -> Result<NaiveDate, Refusal> {
        self.date()?
            .ok_or_else(|| Refusal::Sentence("Give the Creative Refresh Date.".into()))
    }
}

const UNITS: [(&str, &str, CadenceUnit); 3] = [
    ("days", "days", CadenceUnit::Days),
    ("weeks", "weeks", CadenceUnit::Weeks),
    ("months", "months", CadenceUnit::Months),
];

fn unit_code(unit: CadenceUnit) -> &'static str {
    UNITS
        .into_iter()
        .find(|(_, _, each)| *each == unit)
        .map_or("weeks", |(code, _, _)| code)
}

/// An `<option>`.
pub(crate) struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// One role's `<select>`.
pub(crate) struct RoleSelect {
    field: &'static str,
    label: String,
    choices: Vec<Choice>,
}

/// The people who may fill a role: every active person, and whoever holds it now (even
/// deactivated, so the form shows the team as it is).
async fn role_selects(
    state: &AppState,
    typed: &PortfolioForm,
) -> Result<Vec<RoleSelect>, ApiError> {
    let mut people = users::list(state.db()).await?;
    people.sort_by_key(|user| user.name.to_lowercase());
    Ok(Role::ALL
        .into_iter()
        .map(|role| {
            let chosen = typed.member(role);
            let mut choices = vec![Choice {
                value: String::new(),
                label: format!("Choose the {role}"),
                selected: chosen.is_empty(),
            }];
            choices.extend(
                people
                    .iter()
                    .filter(|user| user.deactivated_at.is_none() || user.id.to_string() == chosen)
                    .map(|user| Choice {
                        value: user.id.to_string(),
                        label: match user.deactivated_at {
                            Some(_) => format!("{} (deactivated)", user.name),
                            None => format!("{} ({})", user.name, user.email),
                        },
                        selected: user.id.to_string() == chosen,
                    }),
            );
            RoleSelect {
                field: PortfolioForm::field(role),
                label: role.to_string(),
                choices,
            }
        })
        .collect())
}

fn unit_choices(typed: &PortfolioForm) -> Vec<Choice> {
    UNITS
        .into_iter()
        .map(|(code, label, _)| Choice {
            value: code.to_owned(),
            label: label.to_owned(),
            selected: typed.unit == code,
        })
        .collect()
}

struct ListRow {
    href: String,
    client: String,
    status: String,
    refresh_date: String,
}

#[derive(Template)]
#[template(path = "admin/portfolios.html")]
struct ListPage {
    person: Option<Person>,
    section: &'static str,
    portfolios: Vec<ListRow>,
}

/// Every portfolio by client (the first 500), each linking to its Admin page.
pub(crate) async fn list(State(state): State<AppState>, admin: Admin) -> Response {
    let filter = PortfolioFilter {
        limit: 500,
        ..PortfolioFilter::default()
    };
    let rows = match portfolios::list(state.db(), &filter).await {
        Ok(rows) => rows,
        Err(error) => return error_page(&ApiError::from(error), admin.0.label()),
    };
    let portfolios = rows
        .into_iter()
        .map(|row| ListRow {
            href: format!("/app/admin/portfolios/{}", row.portfolio_id),
            client: row.client,
            status: row
                .status_label
                .unwrap_or_else(|| "No Refresh Requested".into()),
            refresh_date: row.refresh_date.format("%b %-d, %Y").to_string(),
        })
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            person: admin.0.label(),
            section: "portfolios",
            portfolios,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/portfolio_new.html")]
struct NewPage {
    person: Option<Person>,
    section: &'static str,
    /// A fresh idempotency key, and the new portfolio's id.
    key: Uuid,
    typed: PortfolioForm,
    roles: Vec<RoleSelect>,
    units: Vec<Choice>,
    problem: Option<String>,
}

async fn show_new(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    typed: PortfolioForm,
    problem: Option<String>,
) -> Response {
    let roles = match role_selects(state, &typed).await {
        Ok(roles) => roles,
        Err(error) => return error_page(&error, admin.0.label()),
    };
    render(
        status,
        &NewPage {
            person: admin.0.label(),
            section: "portfolios",
            key: Uuid::new_v4(),
            units: unit_choices(&typed),
            typed,
            roles,
            problem,
        },
    )
}

pub(crate) async fn new_form(State(state): State<AppState>, admin: Admin) -> Response {
    let typed = PortfolioForm {
        every: "4".into(),
        unit: "weeks".into(),
        ..PortfolioForm::default()
    };
    show_new(&state, &admin, StatusCode::OK, typed, None).await
}

/// Creates the portfolio; its id is the form's key, so the same form posted twice names
/// the same portfolio (and the service does it once, B5).
pub(crate) async fn create(
    State(state): State<AppState>,
    admin: Admin,
    Form(form): Form<PortfolioForm>,
) -> Response {
    let created = async {
        let key = form.key()?;
        let id = PortfolioId::from_uuid(key);
        let command = Command::CreatePortfolio {
            portfolio_id: id,
            client: ClientName::parse(form.client.trim()).map_err(Refusal::invalid)?,
            team: form.team()?,
            cadence: form.cadence()?,
            refresh_date: form.required_date()?,
        };
        run(&state, &admin, id, command, key).await.map(|()| id)
    }
    .await;
    match created {
        Ok(id) => Redirect::to(&format!("/app/admin/portfolios/{id}?done=created")).into_response(),
        Err(Refusal::Page(page)) => *page,
        Err(Refusal::Sentence(problem)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show_new(&state, &admin, status, form, Some(problem)).await
        }
    }
}

/// A form of a portfolio's Admin page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Team,
    Schedule,
    Pause,
    Resume,
    End,
    Cancel,
}

impl Action {
    const ALL: [Action; 6] = [
        Action::Team,
        Action::Schedule,
        Action::Pause,
        Action::Resume,
        Action::End,
        Action::Cancel,
    ];

    fn slug(self) -> &'static str {
        match self {
            Action::Team => "team",
            Action::Schedule => "schedule",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::End => "end",
            Action::Cancel => "cancel",
        }
    }

    fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.slug() == slug)
    }

    fn done(self) -> &'static str {
        match self {
            Action::Team => "The team is changed.",
            Action::Schedule => "The schedule is changed.",
            Action::Pause => "Paused: nothing is scheduled until it is resumed.",
            Action::Resume => "Resumed.",
            Action::End => "Ended: its open tasks are closed.",
            Action::Cancel => "The cycle is cancelled.",
        }
    }

    /// The command this action's form asks for.
    fn command(self, form: &PortfolioForm) -> Result<Command, Refusal> {
        Ok(match self {
            Action::Team => Command::ChangeTeam { team: form.team()? },
            Action::Schedule => Command::Reschedule {
                cadence: form.cadence()?,
                refresh_date: form.required_date()?,
            },
            Action::Pause => Command::PausePortfolio,
            Action::Resume => Command::ResumePortfolio {
                refresh_date: form.date()?,
            },
            Action::End => {
                if form.confirm.is_none() {
                    return Err(Refusal::Sentence("Tick the box to confirm first.".into()));
                }
                Command::EndPortfolio
            }
            Action::Cancel => {
                let reason = form.reason.trim();
                if reason.is_empty() {
                    return Err(Refusal::Sentence("Say why the client withdrew.".into()));
                }
                Command::CancelCycle {
                    reason: NoteText::parse(reason).map_err(Refusal::invalid)?,
                }
            }
        })
    }

    /// Whether to offer the form now. Team and schedule are offered while the portfolio
    /// lives (the domain judges what is typed); the others when the domain would accept
    /// them from this Admin now.
    fn offered(self, state: &AppState, admin: &Admin, portfolio: &Portfolio) -> bool {
        if matches!(portfolio.lifecycle, Lifecycle::Ended(_)) {
            return false;
        }
        let sample = PortfolioForm {
            reason: "(a reason)".into(),
            confirm: Some("on".into()),
            ..PortfolioForm::of(portfolio)
        };
        let command = match self {
            Action::Team | Action::Schedule => return true,
            Action::Resume => Command::ResumePortfolio { refresh_date: None },
            other => match other.command(&sample) {
                Ok(command) => command,
                Err(_) => return false,
            },
        };
        let context = state.service().context(admin.0.0.actor());
        decide(Some(portfolio), &command, &context).is_ok()
    }
}

#[derive(Template)]
#[template(path = "admin/portfolio.html")]
struct PortfolioPage {
    person: Option<Person>,
    section: &'static str,
    notice: Option<&'static str>,
    href: String,
    public_href: String,
    client: String,
    status: &'static str,
    lifecycle: String,
    refresh_date: String,
    cadence: String,
    team: Vec<(String, String)>,
    roles: Vec<RoleSelect>,
    units: Vec<Choice>,
    typed: PortfolioForm,
    offered: Vec<&'static str>,
    /// The form just refused, and why.
    failed: Option<(&'static str, String)>,
}

impl PortfolioPage {
    fn offers(&self, slug: &str) -> bool {
        self.offered.contains(&slug)
    }

    fn problem(&self, slug: &str) -> Option<&str> {
        self.failed
            .as_ref()
            .filter(|(failed, _)| *failed == slug)
            .map(|(_, problem)| problem.as_str())
    }

    /// A fresh idempotency key for one form: one drawing of it is one intent.
    fn key(&self) -> Uuid {
        Uuid::new_v4()
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> Response {
    let notice = done.done.as_deref().and_then(|slug| match slug {
        "created" => Some("The portfolio is created."),
        slug => Action::parse(slug).map(Action::done),
    });
    show(&state, &admin, id, StatusCode::OK, notice, None).await
}

async fn show(
    state: &AppState,
    admin: &Admin,
    id: Uuid,
    status: StatusCode,
    notice: Option<&'static str>,
    failed: Option<(Action, String, PortfolioForm)>,
) -> Response {
    let portfolio = match readable_portfolio(state, &admin.0.0, PortfolioId::from_uuid(id)).await {
        Ok(portfolio) => portfolio,
        Err(error) => return error_page(&error, admin.0.label()),
    };
    let present = PortfolioForm::of(&portfolio);
    // Only the refused form keeps what was typed; the others show the portfolio as it is.
    let typed = match &failed {
        Some((Action::Team, _, typed)) => PortfolioForm {
            am: typed.am.clone(),
            sas: typed.sas.clone(),
            copywriter: typed.copywriter.clone(),
            designer: typed.designer.clone(),
            team_lead: typed.team_lead.clone(),
            ..present
        },
        Some((Action::Schedule, _, typed)) => PortfolioForm {
            every: typed.every.clone(),
            unit: typed.unit.clone(),
            refresh_date: typed.refresh_date.clone(),
            ..present
        },
        Some((_, _, typed)) => PortfolioForm {
            reason: typed.reason.clone(),
            resume_date: typed.refresh_date.clone(),
            ..present
        },
        None => present,
    };
    let roles = match role_selects(state, &typed).await {
        Ok(roles) => roles,
        Err(error) => return error_page(&error, admin.0.label()),
    };
    let people = users::list(state.db()).await.unwrap_or_default();
    let name_of = |user: UserId| {
        people
            .iter()
            .find(|each| each.id == user)
            .map_or_else(|| user.to_string(), |each| each.name.clone())
    };
    let team = Role::ALL
        .into_iter()
        .map(|role| (role.to_string(), name_of(portfolio.team.member(role))))
        .collect();
    let offered = Action::ALL
        .into_iter()
        .filter(|action| {
            failed
                .as_ref()
                .is_some_and(|(failed, _, _)| failed == action)
                || action.offered(state, admin, &portfolio)
        })
        .map(Action::slug)
        .collect();
    let lifecycle = match portfolio.lifecycle {
        Lifecycle::Active => "Active".to_owned(),
        Lifecycle::Paused(since) => format!("Paused since {}", since.format("%b %-d, %Y")),
        Lifecycle::Ended(since) => format!("Ended on {}", since.format("%b %-d, %Y")),
    };
    render(
        status,
        &PortfolioPage {
            person: admin.0.label(),
            section: "portfolios",
            notice,
            href: format!("/app/admin/portfolios/{id}"),
            public_href: freshet_mail::links::path::portfolio(portfolio.id),
            client: portfolio.client.to_string(),
            status: portfolio
                .cycle
                .status
                .map_or("No Refresh Requested", |status| status.label()),
            lifecycle,
            refresh_date: portfolio
                .refresh_date()
                .format("%A, %B %-d, %Y")
                .to_string(),
            cadence: portfolio.schedule.cadence.to_string(),
            team,
            roles,
            units: unit_choices(&typed),
            typed,
            offered,
            failed: failed.map(|(action, problem, _)| (action.slug(), problem)),
        },
    )
}

pub(crate) async fn act(
    State(state): State<AppState>,
    admin: Admin,
    Path((id, slug)): Path<(Uuid, String)>,
    Form(form): Form<PortfolioForm>,
) -> Response {
    let Some(action) = Action::parse(&slug) else {
        let unknown = ApiError::NotFound(format!("there is no action \"{slug}\""));
        return error_page(&unknown, admin.0.label());
    };
    let done = async {
        let key = form.key()?;
        let command = action.command(&form)?;
        run(&state, &admin, PortfolioId::from_uuid(id), command, key).await
    }
    .await;
    match done {
        Ok(()) => Redirect::to(&format!("/app/admin/portfolios/{id}?done={slug}")).into_response(),
        Err(Refusal::Page(page)) => *page,
        Err(Refusal::Sentence(problem)) => {
            let failed = Some((action, problem, form));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show(&state, &admin, id, status, None, failed).await
        }
    }
}
