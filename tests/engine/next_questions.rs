//! `next_questions`: a form that asks the first question, adds the answer and assesses
//! again reaches the same level as the whole answer set, and the loop always ends.

use serde_json::{Map, Value};
use spasm_triage::engine::{Facts, Tri, Value as Answer, MAX_NEXT_QUESTIONS};
use spasm_triage::knowledge::ValueKind;

use crate::support::{kb, parse, run};

/// What the person of a case says when asked `code`: the case's own answer; else what its
/// answers mean (a 38.6 °C temperature is a fever; a deprecated code's replacement); else
/// `null`, "asked, no answer".
fn reply(full: &Map<String, Value>, code: &str) -> Value {
    if let Some(v) = full.get(code) {
        return v.clone();
    }
    let parsed = parse(full);
    let id = kb().vocabulary.lookup(code).unwrap();
    let def = kb().vocabulary.code(id);
    if def.kind == ValueKind::Tri && Facts::new(kb(), &parsed).is_present(id) {
        return Value::from("present");
    }
    match parsed.get(id) {
        Some(Answer::Tri(Tri::Present)) => Value::from("present"),
        Some(Answer::Tri(Tri::Absent)) => Value::from("absent"),
        Some(Answer::Tri(Tri::Unknown)) => Value::from("unknown"),
        Some(Answer::Number(n)) => Value::from(*n),
        Some(Answer::Choice(c)) => Value::from(def.kind.choice_name(*c).unwrap()),
        Some(Answer::Set(items)) => items
            .iter()
            .map(|c| Value::from(def.kind.choice_name(*c).unwrap()))
            .collect(),
        None => Value::Null,
    }
}

/// Walk one case: start from age and sex, answer each first question from the case's
/// answers (a question the case does not answer is declined with `null`). Returns the
/// questions asked and the final answers.
fn walk(full: &Map<String, Value>) -> (Vec<String>, Map<String, Value>) {
    let mut answers = Map::new();
    for code in ["age_years", "sex"] {
        answers.insert(code.into(), full[code].clone());
    }
    let mut asked = Vec::new();
    for _ in 0..kb().vocabulary.codes.len() {
        let a = run(&answers);
        assert!(a.next_questions.len() <= MAX_NEXT_QUESTIONS);
        let Some(first) = a.next_questions.first() else {
            return (asked, answers);
        };
        let code = kb().vocabulary.code(first.code).code.clone();
        assert!(!answers.contains_key(&code), "{code} was asked twice");
        answers.insert(code.clone(), reply(full, &code));
        asked.push(code);
    }
    panic!("the walk did not end");
}

fn cases() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("tests/cases").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        out.push((
            path.file_name().unwrap().to_string_lossy().into_owned(),
            case,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn walking_every_case_through_next_questions_reaches_its_level() {
    let mut counts = Vec::new();
    let mut wrong = Vec::new();
    for (name, case) in cases() {
        let full = case["request"]["answers"].as_object().unwrap().clone();
        let expected = run(&full).level;
        let (asked, answers) = walk(&full);
        let reached = run(&answers).level;
        println!(
            "{name}: {} questions, {} -> {}",
            asked.len(),
            expected.as_str(),
            reached.as_str()
        );
        if reached != expected {
            wrong.push(format!(
                "{name}: full answers give {}, the walk {} (asked {asked:?})",
                expected.as_str(),
                reached.as_str()
            ));
        }
        counts.push(asked.len());
    }
    counts.sort_unstable();
    println!(
        "median questions asked: {} over {} cases",
        counts[counts.len() / 2],
        counts.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
