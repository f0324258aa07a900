//! `freshet serve --demo`: a team, its passwords and tokens, and three clients at different
//! stages, so a newcomer signs in and sees real inboxes in a minute. Loaded once: a second
//! start finds it there. It prints working passwords and tokens and writes made-up people
//! and clients, so it runs only on a loopback address and SQLite unless forced.

use anyhow::Result;
use chrono::Days;
use freshet_domain::*;
use freshet_service::{CommandRequest, CommandService};
use uuid::Uuid;

use crate::core::Core;

const PEOPLE: [(&str, &str, &str); 6] = [
    ("ava", "Ava Admin", "ava@agency.example"),
    ("amy", "Amy (Account Manager)", "amy@agency.example"),
    ("sam", "Sam (Social Ad Specialist)", "sam@agency.example"),
    ("cora", "Cora (Copywriter)", "cora@agency.example"),
    ("dev", "Dev (Designer)", "dev@agency.example"),
    ("tess", "Tess (Team Lead)", "tess@agency.example"),
];

fn demo_id(name: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("https://freshet.dev/demo/{name}").as_bytes(),
    )
}

struct Demo<'a> {
    service: &'a CommandService,
    team: Team,
    admin: UserId,
}

impl Demo<'_> {
    async fn send(&self, portfolio: PortfolioId, actor: Actor, command: Command) -> Result<()> {
        self.service
            .execute(CommandRequest::new(portfolio, command, actor))
            .await?;
        Ok(())
    }

    async fn by(&self, portfolio: PortfolioId, role: Role, command: Command) -> Result<()> {
        self.send(portfolio, Actor::user(self.team.member(role)), command)
            .await
    }

    async fn create(&self, client: &str, days_away: u64) -> Result<PortfolioId> {
        let portfolio = PortfolioId::from_uuid(demo_id(client));
        let today = self
            .service
            .config()
            .calendar
            .today(self.service.clock().now());
        let command = Command::CreatePortfolio {
            portfolio_id: portfolio,
            client: ClientName::parse(client)?,
            team: self.team,
            cadence: Cadence::new(1, CadenceUnit::Months)?,
            refresh_date: today + Days::new(days_away),
        };
        self.send(portfolio, Actor::admin(self.admin), command)
            .await?;
        Ok(portfolio)
    }

    /// Requested, with `count` tickets and the first `ready` of them through QA.
    async fn ticketed(
        &self,
        portfolio: PortfolioId,
        count: u32,
        ready: usize,
    ) -> Result<Vec<TicketId>> {
        let note = NoteText::parse(
            "Client sent 6 new lifestyle photos (shared drive /spring). Keep the tagline; softer colours; promote the 20% offer.",
        )?;
        self.by(
            portfolio,
            Role::AccountManager,
            Command::RequestRefresh { note: Some(note) },
        )
        .await?;
        let first = TicketId::from_uuid(Uuid::now_v7());
        let folder = FolderName::parse("Spring Refresh")?;
        self.by(
            portfolio,
            Role::SocialAdSpecialist,
            Command::CreateTicket {
                ticket_id: first,
                title: TicketTitle::parse("Feed 1080x1080, offer")?,
                folder,
                deliverables: DeliverableCount::new(count)?,
            },
        )
        .await?;
        let mut tickets = vec![first];
        for n in 2..=count {
            let ticket_id = TicketId::from_uuid(Uuid::now_v7());
            let title = TicketTitle::parse(&format!("Story 1080x1920, variant {n}"))?;
            self.by(
                portfolio,
                Role::SocialAdSpecialist,
                Command::CloneTicket {
                    ticket_id,
                    source: first,
                    title,
                    folder: None,
                    deliverables: None,
                },
            )
            .await?;
            tickets.push(ticket_id);
        }
        for ticket_id in tickets.iter().take(ready).copied() {
            self.by(
                portfolio,
                Role::Copywriter,
                Command::SubmitCopy { ticket_id },
            )
            .await?;
            self.by(
                portfolio,
                Role::Designer,
                Command::SubmitGraphics { ticket_id },
            )
            .await?;
            self.by(
                portfolio,
                Role::TeamLead,
                Command::ApproveCopy { ticket_id },
            )
            .await?;
            self.by(
                portfolio,
                Role::TeamLead,
                Command::ApproveGraphics { ticket_id },
            )
            .await?;
        }
        Ok(tickets)
    }
}

/// Refuses a demo anyone on the network could use (its passwords and tokens are printed, and its Admin's
/// is as good as any), or one that would write made-up people and clients into a
/// PostgreSQL database (most likely a real one); `--force` skips this.
pub fn refuse_unless_private(database_url: &str, listen: std::net::SocketAddr) -> Result<()> {
    if !listen.ip().is_loopback() {
        anyhow::bail!(
            "--demo prints working passwords and tokens, so it listens on a loopback address only, not {listen}; \
             add --force to listen there anyway"
        );
    }
    if !database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "--demo writes made-up people and clients, so it runs on SQLite only; \
             add --force to write them into this PostgreSQL database anyway"
        );
    }
    Ok(())
}

/// Loads the demo unless it is already there, and prints how to look around.
pub async fn load(core: &Core, listen: std::net::SocketAddr) -> Result<()> {
    let first_client = PortfolioId::from_uuid(demo_id("Northwind Outfitters"));
    let already = core.service.portfolio(first_client).await?.is_some();
    let mut logins = Vec::new();
    let mut ids = Vec::new();
    for (key, name, email) in PEOPLE {
        let login = crate::users::demo_user(core, key, name, email, key == "ava").await?;
        ids.push(login.id);
        logins.push((key, name, email, login));
    }
    if !already {
        let demo = Demo {
            service: &core.service,
            admin: ids[0],
            team: Team {
                account_manager: ids[1],
                social_ad_specialist: ids[2],
                copywriter: ids[3],
                designer: ids[4],
                team_lead: ids[5],
            },
        };
        // Kicked off: the AM should call the client.
        demo.create("Northwind Outfitters", 10).await?;
        // Requested early: tickets exist, the creative team is at work.
        let bakery = demo.create("Bluebird Bakery", 3).await?;
        demo.ticketed(bakery, 3, 1).await?;
        // The whole Ad Set is ready: the AM shares it with the client.
        let cedar = demo.create("Cedar & Pine Furniture", 2).await?;
        demo.ticketed(cedar, 2, 2).await?;
    }
    crate::ops::catch_up(core).await?;
    println!(
        "\nFreshet demo: a team and three clients. Passwords and tokens are new on every start."
    );
    println!("\nSign in at http://{listen}/app/sign-in as any of them:\n");
    for (_, name, email, login) in &logins {
        println!("  {name:<28} {email:<22} {}", login.password);
    }
    println!("\nOr use the API: paste into a shell to follow the README's walkthrough:\n");
    println!("export FRESHET=http://{listen}");
    for (key, _, _, login) in &logins {
        println!("export {}={}", key.to_uppercase(), login.token);
    }
    for (variable, client) in [
        ("NORTHWIND", "Northwind Outfitters"),
        ("BAKERY", "Bluebird Bakery"),
        ("CEDAR", "Cedar & Pine Furniture"),
    ] {
        println!("export {variable}={}", demo_id(client));
    }
    println!(
        "\nAmy's inbox:  curl -s -H \"Authorization: Bearer $AMY\" \"$FRESHET/me/inbox?open=true\""
    );
    println!("Every endpoint: http://{listen}/docs\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_runs_on_loopback_and_sqlite_only() {
        let sqlite = "sqlite://freshet-data/freshet.db";
        let loopback = "127.0.0.1:8080".parse().unwrap();
        let anywhere = "0.0.0.0:8080".parse().unwrap();
        let v6_loopback = "[::1]:8080".parse().unwrap();
        assert!(refuse_unless_private(sqlite, loopback).is_ok());
        assert!(refuse_unless_private(sqlite, v6_loopback).is_ok());
        assert!(refuse_unless_private(sqlite, anywhere).is_err());
        assert!(refuse_unless_private("postgres://db/freshet", loopback).is_err());
    }
}
