//! The values command bodies carry (names, Notes, links, cadences, dates, teams), with the
//! schemas the document gives them: a value the document allows is one the server accepts,
//! and the other way round.

use chrono::NaiveDate;
use freshet_domain::{Cadence, CadenceUnit, Team, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// Whole JSON numbers as unsigned integers: `10` and `10.0` alike (both are JSON Schema's
/// `integer`), so a body the document allows is never refused for its number's spelling.
pub(crate) mod whole {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    fn number<'de, D: Deserializer<'de>>(number: serde_json::Number) -> Result<u64, D::Error> {
        if let Some(value) = number.as_u64() {
            return Ok(value);
        }
        match number.as_f64() {
            Some(value) if value.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&value) => {
                Ok(value as u64)
            }
            _ => Err(D::Error::custom(format!(
                "{number} is not a whole number of at least 0"
            ))),
        }
    }

    fn fit<'de, D: Deserializer<'de>, T: TryFrom<u64>>(value: u64) -> Result<T, D::Error> {
        T::try_from(value).map_err(|_| D::Error::custom(format!("{value} is too large")))
    }

    pub fn u16<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
        fit::<D, u16>(number::<D>(serde_json::Number::deserialize(deserializer)?)?)
    }

    pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        fit::<D, u32>(number::<D>(serde_json::Number::deserialize(deserializer)?)?)
    }

    pub fn option_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
        Option::<serde_json::Number>::deserialize(deserializer)?
            .map(|n| fit::<D, u32>(number::<D>(n)?))
            .transpose()
    }
}

// What the domain's value types accept, for the document (`value_type = ...` on a field): a
// string the document allows is one the server accepts, and the other way round.

/// A string schema with a length range and a pattern.
fn text_schema(
    description: &str,
    lengths: (usize, usize),
    pattern: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
        .min_length(Some(lengths.0))
        .max_length(Some(lengths.1))
        .pattern(Some(pattern))
        .into()
}

macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $description:literal, $lengths:expr, $pattern:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                text_schema($description, $lengths, $pattern)
            }
        }

        impl ToSchema for $name {}
    };
}

text_schema!(
    /// A name, title or Deliverable Folder Name.
    SingleLineText,
    "1 to 200 characters on one line, no control or format characters (bidi overrides, zero-width spaces), not only spaces (surrounding spaces are trimmed).",
    (1, 200),
    r"^[^\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
);

text_schema!(
    /// The text of a Note.
    NoteTextBody,
    "1 to 20,000 characters; lines and tabs allowed, no other control or format characters, not only spaces.",
    (1, 20_000),
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*[^\s\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
);

text_schema!(
    /// The Most Recent Ad Lab Link.
    LinkBody,
    "An http(s) address without spaces or control characters, at most 2,000 characters.",
    (8, 2_000),
    r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$"
);

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub account_manager: Uuid,
    pub social_ad_specialist: Uuid,
    pub copywriter: Uuid,
    pub designer: Uuid,
    pub team_lead: Uuid,
}

impl From<TeamBody> for Team {
    fn from(body: TeamBody) -> Self {
        Team {
            account_manager: UserId::from_uuid(body.account_manager),
            social_ad_specialist: UserId::from_uuid(body.social_ad_specialist),
            copywriter: UserId::from_uuid(body.copywriter),
            designer: UserId::from_uuid(body.designer),
            team_lead: UserId::from_uuid(body.team_lead),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CadenceUnitBody {
    Days,
    Weeks,
    Months,
}

impl From<CadenceUnitBody> for CadenceUnit {
    fn from(unit: CadenceUnitBody) -> Self {
        match unit {
            CadenceUnitBody::Days => CadenceUnit::Days,
            CadenceUnitBody::Weeks => CadenceUnit::Weeks,
            CadenceUnitBody::Months => CadenceUnit::Months,
        }
    }
}

/// Every `every` days, weeks or months (R1).
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CadenceBody {
    #[serde(deserialize_with = "whole::u16")]
    pub every: u16,
    pub unit: CadenceUnitBody,
}

/// The largest `every` of each unit, as `freshet_domain::Cadence::new` accepts them.
pub(crate) const CADENCE_MAX: [(CadenceUnitBody, &str, u16); 3] = [
    (CadenceUnitBody::Days, "days", 2_000),
    (CadenceUnitBody::Weeks, "weeks", 260),
    (CadenceUnitBody::Months, "months", 60),
];

impl utoipa::PartialSchema for CadenceBody {
    /// One shape per unit, so the document bounds `every` exactly as the domain does.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            AdditionalProperties, ObjectBuilder, OneOfBuilder, SchemaType, Type,
        };
        let mut shapes = OneOfBuilder::new().description(Some(
            "Every `every` days (at most 2000), weeks (260) or months (60) (R1).",
        ));
        for (_, unit, max) in CADENCE_MAX {
            shapes = shapes.item(
                ObjectBuilder::new()
                    .property(
                        "every",
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::Integer))
                            .minimum(Some(1))
                            .maximum(Some(max)),
                    )
                    .property(
                        "unit",
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Type(Type::String))
                            .enum_values(Some([unit])),
                    )
                    .required("every")
                    .required("unit")
                    .additional_properties(Some(AdditionalProperties::FreeForm(false))),
            );
        }
        shapes.into()
    }
}

impl ToSchema for CadenceBody {}

impl CadenceBody {
    pub fn parse(self) -> Result<Cadence, ApiError> {
        Ok(Cadence::new(self.every, self.unit.into())?)
    }
}

/// Dates before 2000 or after 2200 are typing mistakes, not schedules.
pub(crate) fn sane_date(date: NaiveDate, what: &str) -> Result<NaiveDate, ApiError> {
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1);
    let latest = NaiveDate::from_ymd_opt(2200, 12, 31);
    match (earliest, latest) {
        (Some(earliest), Some(latest)) if date >= earliest && date <= latest => Ok(date),
        _ => Err(ApiError::malformed(
            "invalid-value",
            format!("the {what} {date} is not a plausible date (2000-01-01 to 2200-12-31)"),
        )),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[schema(value_type = NoteTextBody)]
    pub text: String,
}
