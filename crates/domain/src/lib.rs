#![doc = include_str!("../README.md")]

pub mod cadence;
pub mod calendar;
pub mod command;
mod decide;
pub mod error;
pub mod event;
pub mod ids;
pub mod permissions;
pub mod preview;
pub mod state;
pub mod status;
pub mod team;
pub mod values;
pub mod view;
pub mod work;

pub use cadence::{Cadence, CadenceUnit, Schedule};
pub use calendar::AgencyCalendar;
pub use command::{Command, Context};
pub use decide::{decide, next_trigger_date};
pub use error::{DomainError, InvalidValue};
pub use event::{DecodeError, EncodedEvent, Event, ImplementationPath};
pub use ids::{EmailId, NoteId, PortfolioId, TaskId, TicketId, UserId};
pub use state::{AdSet, Cycle, HistoryError, Lifecycle, Note, Portfolio, Ticket};
pub use status::{Approval, RefreshStatus, RevisionKind, TicketStatus};
pub use team::{Actor, Role, Team};
pub use values::{AdLabLink, ClientName, DeliverableCount, FolderName, NoteText, TicketTitle};
pub use work::{
    Deadlines, Email, EmailDetails, EmailKind, StallGate, Task, TaskKind, TicketSummary,
};
