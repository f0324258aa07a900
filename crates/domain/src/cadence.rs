//! How often a portfolio refreshes (R1), and the schedule of its refresh dates.

use std::fmt;

use chrono::{Datelike, Days, Months, NaiveDate};
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
/// `month_day` is the day of the month the client is on: it outlives a re-anchoring on a
/// clamped date, so changing the cadence on Feb 28 keeps a client of the 31st on the 31st.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub cadence: Cadence,
    pub anchor: NaiveDate,
    pub periods: u32,
    pub month_day: u32,
}

impl Schedule {
    pub fn starting(cadence: Cadence, anchor: NaiveDate) -> Self {
        Self {
            cadence,
            anchor,
            periods: 0,
            month_day: anchor.day(),
        }
    }

    /// The schedule after an Admin set `cadence` and `refresh_date`. Keeping the current
    /// date (a cadence change) keeps the client's day of the month; a new date is a new day.
    pub fn rescheduled(&self, cadence: Cadence, refresh_date: NaiveDate) -> Self {
        let month_day = if refresh_date == self.refresh_date() {
            self.month_day
        } else {
            refresh_date.day()
        };
        Self {
            cadence,
            anchor: refresh_date,
            periods: 0,
            month_day,
        }
    }

    /// The date `periods` cadences after the anchor.
    fn date_at(&self, periods: u32) -> Option<NaiveDate> {
        if self.cadence.unit != CadenceUnit::Months {
            return self.cadence.advance(self.anchor, periods);
        }
        let months = u32::try_from(u64::from(self.cadence.every) * u64::from(periods)).ok()?;
        let first_of_month = self
            .anchor
            .with_day(1)?
            .checked_add_months(Months::new(months))?;
        let last_day = first_of_month
            .checked_add_months(Months::new(1))?
            .pred_opt()?
            .day();
        first_of_month.with_day(self.month_day.min(last_day))
    }

    /// The current Creative Refresh Date.
    pub fn refresh_date(&self) -> NaiveDate {
        self.date_at(self.periods).unwrap_or(NaiveDate::MAX)
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

    /// The schedule a cycle closing on `closed_on` leads to: the current date plus the
    /// cadence (R4, R19), and further whole cadences while that date is not after the day
    /// of the close, since a refresh date in the past can no longer be met.
    pub fn after_close(&self, closed_on: Option<NaiveDate>) -> Self {
        let mut next = self.advanced();
        if let Some(closed_on) = closed_on {
            while next.refresh_date() <= closed_on && next.refresh_date() != NaiveDate::MAX {
                next = next.advanced();
            }
        }
        next
    }

    /// The first date of the schedule after `day`, keeping the anchor (a resumed client).
    pub fn first_after(&self, day: NaiveDate) -> Self {
        let mut next = *self;
        while next.refresh_date() <= day && next.refresh_date() != NaiveDate::MAX {
            next = next.advanced();
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_agency::date;

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

    fn monthly(every: u16) -> Cadence {
        Cadence::new(every, CadenceUnit::Months).expect("valid cadence")
    }

    fn dates(mut schedule: Schedule, n: usize) -> Vec<NaiveDate> {
        let mut dates = Vec::new();
        for _ in 0..n {
            dates.push(schedule.refresh_date());
            schedule = schedule.advanced();
        }
        dates
    }

    // R1
    #[test]
    fn r1_a_client_on_the_29th_30th_or_31st_keeps_their_day_where_the_month_has_it() {
        for (day, expected) in [
            (
                29,
                [
                    date(2027, 1, 29),
                    date(2027, 2, 28),
                    date(2027, 3, 29),
                    date(2027, 4, 29),
                ],
            ),
            (
                30,
                [
                    date(2027, 1, 30),
                    date(2027, 2, 28),
                    date(2027, 3, 30),
                    date(2027, 4, 30),
                ],
            ),
            (
                31,
                [
                    date(2027, 1, 31),
                    date(2027, 2, 28),
                    date(2027, 3, 31),
                    date(2027, 4, 30),
                ],
            ),
        ] {
            let schedule = Schedule::starting(monthly(1), date(2027, 1, day));
            assert_eq!(dates(schedule, 4), expected, "a client on the {day}th");
        }
    }

    // R1
    #[test]
    fn r1_a_leap_day_client_refreshes_on_feb_28_in_common_years_and_feb_29_in_leap_years() {
        let yearly = Schedule::starting(monthly(12), date(2028, 2, 29));
        assert_eq!(
            dates(yearly, 5),
            [
                date(2028, 2, 29),
                date(2029, 2, 28),
                date(2030, 2, 28),
                date(2031, 2, 28),
                date(2032, 2, 29)
            ]
        );
        let monthly_from_jan_29 = Schedule::starting(monthly(1), date(2028, 1, 29));
        assert_eq!(
            dates(monthly_from_jan_29, 3),
            [date(2028, 1, 29), date(2028, 2, 29), date(2028, 3, 29)]
        );
    }

    // R1
    #[test]
    fn r1_changing_the_cadence_on_a_clamped_feb_28_keeps_a_client_of_the_31st_on_the_31st() {
        let on_feb_28 = Schedule::starting(monthly(1), date(2027, 1, 31)).advanced();
        assert_eq!(on_feb_28.refresh_date(), date(2027, 2, 28));
        let every_two_months = on_feb_28.rescheduled(monthly(2), date(2027, 2, 28));
        assert_eq!(
            dates(every_two_months, 4),
            [
                date(2027, 2, 28),
                date(2027, 4, 30),
                date(2027, 6, 30),
                date(2027, 8, 31)
            ]
        );
        // A date the Admin chooses is the client's new day.
        let moved = on_feb_28.rescheduled(monthly(1), date(2027, 3, 10));
        assert_eq!(dates(moved, 2), [date(2027, 3, 10), date(2027, 4, 10)]);
    }

    // R19
    #[test]
    fn r19_a_late_close_moves_to_the_first_date_of_the_schedule_after_the_close() {
        let weekly = Cadence::new(1, CadenceUnit::Weeks).expect("valid cadence");
        let schedule = Schedule::starting(weekly, date(2027, 3, 1));
        // On time: the current date plus the cadence.
        assert_eq!(
            schedule.after_close(Some(date(2027, 3, 3))).refresh_date(),
            date(2027, 3, 8)
        );
        // Closed on Mar 20, after Mar 8 and Mar 15 passed: the next date is Mar 22.
        assert_eq!(
            schedule.after_close(Some(date(2027, 3, 20))).refresh_date(),
            date(2027, 3, 22)
        );
        // Closed on a date of the schedule: that date is gone, the next one counts.
        assert_eq!(
            schedule.after_close(Some(date(2027, 3, 15))).refresh_date(),
            date(2027, 3, 22)
        );
    }
}
