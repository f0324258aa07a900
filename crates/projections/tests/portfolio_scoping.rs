//! Ids a client chooses are unique within one portfolio only (the domain checks no more), so
//! every read model keys them within their portfolio: another portfolio reusing an id never
//! touches the first one's rows, on both backends.
#![allow(clippy::unwrap_used)]

mod support;

use freshet_domain::*;
use freshet_projections::{board, inbox};
use freshet_store::testing::TestDatabase;
use support::*;
use uuid::Uuid;

freshet_store::on_both_backends!(
    a_ticket_id_reused_by_another_portfolio_leaves_the_first_board_alone,
    one_batch_holding_one_ticket_id_in_two_portfolios_builds_both_boards,
);

/// The one ticket id both portfolios use, as a client choosing ids might.
const SHARED: TicketId = TicketId::from_uuid(Uuid::from_u128(0xa1));

/// A portfolio with its refresh requested, ready for tickets.
async fn requested(world: &mut World, client: &str) -> PortfolioId {
    let p = world.create(client, date(2027, 3, 10)).await;
    let note = NoteText::parse("Spring assets in the drive").unwrap();
    let requested = world
        .send(
            p,
            Actor::user(user(AM)),
            Command::RequestRefresh { note: Some(note) },
        )
        .await;
    assert!(requested);
    p
}

async fn create_shared_ticket(world: &mut World, p: PortfolioId, title: &str) {
    let created = world
        .send(
            p,
            Actor::user(user(SAS)),
            Command::CreateTicket {
                ticket_id: SHARED,
                title: TicketTitle::parse(title).unwrap(),
                folder: FolderName::parse(title).unwrap(),
                deliverables: DeliverableCount::new(1).unwrap(),
            },
        )
        .await;
    assert!(created, "the domain checks ticket ids within one portfolio");
}

/// `p`'s board and its inbox rows on the shared ticket: (titles, portfolio ids, folders).
async fn rows_of(world: &World, p: PortfolioId) -> (Vec<String>, Vec<String>, Vec<String>) {
    let tickets = board::tickets(world.database(), p, None).await.unwrap();
    let filter = inbox::InboxFilter {
        portfolio: Some(p),
        limit: 100,
        ..Default::default()
    };
    let tasks = inbox::list(world.database(), &filter).await.unwrap();
    let task_titles = tasks
        .iter()
        .filter(|t| t.ticket_id.as_deref() == Some(SHARED.to_string().as_str()))
        .map(|t| t.ticket_title.clone().unwrap());
    let titles = tickets
        .iter()
        .map(|t| t.title.clone())
        .chain(task_titles)
        .collect();
    let portfolios = tickets.iter().map(|t| t.portfolio_id.clone()).collect();
    let folders = tickets.iter().map(|t| t.folder.clone()).collect();
    (titles, portfolios, folders)
}

/// Each portfolio shows its own ticket, twice in the inbox (R8: copy and design tasks).
async fn assert_each_board_is_its_own(world: &World, first: PortfolioId, second: PortfolioId) {
    for (p, title) in [(first, "Feed North"), (second, "Story South")] {
        let (titles, portfolios, folders) = rows_of(world, p).await;
        assert_eq!(titles, vec![title; 3], "portfolio {p}");
        assert_eq!(portfolios, vec![p.to_string()], "portfolio {p}");
        assert_eq!(folders, vec![title.to_owned()], "portfolio {p}");
    }
}

async fn a_ticket_id_reused_by_another_portfolio_leaves_the_first_board_alone(db: TestDatabase) {
    let mut world = World::new(db).await;
    let first = requested(&mut world, "North").await;
    let second = requested(&mut world, "South").await;
    create_shared_ticket(&mut world, first, "Feed North").await;
    caught_up(&world).await;
    create_shared_ticket(&mut world, second, "Story South").await;
    caught_up(&world).await;
    assert_each_board_is_its_own(&world, first, second).await;
}

/// On PostgreSQL a multi-row upsert touching one key twice fails the whole batch ("ON
/// CONFLICT DO UPDATE command cannot affect row a second time"), which stopped the board.
async fn one_batch_holding_one_ticket_id_in_two_portfolios_builds_both_boards(db: TestDatabase) {
    let mut world = World::new(db).await;
    let first = requested(&mut world, "North").await;
    let second = requested(&mut world, "South").await;
    create_shared_ticket(&mut world, first, "Feed North").await;
    create_shared_ticket(&mut world, second, "Story South").await;
    caught_up(&world).await;
    assert_each_board_is_its_own(&world, first, second).await;
}
