//! OpenAPI schemas of the FHIR resources this service reads and writes. Responses describe
//! every element the service writes and stay open to the rest of FHIR R4 (`additionalProperties`
//! allowed); conformance is also checked with the R4B models in CI (`scripts/validate_fhir.py`).
//! Request schemas declare exactly the elements the service reads, with the types the service
//! enforces (`mapping.rs`): anything declared here and sent with another type is refused, and
//! the rest of a resource is ignored. What JSON Schema cannot say (each answered
//! `linkId` is a vocabulary code answered once, `age_years` and `sex` answered) is checked by
//! the engine's answer validation and refused with its codes.

use std::borrow::Cow;

use utoipa::openapi::schema::{
    ArrayBuilder, ArrayItems, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

fn object(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .description(Some(description))
}

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some(description))
}

fn integer(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .description(Some(description))
}

fn number(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Number))
        .description(Some(description))
}

fn constant(value: &str, description: &str) -> ObjectBuilder {
    string(description).enum_values(Some([value]))
}

fn one_of(values: &[&str], description: &str) -> ObjectBuilder {
    string(description).enum_values(Some(values.iter().copied()))
}

fn boolean(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Boolean))
        .description(Some(description))
}

fn array(items: impl Into<RefOr<Schema>>, description: &str) -> ArrayBuilder {
    ArrayBuilder::new()
        .items(ArrayItems::RefOrSchema(Box::new(items.into())))
        .description(Some(description))
}

fn reference(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

macro_rules! fhir_schema {
    ($ty:ident, $name:literal, $deps:expr, $body:expr) => {
        #[doc = concat!("OpenAPI schema of the FHIR `", $name, "` as this service uses it.")]
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                RefOr::T($body)
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            #[allow(clippy::redundant_closure_call)]
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                ($deps)(schemas)
            }
        }
    };
}

fn none(_: &mut Vec<(String, RefOr<Schema>)>) {}

fn coding() -> Schema {
    object("A FHIR Coding.")
        .property("system", string("Code system URI."))
        .property("code", string("The code."))
        .property("display", string("Human-readable display."))
        .into()
}

fn codeable_concept() -> Schema {
    object("A FHIR CodeableConcept.")
        .property("coding", array(reference("FhirCoding"), "Codes."))
        .property("text", string("Plain text."))
        .into()
}

fn identifier() -> Schema {
    object("A FHIR Identifier.")
        .property("system", string("Namespace URI."))
        .property("value", string("The identifier."))
        .into()
}

fn reference_schema() -> Schema {
    object(
        "A FHIR Reference. In a request, each element given must have the type shown \
         (the service refuses the resource otherwise).",
    )
    .property(
        "reference",
        string("Literal reference, e.g. `Patient/123` or `#risk`."),
    )
    .property("type", string("Resource type of the target."))
    .property("identifier", reference("FhirIdentifier"))
    .property("display", string("Text alternative for the resource."))
    .into()
}

fn narrative() -> Schema {
    object("A FHIR Narrative: the human-readable summary of the resource.")
        .property(
            "status",
            one_of(
                &["generated"],
                "`generated`: made from the structured data.",
            ),
        )
        .property("div", string("XHTML `<div>` with the summary."))
        .required("status")
        .required("div")
        .into()
}

fn narrative_deps(schemas: Deps<'_>) {
    push(schemas, "FhirNarrative", narrative());
}

fn annotation() -> ObjectBuilder {
    object("A FHIR Annotation.").property("text", string("The note."))
}

type Deps<'a> = &'a mut Vec<(String, RefOr<Schema>)>;

fn push(schemas: Deps<'_>, name: &str, schema: Schema) {
    if !schemas.iter().any(|(n, _)| n == name) {
        schemas.push((name.to_owned(), RefOr::T(schema)));
    }
}

fn push_type<T: ToSchema>(schemas: Deps<'_>) {
    push(
        schemas,
        &T::name(),
        match T::schema() {
            RefOr::T(schema) => schema,
            RefOr::Ref(_) => Schema::default(),
        },
    );
    T::schemas(schemas);
}

fn coding_deps(schemas: Deps<'_>) {
    push(schemas, "FhirCoding", coding());
}

fn reference_deps(schemas: Deps<'_>) {
    push(schemas, "FhirReference", reference_schema());
    push(schemas, "FhirIdentifier", identifier());
}

fn outcome_deps(schemas: Deps<'_>) {
    coding_deps(schemas);
    narrative_deps(schemas);
}

fn with_item_deps(schemas: Deps<'_>) {
    push_type::<FhirQuestionnaireItem>(schemas);
    narrative_deps(schemas);
    coding_deps(schemas);
}

fn with_response_item_deps(schemas: Deps<'_>) {
    push_type::<FhirQuestionnaireResponseItem>(schemas);
    reference_deps(schemas);
}

fn with_contained_deps(schemas: Deps<'_>) {
    narrative_deps(schemas);
    push_type::<FhirRiskAssessment>(schemas);
    push_type::<FhirParameters>(schemas);
    reference_deps(schemas);
}

fn with_concept_deps(schemas: Deps<'_>) {
    push(schemas, "FhirCodeableConcept", codeable_concept());
    coding_deps(schemas);
    reference_deps(schemas);
}

fn with_parameter_deps(schemas: Deps<'_>) {
    push_type::<FhirParametersParameter>(schemas);
}

fn with_parameter_value_deps(schemas: Deps<'_>) {
    coding_deps(schemas);
    reference_deps(schemas);
}

fn with_bundle_deps(schemas: Deps<'_>) {
    push_type::<FhirQuestionnaireResponse>(schemas);
}

fhir_schema!(
    FhirQuestionnaireItem,
    "QuestionnaireItem",
    none,
    object(
        "A group (one per vocabulary group) or a question (one per vocabulary code). \
         `linkId` is the group id or the answer code."
    )
    .property("linkId", string("Group id or vocabulary code."))
    .property("text", string("Group label or intake question."))
    .property(
        "type",
        one_of(&["group", "choice", "integer", "decimal"], "Item type.")
    )
    .property(
        "required",
        boolean("Required safety screens, `age_years` and `sex`.")
    )
    .property(
        "repeats",
        boolean("`true` for set codes (several answers).")
    )
    .property(
        "code",
        array(
            reference("FhirCoding"),
            "LOINC codes of STarT Back items and of the STarT Back group (panel 91349-1)."
        )
    )
    .property(
        "answerOption",
        array(
            object("An allowed answer: `valueCoding`.")
                .property("valueCoding", reference("FhirCoding")),
            "Allowed answers of choice items."
        )
    )
    .property(
        "enableWhen",
        array(
            object("Condition that enables the item.")
                .property("question", string("The `linkId` the condition reads."))
                .property("operator", one_of(&["=", "!="], "Comparison."))
                .property("answerCoding", reference("FhirCoding")),
            "`pregnancy_status` is enabled unless `sex` is `male`."
        )
    )
    .property(
        "extension",
        array(
            object("A `minValue`, `maxValue` or `questionnaire-unit` extension.")
                .property("url", string("The extension's definition."))
                .property("valueInteger", integer("Bound of an integer item."))
                .property("valueDecimal", number("Bound of a decimal item."))
                .property("valueCoding", reference("FhirCoding")),
            "Range and unit of numeric items."
        )
    )
    .property(
        "item",
        array(reference("QuestionnaireItem"), "Questions of a group.")
    )
    .required("linkId")
    .required("type")
    .into()
);

fhir_schema!(
    FhirQuestionnaire,
    "Questionnaire",
    with_item_deps,
    object(
        "FHIR R4 Questionnaire generated from the vocabulary: one group per vocabulary group, \
         one question per code."
    )
    .property(
        "resourceType",
        constant("Questionnaire", "Always `Questionnaire`.")
    )
    .property("id", constant("back-pain-triage", "Resource id."))
    .property("text", reference("FhirNarrative"))
    .property(
        "url",
        constant(
            "urn:spasm-triage:Questionnaire/back-pain-triage",
            "Canonical URL; QuestionnaireResponses name it in `questionnaire`."
        )
    )
    .property("version", string("The knowledge base version."))
    .property("name", string("Computer-friendly name."))
    .property("title", string("Human-friendly name."))
    .property(
        "status",
        one_of(&["draft", "active"], "Publication status.")
    )
    .property("publisher", string("Who publishes the Questionnaire."))
    .property("subjectType", array(string("Resource type."), "`Patient`."))
    .property("description", string("What the questionnaire is for."))
    .property(
        "item",
        array(
            reference("QuestionnaireItem"),
            "One group per vocabulary group."
        )
    )
    .required("resourceType")
    .required("id")
    .required("url")
    .required("version")
    .required("status")
    .required("item")
    .into()
);

fhir_schema!(
    FhirQuestionnaireResponseItem,
    "QuestionnaireResponseItem",
    none,
    object(
        "An item of the response: a group (nested `item`) or an answered question \
         (`linkId` = vocabulary code). An item without answers is unknown. Any other member \
         (a misspelt `answers` or `items`, a `modifierExtension`) is refused rather than \
         ignored, since ignoring it could drop answers."
    )
    .property(
        "linkId",
        string("Group id or vocabulary code.").min_length(Some(1))
    )
    .property("definition", string("Ignored."))
    .property("id", string("Ignored."))
    .property(
        "extension",
        array(object("An extension (ignored)."), "Ignored.")
    )
    .property("text", string("Ignored."))
    .property(
        "answer",
        array(
            object(
                "One answer: exactly one `value[x]`, the type the Questionnaire item asks for: \
                 `valueCoding` (choice items; `code` from the answer options, `system` if given \
                 the item's answer system), `valueInteger` (integer items) or `valueDecimal` \
                 (decimal items). Repeating (set) items take several answers. Besides \
                 `value[x]`, only `item`, `id` and `extension` are allowed."
            )
            .property_names(Some(
                string("`value[x]`, `item`, `id` or `extension`, or `_<element>`.")
                    .pattern(Some("^_?(value[\\s\\S]*|item|id|extension)$"))
            ))
            .property("id", string("Ignored."))
            .property(
                "extension",
                array(object("An extension (ignored)."), "Ignored.")
            )
            .property(
                "valueCoding",
                object("The chosen answer option.")
                    .property("system", string("The item's answer system."))
                    .property("code", string("The answer option's code."))
                    .property("display", string("Ignored."))
                    .required("code")
            )
            .property("valueInteger", integer("Answer of an integer item."))
            .property("valueDecimal", number("Answer of a decimal item."))
            .property(
                "item",
                array(reference("QuestionnaireResponseItem"), "Nested items.")
            ),
            "Answers."
        )
    )
    .property(
        "item",
        array(reference("QuestionnaireResponseItem"), "Nested items.")
    )
    .required("linkId")
    .property_names(Some(
        string("An element of an item, or `_<element>` (a primitive's id and extensions).")
            .pattern(Some(
                "^_?(linkId|definition|text|answer|item|id|extension)$"
            ))
    ))
    .into()
);

fhir_schema!(
    FhirQuestionnaireResponse,
    "QuestionnaireResponse",
    with_response_item_deps,
    object(
        "FHIR R4 QuestionnaireResponse for the `back-pain-triage` Questionnaire. Groups may be \
         nested in any way; each answered `linkId` is an answer code, answered once. \
         `age_years` and `sex` are required. Other elements of the resource are ignored, \
         except `modifierExtension`, which is refused (its meaning is unknown here)."
    )
    .property(
        "resourceType",
        constant("QuestionnaireResponse", "Must be `QuestionnaireResponse`.")
    )
    .property(
        "id",
        string(
            "Resource id; when it is a FHIR id (`[A-Za-z0-9.-]{1,64}`) the RiskAssessment's \
             `basis` refers to it."
        )
    )
    .property(
        "questionnaire",
        string(
            "`urn:spasm-triage:Questionnaire/back-pain-triage` (or \
             `Questionnaire/back-pain-triage`), optionally with `|version`; may be left out. \
             Another Questionnaire is refused."
        )
    )
    .property(
        "status",
        one_of(
            &["in-progress", "completed", "amended", "stopped"],
            "Status (`entered-in-error` is refused)."
        )
    )
    .property("subject", reference("FhirReference"))
    .property("encounter", reference("FhirReference"))
    .property(
        "authored",
        string("When the answers were recorded (a FHIR dateTime).")
    )
    .property(
        "item",
        array(
            reference("QuestionnaireResponseItem"),
            "Groups and answers."
        )
    )
    .required("resourceType")
    .required("status")
    .into()
);

fhir_schema!(
    FhirBundle,
    "Bundle",
    with_bundle_deps,
    object(
        "A FHIR R4 searchset Bundle of QuestionnaireResponses (a CDS Hooks prefetch result). \
         Entries whose `resource` is not a usable QuestionnaireResponse for this patient and \
         Questionnaire are skipped."
    )
    .property("resourceType", constant("Bundle", "Must be `Bundle`."))
    .property("type", string("`searchset`."))
    .property(
        "entry",
        array(
            object("A search result.").property(
                "resource",
                object("A resource; QuestionnaireResponses are read.")
            ),
            "The search results."
        )
    )
    .required("resourceType")
    .into()
);

fhir_schema!(
    FhirRiskAssessment,
    "RiskAssessment",
    with_concept_deps,
    object(
        "The contained RiskAssessment (`#risk`): the triage level as the first prediction's \
         `outcome` (system `urn:spasm-triage:triage-level`), STarT Back as a further prediction."
    )
    .property(
        "resourceType",
        constant("RiskAssessment", "Always `RiskAssessment`.")
    )
    .property("id", constant("risk", "Local id."))
    .property("status", constant("final", "Always `final`."))
    .property("subject", reference("FhirReference"))
    .property("encounter", reference("FhirReference"))
    .property(
        "occurrenceDateTime",
        string("When the assessment was made (UTC).")
    )
    .property(
        "basis",
        array(
            reference("FhirReference"),
            "The QuestionnaireResponse assessed."
        )
    )
    .property("method", reference("FhirCodeableConcept"))
    .property(
        "prediction",
        array(
            object("A predicted outcome.")
                .property("outcome", reference("FhirCodeableConcept"))
                .property("qualitativeRisk", reference("FhirCodeableConcept"))
                .property("rationale", string("Why.")),
            "The triage level first."
        )
    )
    .property("mitigation", string("What to do."))
    .property("note", array(annotation(), "The deciding rules."))
    .required("resourceType")
    .required("id")
    .required("status")
    .required("prediction")
    .into()
);

fhir_schema!(
    FhirParametersParameter,
    "ParametersParameter",
    with_parameter_value_deps,
    object("A named value, or named parts.")
        .property("name", string("Parameter name."))
        .property("valueString", string("A text."))
        .property("valueCode", string("A code."))
        .property("valueUri", string("A URI."))
        .property("valueInteger", integer("A whole number."))
        .property("valueBoolean", boolean("A flag."))
        .property("valueCoding", reference("FhirCoding"))
        .property("valueReference", reference("FhirReference"))
        .property(
            "part",
            array(reference("ParametersParameter"), "Named parts.")
        )
        .required("name")
        .into()
);

fhir_schema!(
    FhirParameters,
    "Parameters",
    with_parameter_deps,
    object(
        "The contained Parameters (`#output`): everything the JSON API returns, one \
         parameter per fact."
    )
    .property(
        "resourceType",
        constant("Parameters", "Always `Parameters`.")
    )
    .property("id", constant("output", "Local id."))
    .property(
        "parameter",
        array(reference("ParametersParameter"), "The facts.")
    )
    .required("resourceType")
    .required("id")
    .into()
);

fhir_schema!(
    FhirGuidanceResponse,
    "GuidanceResponse",
    with_contained_deps,
    object(
        "FHIR R4 GuidanceResponse. `contained` holds the RiskAssessment (`#risk`: the triage \
         level as `prediction[0].outcome`, system `urn:spasm-triage:triage-level`) and the \
         Parameters (`#output`: level, timeframe, decided_by, red flags with triggering \
         answers, causes, advice, medicines, STarT Back, safety net, missing screens). \
         `status` is `data-required` when required safety screens are unanswered; the \
         assessment (floored) is still included and `dataRequirement` names the screens."
    )
    .property(
        "resourceType",
        constant("GuidanceResponse", "Always `GuidanceResponse`.")
    )
    .property("id", string("The assessment id (UUID)."))
    .property("text", reference("FhirNarrative"))
    .property(
        "contained",
        array(
            OneOfBuilder::new()
                .item(reference("RiskAssessment"))
                .item(reference("Parameters")),
            "RiskAssessment and Parameters."
        )
    )
    .property("requestIdentifier", reference("FhirIdentifier"))
    .property(
        "identifier",
        array(reference("FhirIdentifier"), "The assessment id.")
    )
    .property(
        "moduleCanonical",
        string("The knowledge base: `urn:spasm-triage:knowledge-base|<version>`.")
    )
    .property(
        "status",
        one_of(
            &["success", "data-required"],
            "`data-required` when required safety screens are unanswered."
        )
    )
    .property("subject", reference("FhirReference"))
    .property("encounter", reference("FhirReference"))
    .property(
        "occurrenceDateTime",
        string("When the assessment was made (UTC).")
    )
    .property("outputParameters", reference("FhirReference"))
    .property(
        "dataRequirement",
        array(
            object("An unanswered required screen.")
                .property(
                    "extension",
                    array(
                        object("The question's linkId.")
                            .property(
                                "url",
                                constant(super::guidance::LINK_ID_EXTENSION, "Names the item.")
                            )
                            .property(
                                "valueString",
                                string("The linkId (vocabulary code) to answer.")
                            ),
                        "The question to answer."
                    )
                )
                .property("type", constant("QuestionnaireResponse", "The data type."))
                .property(
                    "mustSupport",
                    array(
                        string("Simple FHIRPath (R4): `item.answer`."),
                        "What to fill in."
                    )
                ),
            "The questions to ask next."
        )
    )
    .property("note", array(annotation(), "The disclaimer."))
    .required("resourceType")
    .required("id")
    .required("contained")
    .required("moduleCanonical")
    .required("status")
    .required("occurrenceDateTime")
    .required("outputParameters")
    .into()
);

/// FHIR issue types the service uses (`outcome::issue_type`).
pub const ISSUE_TYPES: [&str; 12] = [
    "structure",
    "code-invalid",
    "value",
    "required",
    "invalid",
    "security",
    "not-found",
    "not-supported",
    "too-costly",
    "throttled",
    "timeout",
    "exception",
];

fhir_schema!(
    FhirOperationOutcome,
    "OperationOutcome",
    outcome_deps,
    object(
        "FHIR R4 OperationOutcome: every error under `/fhir/`. \
         `issue[].details.coding[0].code` is the same stable code as the JSON API's problem \
         `code` (system `urn:spasm-triage:problem`); `expression` is a FHIRPath into the \
         request."
    )
    .property(
        "resourceType",
        constant("OperationOutcome", "Always `OperationOutcome`.")
    )
    .property("text", reference("FhirNarrative"))
    .property(
        "issue",
        array(
            object("One problem.")
                .property("severity", constant("error", "Always `error`."))
                .property("code", one_of(&ISSUE_TYPES, "FHIR issue type."))
                .property(
                    "details",
                    object("The stable code and a message naming the field, never the value sent.")
                        .property(
                            "coding",
                            array(reference("FhirCoding"), "`urn:spasm-triage:problem` code.")
                        )
                        .property("text", string("Message."))
                )
                .property(
                    "expression",
                    array(string("FHIRPath."), "Where the problem is.")
                )
                .required("severity")
                .required("code"),
            "The problems found."
        )
        .min_items(Some(1))
    )
    .required("resourceType")
    .required("issue")
    .into()
);

/// `prefetch.questionnaireResponse` of a CDS Hooks call: a QuestionnaireResponse, a searchset
/// Bundle of them, or `null` (nothing found: the service answers 412).
pub fn prefetch_questionnaire_response() -> Schema {
    OneOfBuilder::new()
        .item(reference("QuestionnaireResponse"))
        .item(reference("Bundle"))
        .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)))
        .description(Some(
            "A QuestionnaireResponse for `urn:spasm-triage:Questionnaire/back-pain-triage`, or a \
             searchset Bundle of them (the newest `authored` is used; when `authored` cannot \
             decide, missing or tied, the most urgent of those responses); `null` when the EHR found \
             none (412 `prefetch_missing`).",
        ))
        .into()
}

#[cfg(test)]
mod issue_type_tests {
    use super::ISSUE_TYPES;
    use crate::http::error::ErrorCode;
    use crate::http::outcome::issue_type;

    #[test]
    fn every_issue_type_is_one_the_schema_declares() {
        for code in ErrorCode::ALL {
            let t = issue_type(code.as_str(), code.status().as_u16());
            assert!(
                ISSUE_TYPES.contains(&t),
                "{code:?} gives `{t}`, missing from the OperationOutcome schema"
            );
        }
    }
}
