//! Every red-flag rule and floor has a case where it fires and a near miss where it
//! just fails to fire (tests/rules/cases.toml). Answers overlay a fully screened
//! 40-year-old man (every required screen answered absent).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::support::{kb, run, screened};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    cases: Vec<RuleCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleCase {
    rule: String,
    /// Why the near miss misses.
    note: String,
    fires: Map<String, Value>,
    near_miss: Map<String, Value>,
}

fn cases() -> Vec<RuleCase> {
    let text = include_str!("../rules/cases.toml");
    let parsed: Cases =
        toml::from_str(text).unwrap_or_else(|e| panic!("tests/rules/cases.toml: {e}"));
    parsed.cases
}

/// Ids set by a result: fired red flags and the floors in `decided_by`.
fn fired_ids(answers: &Map<String, Value>) -> Vec<String> {
    let a = run(answers);
    let mut ids: Vec<String> = a.red_flags.iter().map(|f| f.rule.id.clone()).collect();
    ids.extend(a.decided_by.iter().map(|s| (*s).to_owned()));
    ids
}

#[test]
fn every_rule_and_floor_has_cases() {
    let cases = cases();
    let covered: Vec<&str> = cases.iter().map(|c| c.rule.as_str()).collect();
    let mut missing: Vec<&str> = kb()
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !covered.contains(id))
        .collect();
    missing.extend(
        kb().floors
            .iter()
            .map(|f| f.id.as_str())
            .filter(|id| !covered.contains(id)),
    );
    assert!(
        missing.is_empty(),
        "rules without fire/near-miss cases: {missing:?}"
    );
}

#[test]
fn each_rule_fires_on_its_case_and_not_on_its_near_miss() {
    let mut failures = Vec::new();
    for case in cases() {
        let fires = fired_ids(&screened(&case.fires));
        if !fires.contains(&case.rule) {
            failures.push(format!(
                "{} did not fire on {:?} (fired: {fires:?})",
                case.rule, case.fires
            ));
        }
        let misses = fired_ids(&screened(&case.near_miss));
        if misses.contains(&case.rule) {
            failures.push(format!(
                "{} fired on its near miss {:?} ({})",
                case.rule, case.near_miss, case.note
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
