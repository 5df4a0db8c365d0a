//! Which patient-facing texts still await clinical sign-off, for a deployment that may serve
//! only signed-off wording (`knowledge_base.require_signed_off`).

use super::model::{KnowledgeBase, Review};

/// Every patient-facing text whose review status is `draft`, named by where it lives.
pub fn drafted_patient_texts(kb: &KnowledgeBase) -> Vec<String> {
    let mut out = Vec::new();
    let mut note = |review: Review, what: String| {
        if review == Review::Draft {
            out.push(what);
        }
    };
    note(
        kb.disclaimer_review,
        "knowledge_base.toml disclaimer".to_owned(),
    );
    for l in &kb.levels {
        note(
            l.review,
            format!("knowledge_base.toml level {} action", l.level.as_str()),
        );
    }
    for c in &kb.care_settings {
        note(
            c.review,
            format!("knowledge_base.toml care setting {}", c.id),
        );
    }
    for c in &kb.vocabulary.codes {
        note(c.review, format!("vocabulary.toml question {}", c.code));
    }
    for r in &kb.rules {
        note(r.review, format!("red_flags.toml rule {}", r.id));
    }
    for c in &kb.causes {
        note(c.review, format!("causes.toml cause {}", c.id));
    }
    for b in &kb.advice.blocks {
        note(b.review, format!("advice.toml block {}", b.id));
    }
    note(
        kb.medicine_texts.review,
        "medicines.toml shared texts".to_owned(),
    );
    for m in &kb.medicines {
        note(m.review, format!("medicines.toml option {}", m.id));
    }
    for b in &kb.safety_net {
        note(b.review, format!("safety_net.toml block {}", b.id));
    }
    out
}
