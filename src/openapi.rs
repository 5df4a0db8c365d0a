//! The OpenAPI 3.1 document. Paths and wire types come from utoipa annotations;
//! the `Answers` schema is generated from the vocabulary so it cannot drift.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi as OpenApiDoc, RefOr};
use utoipa::OpenApi;

use crate::api;
use crate::engine::answers::REQUIRED_ANSWERS;
use crate::knowledge::{KnowledgeBase, ValueKind, RESPONSE_VALUES};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "spasm-triage",
        description = "Explainable triage decision support for back muscle spasm and low back pain. \
            Decision support for telehealth front ends and clinic intake forms, not a diagnosis: \
            every output names the rule that fired, the answers that triggered it and its sources. \
            Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.",
        license(name = "Proprietary")
    ),
    paths(
        api::triage::triage,
        api::meta::vocabulary,
        api::meta::knowledge_base,
        api::meta::health,
        api::meta::ready,
        api::meta::openapi_json,
    ),
    tags(
        (name = "triage", description = "Assess a set of answers"),
        (name = "knowledge base", description = "What the service knows, for integrators and clinical reviewers"),
        (name = "operations", description = "Probes and the API description"),
    )
)]
struct ApiDoc;

/// The document for a knowledge base (the embedded one is committed as `openapi/openapi.json`).
pub fn document(kb: &KnowledgeBase) -> OpenApiDoc {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::fhir::FhirApiDoc::openapi());
    doc.merge(crate::cds::CdsApiDoc::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    if let Some(components) = doc.components.as_mut() {
        components
            .schemas
            .insert("Answers".to_owned(), RefOr::T(answers_schema(kb)));
    }
    doc
}

fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values.into_iter().map(str::to_owned)))
}

/// One property per vocabulary code, with its type, allowed values or range, and
/// its intake question as the description. Unknown properties are not allowed.
fn answers_schema(kb: &KnowledgeBase) -> Schema {
    let mut object = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .description(Some(
            "Answers keyed by vocabulary code (`GET /v1/vocabulary`). A missing code means unknown.",
        ))
        .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(false)));
    for id in kb.vocabulary.display_order() {
        let c = kb.vocabulary.code(id);
        let mut description = c.question.clone();
        if let Some(unit) = &c.unit {
            description.push_str(&format!(" (unit: {unit})"));
        }
        if c.required_screen {
            description.push_str(
                " Required safety screen: leaving it unknown floors the level at consultation_24.",
            );
        }
        let property: Schema = match &c.kind {
            ValueKind::Tri => string_enum(["present", "absent", "unknown"])
                .description(Some(description))
                .into(),
            ValueKind::Integer { min, max } => ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(*min))
                .maximum(Some(*max))
                .description(Some(description))
                .into(),
            ValueKind::Number { min, max } => ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Number))
                .minimum(Some(*min))
                .maximum(Some(*max))
                .description(Some(description))
                .into(),
            ValueKind::Enum { values } => string_enum(values.iter().map(String::as_str))
                .description(Some(description))
                .into(),
            ValueKind::Response => string_enum(RESPONSE_VALUES)
                .description(Some(description))
                .into(),
            ValueKind::Set { values } => ArrayBuilder::new()
                .items(string_enum(values.iter().map(String::as_str)))
                .unique_items(true)
                .description(Some(description))
                .into(),
        };
        object = object.property(c.code.clone(), property);
    }
    for required in REQUIRED_ANSWERS {
        object = object.required(required);
    }
    object.into()
}

/// Pretty JSON with a final newline, as committed.
pub fn to_json(doc: &OpenApiDoc) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    Ok(text)
}
