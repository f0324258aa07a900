//! R3: "today" is the calendar date in the agency's configured time zone. The caller owns
//! the clock; this turns its instant into the date every decision is made on.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgencyCalendar {
    time_zone: Tz,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone \"{0}\": use an IANA name such as America/New_York")]
pub struct UnknownTimeZone(pub String);

impl AgencyCalendar {
    pub fn new(time_zone: Tz) -> Self {
        Self { time_zone }
    }

    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        Tz::from_str(name.trim())
            .map(Self::new)
            .map_err(|_| UnknownTimeZone(name.to_owned()))
    }

    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// Noon on `date` in the agency's time zone: an instant that is surely on that date.
    pub fn noon_on(&self, date: NaiveDate) -> DateTime<Utc> {
        let noon = date.and_hms_opt(12, 0, 0).unwrap_or_default();
        noon.and_local_timezone(self.time_zone)
            .earliest()
            .map_or_else(|| noon.and_utc(), |local| local.with_timezone(&Utc))
    }

    /// The agency's calendar date at `instant`.
    pub fn today(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.time_zone).date_naive()
    }
}

impl Default for AgencyCalendar {
    fn default() -> Self {
        Self::new(Tz::UTC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid instant")
            .with_timezone(&Utc)
    }

    // R3
    #[test]
    fn r3_today_is_the_calendar_date_in_the_agencys_time_zone() {
        let new_york = AgencyCalendar::parse("America/New_York").expect("known zone");
        let sydney = AgencyCalendar::parse("Australia/Sydney").expect("known zone");
        let at = instant("2027-03-15T02:00:00Z");
        assert_eq!(
            new_york.today(at),
            NaiveDate::from_ymd_opt(2027, 3, 14).expect("date")
        );
        assert_eq!(
            sydney.today(at),
            NaiveDate::from_ymd_opt(2027, 3, 15).expect("date")
        );
        assert_eq!(
            AgencyCalendar::default().today(at),
            NaiveDate::from_ymd_opt(2027, 3, 15).expect("date")
        );
    }

    // R3
    #[test]
    fn r3_noon_on_a_date_is_that_date_in_the_agencys_zone() {
        for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/London"] {
            let calendar = AgencyCalendar::parse(zone).expect("known zone");
            let date = NaiveDate::from_ymd_opt(2027, 3, 28).expect("date");
            assert_eq!(calendar.today(calendar.noon_on(date)), date, "{zone}");
        }
    }

    // R3
    #[test]
    fn r3_an_unknown_time_zone_is_a_clear_error() {
        let error = AgencyCalendar::parse("Mars/Olympus").expect_err("no such zone");
        assert!(error.to_string().contains("Mars/Olympus"));
    }
}
