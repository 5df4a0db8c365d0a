//! The canonical resources behind the names our outputs use: a `Library` for the knowledge
//! base (`GuidanceResponse.moduleCanonical`), and a `CodeSystem` with its `ValueSet` for every
//! answer system of the Questionnaire (`urn:spasm-triage:tri`, `urn:spasm-triage:response`,
//! one per choice code) and for the triage levels. All generated from the knowledge base, so
//! they cannot drift from the Questionnaire or the GuidanceResponse.

use serde_json::{json, Value};

use crate::fhir_resources::guidance::{
    level_display, KNOWLEDGE_BASE_CANONICAL, METHOD_CODE, METHOD_SYSTEM, TRIAGE_LEVEL_SYSTEM,
};
use crate::fhir_resources::questionnaire::{
    answer_concepts, answer_system, RESPONSE_SYSTEM, TRI_SYSTEM,
};
use crate::http::outcome::narrative;
use crate::knowledge::{KnowledgeBase, Level, Review, ValueKind};

pub const LIBRARY_ID: &str = "knowledge-base";
const DIGEST_SYSTEM: &str = "urn:spasm-triage:knowledge-base-digest";
const VALUE_SET_PREFIX: &str = "urn:spasm-triage:ValueSet/";
const REVIEW_PROPERTY: &str = "review";

/// The knowledge base as a FHIR Library: its version, its digest, and the guidance it cites.
pub fn library(kb: &KnowledgeBase) -> Value {
    let related: Vec<Value> = kb
        .sources
        .iter()
        .map(|s| {
            let mut artifact = json!({ "type": "citation", "label": s.id, "display": s.title });
            if s.url.starts_with("http") {
                artifact["url"] = json!(s.url);
            }
            artifact
        })
        .collect();
    json!({
        "resourceType": "Library",
        "id": LIBRARY_ID,
        "text": narrative(&format!(
            "spasm-triage knowledge base {}: the red-flag rules, causes, advice, medicines and safety netting behind every assessment; {} sources cited.",
            kb.version,
            kb.sources.len()
        )),
        "url": KNOWLEDGE_BASE_CANONICAL,
        "identifier": [{ "system": DIGEST_SYSTEM, "value": kb.digest }],
        "version": kb.version,
        "name": "SpasmTriageKnowledgeBase",
        "title": "spasm-triage knowledge base",
        // Its clinical content awaits sign-off (GET /v1/knowledge-base gives each item's status).
        "status": "draft",
        "experimental": false,
        "type": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/library-type",
            "code": "logic-library"
        }] },
        "publisher": "spasm-triage",
        "description": "The rule files under config/rules/ that the service assesses answers with; the full content is GET /v1/knowledge-base.",
        "relatedArtifact": related
    })
}

/// One code system: its FHIR id, canonical URL, title, and concepts (code, display, review).
pub struct Terminology {
    pub id: String,
    pub url: String,
    pub title: String,
    pub concepts: Vec<(String, String, Review)>,
}

/// Every code system the service names, in a stable order.
pub fn terminologies(kb: &KnowledgeBase) -> Vec<Terminology> {
    let shared = |url: &str, title: &str, kind: ValueKind| {
        // Tri-state and response codes share one system; any code of that kind gives its concepts.
        let def = kb.vocabulary.codes.iter().find(|c| c.kind == kind);
        Terminology {
            id: id_of(url),
            url: url.to_owned(),
            title: title.to_owned(),
            concepts: def
                .map(|d| {
                    answer_concepts(d)
                        .into_iter()
                        .map(|(c, s)| (c, s, Review::Draft))
                        .collect()
                })
                .unwrap_or_default(),
        }
    };
    let mut all = vec![
        shared(TRI_SYSTEM, "Yes, no or not sure", ValueKind::Tri),
        shared(RESPONSE_SYSTEM, "Did a treatment help", ValueKind::Response),
        Terminology {
            id: id_of(TRIAGE_LEVEL_SYSTEM),
            url: TRIAGE_LEVEL_SYSTEM.to_owned(),
            title: "Triage levels, most urgent first".to_owned(),
            concepts: Level::ALL
                .iter()
                .map(|l| {
                    let info = kb.level_info(*l);
                    (
                        l.as_str().to_owned(),
                        level_display(l.as_str()).to_owned(),
                        info.review,
                    )
                })
                .collect(),
        },
        Terminology {
            id: id_of(METHOD_SYSTEM),
            url: METHOD_SYSTEM.to_owned(),
            title: "How an assessment was made".to_owned(),
            concepts: vec![(
                METHOD_CODE.0.to_owned(),
                METHOD_CODE.1.to_owned(),
                Review::Draft,
            )],
        },
    ];
    for def in &kb.vocabulary.codes {
        if matches!(def.kind, ValueKind::Enum { .. } | ValueKind::Set { .. }) {
            all.push(Terminology {
                id: id_of(&answer_system(def)),
                url: answer_system(def),
                title: format!("Answers to `{}`", def.code),
                concepts: answer_concepts(def)
                    .into_iter()
                    .map(|(c, s)| (c, s, def.review))
                    .collect(),
            });
        }
    }
    all
}

/// `urn:spasm-triage:pregnancy_status` → `pregnancy-status` (FHIR ids allow no `_`).
fn id_of(url: &str) -> String {
    url.trim_start_matches("urn:spasm-triage:")
        .replace('_', "-")
}

/// `pregnancy-status` → `PregnancyStatus` (FHIR `name`: a computer-friendly name).
fn name_of(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

pub fn value_set_url(t: &Terminology) -> String {
    format!("{VALUE_SET_PREFIX}{}", t.id)
}

pub fn code_system(kb: &KnowledgeBase, t: &Terminology) -> Value {
    let concepts: Vec<Value> = t
        .concepts
        .iter()
        .map(|(code, display, review)| {
            json!({
                "code": code,
                "display": display,
                "property": [{ "code": REVIEW_PROPERTY, "valueCode": review.as_str() }]
            })
        })
        .collect();
    json!({
        "resourceType": "CodeSystem",
        "id": t.id,
        "text": narrative(&format!("{}: {}.", t.title, t.concepts.iter().map(|(c, d, _)| format!("{c} ({d})")).collect::<Vec<_>>().join(", "))),
        "url": t.url,
        "version": kb.version,
        "name": name_of(&t.id),
        "title": t.title,
        "status": "draft",
        "experimental": false,
        "publisher": "spasm-triage",
        "caseSensitive": true,
        "valueSet": value_set_url(t),
        "content": "complete",
        "count": t.concepts.len(),
        "property": [{
            "code": REVIEW_PROPERTY,
            "description": "Clinical review status of the display text: draft until a clinician signs it off, reference when taken from the clinical reference, approved once signed off.",
            "type": "code"
        }],
        "concept": concepts
    })
}

pub fn value_set(kb: &KnowledgeBase, t: &Terminology) -> Value {
    json!({
        "resourceType": "ValueSet",
        "id": t.id,
        "text": narrative(&format!("All codes of {}.", t.url)),
        "url": value_set_url(t),
        "version": kb.version,
        "name": name_of(&t.id),
        "title": t.title,
        "status": "draft",
        "experimental": false,
        "publisher": "spasm-triage",
        "compose": { "include": [{ "system": t.url, "version": kb.version }] }
    })
}

/// A searchset Bundle of the resources whose `url` (optionally `|version`) matches, or all.
pub fn searchset(resources: Vec<Value>, wanted: Option<&str>, version: &str) -> Value {
    let matches = |r: &Value| {
        wanted.is_none_or(|w| {
            let (url, v) = w.split_once('|').unwrap_or((w, ""));
            r["url"] == url && (v.is_empty() || v == version)
        })
    };
    let entries: Vec<Value> = resources
        .into_iter()
        .filter(matches)
        .map(|r| {
            json!({
                "fullUrl": format!("urn:spasm-triage:{}/{}", r["resourceType"].as_str().unwrap_or_default(), r["id"].as_str().unwrap_or_default()),
                "resource": r,
                "search": { "mode": "match" }
            })
        })
        .collect();
    json!({ "resourceType": "Bundle", "type": "searchset", "total": entries.len(), "entry": entries })
}
