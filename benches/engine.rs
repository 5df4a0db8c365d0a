//! Engine benchmarks (issue 7): answer parsing, the assessment, the whole
//! bytes → response path with serialisation, and knowledge-base load + validation.
//!
//! Run with `cargo bench --bench engine`. Three requests are measured:
//! - `minimal`: only the required answers (`age_years`, `sex`);
//! - `full`: every active vocabulary code answered with a valid value of its kind;
//! - `emergency`: the golden case `04_new_urinary_retention` (level `emergency`);
//! - `sofa`: the golden case `01_lifted_sofa_spasm`, the body `scripts/bench-http.sh` sends.

// A measuring tool, not service code: a broken fixture should stop the run loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use serde_json::{json, Map, Value};

use spasm_triage::api::request::{answers_of, parse_request};
use spasm_triage::api::triage::triage_body;
use spasm_triage::engine::{assess, parse_answers, Audience};
use spasm_triage::knowledge::{self, KnowledgeBase, RuleSource, ValueKind};
use spasm_triage::view::dto::Texts;

const EMERGENCY_CASE: &str = include_str!("../tests/cases/04_new_urinary_retention.json");
const SOFA_CASE: &str = include_str!("../tests/cases/01_lifted_sofa_spasm.json");

/// A valid value for every active vocabulary code (a deprecated code answered beside its
/// replacement is refused): tri `absent`, the middle of a numeric range (whole for
/// integers), the first enum/set value, `helped` for responses.
fn full_request(kb: &KnowledgeBase) -> Value {
    let mut answers = Map::new();
    for def in kb.vocabulary.codes.iter().filter(|d| d.is_active()) {
        let value = match &def.kind {
            ValueKind::Tri => json!("absent"),
            ValueKind::Integer { min, max } => json!(((min + max) / 2.0).floor() as i64),
            ValueKind::Number { min, max } => json!((min + max) / 2.0),
            ValueKind::Enum { values } => json!(values[0]),
            ValueKind::Set { values } => json!([values[0]]),
            ValueKind::Response => json!("helped"),
        };
        answers.insert(def.code.clone(), value);
    }
    // A plausible adult rather than the middle of the age range's bounds.
    answers.insert("age_years".to_owned(), json!(45));
    answers.insert("sex".to_owned(), json!("male"));
    json!({ "answers": answers, "options": { "audience": "clinician" } })
}

fn requests(kb: &KnowledgeBase) -> Vec<(&'static str, Vec<u8>)> {
    let minimal = json!({ "answers": { "age_years": 34, "sex": "male" } });
    let request = |case: &str| {
        let case: Value = serde_json::from_str(case).unwrap();
        case["request"].clone()
    };
    [
        ("minimal", minimal),
        ("full", full_request(kb)),
        ("emergency", request(EMERGENCY_CASE)),
        ("sofa", request(SOFA_CASE)),
    ]
    .into_iter()
    .map(|(name, v)| (name, serde_json::to_vec(&v).unwrap()))
    .collect()
}

/// What the handler does before the engine: bytes → JSON → the `answers` map.
fn answers_map(body: &[u8]) -> Map<String, Value> {
    let mut top: Map<String, Value> = serde_json::from_slice(body).unwrap();
    match top.remove("answers") {
        Some(Value::Object(m)) => m,
        _ => panic!("fixture without answers"),
    }
}

fn audience(body: &[u8]) -> Audience {
    let top: Value = serde_json::from_slice(body).unwrap();
    if top["options"]["audience"] == "clinician" {
        Audience::Clinician
    } else {
        Audience::Patient
    }
}

fn benches(c: &mut Criterion) {
    let kb = knowledge::load(&RuleSource::Embedded).expect("embedded knowledge base");
    let texts = Texts::builtin(&kb);
    let requests = requests(&kb);

    // Sanity: every fixture is accepted, and the emergency one is an emergency.
    for (name, body) in &requests {
        let response = triage_body(&kb, &texts, body)
            .unwrap_or_else(|e| panic!("fixture `{name}` refused: {e:?}"));
        if *name == "emergency" {
            assert!(response.triage.level.starts_with("emergency"));
        }
        eprintln!(
            "fixture {name}: {} answers, {} B in, {} B out, level {}",
            answers_map(body).len(),
            body.len(),
            serde_json::to_vec(&response).unwrap().len(),
            response.triage.level
        );
    }

    // The request body into serde_json's tree: how the handler read bodies before
    // `api::request` (kept for comparison with `read_request`).
    let mut group = c.benchmark_group("json_to_value");
    for (name, body) in &requests {
        group.bench_with_input(BenchmarkId::from_parameter(name), body, |b, body| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(body)).unwrap())
        });
    }
    group.finish();

    // The handler's reading: the body straight into borrowed answers (`api::request`).
    let mut group = c.benchmark_group("read_request");
    for (name, body) in &requests {
        group.bench_with_input(BenchmarkId::from_parameter(name), body, |b, body| {
            b.iter(|| parse_request(black_box(body)).unwrap().answers.len())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("parse_answers");
    for (name, body) in &requests {
        let map = answers_map(body);
        group.bench_with_input(BenchmarkId::from_parameter(name), &map, |b, map| {
            b.iter(|| parse_answers(&kb, black_box(map)).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("assess");
    for (name, body) in &requests {
        let answers = parse_answers(&kb, &answers_map(body)).unwrap();
        let audience = audience(body);
        group.bench_with_input(BenchmarkId::from_parameter(name), &answers, |b, answers| {
            b.iter(|| assess(&kb, black_box(answers), audience))
        });
    }
    group.finish();

    // Bytes → answers → assessment, as the handler does it (the "parse + assess" target).
    let mut group = c.benchmark_group("parse_and_assess");
    for (name, body) in &requests {
        group.bench_with_input(BenchmarkId::from_parameter(name), body, |b, body| {
            b.iter(|| {
                let input = parse_request(black_box(body)).unwrap();
                let answers = answers_of(&kb, &input).unwrap();
                assess(&kb, &answers, input.audience).level
            })
        });
    }
    group.finish();

    // The handler's whole synchronous path: bytes → response struct (with its UUID).
    let mut group = c.benchmark_group("triage_body");
    for (name, body) in &requests {
        group.bench_with_input(BenchmarkId::from_parameter(name), body, |b, body| {
            b.iter(|| {
                triage_body(&kb, &texts, black_box(body))
                    .unwrap()
                    .triage
                    .rank
            })
        });
    }
    group.finish();

    // The same plus JSON serialisation of the response: what one request costs in CPU.
    let mut group = c.benchmark_group("triage_body_to_json");
    for (name, body) in &requests {
        group.bench_with_input(BenchmarkId::from_parameter(name), body, |b, body| {
            b.iter(|| {
                let response = triage_body(&kb, &texts, black_box(body)).unwrap();
                serde_json::to_vec(&response).unwrap()
            })
        });
    }
    group.finish();

    // Serialisation alone, on a response built once.
    let mut group = c.benchmark_group("serialise_response");
    for (name, body) in &requests {
        let response = triage_body(&kb, &texts, body).unwrap();
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            &response,
            |b, response| b.iter(|| serde_json::to_vec(black_box(response)).unwrap()),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("knowledge_base");
    group.sample_size(20);
    group.bench_function("load_and_validate", |b| {
        b.iter(|| knowledge::load(black_box(&RuleSource::Embedded)).unwrap())
    });
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
