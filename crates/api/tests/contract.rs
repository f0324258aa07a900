//! The API document is exact: a valid OpenAPI 3.1 document whose every `$ref` resolves, and
//! whose bounds are the server's (what it allows is accepted, what it forbids is refused).
//! Each case here was found by the Schemathesis run of `.ci/contract.sh`.
#![allow(clippy::unwrap_used)]

use freshet_domain::{AdLabLink, Cadence, CadenceUnit, ClientName, NoteText};
use freshet_store::testing::TestDatabase;
use freshet_testkit::{App, date};
use regex::Regex;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The served document, as JSON.
async fn document(app: &App) -> Value {
    let served = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(served.status, StatusCode::OK);
    served.body
}

/// The schema of parameter `name` of `method path`.
fn parameter<'a>(document: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
    document["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{method} {path} documents no parameter {name}"))
}

/// A component schema by name.
fn component<'a>(document: &'a Value, name: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][name];
    assert!(!schema.is_null(), "no component schema {name}");
    schema
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

// The document is valid OpenAPI 3.1 (parsed and checked by the `oas3` crate, which refuses
// a malformed document), and every reference in it resolves: before, the calendar's
// `cadence_unit` named `CadenceUnitBody`, which no component defined.
async fn the_document_is_valid_openapi_3_1_and_every_reference_resolves(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let served = document(&app).await;
    let spec = oas3::from_json(served.to_string()).expect("a valid OpenAPI 3.1 document");
    let version = spec.validate_version().unwrap();
    assert_eq!((version.major, version.minor), (3, 1));
    let mut operations = 0;
    for (path, method, operation) in spec.operations() {
        operations += 1;
        operation
            .parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: parameters: {e}"));
        operation
            .request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: request body: {e}"));
        assert!(
            !operation.responses(&spec).is_empty(),
            "{method} {path} documents no response"
        );
    }
    assert!(operations >= 40, "{operations} operations");
    let mut found = Vec::new();
    refs(&served, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{target} is not local"));
        assert!(
            served.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
}

// Found by Schemathesis: `limit=0` was allowed by the document and refused with 400; an
// offset above 2^31 was refused by the document (int32) and accepted by the server.
async fn page_parameters_are_bounded_as_the_server_bounds_them(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let document = document(&app).await;
    let max = freshet_api::ApiOptions::default().max_page_size;
    for path in ["/inbox", "/me/inbox", "/portfolios", "/outbox"] {
        let limit = parameter(&document, "get", path, "limit");
        assert_eq!(
            (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
            (Some(1), Some(u64::from(max))),
            "{path}"
        );
        let offset = parameter(&document, "get", path, "offset");
        assert_eq!(
            offset["maximum"].as_u64(),
            Some(u64::from(u32::MAX)),
            "{path}"
        );
        assert_ne!(offset["format"], "int32", "{path}");
        for (query, expected) in [
            ("limit=1".to_owned(), StatusCode::OK),
            (format!("limit={max}"), StatusCode::OK),
            ("limit=0".to_owned(), StatusCode::BAD_REQUEST),
            (format!("limit={}", max + 1), StatusCode::BAD_REQUEST),
            (format!("offset={}", u32::MAX), StatusCode::OK),
        ] {
            let answer = app
                .call(
                    Method::GET,
                    &format!("{path}?{query}"),
                    Some(&app.admin),
                    None,
                )
                .await;
            assert_eq!(answer.status, expected, "{path}?{query}: {}", answer.body);
        }
    }
}

// Found by Schemathesis: optional headers were documented as `["string", "null"]` (it sent
// `If-Match: null`), and without their shape; `If-Match: +1` was taken for version 1.
async fn command_headers_are_documented_as_the_server_reads_them(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let document = document(&app).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    let path = "/portfolios/{id}/notes";
    let key = parameter(&document, "post", path, "Idempotency-Key");
    let if_match = parameter(&document, "post", path, "If-Match");
    for schema in [key, if_match] {
        assert_eq!(schema["type"], "string", "{schema}");
    }
    assert_eq!(
        (key["minLength"].as_u64(), key["maxLength"].as_u64()),
        (Some(1), Some(200))
    );
    let key_pattern = Regex::new(key["pattern"].as_str().unwrap()).unwrap();
    let tag_pattern = Regex::new(if_match["pattern"].as_str().unwrap()).unwrap();
    let long_key = "k".repeat(201);
    for (header, value) in [
        ("Idempotency-Key", "a"),
        ("Idempotency-Key", "a key with spaces"),
        ("Idempotency-Key", long_key.as_str()),
        ("If-Match", "\"1\""),
        ("If-Match", "W/\"1\""),
        ("If-Match", "1"),
        ("If-Match", "+1"),
        ("If-Match", "\"\""),
        ("If-Match", "null"),
    ] {
        let documented = match header {
            "Idempotency-Key" => key_pattern.is_match(value) && value.chars().count() <= 200,
            _ => tag_pattern.is_match(value),
        };
        let answer = app
            .call_with(
                Method::POST,
                &format!("/portfolios/{p}/notes"),
                Some(&app.am.token),
                Some(json!({"text": "x"})),
                &[(header, value)],
            )
            .await;
        let accepted = answer.problem_code() != "invalid-header";
        assert_eq!(
            accepted, documented,
            "{header}: {value}: {} {}",
            answer.status, answer.body
        );
    }
}

// Found by Schemathesis: the request body is documented as optional and nullable, and
// `null` was refused with 400.
async fn a_refresh_request_with_a_null_body_is_one_without_a_note(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/notes"),
        Some(json!({"text": "Brief"})),
    )
    .await;
    let answer = app
        .call(
            Method::POST,
            &format!("/portfolios/{p}/request"),
            Some(&app.am.token),
            Some(Value::Null),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

/// Whether `value` fits a string schema's lengths and pattern.
fn fits(schema: &Value, value: &str) -> bool {
    let chars = value.chars().count() as u64;
    let pattern = Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
    schema["minLength"].as_u64().is_none_or(|min| chars >= min)
        && schema["maxLength"].as_u64().is_none_or(|max| chars <= max)
        && pattern.is_match(value)
}

// Found by Schemathesis: names, titles, notes and links were plain strings in the document,
// so an empty or control-character name was "valid" and refused with 400. The document's
// schemas now accept exactly what the domain's value types accept.
async fn text_fields_are_documented_as_the_domain_parses_them(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let document = document(&app).await;
    let single = component(&document, "SingleLineText");
    let note = component(&document, "NoteTextBody");
    let link = component(&document, "LinkBody");
    let long = "n".repeat(201);
    let samples = [
        "",
        " ",
        "a",
        " a ",
        "Northwind & Co.",
        "a\tb",
        "a\nb",
        "a\u{7}b",
        "a\u{85}b",
        "é",
        "\u{a0}",
        &long,
    ];
    for sample in samples {
        assert_eq!(
            fits(single, sample),
            ClientName::parse(sample).is_ok(),
            "single line: {sample:?}"
        );
        assert_eq!(
            fits(note, sample),
            NoteText::parse(sample).is_ok(),
            "note: {sample:?}"
        );
    }
    for sample in [
        "https://adlab.example/x",
        "http://a",
        "http://",
        "ftp://a",
        "https://a b",
        "https://a\u{7}",
    ] {
        assert_eq!(
            fits(link, sample),
            AdLabLink::parse(sample).is_ok(),
            "link: {sample:?}"
        );
    }
    // A user's name is a single line too (checked by the API, not the domain).
    for sample in ["", "a\tb", "Ada", &long] {
        let answer = app
            .call(
                Method::POST,
                "/admin/users",
                Some(&app.admin),
                Some(json!({"name": sample, "email": format!("u{}@example.com", sample.len())})),
            )
            .await;
        assert_eq!(
            answer.status == StatusCode::CREATED,
            fits(single, sample),
            "name {sample:?}: {}",
            answer.body
        );
    }
}

// Found by Schemathesis: `every` was any u16, so 61 months was "valid" and refused with
// 400; dates before 2000 likewise. The cadence now has one shape per unit, with the
// domain's bound, and dates say their range.
async fn cadences_and_dates_are_bounded_as_the_domain_bounds_them(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let document = document(&app).await;
    let shapes = component(&document, "CadenceBody")["oneOf"]
        .as_array()
        .unwrap();
    assert_eq!(shapes.len(), 3);
    for shape in shapes {
        let unit = shape["properties"]["unit"]["enum"][0].as_str().unwrap();
        let max = u16::try_from(shape["properties"]["every"]["maximum"].as_u64().unwrap()).unwrap();
        assert_eq!(shape["properties"]["every"]["minimum"].as_u64(), Some(1));
        let unit = match unit {
            "days" => CadenceUnit::Days,
            "weeks" => CadenceUnit::Weeks,
            "months" => CadenceUnit::Months,
            other => panic!("unit {other}"),
        };
        assert!(Cadence::new(max, unit).is_ok(), "{unit:?} {max}");
        assert!(Cadence::new(max + 1, unit).is_err(), "{unit:?} {}", max + 1);
        assert!(Cadence::new(0, unit).is_err());
    }
    let date_pattern =
        component(&document, "CreatePortfolioBody")["properties"]["refresh_date"]["pattern"]
            .as_str()
            .unwrap();
    let date_pattern = Regex::new(date_pattern).unwrap();
    for (day, plausible) in [
        ("1999-12-31", false),
        ("2000-01-01", true),
        ("2200-12-31", true),
        ("2201-01-01", false),
    ] {
        assert_eq!(date_pattern.is_match(day), plausible, "{day}");
        let answer = app
            .call(
                Method::POST,
                "/portfolios",
                Some(&app.admin),
                Some(json!({
                    "client": "Dated",
                    "team": app.team(),
                    "cadence": {"every": 1, "unit": "months"},
                    "refresh_date": day,
                })),
            )
            .await;
        assert_eq!(
            answer.status != StatusCode::BAD_REQUEST,
            plausible,
            "{day}: {}",
            answer.body
        );
    }
}

// Found by Schemathesis: `"deliverables": 10.0` is a JSON Schema `integer`, and was refused
// with 400 (serde wanted `10`); so was a cadence's `"every": 7.0`.
async fn whole_numbers_may_be_written_with_a_fraction(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let answer = app
        .call(
            Method::POST,
            "/portfolios",
            Some(&app.admin),
            Some(json!({
                "client": "Whole",
                "team": app.team(),
                "cadence": {"every": 2.0, "unit": "months"},
                "refresh_date": "2026-03-10",
            })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let p = answer.body["portfolio_id"].as_str().unwrap().to_owned();
    app.ok(
        &app.am.token,
        &format!("/portfolios/{p}/request"),
        Some(json!({"note": "Brief"})),
    )
    .await;
    let created = app
        .call(
            Method::POST,
            &format!("/portfolios/{p}/tickets"),
            Some(&app.sas.token),
            Some(json!({"title": "A", "folder": "Spring", "deliverables": 2.0})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    for bad in [json!(2.5), json!(-1), json!(-1.0), json!(1e30)] {
        let refused = app
            .call(
                Method::POST,
                &format!("/portfolios/{p}/deliverable-count"),
                Some(&app.sas.token),
                Some(json!({ "deliverables": bad })),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {}",
            refused.body
        );
    }
}

// Found by Schemathesis: with `as_of`, `GET /portfolios/{id}` answers the portfolio as it
// stood (`PortfolioAsOf`), which the document, naming only `PortfolioView`, refused.
async fn a_portfolio_as_of_an_instant_is_documented(db: TestDatabase) {
    let app = App::start(db, date(2026, 3, 1)).await;
    let document = document(&app).await;
    let p = app.create_portfolio(date(2026, 3, 10)).await;
    let schema = &document["paths"]["/portfolios/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let mut named = Vec::new();
    refs(schema, &mut named);
    let mut named: Vec<&str> = named
        .into_iter()
        .flat_map(|r| r.rsplit('/').next())
        .collect();
    if named == ["PortfolioAnswer"] {
        named = Vec::new();
        refs(component(&document, "PortfolioAnswer"), &mut named);
        named = named
            .into_iter()
            .flat_map(|r| r.rsplit('/').next())
            .collect();
    }
    assert!(
        named.contains(&"PortfolioView") && named.contains(&"PortfolioAsOf"),
        "{schema}"
    );
    let past = app
        .call(
            Method::GET,
            &format!("/portfolios/{p}?as_of=2030-01-01T00:00:00Z"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(past.status, StatusCode::OK, "{}", past.body);
    for key in component(&document, "PortfolioAsOf")["required"]
        .as_array()
        .unwrap()
    {
        assert!(
            past.body.get(key.as_str().unwrap()).is_some(),
            "{key}: {}",
            past.body
        );
    }
}

freshet_store::on_both_backends!(
    a_portfolio_as_of_an_instant_is_documented,
    whole_numbers_may_be_written_with_a_fraction,
    the_document_is_valid_openapi_3_1_and_every_reference_resolves,
    page_parameters_are_bounded_as_the_server_bounds_them,
    command_headers_are_documented_as_the_server_reads_them,
    a_refresh_request_with_a_null_body_is_one_without_a_note,
    text_fields_are_documented_as_the_domain_parses_them,
    cadences_and_dates_are_bounded_as_the_domain_bounds_them,
);
