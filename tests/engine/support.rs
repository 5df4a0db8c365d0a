use std::sync::OnceLock;

use serde_json::{Map, Value};
use spasm_triage::engine::{assess, parse_answers, Answers, Assessment, Audience};
use spasm_triage::knowledge::{self, KnowledgeBase, RuleSource};

pub fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| knowledge::load(&RuleSource::Embedded).unwrap_or_else(|e| panic!("{e}")))
}

/// The embedded rule files, for building broken variants.
pub fn files() -> Vec<(String, String)> {
    knowledge::load::read_files(&RuleSource::Embedded).unwrap()
}

/// A 40-year-old man with every required screen answered absent, plus `overlay`.
pub fn screened(overlay: &Map<String, Value>) -> Map<String, Value> {
    let mut answers = Map::new();
    answers.insert("age_years".into(), Value::from(40));
    answers.insert("sex".into(), Value::from("male"));
    for screen in &kb().vocabulary.required_screens {
        let def = kb().vocabulary.code(screen.code);
        if def.kind == knowledge::ValueKind::Tri {
            answers.insert(def.code.clone(), Value::from("absent"));
        }
    }
    for (k, v) in overlay {
        answers.insert(k.clone(), v.clone());
    }
    answers
}

pub fn parse(answers: &Map<String, Value>) -> Answers {
    parse_answers(kb(), answers).unwrap_or_else(|e| panic!("answers rejected: {e:?}"))
}

pub fn run(answers: &Map<String, Value>) -> Assessment<'static> {
    assess(kb(), &parse(answers), Audience::Clinician)
}
