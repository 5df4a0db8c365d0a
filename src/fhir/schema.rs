//! OpenAPI schemas of the FHIR resources this service reads and writes. They describe the
//! elements the service uses; every resource stays open to the rest of FHIR R4
//! (`additionalProperties` allowed), and conformance is checked with the R4B models in CI
//! (`scripts/validate_fhir.py`).

use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
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

fn reference_schema() -> Schema {
    object("A FHIR Reference.")
        .property(
            "reference",
            string("Literal reference, e.g. `Patient/123` or `#risk`."),
        )
        .property("type", string("Resource type of the target."))
        .property("identifier", object("Logical reference: an Identifier."))
        .property("display", string("Text alternative for the resource."))
        .into()
}

fn with_item_deps(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((
        FhirQuestionnaireItem::name().into_owned(),
        FhirQuestionnaireItem::schema(),
    ));
    schemas.push(("FhirCoding".to_owned(), RefOr::T(coding())));
}

fn with_response_item_deps(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((
        FhirQuestionnaireResponseItem::name().into_owned(),
        FhirQuestionnaireResponseItem::schema(),
    ));
    schemas.push(("FhirCoding".to_owned(), RefOr::T(coding())));
    schemas.push(("FhirReference".to_owned(), RefOr::T(reference_schema())));
}

fn with_reference_deps(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push(("FhirReference".to_owned(), RefOr::T(reference_schema())));
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
            object("Condition that enables the item."),
            "`pregnancy_status` is enabled unless `sex` is `male`."
        )
    )
    .property(
        "extension",
        array(
            object("minValue, maxValue and questionnaire-unit extensions."),
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
         (`linkId` = vocabulary code)."
    )
    .property("linkId", string("Group id or vocabulary code."))
    .property("text", string("Ignored."))
    .property(
        "answer",
        array(
            object(
                "One answer: `valueCoding` (choice items; `code` from the answer options), \
                 `valueInteger` (integer items) or `valueDecimal` (decimal items). \
                 Repeating (set) items take several answers."
            )
            .property("valueCoding", reference("FhirCoding"))
            .property(
                "valueInteger",
                ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer))
            )
            .property(
                "valueDecimal",
                ObjectBuilder::new().schema_type(SchemaType::Type(Type::Number))
            )
            .property(
                "item",
                array(reference("QuestionnaireResponseItem"), "Nested items.")
            ),
            "Answers; an item without answers is unknown."
        )
    )
    .property(
        "item",
        array(reference("QuestionnaireResponseItem"), "Nested items.")
    )
    .required("linkId")
    .into()
);

fhir_schema!(
    FhirQuestionnaireResponse,
    "QuestionnaireResponse",
    with_response_item_deps,
    object(
        "FHIR R4 QuestionnaireResponse for the `back-pain-triage` Questionnaire. Groups may be \
         nested in any way; each answered `linkId` is an answer code. `age_years` and `sex` \
         are required."
    )
    .property(
        "resourceType",
        constant("QuestionnaireResponse", "Must be `QuestionnaireResponse`.")
    )
    .property(
        "id",
        string("Resource id; the RiskAssessment's `basis` refers to it.")
    )
    .property(
        "questionnaire",
        string(
            "`urn:spasm-triage:Questionnaire/back-pain-triage`, optionally with `|version`; \
             may be left out."
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
    .property("authored", string("When the answers were recorded."))
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
    FhirGuidanceResponse,
    "GuidanceResponse",
    with_reference_deps,
    object(
        "FHIR R4 GuidanceResponse. `contained` holds the RiskAssessment (`#risk`: the triage \
         level as `prediction[0].outcome`, system `urn:spasm-triage:triage-level`) and the \
         Parameters (`#output`: level, timeframe, decided_by, red flags with triggering \
         answers, causes, advice, medicines, STarT Back, safety net, missing screens). \
         `status` is `data-required` when required safety screens are unanswered; the \
         assessment (floored) is still included and `dataRequirement` names the screens."
    )
    .property("resourceType", constant("GuidanceResponse", "Always `GuidanceResponse`."))
    .property("id", string("The assessment id (UUID)."))
    .property(
        "contained",
        array(
            object("A contained RiskAssessment (`risk`) or Parameters (`output`).")
                .property("resourceType", one_of(&["RiskAssessment", "Parameters"], "Type."))
                .property("id", one_of(&["risk", "output"], "Local id."))
                .required("resourceType")
                .required("id"),
            "RiskAssessment and Parameters."
        )
    )
    .property("requestIdentifier", object("The request's `X-Request-Id`."))
    .property("identifier", array(object("Identifier."), "The assessment id."))
    .property(
        "moduleCanonical",
        string("The knowledge base: `urn:spasm-triage:knowledge-base|<version>`.")
    )
    .property("status", one_of(&["success", "data-required"], "`data-required` when required safety screens are unanswered."))
    .property("subject", reference("FhirReference"))
    .property("encounter", reference("FhirReference"))
    .property("occurrenceDateTime", string("When the assessment was made (UTC)."))
    .property("outputParameters", reference("FhirReference"))
    .property(
        "dataRequirement",
        array(
            object("An unanswered required screen: `type` QuestionnaireResponse, `mustSupport` the item."),
            "The questions to ask next."
        )
    )
    .property("note", array(object("Annotation."), "The disclaimer."))
    .required("resourceType")
    .required("id")
    .required("contained")
    .required("moduleCanonical")
    .required("status")
    .required("occurrenceDateTime")
    .required("outputParameters")
    .into()
);

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
    .property(
        "issue",
        array(
            object("One problem.")
                .property("severity", constant("error", "Always `error`."))
                .property(
                    "code",
                    one_of(
                        &[
                            "invalid",
                            "not-found",
                            "not-supported",
                            "too-costly",
                            "security",
                            "throttled",
                            "timeout",
                            "exception"
                        ],
                        "FHIR issue type."
                    )
                )
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

/// Registers `FhirCoding` for the OperationOutcome (its only dependency).
pub fn outcome_deps(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push(("FhirCoding".to_owned(), RefOr::T(coding())));
}
