//! Appendix A vignettes (and edge cases) as data in tests/cases/, run against the server.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::helpers::spawn_app;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    vignette: Option<u32>,
    description: String,
    request: Value,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    level: String,
    timeframe: Option<String>,
    #[serde(default)]
    decided_by_includes: Vec<String>,
    #[serde(default)]
    red_flags_include: Vec<String>,
    #[serde(default)]
    red_flags_exclude: Vec<String>,
    #[serde(default)]
    causes_include: Vec<ExpectCause>,
    #[serde(default)]
    causes_exclude: Vec<String>,
    #[serde(default)]
    medications: BTreeMap<String, String>,
    #[serde(default)]
    advice_include: Vec<String>,
    advice_empty: Option<bool>,
    medications_empty: Option<bool>,
    #[serde(default)]
    safety_net_include: Vec<String>,
    startback_risk: Option<String>,
    complete: Option<bool>,
    missing_screens: Option<Vec<String>>,
    /// The red flags marked `primary`, in `display_order` (exactly).
    primary_red_flags: Option<Vec<String>>,
    #[serde(default)]
    medicine_questions_include: Vec<String>,
    /// The answer codes named by `warnings` (exactly, in order).
    warnings: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectCause {
    cause: String,
    band: Option<String>,
    sub_label: Option<String>,
}

fn ids(v: &Value, list: &str, key: &str) -> Vec<String> {
    v[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x[key].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn check(case: &Case, b: &Value) -> Vec<String> {
    let e = &case.expect;
    let mut failures = Vec::new();
    let mut want = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    want(
        b["triage"]["level"] == e.level.as_str(),
        format!("level {} (expected {})", b["triage"]["level"], e.level),
    );
    if let Some(t) = &e.timeframe {
        want(
            b["triage"]["timeframe"] == t.as_str(),
            format!("timeframe {} (expected {t})", b["triage"]["timeframe"]),
        );
    }
    let decided: Vec<String> = b["triage"]["decided_by"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for id in &e.decided_by_includes {
        want(
            decided.contains(id),
            format!("decided_by {decided:?} lacks {id}"),
        );
    }
    let flags = ids(b, "red_flags", "rule_id");
    for id in &e.red_flags_include {
        want(
            flags.contains(id),
            format!("red_flags {flags:?} lacks {id}"),
        );
    }
    for id in &e.red_flags_exclude {
        want(!flags.contains(id), format!("red_flags {flags:?} has {id}"));
    }
    let causes = b["causes"].as_array().cloned().unwrap_or_default();
    for c in &e.causes_include {
        match causes.iter().find(|x| x["cause"] == c.cause.as_str()) {
            None => want(
                false,
                format!(
                    "causes lack {} (have {:?})",
                    c.cause,
                    ids(b, "causes", "cause")
                ),
            ),
            Some(found) => {
                if let Some(band) = &c.band {
                    want(
                        found["band"] == band.as_str(),
                        format!("{} band {} (expected {band})", c.cause, found["band"]),
                    );
                }
                if let Some(sub) = &c.sub_label {
                    want(
                        found["sub_label"] == sub.as_str(),
                        format!(
                            "{} sub_label {} (expected {sub})",
                            c.cause, found["sub_label"]
                        ),
                    );
                }
            }
        }
    }
    for c in &e.causes_exclude {
        want(
            !causes.iter().any(|x| x["cause"] == c.as_str()),
            format!("causes include {c}"),
        );
    }
    let meds = b["medications"].as_array().cloned().unwrap_or_default();
    for (option, status) in &e.medications {
        let found = meds.iter().find(|m| m["option"] == option.as_str());
        want(
            found.is_some_and(|m| m["status"] == status.as_str()),
            format!(
                "{option} is {:?} (expected {status})",
                found.map(|m| &m["status"])
            ),
        );
    }
    let advice = ids(b, "advice", "id");
    for id in &e.advice_include {
        want(advice.contains(id), format!("advice {advice:?} lacks {id}"));
    }
    if let Some(empty) = e.advice_empty {
        want(
            advice.is_empty() == empty,
            format!("advice empty = {} (expected {empty})", advice.is_empty()),
        );
    }
    if let Some(empty) = e.medications_empty {
        want(
            meds.is_empty() == empty,
            format!("medications empty = {} (expected {empty})", meds.is_empty()),
        );
    }
    let nets = ids(b, "safety_net", "id");
    for id in &e.safety_net_include {
        want(nets.contains(id), format!("safety_net {nets:?} lacks {id}"));
    }
    if let Some(risk) = &e.startback_risk {
        want(
            b["startback"]["risk"] == risk.as_str(),
            format!(
                "startback risk {} (expected {risk})",
                b["startback"]["risk"]
            ),
        );
    }
    if let Some(complete) = e.complete {
        want(
            b["completeness"]["complete"] == complete,
            format!(
                "complete {} (expected {complete})",
                b["completeness"]["complete"]
            ),
        );
    }
    if let Some(missing) = &e.missing_screens {
        want(
            b["completeness"]["missing_screens"] == serde_json::json!(missing),
            format!(
                "missing_screens {} (expected {missing:?})",
                b["completeness"]["missing_screens"]
            ),
        );
    }
    if let Some(primary) = &e.primary_red_flags {
        let mut shown: Vec<(u64, String)> = b["red_flags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["primary"] == true)
            .map(|f| {
                (
                    f["display_order"].as_u64().unwrap_or(0),
                    f["rule_id"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        shown.sort();
        let shown: Vec<String> = shown.into_iter().map(|(_, id)| id).collect();
        want(
            &shown == primary,
            format!("primary red flags {shown:?} (expected {primary:?})"),
        );
    }
    let asked = ids(&b["completeness"], "medicine_questions", "code");
    for code in &e.medicine_questions_include {
        want(
            asked.contains(code),
            format!("medicine_questions {asked:?} lack {code}"),
        );
    }
    if let Some(warned) = &e.warnings {
        let got = ids(b, "warnings", "answer");
        want(
            &got == warned,
            format!("warnings {got:?} (expected {warned:?})"),
        );
    }
    failures
}

#[tokio::test]
async fn golden_cases_pass() {
    let app = spawn_app().await;
    let mut paths: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 18,
        "expected the 18 Appendix A vignettes, found {}",
        paths.len()
    );
    let mut vignettes = std::collections::BTreeSet::new();
    let mut report = Vec::new();
    for path in &paths {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(v) = case.vignette {
            vignettes.insert(v);
        }
        let r = app.post_triage(&case.request).await;
        if r.status != 200 {
            report.push(format!(
                "{} ({}): status {}: {}",
                case.name, case.description, r.status, r.text
            ));
            continue;
        }
        for f in check(&case, &r.body) {
            report.push(format!("{}: {f}", case.name));
        }
    }
    assert_eq!(
        vignettes.len(),
        18,
        "every Appendix A vignette has a case: {vignettes:?}"
    );
    assert!(report.is_empty(), "golden failures:\n{}", report.join("\n"));
}
