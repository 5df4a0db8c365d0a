//! One assessment as one CDS Hooks card, written for the clinician: the level, the rules that
//! fired with the answers that triggered them, the unanswered safety screens, and the basis.

use serde_json::{json, Value};

use super::dto::{
    override_reasons, CdsAction, CdsCard, CdsSource, CdsSuggestion, Coding, Indicator,
};
use crate::clock::utc;
use crate::fhir_resources::guidance::{level_display, TRIAGE_LEVEL_SYSTEM};
use crate::http::outcome::narrative;
use crate::view::dto::TriageResponse;

/// `summary` must be under 140 characters.
pub const SUMMARY_MAX: usize = 139;

pub fn indicator(level: &str) -> Indicator {
    match level {
        "emergency_ambulance" | "emergency" => Indicator::Critical,
        "consultation_24" => Indicator::Warning,
        _ => Indicator::Info,
    }
}

fn timeframe_words(timeframe: &str) -> String {
    timeframe.replace('_', " ").replace("24h", "24 hours")
}

/// One line: the level in words, then the first red flag or the unanswered screens if they fit.
pub fn summary(r: &TriageResponse<'_>) -> String {
    let t = &r.triage;
    let base = match t.level {
        "emergency_ambulance" => "Back pain triage: EMERGENCY, call an ambulance now".to_owned(),
        "emergency" => "Back pain triage: EMERGENCY, emergency department now".to_owned(),
        "consultation_24" => "Back pain triage: urgent, see a clinician within 24 hours".to_owned(),
        "consultation" => format!(
            "Back pain triage: book a consultation ({})",
            timeframe_words(t.timeframe)
        ),
        _ => "Back pain triage: self-care".to_owned(),
    };
    let first_flag = r
        .red_flags
        .iter()
        .find(|f| t.decided_by.contains(&f.rule_id))
        .or_else(|| r.red_flags.first());
    let missing = r.completeness.missing_screens.len();
    let extra = match first_flag {
        Some(f) if f.rule_id != "R25" => Some(format!("{}: {}", f.rule_id, f.title)),
        _ if missing > 0 => Some(format!(
            "{missing} safety screen{} unanswered",
            if missing == 1 { "" } else { "s" }
        )),
        _ => None,
    };
    match extra {
        Some(extra) => {
            let full = format!("{base}; {extra}");
            if full.chars().count() <= SUMMARY_MAX {
                full
            } else {
                base
            }
        }
        None => base,
    }
}

fn codes(list: &[&str]) -> String {
    list.iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// GitHub-flavoured Markdown for the clinician.
pub fn detail(r: &TriageResponse<'_>) -> String {
    let t = &r.triage;
    let mut md = String::new();
    md.push_str(&format!(
        "**Triage level:** `{}` (timeframe `{}`)",
        t.level, t.timeframe
    ));
    if t.decided_by.is_empty() {
        md.push_str(", the default: no red-flag rule or floor applies.\n\n");
    } else {
        md.push_str(&format!(", decided by {}.\n\n", codes(&t.decided_by)));
    }
    md.push_str(&format!("**Action:** {}\n\n", t.action));
    if r.red_flags.is_empty() {
        md.push_str("**Red flags:** none fired.\n\n");
    } else {
        md.push_str("**Red-flag rules that fired** (with the answers that triggered them):\n\n");
        for f in &r.red_flags {
            md.push_str(&format!("- **{}** {} (`{}`)", f.rule_id, f.title, f.level));
            if !f.triggered_by.is_empty() {
                md.push_str(&format!(": {}", codes(&f.triggered_by)));
            }
            md.push('\n');
            if let Some(text) = f.clinician_text {
                md.push_str(&format!("  {text}\n"));
            }
        }
        md.push('\n');
    }
    if !r.completeness.complete {
        md.push_str(
            "**Required safety screens not answered** (the level stays at `consultation_24` or \
             above until they are ruled out):\n\n",
        );
        for q in &r.completeness.questions {
            md.push_str(&format!("- `{}`: {}\n", q.code, q.question));
        }
        md.push('\n');
    }
    if !r.causes.is_empty() {
        let causes: Vec<String> = r
            .causes
            .iter()
            .map(|c| format!("{} ({}, score {})", c.label, c.band, c.score))
            .collect();
        md.push_str(&format!("**Consistent with:** {}.\n\n", causes.join("; ")));
    }
    if let Some(s) = &r.startback {
        md.push_str(&format!(
            "**STarT Back:** total {}, psychosocial {}, risk `{}`",
            s.total, s.psychosocial, s.risk
        ));
        if let Some(missing) = &s.missing_items {
            md.push_str(&format!(" ({} item(s) unanswered)", missing.len()));
        }
        md.push_str(".\n\n");
    }
    md.push_str(&format!(
        "_spasm-triage knowledge base {} ({}); assessment `{}`. Decision support, not a \
         diagnosis: review the basis above._",
        r.knowledge_base.version, r.knowledge_base.digest, r.assessment_id
    ));
    md
}

/// Whether a card at this level carries a referral suggestion: the levels where the EHR has
/// something to set in motion today.
pub fn suggests_referral(level: &str) -> bool {
    matches!(
        level,
        "emergency_ambulance" | "emergency" | "consultation_24"
    )
}

/// Where the card is shown, for the suggestion's ServiceRequest.
pub struct Setting<'a> {
    pub patient_id: &'a str,
    pub encounter_id: Option<&'a str>,
    /// `QuestionnaireResponse/<id>` of the assessed response, when it has an id.
    pub response_reference: Option<String>,
    /// Seconds since the epoch (UTC) when the card is made.
    pub now: u64,
}

/// The referral suggestion: a draft ServiceRequest at the level's timeframe.
fn referral(r: &TriageResponse<'_>, uuid: String, at: &Setting<'_>) -> CdsSuggestion {
    let level = r.triage.level;
    let (label, priority) = match level {
        "emergency_ambulance" => ("Emergency ambulance now", "stat"),
        "emergency" => ("Emergency department assessment now", "stat"),
        _ => ("Urgent clinician review within 24 hours", "urgent"),
    };
    let reasons: Vec<Value> = r
        .red_flags
        .iter()
        .filter(|f| r.triage.decided_by.contains(&f.rule_id))
        .map(|f| json!({ "text": format!("{}: {}", f.rule_id, f.title) }))
        .collect();
    let mut request = json!({
        "resourceType": "ServiceRequest",
        "text": narrative(&format!("Draft referral: {label} (back pain triage, {}).", level_display(level))),
        "status": "draft",
        "intent": "proposal",
        "priority": priority,
        "code": {
            "coding": [{ "system": TRIAGE_LEVEL_SYSTEM, "code": level, "display": level_display(level) }],
            "text": label,
        },
        "subject": { "reference": format!("Patient/{}", at.patient_id) },
        "authoredOn": utc(at.now),
        "note": [{ "text": r.triage.action }],
    });
    // An emergency is now; `consultation_24` is the next 24 hours.
    if priority == "stat" {
        request["occurrenceDateTime"] = json!(utc(at.now));
    } else {
        request["occurrencePeriod"] = json!({ "start": utc(at.now), "end": utc(at.now + 86_400) });
    }
    if let Some(encounter) = at.encounter_id {
        request["encounter"] = json!({ "reference": format!("Encounter/{encounter}") });
    }
    if !reasons.is_empty() {
        request["reasonCode"] = Value::Array(reasons);
    }
    if let Some(reference) = &at.response_reference {
        request["supportingInfo"] = json!([{ "reference": reference }]);
    }
    CdsSuggestion {
        label: label.to_owned(),
        uuid,
        is_recommended: true,
        actions: vec![CdsAction {
            kind: "create",
            description: format!("Create a draft referral: {label}"),
            resource: request,
        }],
    }
}

/// The card for an assessment; `suggestion` is the uuid of its referral suggestion, given
/// exactly when `suggests_referral` holds for its level.
pub fn card(
    r: &TriageResponse<'_>,
    uuid: String,
    suggestion: Option<String>,
    at: &Setting<'_>,
) -> CdsCard {
    let suggestions: Vec<CdsSuggestion> = suggestion
        .map(|id| referral(r, id, at))
        .into_iter()
        .collect();
    CdsCard {
        uuid,
        summary: summary(r),
        indicator: indicator(r.triage.level),
        detail: detail(r),
        selection_behavior: (!suggestions.is_empty()).then_some("at-most-one"),
        suggestions,
        source: CdsSource {
            label: format!("spasm-triage knowledge base {}", r.knowledge_base.version),
            topic: Coding {
                system: "urn:spasm-triage:cds-topic",
                code: "back-pain-triage",
                display: "Back pain triage",
            },
        },
        override_reasons: override_reasons(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrals_only_where_something_must_happen_today() {
        for level in ["emergency_ambulance", "emergency", "consultation_24"] {
            assert!(suggests_referral(level), "{level}");
        }
        for level in ["consultation", "self_care"] {
            assert!(!suggests_referral(level), "{level}");
        }
    }
}
