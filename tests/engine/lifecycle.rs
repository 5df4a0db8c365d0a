//! Deprecated codes and values are mapped before the engine runs; retired codes are refused
//! with the replacement named. Built on variants of the embedded knowledge base.

use serde_json::{json, Map, Value};
use spasm_triage::engine::answers::Mapped;
use spasm_triage::engine::{parse_answers, AnswerErrorKind, Value as Answer};
use spasm_triage::knowledge::{load_from_files, KnowledgeBase};

use crate::support::files;

fn variant(file: &str, from: &str, to: &str) -> KnowledgeBase {
    let mut files = files();
    let entry = files.iter_mut().find(|(n, _)| n == file).unwrap();
    assert!(entry.1.contains(from), "{file} lacks {from:?}");
    entry.1 = entry.1.replacen(from, to, 1);
    load_from_files(&files).unwrap_or_else(|e| panic!("{e}"))
}

fn answers(pairs: &[(&str, Value)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("age_years".into(), json!(40));
    m.insert("sex".into(), json!("male"));
    for (k, v) in pairs {
        m.insert((*k).into(), v.clone());
    }
    m
}

#[test]
fn a_deprecated_enum_value_is_mapped_to_its_replacement() {
    let kb = variant(
        "vocabulary.toml",
        "values = [\"sudden\", \"gradual\", \"unknown\"]\nlabels = { sudden = \"Suddenly\",",
        "values = [\"sudden\", \"gradual\", \"unknown\", \"abrupt\"]\ndeprecated_values = [{ value = \"abrupt\", replaced_by = \"sudden\", since = \"2026.12.0\", deprecated_on = \"2026-12-07\", note = \"say sudden\" }]\nlabels = { abrupt = \"Abruptly\", sudden = \"Suddenly\",",
    );
    let onset = kb.vocabulary.lookup("onset_type").unwrap();
    let kind = &kb.vocabulary.code(onset).kind;
    let parsed = parse_answers(&kb, &answers(&[("onset_type", json!("abrupt"))])).unwrap();
    assert_eq!(
        parsed.get(onset),
        Some(&Answer::Choice(kind.choice_index("sudden").unwrap()))
    );
    assert_eq!(
        parsed.mapped(),
        &[Mapped::Value {
            code: onset,
            from: kind.choice_index("abrupt").unwrap(),
            to: kind.choice_index("sudden").unwrap(),
        }]
    );
    // A current value is not a mapping.
    let parsed = parse_answers(&kb, &answers(&[("onset_type", json!("gradual"))])).unwrap();
    assert!(parsed.mapped().is_empty());
}

#[test]
fn a_renamed_code_carries_its_answer_over() {
    // can_travel_safely is read by no rule, so it can be deprecated in favour of a new name.
    let kb = variant(
        "vocabulary.toml",
        "code = \"can_travel_safely\"\ngroup",
        "code = \"can_travel_safely\"\nstatus = \"deprecated\"\nsince = \"2026.12.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"renamed\"\nreplaced_by = [{ code = \"heavy_manual_work\", identity = true }]\ngroup",
    );
    let old = kb.vocabulary.lookup("can_travel_safely").unwrap();
    let new = kb.vocabulary.lookup("heavy_manual_work").unwrap();
    let parsed = parse_answers(&kb, &answers(&[("can_travel_safely", json!("present"))])).unwrap();
    assert_eq!(parsed.get(old), None, "the engine never sees the old code");
    assert_eq!(parsed.tri(new), spasm_triage::engine::Tri::Present);
    assert_eq!(parsed.mapped(), &[Mapped::Code(old)]);
}

#[test]
fn a_retired_code_is_refused_naming_its_replacement() {
    let kb = variant(
        "vocabulary.toml",
        "code = \"can_travel_safely\"\ngroup",
        "code = \"can_travel_safely\"\nstatus = \"retired\"\nsince = \"2027.0.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"renamed\"\nreplaced_by = [{ code = \"heavy_manual_work\", identity = true }]\ngroup",
    );
    let errors =
        parse_answers(&kb, &answers(&[("can_travel_safely", json!("present"))])).unwrap_err();
    assert_eq!(errors[0].kind, AnswerErrorKind::UnknownAnswerCode);
    assert!(
        errors[0]
            .message
            .contains("retired in knowledge-base release 2027.0.0"),
        "{}",
        errors[0].message
    );
    assert_eq!(errors[0].did_you_mean, ["heavy_manual_work"]);
}
