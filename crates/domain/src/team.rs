//! Who does what: the roles of the process, a portfolio's team, and the acting person.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// A role a person holds on one portfolio's team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "am")]
    AccountManager,
    #[serde(rename = "sas")]
    SocialAdSpecialist,
    #[serde(rename = "copywriter")]
    Copywriter,
    #[serde(rename = "designer")]
    Designer,
    #[serde(rename = "team_lead")]
    TeamLead,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::AccountManager,
        Role::SocialAdSpecialist,
        Role::Copywriter,
        Role::Designer,
        Role::TeamLead,
    ];

    /// The short name used on the wire and in URLs (`am`, `sas`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Role::AccountManager => "am",
            Role::SocialAdSpecialist => "sas",
            Role::Copywriter => "copywriter",
            Role::Designer => "designer",
            Role::TeamLead => "team_lead",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.code() == code)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::AccountManager => "Account Manager",
            Role::SocialAdSpecialist => "Social Ad Specialist",
            Role::Copywriter => "Copywriter",
            Role::Designer => "Designer",
            Role::TeamLead => "Team Lead",
        })
    }
}

/// The people a portfolio names for each role. One person may fill several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub account_manager: UserId,
    pub social_ad_specialist: UserId,
    pub copywriter: UserId,
    pub designer: UserId,
    pub team_lead: UserId,
}

impl Team {
    pub fn member(&self, role: Role) -> UserId {
        match role {
            Role::AccountManager => self.account_manager,
            Role::SocialAdSpecialist => self.social_ad_specialist,
            Role::Copywriter => self.copywriter,
            Role::Designer => self.designer,
            Role::TeamLead => self.team_lead,
        }
    }

    pub fn holds(&self, user: UserId, role: Role) -> bool {
        self.member(role) == user
    }

    pub fn roles_of(&self, user: UserId) -> impl Iterator<Item = Role> + '_ {
        Role::ALL
            .into_iter()
            .filter(move |role| self.holds(user, *role))
    }

    pub fn includes(&self, user: UserId) -> bool {
        self.roles_of(user).next().is_some()
    }
}

/// Who issues a command: a person (possibly an Admin) or Freshet's own automation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    User { id: UserId, admin: bool },
    System,
}

impl Actor {
    pub fn user(id: UserId) -> Self {
        Actor::User { id, admin: false }
    }

    pub fn admin(id: UserId) -> Self {
        Actor::User { id, admin: true }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User { id, .. } => Some(*id),
            Actor::System => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Actor::User { admin: true, .. })
    }
}
