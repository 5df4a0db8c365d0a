//! What the FHIR face says about itself: the CapabilityStatement (`GET /fhir/metadata`) and
//! the OperationDefinition of `$triage`, so a FHIR client can discover the server.

use serde_json::{json, Value};

use crate::fhir_resources::questionnaire::{QUESTIONNAIRE_ID, QUESTIONNAIRE_URL};
use crate::http::outcome::narrative;
use crate::knowledge::KnowledgeBase;

pub const OPERATION_ID: &str = "QuestionnaireResponse-triage";
pub const OPERATION_URL: &str = "urn:spasm-triage:OperationDefinition/QuestionnaireResponse-triage";

/// The server's CapabilityStatement: FHIR R4 JSON, the Questionnaire (read, search by url)
/// and the `$triage` operation on QuestionnaireResponse.
pub fn capability_statement(kb: &KnowledgeBase) -> Value {
    json!({
        "resourceType": "CapabilityStatement",
        "id": "spasm-triage",
        "text": narrative("spasm-triage FHIR R4 server: the back pain intake Questionnaire, the $triage operation on a QuestionnaireResponse, and the Library, CodeSystems and ValueSets its outputs name."),
        "url": "urn:spasm-triage:CapabilityStatement/spasm-triage",
        "version": kb.version,
        "name": "SpasmTriageServer",
        "title": "spasm-triage FHIR R4 server",
        "status": "active",
        "experimental": false,
        "date": "2026-12-07",
        "publisher": "spasm-triage",
        "description": "Back pain and back muscle spasm triage decision support: the intake Questionnaire generated from the knowledge base, and $triage, which assesses a QuestionnaireResponse and returns a GuidanceResponse.",
        "kind": "instance",
        "software": { "name": "spasm-triage", "version": env!("CARGO_PKG_VERSION") },
        "implementation": { "description": format!("knowledge base {} ({})", kb.version, kb.digest) },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "JSON only (an XML Accept gets 406). Errors are OperationOutcomes whose issue.details.coding.code is the JSON API's stable problem code.",
            "security": {
                "description": "When the deployment enables keys, send an API key as `Authorization: Bearer <key>` or `X-API-Key`."
            },
            "resource": [
                {
                    "type": "Questionnaire",
                    "interaction": [{ "code": "read" }, { "code": "search-type" }],
                    "operation": [{
                        "name": "next-question",
                        "definition": "http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-next-question",
                        "documentation": "SDC adaptive form: POST /fhir/Questionnaire/$next-question with a QuestionnaireResponse (or Parameters `in`); the next question is added to its contained Questionnaire, in the order of the JSON API's next_questions."
                    }],
                    "versioning": "versioned",
                    "searchParam": [{
                        "name": "url",
                        "definition": "http://hl7.org/fhir/SearchParameter/Questionnaire-url",
                        "type": "uri",
                        "documentation": format!("`{QUESTIONNAIRE_URL}`, optionally with `|version`")
                    }]
                },
                canonical_resource("Library", "urn:spasm-triage:knowledge-base (the knowledge base that GuidanceResponse.moduleCanonical names)"),
                canonical_resource("CodeSystem", "urn:spasm-triage:tri, urn:spasm-triage:response, urn:spasm-triage:triage-level and urn:spasm-triage:<code> for each choice answer code"),
                canonical_resource("ValueSet", "urn:spasm-triage:ValueSet/<CodeSystem id>: all codes of that CodeSystem"),
                {
                    "type": "QuestionnaireResponse",
                    "operation": [{ "name": "triage", "definition": OPERATION_URL }]
                }
            ]
        }]
    })
}

/// A canonical resource type the server reads by id and searches by `url` (and `version`).
fn canonical_resource(kind: &str, urls: &str) -> Value {
    json!({
        "type": kind,
        "interaction": [{ "code": "read" }, { "code": "search-type" }],
        "versioning": "versioned",
        "searchParam": [
            {
                "name": "url",
                "definition": format!("http://hl7.org/fhir/SearchParameter/{kind}-url"),
                "type": "uri",
                "documentation": format!("{urls}; optionally with `|version`")
            },
            {
                "name": "version",
                "definition": format!("http://hl7.org/fhir/SearchParameter/{kind}-version"),
                "type": "token",
                "documentation": "The knowledge base version"
            }
        ]
    })
}

/// `QuestionnaireResponse/$triage`: a QuestionnaireResponse in (the body itself, or a
/// Parameters `response`), a GuidanceResponse out.
pub fn operation_definition(kb: &KnowledgeBase) -> Value {
    json!({
        "resourceType": "OperationDefinition",
        "id": OPERATION_ID,
        "text": narrative("Assess a back pain QuestionnaireResponse: the red-flag rules, causes, advice and safety netting of the knowledge base, returned as a GuidanceResponse."),
        "url": OPERATION_URL,
        "version": kb.version,
        "name": "Triage",
        "title": "Triage a back pain QuestionnaireResponse",
        "status": "active",
        "kind": "operation",
        "description": "The body is the QuestionnaireResponse, or a Parameters resource with it as `response`. Answers are validated and assessed exactly as POST /v1/triage; the result is a GuidanceResponse with a contained RiskAssessment and Parameters. The query parameter `audience` (`patient` or `clinician`) chooses the texts.",
        "affectsState": false,
        "code": "triage",
        "resource": ["QuestionnaireResponse"],
        "system": false,
        "type": true,
        "instance": false,
        "parameter": [
            {
                "name": "response",
                "use": "in",
                "min": 1,
                "max": "1",
                "documentation": format!("A QuestionnaireResponse to Questionnaire `{QUESTIONNAIRE_URL}` (GET /fhir/Questionnaire/{QUESTIONNAIRE_ID})."),
                "type": "QuestionnaireResponse"
            },
            {
                "name": "audience",
                "use": "in",
                "min": 0,
                "max": "1",
                "documentation": "`patient` (default) or `clinician`; a query parameter.",
                "type": "code"
            },
            {
                "name": "return",
                "use": "out",
                "min": 1,
                "max": "1",
                "documentation": "The assessment.",
                "type": "GuidanceResponse"
            }
        ]
    })
}
