//! The test team: one portfolio team of five people, users 1 to 5 in the order of `Team`.

use chrono::NaiveDate;
use freshet_domain::{Team, UserId};
use uuid::Uuid;

pub const AM: u128 = 1;
pub const SAS: u128 = 2;
pub const COPYWRITER: u128 = 3;
pub const DESIGNER: u128 = 4;
pub const TEAM_LEAD: u128 = 5;

/// The five roles of a team, in the order of `Team`'s fields.
pub const ROLES: [u128; 5] = [AM, SAS, COPYWRITER, DESIGNER, TEAM_LEAD];

/// The Admin who creates the simulations' portfolios and changes their teams.
pub const ADMIN: UserId = UserId::from_uuid(Uuid::from_u128(0xad));

/// User `n`: a stable id, so a test can name a person by a small number.
pub fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

/// The team of users 1 to 5: `AM`, `SAS`, `COPYWRITER`, `DESIGNER`, `TEAM_LEAD`.
pub fn team() -> Team {
    team_of(user)
}

/// A team whose member of each role (`AM` ... `TEAM_LEAD`) is `person(role)`.
pub fn team_of(mut person: impl FnMut(u128) -> UserId) -> Team {
    Team {
        account_manager: person(AM),
        social_ad_specialist: person(SAS),
        copywriter: person(COPYWRITER),
        designer: person(DESIGNER),
        team_lead: person(TEAM_LEAD),
    }
}

/// A calendar date, for dates written in a test.
///
/// # Panics
/// On a date that does not exist: a mistake in the test.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("{y}-{m}-{d} is not a date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_team_is_users_one_to_five_in_role_order() {
        let team = team();
        assert_eq!(team.account_manager, user(1));
        assert_eq!(team.social_ad_specialist, user(2));
        assert_eq!(team.copywriter, user(3));
        assert_eq!(team.designer, user(4));
        assert_eq!(team.team_lead, user(5));
        assert_eq!(date(2027, 3, 15).to_string(), "2027-03-15");
    }
}
