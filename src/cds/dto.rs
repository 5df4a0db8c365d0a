//! CDS Hooks 2.0 wire types (the fields the specification defines that this service uses),
//! and the examples of the OpenAPI document.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{HOOK, PREFETCH_KEY, SERVICE_ID};
use crate::fhir_resources::questionnaire::QUESTIONNAIRE_URL;
use crate::http::error::ApiError;

/// `GET /cds-services`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsServices {
    pub services: Vec<CdsService>,
}

/// A CDS service descriptor.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsService {
    /// The hook the service answers.
    #[schema(example = "patient-view")]
    pub hook: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The service is at `/cds-services/{id}`.
    #[schema(example = "back-pain-triage")]
    pub id: &'static str,
    /// Prefetch key → FHIR query template.
    pub prefetch: BTreeMap<&'static str, String>,
    /// What the service needs to be used.
    pub usage_requirements: &'static str,
}

/// A FHIR Coding, as CDS Hooks uses it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CdsCoding)]
pub struct Coding {
    pub system: &'static str,
    pub code: &'static str,
    pub display: &'static str,
}

/// Who the card comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsSource {
    /// Names the knowledge base version.
    #[schema(example = "spasm-triage knowledge base 2026.12.0")]
    pub label: String,
    pub topic: Coding,
}

/// Card urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Indicator {
    Info,
    Warning,
    Critical,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Indicator::Info => "info",
            Indicator::Warning => "warning",
            Indicator::Critical => "critical",
        }
    }
}

/// A CDS Hooks card.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsCard {
    /// UUID v4; quote it in feedback.
    #[schema(format = "uuid")]
    pub uuid: String,
    /// Under 140 characters.
    #[schema(max_length = 139)]
    pub summary: String,
    /// `critical` for emergency levels, `warning` for `consultation_24`, `info` otherwise.
    pub indicator: Indicator,
    /// GitHub-flavoured Markdown: level, fired rules with their triggering answers,
    /// unanswered safety screens, causes, STarT Back, knowledge base.
    pub detail: String,
    pub source: CdsSource,
    /// At `consultation_24` and above: one suggestion, a draft referral (ServiceRequest) at the
    /// card's timeframe for the EHR to create if the clinician accepts it. Left out below.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<CdsSuggestion>,
    /// `at-most-one` whenever `suggestions` is present (CDS Hooks requires it then).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "at-most-one")]
    pub selection_behavior: Option<&'static str>,
    /// Reasons a clinician may give for overriding the card.
    pub override_reasons: Vec<Coding>,
}

/// A suggested action set (CDS Hooks 2.0 Suggestion).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsSuggestion {
    pub label: String,
    /// Quote it in `acceptedSuggestions` when the clinician accepts the card. Derived from the
    /// card uuid with the card key, so feedback can be checked without stored state.
    #[schema(format = "uuid")]
    pub uuid: String,
    pub is_recommended: bool,
    pub actions: Vec<CdsAction>,
}

/// One action of a suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsAction {
    /// Always `create`.
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "create")]
    pub kind: &'static str,
    pub description: String,
    /// A FHIR R4 ServiceRequest: `status` `draft`, `intent` `proposal`, `priority` `stat`
    /// (emergency levels, `occurrenceDateTime` now) or `urgent` (`consultation_24`,
    /// `occurrencePeriod` of the next 24 hours), `code` the triage level
    /// (`urn:spasm-triage:triage-level`), `subject` the context patient, `reasonCode` the
    /// deciding rules, `supportingInfo` the assessed QuestionnaireResponse when it has an id.
    #[schema(value_type = Object)]
    pub resource: Value,
}

/// `POST /cds-services/{id}` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsCards {
    pub cards: Vec<CdsCard>,
}

/// `context` of the `patient-view` hook (other members are ignored).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsContext {
    /// The user, e.g. `Practitioner/123`; not blank.
    #[schema(min_length = 1)]
    pub user_id: String,
    /// The patient's FHIR id; not blank. Prefetched responses about another patient are skipped.
    #[schema(min_length = 1)]
    pub patient_id: String,
    /// Ignored.
    pub encounter_id: Option<String>,
}

fn hook_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([HOOK]))
        .description(Some("The hook: `patient-view`."))
        .build()
}

/// The prefetch the service reads (other keys are ignored).
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsPrefetch {
    /// Left out or `null`: 412 (`prefetch_missing`).
    #[serde(rename = "questionnaireResponse")]
    #[schema(schema_with = crate::fhir_resources::schema::prefetch_questionnaire_response)]
    pub questionnaire_response: Option<Value>,
}

/// A CDS Hooks service call (other members of the specification are accepted and ignored).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsRequest {
    #[schema(schema_with = hook_schema)]
    pub hook: String,
    /// UUID of this hook call (hyphenated form).
    #[schema(format = "uuid")]
    pub hook_instance: String,
    /// The EHR's FHIR base URL. Queried only when the prefetch is missing, `fhirAuthorization`
    /// is given and its origin is one the deployment lists in `cds.fhir_servers` (none by
    /// default): `GET {fhirServer}/QuestionnaireResponse?subject=Patient/{patientId}&questionnaire=…&_sort=-authored&_count=1`
    /// with the bearer token, a timeout (`cds.fetch_timeout_ms`), no redirects, at most 1 MiB.
    #[schema(format = "uri")]
    pub fhir_server: Option<String>,
    pub fhir_authorization: Option<CdsFhirAuthorization>,
    pub context: CdsContext,
    /// Left out or `null`, or without `questionnaireResponse`: 412 (`prefetch_missing`),
    /// unless the data can be fetched from `fhirServer` (above).
    pub prefetch: Option<CdsPrefetch>,
}

/// The EHR's OAuth 2.0 token for its FHIR server (CDS Hooks 2.0). Never logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsFhirAuthorization {
    /// Printable ASCII.
    pub access_token: String,
    /// Must be `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
    pub subject: Option<String>,
}

/// A Coding with `code` (the override reason).
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsReasonCoding {
    pub system: Option<String>,
    /// Logged when it is 1–64 characters from `[A-Za-z0-9._:-]` (else logged as `other`).
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsOverrideReason {
    pub reason: Option<CdsReasonCoding>,
    /// Accepted, never logged.
    pub user_comment: Option<String>,
}

/// What the clinician did with a card.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CdsOutcome {
    Accepted,
    Overridden,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CdsFeedback {
    /// The card's `uuid`.
    #[schema(format = "uuid")]
    pub card: String,
    pub outcome: CdsOutcome,
    /// Required when `outcome` is `accepted` and the card carried a suggestion: the accepted
    /// suggestion (`[{"id": <the suggestion's uuid>}]`); any other id is `unknown_suggestion`.
    /// Left out (or empty) for a card without suggestions, and for `overridden`.
    pub accepted_suggestions: Option<Vec<CdsAcceptedSuggestion>>,
    pub override_reason: Option<CdsOverrideReason>,
    /// RFC 3339 in UTC (`Z` or `+00:00`), as CDS Hooks 2.0 asks.
    #[schema(format = "date-time", pattern = "([Zz]|\\+00:00)$")]
    pub outcome_timestamp: String,
}

/// An accepted suggestion, by its uuid.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsAcceptedSuggestion {
    #[schema(format = "uuid")]
    pub id: String,
}

/// `POST /cds-services/{id}/feedback` body.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsFeedbackRequest {
    pub feedback: Vec<CdsFeedback>,
}

/// Feedback acknowledged.
#[derive(Debug, Serialize, ToSchema)]
pub struct CdsFeedbackAck {
    /// Feedback entries recorded.
    pub received: usize,
}

pub const OVERRIDE_SYSTEM: &str = "urn:spasm-triage:cds-override-reason";

/// The override reasons offered on every card.
pub fn override_reasons() -> Vec<Coding> {
    vec![
        Coding {
            system: OVERRIDE_SYSTEM,
            code: "already-assessed",
            display: "Already assessed by a clinician",
        },
        Coding {
            system: OVERRIDE_SYSTEM,
            code: "answers-outdated",
            display: "The questionnaire answers are out of date",
        },
        Coding {
            system: OVERRIDE_SYSTEM,
            code: "clinical-judgement",
            display: "Clinical judgement differs",
        },
    ]
}

/// The service descriptors.
pub fn services() -> CdsServices {
    let mut prefetch = BTreeMap::new();
    prefetch.insert(
        PREFETCH_KEY,
        format!(
            "QuestionnaireResponse?subject=Patient/{{{{context.patientId}}}}&questionnaire={QUESTIONNAIRE_URL}&_sort=-authored&_count=1"
        ),
    );
    CdsServices {
        services: vec![CdsService {
            hook: HOOK,
            title: "Back pain triage",
            description: "Triage of low back pain and back muscle spasm from the patient's newest \
                back-pain-triage QuestionnaireResponse: the triage level with its timeframe, the \
                red-flag rules that fired with the answers that triggered them, and the required \
                safety screens still unanswered. Decision support, not a diagnosis.",
            id: SERVICE_ID,
            prefetch,
            usage_requirements: "Needs prefetch `questionnaireResponse`: the patient's newest \
                QuestionnaireResponse for urn:spasm-triage:Questionnaire/back-pain-triage (the \
                Questionnaire at GET /fhir/Questionnaire/back-pain-triage), as the resource or a \
                searchset Bundle. Without it the service answers 412 (`prefetch_missing`), unless the \
                deployment allows the call's `fhirServer` and the call gives `fhirAuthorization`: \
                then it asks that server for the same query with the token. `context.userId` and `context.patientId` are required. \
                When the deployment requires API keys, send one in `X-API-Key`: \
                `Authorization: Bearer` carries the EHR's JWT and is not read as a key.",
        }],
    }
}

pub fn problem_of(error: &ApiError) -> Value {
    serde_json::to_value(error.problem()).unwrap_or_default()
}
