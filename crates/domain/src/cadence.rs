//! How often a portfolio refreshes (R1), and the schedule of its refresh dates.

use std::fmt;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::InvalidValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CadenceUnit {
    Days,
    Weeks,
    Months,
}

/// Every N days, weeks or months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawCadence", into = "RawCadence")]
pub struct Cadence {
    every: u16,
    unit: CadenceUnit,
}

#[derive(Serialize, Deserialize)]
struct RawCadence {
    every: u16,
    unit: CadenceUnit,
}

impl Cadence {
    /// At most a little over five years between refreshes, whichever the unit.
    const MAX_DAYS: u16 = 2_000;
    const MAX_WEEKS: u16 = 260;
    const MAX_MONTHS: u16 = 60;

    pub fn new(every: u16, unit: CadenceUnit) -> Result<Self, InvalidValue> {
        let max = match unit {
            CadenceUnit::Days => Self::MAX_DAYS,
            CadenceUnit::Weeks => Self::MAX_WEEKS,
            CadenceUnit::Months => Self::MAX_MONTHS,
        };
        if every == 0 || every > max {
            return Err(InvalidValue::Cadence { every, max });
        }
        Ok(Self { every, unit })
    }

    pub fn every(&self) -> u16 {
        self.every
    }

    pub fn unit(&self) -> CadenceUnit {
        self.unit
    }

    /// `date` moved forward by `periods` cadences. Months clamp to the month's end
    /// (Jan 31 + 1 month = Feb 28 or 29). `None` only past chrono's last representable date.
    pub fn advance(&self, date: NaiveDate, periods: u32) -> Option<NaiveDate> {
        let steps = u64::from(self.every) * u64::from(periods);
        match self.unit {
            CadenceUnit::Days => date.checked_add_days(Days::new(steps)),
            CadenceUnit::Weeks => date.checked_add_days(Days::new(steps * 7)),
            CadenceUnit::Months => date.checked_add_months(Months::new(u32::try_from(steps).ok()?)),
        }
    }
}

impl TryFrom<RawCadence> for Cadence {
    type Error = InvalidValue;

    fn try_from(raw: RawCadence) -> Result<Self, Self::Error> {
        Self::new(raw.every, raw.unit)
    }
}

impl From<Cadence> for RawCadence {
    fn from(cadence: Cadence) -> Self {
        Self {
            every: cadence.every,
            unit: cadence.unit,
        }
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.unit, self.every) {
            (CadenceUnit::Days, 1) => "day",
            (CadenceUnit::Days, _) => "days",
            (CadenceUnit::Weeks, 1) => "week",
            (CadenceUnit::Weeks, _) => "weeks",
            (CadenceUnit::Months, 1) => "month",
            (CadenceUnit::Months, _) => "months",
        };
        write!(f, "every {} {unit}", self.every)
    }
}

/// A portfolio's refresh dates: the date the Admin set (the anchor) moved forward by the
/// cadence once per closed cycle. Counting from the anchor rather than from the previous
/// date keeps a month-end client on the month's end: Jan 31, Feb 28, Mar 31, not Mar 28.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub cadence: Cadence,
    pub anchor: NaiveDate,
    pub periods: u32,
}

impl Schedule {
    pub fn starting(cadence: Cadence, anchor: NaiveDate) -> Self {
        Self {
            cadence,
            anchor,
            periods: 0,
        }
    }

    /// The current Creative Refresh Date.
    pub fn refresh_date(&self) -> NaiveDate {
        self.cadence
            .advance(self.anchor, self.periods)
            .unwrap_or(NaiveDate::MAX)
    }

    /// The refresh date after the current one: the current one plus the cadence.
    pub fn next_refresh_date(&self) -> NaiveDate {
        self.advanced().refresh_date()
    }

    pub fn advanced(&self) -> Self {
        Self {
            periods: self.periods.saturating_add(1),
            ..*self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    // R1
    #[test]
    fn r1_month_arithmetic_clamps_to_the_months_end() {
        let monthly = Cadence::new(1, CadenceUnit::Months).expect("valid cadence");
        assert_eq!(
            monthly.advance(date(2027, 1, 31), 1),
            Some(date(2027, 2, 28))
        );
        assert_eq!(
            monthly.advance(date(2028, 1, 31), 1),
            Some(date(2028, 2, 29))
        );
        assert_eq!(
            monthly.advance(date(2027, 3, 31), 1),
            Some(date(2027, 4, 30))
        );
    }

    // R1
    #[test]
    fn r1_a_month_end_schedule_stays_on_the_months_end() {
        let monthly = Cadence::new(1, CadenceUnit::Months).expect("valid cadence");
        let mut schedule = Schedule::starting(monthly, date(2027, 1, 31));
        let mut dates = vec![schedule.refresh_date()];
        for _ in 0..3 {
            schedule = schedule.advanced();
            dates.push(schedule.refresh_date());
        }
        assert_eq!(
            dates,
            [
                date(2027, 1, 31),
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30)
            ]
        );
    }

    // R1
    #[test]
    fn r1_cadences_count_days_weeks_and_months() {
        let start = date(2027, 3, 1);
        let days = Cadence::new(10, CadenceUnit::Days).expect("valid cadence");
        let weeks = Cadence::new(2, CadenceUnit::Weeks).expect("valid cadence");
        let quarters = Cadence::new(3, CadenceUnit::Months).expect("valid cadence");
        assert_eq!(days.advance(start, 1), Some(date(2027, 3, 11)));
        assert_eq!(weeks.advance(start, 2), Some(date(2027, 3, 29)));
        assert_eq!(quarters.advance(start, 1), Some(date(2027, 6, 1)));
    }

    // R1
    #[test]
    fn r1_a_cadence_of_zero_or_absurd_length_is_refused() {
        assert!(Cadence::new(0, CadenceUnit::Weeks).is_err());
        assert!(Cadence::new(61, CadenceUnit::Months).is_err());
        assert!(Cadence::new(60, CadenceUnit::Months).is_ok());
    }
}
