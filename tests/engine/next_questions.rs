//! `next_questions`: a form that asks the first question, adds the answer and assesses
//! again reaches the same level as the whole answer set, and the loop always ends.

use serde_json::{Map, Value};
use spasm_triage::engine::{Facts, Reason, Tri, Value as Answer, MAX_NEXT_QUESTIONS};
use spasm_triage::knowledge::ValueKind;

use crate::support::{kb, parse, run, screened};

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
    let mut appendix: Vec<usize> = Vec::new();
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
        if case["vignette"].is_number() {
            appendix.push(asked.len());
        }
    }
    let median = |v: &mut Vec<usize>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    println!(
        "median questions asked: {} over the {} Appendix A vignettes, {} over all {} cases",
        median(&mut appendix),
        appendix.len(),
        median(&mut counts),
        counts.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn reasons_of(answers: &Map<String, Value>) -> Vec<(String, Reason)> {
    run(answers)
        .next_questions
        .iter()
        .map(|q| (kb().vocabulary.code(q.code).code.clone(), q.reason))
        .collect()
}

#[test]
fn the_most_urgent_level_asks_nothing_more() {
    let mut answers = Map::new();
    answers.insert("age_years".into(), Value::from(30));
    answers.insert("sex".into(), Value::from("male"));
    answers.insert("chest_pain".into(), Value::from("present"));
    let a = run(&answers);
    assert_eq!(a.level.as_str(), "emergency_ambulance");
    assert!(a.next_questions.is_empty());
}

#[test]
fn a_fever_is_followed_up_before_medicines_and_causes() {
    let answers = screened(&Map::from_iter([
        ("fever".to_owned(), Value::from("present")),
        ("onset_days_ago".to_owned(), Value::from(3)),
    ]));
    let reasons = reasons_of(&answers);
    assert!(!reasons.is_empty());
    // Everything left is ordered by reason, and a fever opens infection follow-ups.
    assert!(reasons.windows(2).all(|w| w[0].1 <= w[1].1), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|(_, r)| *r == Reason::CouldRaiseLevel || *r == Reason::CoreIntake),
        "{reasons:?}"
    );
}

#[test]
fn a_screened_benign_case_reaches_medicine_screens_then_startback() {
    let mut answers = screened(&Map::new());
    // Answer every core question and every could-raise follow-up "no" until only the later
    // reasons are left, then check their order.
    for _ in 0..200 {
        let next = reasons_of(&answers);
        match next.first() {
            Some((code, r)) if *r < Reason::MedicineScreen => {
                let def = kb().vocabulary.code(kb().vocabulary.lookup(code).unwrap());
                let v = if def.kind == ValueKind::Tri {
                    Value::from("absent")
                } else {
                    Value::Null
                };
                answers.insert(code.clone(), v);
            }
            _ => break,
        }
    }
    let next = reasons_of(&answers);
    assert_eq!(
        next.first().map(|q| q.1),
        Some(Reason::MedicineScreen),
        "{next:?}"
    );
    let a = run(&answers);
    assert!(a
        .medications
        .iter()
        .any(|m| m.status.as_str() == "ask_first"));
}
