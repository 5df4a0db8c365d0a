//! Shared by the fuzz targets: the knowledge base (loaded once), the deployment texts,
//! and the invariants every response must satisfy. A violated invariant panics, so
//! libFuzzer reports it as a crash with the input that caused it.

#![allow(dead_code)]

use std::sync::OnceLock;

use spasm_triage::view::dto::{Texts, TriageResponse};
use spasm_triage::http::error::ApiError;
use spasm_triage::knowledge::{self, KnowledgeBase, RuleSource};

pub fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        knowledge::load(&RuleSource::Embedded)
            .unwrap_or_else(|e| panic!("the embedded knowledge base does not load: {e}"))
    })
}

pub fn texts() -> &'static Texts {
    static TEXTS: OnceLock<Texts> = OnceLock::new();
    TEXTS.get_or_init(|| Texts::builtin(kb()))
}

/// The rank the API gives each level name (`TriageDto::rank`).
fn rank_of(level: &str) -> Option<u8> {
    match level {
        "self_care" => Some(1),
        "consultation" => Some(2),
        "consultation_24" => Some(3),
        "emergency" => Some(4),
        "emergency_ambulance" => Some(5),
        _ => None,
    }
}

/// Invariants of every successful response, whatever the request was. Returns the
/// response serialised (the bytes the handler would send).
pub fn check_ok(response: &TriageResponse<'_>, clinician: bool) -> serde_json::Value {
    let t = &response.triage;
    let rank = t.rank;
    assert!((1..=5).contains(&rank), "rank {rank} outside 1..=5");
    assert_eq!(
        rank_of(t.level),
        Some(rank),
        "level {} vs rank {rank}",
        t.level
    );

    // Timeframe follows the level.
    let timeframe_ok = match rank {
        5 | 4 => t.timeframe == "now",
        3 => t.timeframe == "within_24h",
        2 => matches!(t.timeframe, "within_1_week" | "within_2_weeks" | "routine"),
        _ => t.timeframe == "none",
    };
    assert!(
        timeframe_ok,
        "timeframe {} at level {}",
        t.timeframe, t.level
    );

    // The level is the maximum over what fired: no red flag above it, and something
    // decided it unless it is the self_care default.
    for flag in &response.red_flags {
        let flag_rank = rank_of(flag.level).unwrap_or(0);
        assert!(
            (1..=rank).contains(&flag_rank),
            "red flag {} at {} above the triage level {}",
            flag.rule_id,
            flag.level,
            t.level
        );
        assert_eq!(
            flag.clinician_text.is_some(),
            clinician,
            "clinician text on {} does not follow the audience",
            flag.rule_id
        );
        if flag.level == t.level {
            // A fired rule at the final level is one of the deciders.
            assert!(
                t.decided_by.contains(&flag.rule_id),
                "{} fired at {} but is not in decided_by {:?}",
                flag.rule_id,
                flag.level,
                t.decided_by
            );
        }
    }
    if rank > 1 {
        assert!(
            !t.decided_by.is_empty(),
            "level {} with no decided_by",
            t.level
        );
    }
    let mut sorted = t.decided_by.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        t.decided_by.len(),
        "duplicate decided_by {:?}",
        t.decided_by
    );
    assert!(
        !t.care_settings.is_empty(),
        "no care settings at {}",
        t.level
    );
    if t.remote_consult_suitable {
        assert!(
            matches!(rank, 2 | 3),
            "remote consult suitable at {}",
            t.level
        );
    }

    // Completeness: an unscreened required screen floors the level at consultation_24.
    let c = &response.completeness;
    assert_eq!(
        c.complete,
        c.missing_screens.is_empty(),
        "complete flag vs missing_screens"
    );
    assert_eq!(
        c.questions.iter().map(|q| q.code).collect::<Vec<_>>(),
        c.missing_screens,
        "one question per missing screen"
    );
    if !c.missing_screens.is_empty() {
        assert!(
            rank >= 3,
            "missing screens {:?} but level {}",
            c.missing_screens,
            t.level
        );
        let r25 = response.red_flags.iter().find(|f| f.rule_id == "R25");
        let r25 =
            r25.unwrap_or_else(|| panic!("missing screens {:?} without R25", c.missing_screens));
        for code in &c.missing_screens {
            assert!(
                r25.triggered_by.contains(code),
                "R25 not triggered by missing {code}"
            );
        }
    }

    // No self-care content at emergency levels; no differential for patients there.
    if rank >= 4 {
        assert!(response.advice.is_empty(), "advice at {}", t.level);
        assert!(
            response.medications.is_empty(),
            "medications at {}",
            t.level
        );
        if !clinician {
            assert!(
                response.causes.is_empty(),
                "causes shown to a patient at {}",
                t.level
            );
        }
    }
    assert!(
        response.causes.len() <= 3,
        "{} causes listed",
        response.causes.len()
    );
    for cause in &response.causes {
        assert!(
            matches!(cause.band, "likely" | "possible"),
            "band {}",
            cause.band
        );
        if !clinician {
            assert!(
                cause.evidence.iter().all(|e| e.weight > 0),
                "opposing evidence for a patient"
            );
        }
    }
    for m in &response.medications {
        assert!(
            matches!(m.status, "suggest" | "caution" | "ask_first" | "suppress"),
            "status {}",
            m.status
        );
        if m.status == "ask_first" {
            // Held back until its safety questions are answered, and those are asked.
            assert!(!m.because.is_empty(), "{} ask_first without a question", m.option);
            for code in &m.because {
                assert!(
                    c.medicine_questions.iter().any(|q| q.code == *code),
                    "{} asks {code} first, but completeness.medicine_questions lacks it",
                    m.option
                );
            }
        }
        if m.status == "suggest" {
            assert!(
                m.because.is_empty(),
                "{} suggested because of {:?}",
                m.option,
                m.because
            );
        }
    }
    if let Some(sb) = &response.startback {
        assert!(
            sb.psychosocial <= sb.total,
            "STarT Back psychosocial above total"
        );
        if let Some([lo, hi]) = sb.total_range {
            assert!(
                lo == sb.total && lo <= hi,
                "STarT Back total range [{lo}, {hi}]"
            );
        }
        if let Some([lo, hi]) = sb.psychosocial_range {
            assert!(
                lo == sb.psychosocial && lo <= hi,
                "STarT Back psychosocial range [{lo}, {hi}]"
            );
        }
        assert!(
            matches!(sb.risk, "low" | "medium" | "high" | "indeterminate"),
            "risk {}",
            sb.risk
        );
    }

    // The body serialises, every placeholder is filled, and it parses back.
    let body = serde_json::to_string(response)
        .unwrap_or_else(|e| panic!("response does not serialise: {e}"));
    for placeholder in ["{emergency_number}", "{urgent_line}", "{unscreened}"] {
        assert!(
            !body.contains(placeholder),
            "unfilled {placeholder} in the response"
        );
    }
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("response is not JSON: {e}"))
}

/// Invariants of every refusal: a client mistake is a 4xx with a stable code, and the
/// problem document serialises.
pub fn check_err(error: &ApiError) -> serde_json::Value {
    let problem = error.problem();
    assert!(
        matches!(problem.status, 400 | 422),
        "triage_body refused with status {} ({})",
        problem.status,
        problem.code
    );
    assert_eq!(problem.code, error.code.as_str());
    for field in &problem.errors {
        assert!(
            field.path.is_empty() || field.path.starts_with('/'),
            "JSON pointer {:?} does not start with /",
            field.path
        );
    }
    let body = serde_json::to_string(&problem)
        .unwrap_or_else(|e| panic!("problem does not serialise: {e}"));
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("problem is not JSON: {e}"))
}

/// The response body without the one field that differs between identical requests.
pub fn without_id(mut body: serde_json::Value) -> serde_json::Value {
    if let Some(map) = body.as_object_mut() {
        map.remove("assessment_id");
    }
    body
}
