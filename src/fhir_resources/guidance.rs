//! An assessment as a FHIR `GuidanceResponse`, with a contained `RiskAssessment` (the triage
//! level as the predicted outcome) and a contained `Parameters` holding everything the JSON
//! API returns: level, timeframe, deciding rules, fired rules with their triggering answers,
//! causes, advice, medicines, STarT Back, safety net and the unanswered screens.

use serde_json::{json, Value};

use super::mapping::Mapped;

/// Names the Questionnaire item (its `linkId`) a `dataRequirement` asks to be answered.
pub const LINK_ID_EXTENSION: &str = "urn:spasm-triage:fhir:StructureDefinition/question-link-id";
use crate::view::dto::{SourceDto, TriageResponse};

/// Code system of the triage levels (`RiskAssessment.prediction.outcome`).
pub const TRIAGE_LEVEL_SYSTEM: &str = "urn:spasm-triage:triage-level";
/// `RiskAssessment.method`: how the level was reached.
pub const METHOD_SYSTEM: &str = "urn:spasm-triage:method";
pub const METHOD_CODE: (&str, &str) = ("rule-based-triage", "spasm-triage rule-based triage");
/// The knowledge base, as `GuidanceResponse.moduleCanonical` (`|version` appended).
pub const KNOWLEDGE_BASE_CANONICAL: &str = "urn:spasm-triage:knowledge-base";
const RISK_PROBABILITY: &str = "http://terminology.hl7.org/CodeSystem/risk-probability";

/// Short display of a triage level.
pub fn level_display(level: &str) -> &'static str {
    match level {
        "emergency_ambulance" => "Emergency: call an ambulance now",
        "emergency" => "Emergency department now",
        "consultation_24" => "See a clinician within 24 hours",
        "consultation" => "Book a consultation",
        _ => "Self-care",
    }
}

fn string(name: &str, value: &str) -> Option<Value> {
    (!value.trim().is_empty()).then(|| json!({ "name": name, "valueString": value }))
}

fn code(name: &str, value: &str) -> Option<Value> {
    (!value.trim().is_empty()).then(|| json!({ "name": name, "valueCode": value }))
}

fn part(name: &str, parts: Vec<Option<Value>>) -> Value {
    json!({ "name": name, "part": parts.into_iter().flatten().collect::<Vec<_>>() })
}

fn source(s: &SourceDto<'_>) -> Value {
    part(
        "source",
        vec![
            string("id", s.id),
            string("title", s.title),
            (!s.url.trim().is_empty()).then(|| json!({ "name": "url", "valueUri": s.url })),
        ],
    )
}

fn level_coding(level: &str) -> Value {
    json!({ "system": TRIAGE_LEVEL_SYSTEM, "code": level, "display": level_display(level) })
}

/// The contained `Parameters`: the whole assessment, one parameter per fact.
fn parameters(r: &TriageResponse<'_>) -> Value {
    let t = &r.triage;
    let mut p: Vec<Option<Value>> = vec![
        string("assessment_id", &r.assessment_id),
        Some(part(
            "knowledge_base",
            vec![
                string("version", r.knowledge_base.version),
                string("digest", r.knowledge_base.digest),
            ],
        )),
        Some(json!({ "name": "level", "valueCoding": level_coding(t.level) })),
        Some(json!({ "name": "rank", "valueInteger": t.rank })),
        code("timeframe", t.timeframe),
    ];
    p.extend(t.care_settings.iter().map(|c| code("care_setting", c)));
    p.push(string("action", &t.action));
    p.extend(t.decided_by.iter().map(|d| string("decided_by", d)));
    p.push(Some(
        json!({ "name": "remote_consult_suitable", "valueBoolean": t.remote_consult_suitable }),
    ));
    for f in &r.red_flags {
        let mut parts = vec![
            string("rule_id", f.rule_id),
            string("title", f.title),
            code("level", f.level),
        ];
        parts.push(f.timeframe.and_then(|tf| code("timeframe", tf)));
        parts.extend(f.triggered_by.iter().map(|c| code("triggered_by", c)));
        parts.extend(f.screens_for.iter().map(|s| code("screens_for", s)));
        parts.push(string("patient_text", &f.patient_text));
        parts.push(f.clinician_text.and_then(|c| string("clinician_text", c)));
        parts.extend(f.sources.iter().map(|s| Some(source(s))));
        p.push(Some(part("red_flag", parts)));
    }
    for c in &r.causes {
        let mut parts = vec![
            string("cause", c.cause),
            string("label", c.label),
            code("band", c.band),
            Some(json!({ "name": "score", "valueInteger": c.score })),
            c.sub_label.and_then(|s| code("sub_label", s)),
        ];
        parts.extend(c.evidence.iter().map(|e| {
            Some(part(
                "evidence",
                vec![
                    string("code", e.code),
                    Some(json!({ "name": "weight", "valueInteger": e.weight })),
                ],
            ))
        }));
        p.push(Some(part("cause", parts)));
    }
    if let Some(phase) = &r.phase {
        p.push(Some(part(
            "phase",
            vec![string("id", phase.id), string("label", phase.label)],
        )));
    }
    for a in &r.advice {
        let mut parts = vec![string("id", a.id), string("text", &a.text)];
        parts.extend(a.sources.iter().map(|s| Some(source(s))));
        p.push(Some(part("advice", parts)));
    }
    for m in &r.medications {
        let mut parts = vec![
            string("option", m.option),
            code("status", m.status),
            string("text", &m.text),
        ];
        parts.extend(m.because.iter().map(|b| code("because", b)));
        if m.prescription_only {
            parts.push(Some(
                json!({ "name": "prescription_only", "valueBoolean": true }),
            ));
        }
        p.push(Some(part("medication", parts)));
    }
    if let Some(s) = &r.startback {
        let mut parts = vec![
            Some(json!({ "name": "total", "valueInteger": s.total })),
            Some(json!({ "name": "psychosocial", "valueInteger": s.psychosocial })),
            code("risk", s.risk),
        ];
        if let Some(missing) = &s.missing_items {
            parts.extend(missing.iter().map(|m| code("missing_item", m)));
        }
        p.push(Some(part("startback", parts)));
    }
    for s in &r.safety_net {
        p.push(Some(part(
            "safety_net",
            vec![string("id", s.id), string("text", &s.text)],
        )));
    }
    p.push(Some(
        json!({ "name": "complete", "valueBoolean": r.completeness.complete }),
    ));
    for q in &r.completeness.questions {
        p.push(Some(part(
            "missing_screen",
            vec![code("code", q.code), string("question", &q.question)],
        )));
    }
    p.push(string("disclaimer", &r.disclaimer));
    p.push(Some(
        json!({ "name": "risk_assessment", "valueReference": { "reference": "#risk" } }),
    ));
    json!({
        "resourceType": "Parameters",
        "id": "output",
        "parameter": p.into_iter().flatten().collect::<Vec<_>>(),
    })
}

/// Why the level is what it is, in one sentence.
pub fn rationale(r: &TriageResponse<'_>) -> String {
    let t = &r.triage;
    let mut text = if t.decided_by.is_empty() {
        "No red-flag rule or floor applies: the default level.".to_owned()
    } else {
        format!("Level set by {}.", t.decided_by.join(", "))
    };
    if !r.completeness.complete {
        text.push_str(&format!(
            " {} required safety screen{} unanswered: the level cannot go below consultation_24 \
             until {} ruled out.",
            r.completeness.missing_screens.len(),
            if r.completeness.missing_screens.len() == 1 {
                " is"
            } else {
                "s are"
            },
            if r.completeness.missing_screens.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        ));
    }
    text
}

/// The contained `RiskAssessment`: the triage level as the predicted outcome.
fn risk_assessment(r: &TriageResponse<'_>, mapped: &Mapped, now: &str) -> Value {
    let t = &r.triage;
    let mut predictions = vec![json!({
        "outcome": { "coding": [level_coding(t.level)], "text": t.action },
        "rationale": rationale(r),
    })];
    if let Some(s) = &r.startback {
        let qualitative = match s.risk {
            "low" => Some(("low", "Low likelihood")),
            "medium" => Some(("moderate", "Moderate likelihood")),
            "high" => Some(("high", "High likelihood")),
            _ => None,
        };
        if let Some((code, display)) = qualitative {
            predictions.push(json!({
                "outcome": { "text": "Persistent disabling back pain (Keele STarT Back risk group)" },
                "qualitativeRisk": {
                    "coding": [{ "system": RISK_PROBABILITY, "code": code, "display": display }],
                    "text": format!("STarT Back {} risk", s.risk)
                },
                "rationale": format!(
                    "STarT Back total {}, psychosocial subscale {}.",
                    s.total, s.psychosocial
                ),
            }));
        }
    }
    let mut notes = Vec::new();
    if r.red_flags.is_empty() {
        notes.push(json!({ "text": "No red-flag rule fired." }));
    } else {
        let fired: Vec<String> = r
            .red_flags
            .iter()
            .map(|f| {
                if f.triggered_by.is_empty() {
                    f.rule_id.to_owned()
                } else {
                    format!("{} (triggered by {})", f.rule_id, f.triggered_by.join(", "))
                }
            })
            .collect();
        notes.push(json!({ "text": format!("Fired rules: {}.", fired.join("; ")) }));
    }
    if !r.completeness.complete {
        notes.push(json!({
            "text": format!(
                "Unanswered required safety screens: {}.",
                r.completeness.missing_screens.join(", ")
            )
        }));
    }
    let mut risk = json!({
        "resourceType": "RiskAssessment",
        "id": "risk",
        "status": "final",
        "subject": mapped.subject.clone().unwrap_or_else(
            || json!({ "display": "The person the QuestionnaireResponse is about" })
        ),
        "occurrenceDateTime": now,
        "method": {
            "coding": [{
                "system": METHOD_SYSTEM,
                "code": METHOD_CODE.0,
                "display": METHOD_CODE.1
            }],
            "text": format!(
                "spasm-triage knowledge base {} ({})",
                r.knowledge_base.version, r.knowledge_base.digest
            )
        },
        "basis": [mapped.basis.clone()],
        "prediction": predictions,
        "mitigation": t.action,
        "note": notes,
    });
    if let (Some(encounter), Value::Object(obj)) = (&mapped.encounter, &mut risk) {
        obj.insert("encounter".to_owned(), encounter.clone());
    }
    risk
}

/// The GuidanceResponse for an assessment of a QuestionnaireResponse.
pub fn guidance_response(
    r: &TriageResponse<'_>,
    mapped: &Mapped,
    request_id: &str,
    now: &str,
) -> Value {
    let complete = r.completeness.complete;
    let mut g = json!({
        "resourceType": "GuidanceResponse",
        "id": r.assessment_id,
        "text": crate::http::outcome::narrative(&format!(
            "Triage level {}: {}",
            r.triage.level, r.triage.action
        )),
        "contained": [risk_assessment(r, mapped, now), parameters(r)],
        "identifier": [{ "system": "urn:spasm-triage:assessment", "value": r.assessment_id }],
        "moduleCanonical": format!("{KNOWLEDGE_BASE_CANONICAL}|{}", r.knowledge_base.version),
        "status": if complete { "success" } else { "data-required" },
        "occurrenceDateTime": now,
        "outputParameters": { "reference": "#output" },
        "note": [{ "text": r.disclaimer }],
    });
    let Value::Object(obj) = &mut g else {
        return g;
    };
    if !request_id.is_empty() {
        obj.insert(
            "requestIdentifier".to_owned(),
            json!({ "system": "urn:spasm-triage:request-id", "value": request_id }),
        );
    }
    if let Some(subject) = &mapped.subject {
        obj.insert("subject".to_owned(), subject.clone());
    }
    if let Some(encounter) = &mapped.encounter {
        obj.insert("encounter".to_owned(), encounter.clone());
    }
    if !r.warnings.is_empty() {
        // Deprecated linkIds still work (answers built from an older Questionnaire); say so
        // the way FHIR says it: an OperationOutcome of warnings.
        let issues: Vec<Value> = r
            .warnings
            .iter()
            .map(|w| {
                json!({
                    "severity": "warning",
                    "code": "business-rule",
                    "details": { "coding": [{ "system": "urn:spasm-triage:problem", "code": w.code }],
                                 "text": format!("`{}`{} is deprecated (knowledge base {}): mapped to `{}`. {}",
                                     w.answer,
                                     w.value.map(|v| format!(" = `{v}`")).unwrap_or_default(),
                                     w.since, w.replaced_by.join("`, `"), w.message) },
                })
            })
            .collect();
        if let Some(Value::Array(list)) = obj.get_mut("contained") {
            list.push(json!({ "resourceType": "OperationOutcome", "id": "deprecations", "issue": issues }));
        }
        obj.insert(
            "evaluationMessage".to_owned(),
            json!([{ "reference": "#deprecations" }]),
        );
    }
    if !complete {
        let requirements: Vec<Value> = r
            .completeness
            .missing_screens
            .iter()
            .map(|code| {
                // R4 allows only simple paths in mustSupport (no `where`): the question is
                // named by its linkId in an extension.
                json!({
                    "extension": [{ "url": LINK_ID_EXTENSION, "valueString": code }],
                    "type": "QuestionnaireResponse",
                    "mustSupport": ["item.answer"]
                })
            })
            .collect();
        obj.insert("dataRequirement".to_owned(), Value::Array(requirements));
    }
    g
}

/// Answers to questions the Questionnaire's own `enableWhen` disables (a man answering the
/// pregnancy question): used as given, because ignoring an answer could hide a red flag, and
/// said so as warnings the way deprecations are (a contained OperationOutcome referenced from
/// `evaluationMessage`).
pub fn warn_disabled_answers(g: &mut Value, codes: &[&str]) {
    if codes.is_empty() {
        return;
    }
    let Value::Object(obj) = g else {
        return;
    };
    let issues: Vec<Value> = codes
        .iter()
        .map(|code| {
            json!({
                "severity": "warning",
                "code": "business-rule",
                "details": { "text": format!(
                    "`{code}` is answered although the Questionnaire's enableWhen disables it for these answers; \
                     the answer was used as given (an answer is never ignored), so check it and the answers it depends on"
                ) },
                "expression": ["QuestionnaireResponse.item"],
            })
        })
        .collect();
    if let Some(Value::Array(list)) = obj.get_mut("contained") {
        list.push(json!({ "resourceType": "OperationOutcome", "id": "disabled-answers", "issue": issues }));
    }
    let reference = json!({ "reference": "#disabled-answers" });
    match obj.get_mut("evaluationMessage") {
        Some(Value::Array(list)) => list.push(reference),
        _ => {
            obj.insert("evaluationMessage".to_owned(), json!([reference]));
        }
    }
}
