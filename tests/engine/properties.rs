//! Property tests over random answers the vocabulary accepts.

use proptest::prelude::*;
use spasm_triage::engine::{assess, Answers, Audience, Tri, Value};
use spasm_triage::knowledge::{KnowledgeBase, ValueKind, RESPONSE_VALUES};
use spasm_triage::view::dto::{Texts, TriageResponse};

use crate::support::kb;

/// Map one random number per code to a valid answer (or none).
fn answers_from(kb: &KnowledgeBase, seeds: &[u32]) -> Answers {
    let mut answers = Answers::empty(kb);
    for (id, def) in kb.vocabulary.codes.iter().enumerate() {
        let seed = seeds.get(id).copied().unwrap_or(0);
        // About half the codes stay unanswered.
        if seed % 2 == 0 && def.code != "age_years" && def.code != "sex" {
            continue;
        }
        let pick = (seed / 2) as usize;
        let value = match &def.kind {
            ValueKind::Tri => Value::Tri([Tri::Present, Tri::Absent, Tri::Unknown][pick % 3]),
            ValueKind::Integer { min, max } => {
                Value::Number((min + (pick as f64) % (max - min + 1.0)).floor())
            }
            ValueKind::Number { min, max } => {
                Value::Number(min + (max - min) * ((pick % 1000) as f64 / 999.0))
            }
            ValueKind::Enum { values } => Value::Choice((pick % values.len()) as u16),
            ValueKind::Set { values } => {
                let mut set: Vec<u16> = (0..values.len() as u16)
                    .filter(|i| (pick >> i) & 1 == 1)
                    .collect();
                set.dedup();
                Value::Set(set)
            }
            ValueKind::Response => Value::Choice((pick % RESPONSE_VALUES.len()) as u16),
        };
        answers.set(id, Some(value));
    }
    answers
}

fn seeds() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), kb().vocabulary.codes.len())
}

/// Rendered once: every knowledge-base text is filled and escaped when `Texts` is made.
fn texts() -> &'static Texts {
    static TEXTS: std::sync::OnceLock<Texts> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| Texts::builtin(kb()))
}

fn body(kb: &'static KnowledgeBase, answers: &Answers, audience: Audience) -> serde_json::Value {
    let a = assess(kb, answers, audience);
    serde_json::to_value(TriageResponse::build(kb, &a, texts(), "fixed".into())).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]

    #[test]
    fn assessment_is_total_and_deterministic(seeds in seeds(), clinician in any::<bool>()) {
        let kb = kb();
        let answers = answers_from(kb, &seeds);
        let audience = if clinician { Audience::Clinician } else { Audience::Patient };
        let first = body(kb, &answers, audience);
        let second = body(kb, &answers, audience);
        prop_assert_eq!(&first, &second);
        let level = first["triage"]["level"].as_str().unwrap_or("");
        if level.starts_with("emergency") {
            prop_assert_eq!(&first["advice"], &serde_json::json!([]));
            prop_assert_eq!(&first["medications"], &serde_json::json!([]));
        }
        // A required screen left unknown never yields self_care or consultation.
        if first["completeness"]["complete"] == false {
            prop_assert!(first["triage"]["rank"].as_u64().unwrap_or(0) >= 3);
        }
    }

    #[test]
    fn a_finding_turning_present_never_lowers_the_level(seeds in seeds(), which in any::<prop::sample::Index>()) {
        let kb = kb();
        let mut answers = answers_from(kb, &seeds);
        let tri: Vec<usize> = kb.vocabulary.codes.iter().enumerate()
            .filter(|(id, c)| c.kind == ValueKind::Tri && answers.tri(*id) != Tri::Present)
            .map(|(id, _)| id)
            .collect();
        prop_assume!(!tri.is_empty());
        let id = tri[which.index(tri.len())];
        let before = assess(kb, &answers, Audience::Patient).level;
        answers.set(id, Some(Value::Tri(Tri::Present)));
        let after = assess(kb, &answers, Audience::Patient).level;
        prop_assert!(after >= before, "{} turned present: {:?} → {:?}", kb.vocabulary.code(id).code, before, after);
    }

    #[test]
    fn ruling_out_an_unknown_screen_never_raises_the_level(seeds in seeds(), which in any::<prop::sample::Index>()) {
        let kb = kb();
        let mut answers = answers_from(kb, &seeds);
        let unknown: Vec<usize> = kb.vocabulary.required_screens.iter().map(|s| s.code)
            .filter(|id| kb.vocabulary.code(*id).kind == ValueKind::Tri && answers.tri(*id) == Tri::Unknown)
            .collect();
        prop_assume!(!unknown.is_empty());
        let id = unknown[which.index(unknown.len())];
        let before = assess(kb, &answers, Audience::Patient).level;
        answers.set(id, Some(Value::Tri(Tri::Absent)));
        let after = assess(kb, &answers, Audience::Patient).level;
        prop_assert!(after <= before, "{} ruled out: {:?} → {:?}", kb.vocabulary.code(id).code, before, after);
    }
}
