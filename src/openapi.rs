//! The OpenAPI 3.1 document. Paths and wire types come from utoipa annotations;
//! the `Answers` schema is generated from the vocabulary so it cannot drift.

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{
    ContentBuilder, Deprecated, LicenseBuilder, OpenApi as OpenApiDoc, Ref, RefOr,
};
use utoipa::OpenApi;

use crate::api;
use crate::api::triage::triage_body;
use crate::engine::answers::REQUIRED_ANSWERS;
use crate::http::error::{ApiError, ErrorCode, PROBLEM_JSON};
use crate::knowledge::{KnowledgeBase, ValueKind, RESPONSE_VALUES};
use crate::view::dto::{Texts, TriageResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "spasm-triage",
        description = "Explainable triage decision support for back muscle spasm and low back pain. \
            Decision support for telehealth front ends and clinic intake forms, not a diagnosis: \
            every output names the rule that fired, the answers that triggered it and its sources. \
            Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.",
    ),
    paths(
        api::triage::triage,
        api::meta::vocabulary,
        api::meta::knowledge_base,
        api::meta::health,
        api::meta::ready,
        api::meta::openapi_json,
        crate::metrics::metrics,
    ),
    components(schemas(crate::http::error::Problem, crate::http::error::FieldError)),
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
    let own_paths: Vec<String> = doc.paths.paths.keys().cloned().collect();
    doc.merge(crate::fhir::FhirApiDoc::openapi());
    doc.merge(crate::cds::CdsApiDoc::openapi());
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.info.license = Some(
        LicenseBuilder::new()
            .name("Proprietary")
            .identifier(Some("LicenseRef-Proprietary"))
            .build(),
    );
    doc.servers = Some(vec![ServerBuilder::new()
        .url("/")
        .description(Some("The host serving this document"))
        .build()]);
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("Answers".to_owned(), RefOr::T(answers_schema(kb)));
    add_security(&mut doc);
    add_error_responses(&mut doc, kb, &own_paths);
    add_face_errors(&mut doc);
    add_examples(&mut doc, kb);
    doc
}

/// API keys, sent as `X-API-Key: <key>` or `Authorization: Bearer <key>`; required on every
/// path except the probes when `auth.enabled` (production), ignored when it is off (local).
fn add_security(doc: &mut OpenApiDoc) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        API_KEY,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-API-Key",
            "An API key issued to the client. Required on every path except `/health`, `/ready` \
             and `/metrics` (`auth.open_paths`) when the deployment enables keys (production \
             does; local runs do not).",
        ))),
    );
    components.add_security_scheme(
        BEARER_KEY,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("API key")
                .description(Some(
                    "The same API key as `X-API-Key`, sent as `Authorization: Bearer <key>`.",
                ))
                .build(),
        ),
    );
    doc.security = Some(vec![
        SecurityRequirement::new(API_KEY, Vec::<String>::new()),
        SecurityRequirement::new(BEARER_KEY, Vec::<String>::new()),
    ]);
    let open_paths = open_paths();
    for (path, item) in doc.paths.paths.iter_mut() {
        if open_paths.contains(path) {
            for op in operations(item) {
                op.security = Some(Vec::new());
            }
        }
    }
}

const API_KEY: &str = "ApiKey";
const BEARER_KEY: &str = "BearerKey";

/// Paths served without a key: the built-in `auth.open_paths` (probes and metrics).
fn open_paths() -> Vec<String> {
    crate::configuration::built_in()
        .map(|settings| settings.auth.open_paths)
        .unwrap_or_else(|_| vec!["/health".to_owned(), "/ready".to_owned()])
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// A reusable problem+json error response (`#/components/responses/<name>`).
struct ErrorResponse {
    name: &'static str,
    status: &'static str,
    description: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

const BAD_REQUEST: ErrorResponse = ErrorResponse {
    name: "MalformedJson",
    status: "400",
    description:
        "The body is not JSON (`malformed_json`): syntax error, empty body, invalid UTF-8, \
        nesting deeper than 128, or a number out of range for JSON.",
    headers: &[],
};
const UNAUTHORIZED: ErrorResponse = ErrorResponse {
    name: "Unauthorized",
    status: "401",
    description: "No valid API key (`unauthorized`); only when the deployment enables keys.",
    headers: &[("WWW-Authenticate", "`Bearer`")],
};
const METHOD_NOT_ALLOWED: ErrorResponse = ErrorResponse {
    name: "MethodNotAllowed",
    status: "405",
    description: "The path exists but not with this method (`method_not_allowed`).",
    headers: &[("Allow", "The methods the path accepts, e.g. `POST`")],
};
const PAYLOAD_TOO_LARGE: ErrorResponse = ErrorResponse {
    name: "PayloadTooLarge",
    status: "413",
    description:
        "The body is over `server.body_limit_bytes`, 64 KiB by default (`payload_too_large`).",
    headers: &[],
};
const REQUEST_TIMEOUT: ErrorResponse = ErrorResponse {
    name: "RequestTimeout",
    status: "408",
    description: "The body did not arrive within `server.request_timeout_secs`, 10 s by default \
        (`request_timeout`).",
    headers: &[],
};
const UNSUPPORTED_MEDIA_TYPE: ErrorResponse = ErrorResponse {
    name: "UnsupportedMediaType",
    status: "415",
    description: "`Content-Type` is not `application/json` (`unsupported_media_type`).",
    headers: &[],
};
const UNPROCESSABLE: ErrorResponse = ErrorResponse {
    name: "Unprocessable",
    status: "422",
    description: "Well-formed JSON that cannot be accepted: `invalid_request_shape`, \
        `unknown_answer_code` (with `did_you_mean`), `derived_answer_code`, \
        `invalid_answer_value` (also a code answered twice: a repeated JSON key is refused, \
        never last-wins), `missing_required_answer` or `invalid_option`. Every problem found is \
        listed in `errors`; messages name the field, never the value sent.",
    headers: &[],
};
const TOO_MANY_REQUESTS: ErrorResponse = ErrorResponse {
    name: "TooManyRequests",
    status: "429",
    description: "The client's rate limit is spent (where the deployment enables rate limits), \
        or this address made too many failed authentications (`rate_limited`).",
    headers: &[("Retry-After", "Seconds to wait before retrying")],
};
const INTERNAL: ErrorResponse = ErrorResponse {
    name: "Internal",
    status: "500",
    description: "Internal error (`internal`); details only in the server logs, under the \
        response's `X-Request-Id`.",
    headers: &[],
};

/// The error responses of each operation of this service, by operation id.
const OPERATION_ERRORS: &[(&str, &[&ErrorResponse])] = &[
    (
        "triage",
        &[
            &BAD_REQUEST,
            &UNAUTHORIZED,
            &METHOD_NOT_ALLOWED,
            &REQUEST_TIMEOUT,
            &PAYLOAD_TOO_LARGE,
            &UNSUPPORTED_MEDIA_TYPE,
            &UNPROCESSABLE,
            &TOO_MANY_REQUESTS,
            &INTERNAL,
        ],
    ),
    (
        "getVocabulary",
        &[&UNAUTHORIZED, &METHOD_NOT_ALLOWED, &TOO_MANY_REQUESTS],
    ),
    (
        "getKnowledgeBase",
        &[&UNAUTHORIZED, &METHOD_NOT_ALLOWED, &TOO_MANY_REQUESTS],
    ),
    (
        "getOpenApi",
        &[&UNAUTHORIZED, &METHOD_NOT_ALLOWED, &TOO_MANY_REQUESTS],
    ),
    ("health", &[&METHOD_NOT_ALLOWED]),
    ("ready", &[&METHOD_NOT_ALLOWED]),
    ("getMetrics", &[&METHOD_NOT_ALLOWED]),
];

const REQUEST_ID: &str = "X-Request-Id";

fn request_id_header() -> Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .max_length(Some(64)),
        )
        .description(Some(
            "The caller's `X-Request-Id` if it is a token of at most 64 characters from \
             `[A-Za-z0-9._-]`, else a new UUID; quote it to support.",
        ))
        .build()
}

fn string_header(description: &str) -> Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)))
        .description(Some(description))
        .build()
}

fn problem_example(error: &ApiError) -> serde_json::Value {
    serde_json::to_value(error.problem()).unwrap_or_default()
}

/// Real problems for the reusable responses, produced by the same code that serves them.
fn error_examples(kb: &KnowledgeBase, e: &ErrorResponse) -> Vec<(&'static str, serde_json::Value)> {
    let texts = Texts::builtin(kb);
    let from_body =
        |body: serde_json::Value| match triage_body(kb, &texts, body.to_string().as_bytes()) {
            Err(error) => problem_example(&error),
            Ok(_) => serde_json::Value::Null,
        };
    match e.status {
        "400" => vec![(
            "malformed_json",
            problem_example(&ApiError::new(
                ErrorCode::MalformedJson,
                "syntax error at line 1, column 12",
            )),
        )],
        "401" => vec![(
            "unauthorized",
            problem_example(&ApiError::new(
                ErrorCode::Unauthorized,
                "send a valid API key",
            )),
        )],
        "405" => vec![(
            "method_not_allowed",
            problem_example(&ApiError::new(
                ErrorCode::MethodNotAllowed,
                "GET is not allowed here; allowed: POST",
            )),
        )],
        "413" => vec![(
            "payload_too_large",
            problem_example(&ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the body must be at most 65536 bytes",
            )),
        )],
        "415" => vec![(
            "unsupported_media_type",
            problem_example(&ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body with Content-Type: application/json",
            )),
        )],
        "422" => vec![
            (
                "unknown_answer_code",
                from_body(
                    json!({"answers": {"age_years": 34, "sex": "male", "saddle_numbnes": "absent"}}),
                ),
            ),
            (
                "invalid_answer_value",
                from_body(json!({"answers": {"age_years": 34.5, "sex": "male", "fever": "yes"}})),
            ),
            (
                "missing_required_answer",
                from_body(json!({"answers": {"age_years": 34}})),
            ),
            (
                "derived_answer_code",
                from_body(
                    json!({"answers": {"age_years": 34, "sex": "male", "sepsis_signs": "present"}}),
                ),
            ),
            (
                "invalid_request_shape",
                from_body(json!({"answers": {"age_years": 34, "sex": "male"}, "patient": "x"})),
            ),
            (
                "invalid_option",
                from_body(
                    json!({"answers": {"age_years": 34, "sex": "male"}, "options": {"audience": "nurse"}}),
                ),
            ),
        ],
        "408" => vec![(
            "request_timeout",
            problem_example(&ApiError::new(
                ErrorCode::RequestTimeout,
                "the request body did not arrive within 10 s",
            )),
        )],
        "429" => vec![(
            "rate_limited",
            problem_example(&ApiError::new(
                ErrorCode::RateLimited,
                "rate limit reached; retry after 1 s",
            )),
        )],
        _ => vec![(
            "internal",
            problem_example(&ApiError::new(
                ErrorCode::Internal,
                "an internal error occurred; quote the X-Request-Id header",
            )),
        )],
    }
}

fn error_response(kb: &KnowledgeBase, e: &ErrorResponse) -> Response {
    let mut content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem")));
    let examples = error_examples(kb, e);
    if let [(_, only)] = examples.as_slice() {
        content = content.example(Some(only.clone()));
    } else {
        for (name, value) in examples {
            content = content.examples_from_iter([(
                name,
                ExampleBuilder::new()
                    .summary(format!("`{name}`"))
                    .value(Some(value))
                    .build(),
            )]);
        }
    }
    let mut response = ResponseBuilder::new()
        .description(e.description)
        .header(REQUEST_ID, request_id_header());
    for (name, description) in e.headers {
        response = response.header(*name, string_header(description));
    }
    response.content(PROBLEM_JSON, content.build()).build()
}

/// Every error an operation of this service can return, as `$ref`s to shared responses,
/// and `X-Request-Id` on every response (the service sets it on all of them).
fn add_error_responses(doc: &mut OpenApiDoc, kb: &KnowledgeBase, own_paths: &[String]) {
    let mut used: Vec<&ErrorResponse> = Vec::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        if !own_paths.contains(path) {
            continue;
        }
        for op in operations(item) {
            for response in op.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .entry(REQUEST_ID.to_owned())
                        .or_insert_with(request_id_header);
                }
            }
            let id = op.operation_id.as_deref().unwrap_or_default();
            let errors = OPERATION_ERRORS
                .iter()
                .find(|(op_id, _)| *op_id == id)
                .map(|(_, errors)| *errors)
                .unwrap_or_default();
            for e in errors {
                op.responses.responses.insert(
                    e.status.to_owned(),
                    RefOr::Ref(Ref::new(format!("#/components/responses/{}", e.name))),
                );
                if !used.iter().any(|u| u.name == e.name) {
                    used.push(e);
                }
            }
        }
    }
    fill_shared_problem_examples(doc);
    let components = doc.components.get_or_insert_with(Default::default);
    for e in used {
        components
            .responses
            .insert(e.name.to_owned(), RefOr::T(error_response(kb, e)));
    }
}

/// How a face renders its errors: FHIR as OperationOutcome, CDS Hooks as problem+json.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Fhir,
    Cds,
}

/// The access and transport errors of every FHIR and CDS Hooks operation, by operation id:
/// the same error table (`ErrorCode`: status, headers) and the same renderers the faces use
/// at run time produce each response and its example. An operation's own errors (its 422
/// examples, 404, 412) stay with the operation.
const FACE_ERRORS: &[(&str, Face, &[ErrorCode])] = {
    use ErrorCode::*;
    const FHIR_READ: &[ErrorCode] = &[Unauthorized, MethodNotAllowed, NotAcceptable, RateLimited];
    const FHIR_POST: &[ErrorCode] = &[
        MalformedJson,
        Unauthorized,
        MethodNotAllowed,
        NotAcceptable,
        RequestTimeout,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
    ];
    const CDS_READ: &[ErrorCode] = &[Unauthorized, MethodNotAllowed, RateLimited];
    const CDS_POST: &[ErrorCode] = &[
        MalformedJson,
        Unauthorized,
        MethodNotAllowed,
        RequestTimeout,
        PayloadTooLarge,
        UnsupportedMediaType,
        RateLimited,
    ];
    &[
        ("getFhirCapabilityStatement", Face::Fhir, FHIR_READ),
        ("getFhirTriageOperationDefinition", Face::Fhir, FHIR_READ),
        ("getFhirQuestionnaire", Face::Fhir, FHIR_READ),
        ("searchFhirQuestionnaire", Face::Fhir, FHIR_READ),
        ("getFhirLibrary", Face::Fhir, FHIR_READ),
        ("searchFhirLibrary", Face::Fhir, FHIR_READ),
        ("getFhirCodeSystem", Face::Fhir, FHIR_READ),
        ("searchFhirCodeSystem", Face::Fhir, FHIR_READ),
        ("getFhirValueSet", Face::Fhir, FHIR_READ),
        ("searchFhirValueSet", Face::Fhir, FHIR_READ),
        ("fhirTriage", Face::Fhir, FHIR_POST),
        ("fhirNextQuestion", Face::Fhir, FHIR_POST),
        ("cdsDiscovery", Face::Cds, CDS_READ),
        ("cdsService", Face::Cds, CDS_POST),
        ("cdsFeedback", Face::Cds, CDS_POST),
    ]
};

fn face_error_description(code: ErrorCode, face: Face) -> &'static str {
    match (code, face) {
        (ErrorCode::MalformedJson, _) => "The body is not JSON (`malformed_json`)",
        (ErrorCode::Unauthorized, Face::Fhir) => {
            "No valid API key (`unauthorized`); only when the deployment enables keys"
        }
        (ErrorCode::Unauthorized, Face::Cds) => {
            "No valid CDS Hooks JWT from a trusted issuer in `Authorization: Bearer`, or no valid \
             `X-API-Key` where the deployment takes keys here (`unauthorized`, with \
             `WWW-Authenticate: Bearer`); only when the deployment enables authentication"
        }
        (ErrorCode::MethodNotAllowed, _) => "Method not allowed (`method_not_allowed`), with `Allow`",
        (ErrorCode::NotAcceptable, _) => "Only JSON is served (`not_acceptable`)",
        (ErrorCode::RequestTimeout, _) => {
            "The body did not arrive within `server.request_timeout_secs` (`request_timeout`)"
        }
        (ErrorCode::PayloadTooLarge, _) => "Body over the limit (`payload_too_large`)",
        (ErrorCode::UnsupportedMediaType, Face::Fhir) => {
            "Not `application/fhir+json` or `application/json` (`unsupported_media_type`)"
        }
        (ErrorCode::UnsupportedMediaType, Face::Cds) => {
            "Not `application/json` (`unsupported_media_type`)"
        }
        (ErrorCode::RateLimited, _) => {
            "Rate limit spent, or too many failed authentications from this address (`rate_limited`)"
        }
        _ => code.title(),
    }
}

/// The error the face sends for `code` (the details as the service words them).
fn face_example_error(code: ErrorCode, face: Face, methods: &[&str]) -> ApiError {
    let detail = match code {
        ErrorCode::MalformedJson => "syntax error at line 1, column 12".to_owned(),
        ErrorCode::Unauthorized => "send a valid API key".to_owned(),
        ErrorCode::MethodNotAllowed => match face {
            // The FHIR resources answer other methods themselves; CDS paths reach the fallback.
            Face::Fhir => format!(
                "this method is not allowed here; allowed: {}",
                methods.join(", ")
            ),
            Face::Cds => format!(
                "{} is not allowed here; allowed: {}",
                if methods.contains(&"GET") {
                    "DELETE"
                } else {
                    "GET"
                },
                methods.join(", ")
            ),
        },
        ErrorCode::NotAcceptable => {
            "this server speaks FHIR JSON only: accept application/fhir+json".to_owned()
        }
        ErrorCode::RequestTimeout => "the request body did not arrive within 10 s".to_owned(),
        ErrorCode::PayloadTooLarge => "the body must be at most 65536 bytes".to_owned(),
        ErrorCode::UnsupportedMediaType => match face {
            Face::Fhir => {
                "send the body with Content-Type: application/fhir+json (or application/json)"
                    .to_owned()
            }
            Face::Cds => "send the body with Content-Type: application/json".to_owned(),
        },
        ErrorCode::RateLimited => "rate limit reached; retry after 1 s".to_owned(),
        _ => code.title().to_owned(),
    };
    ApiError::new(code, detail)
}

fn face_error_headers(code: ErrorCode, methods: &[&str]) -> Vec<(&'static str, String)> {
    match code {
        ErrorCode::Unauthorized => vec![("WWW-Authenticate", "`Bearer`".to_owned())],
        ErrorCode::MethodNotAllowed => vec![("Allow", format!("`{}`", methods.join(", ")))],
        ErrorCode::RateLimited => vec![("Retry-After", "Seconds to wait".to_owned())],
        _ => Vec::new(),
    }
}

/// Add each FHIR and CDS Hooks operation's access and transport errors (`FACE_ERRORS`).
fn add_face_errors(doc: &mut OpenApiDoc) {
    for item in doc.paths.paths.values_mut() {
        let methods: Vec<&str> = [("GET", item.get.is_some()), ("POST", item.post.is_some())]
            .into_iter()
            .filter_map(|(m, present)| present.then_some(m))
            .collect();
        for op in operations(item) {
            let id = op.operation_id.as_deref().unwrap_or_default();
            let Some((_, face, codes)) = FACE_ERRORS.iter().find(|(op_id, ..)| *op_id == id) else {
                continue;
            };
            for code in *codes {
                let error = face_example_error(*code, *face, &methods);
                let (content_type, schema, example) = match face {
                    Face::Fhir => (
                        crate::http::outcome::FHIR_JSON,
                        "OperationOutcome",
                        crate::http::outcome::operation_outcome(&error),
                    ),
                    Face::Cds => (PROBLEM_JSON, "Problem", problem_example(&error)),
                };
                let mut response = ResponseBuilder::new()
                    .description(face_error_description(*code, *face))
                    .header(REQUEST_ID, request_id_header());
                for (name, description) in face_error_headers(*code, &methods) {
                    response = response.header(name, string_header(&description));
                }
                let content = ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(schema)))
                    .example(Some(example))
                    .build();
                op.responses.responses.insert(
                    code.status().as_u16().to_string(),
                    RefOr::T(response.content(content_type, content).build()),
                );
            }
        }
    }
}

/// 401 and 429 come from the access middleware and 405 from the fallback, on every path:
/// where another module documents one of them as problem+json without an example, add the
/// problem those shared layers send (405 with the path's own methods).
fn fill_shared_problem_examples(doc: &mut OpenApiDoc) {
    for item in doc.paths.paths.values_mut() {
        let methods: Vec<&str> = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PATCH", item.patch.is_some()),
        ]
        .into_iter()
        .filter_map(|(m, present)| present.then_some(m))
        .collect();
        let other = if methods.contains(&"GET") {
            "DELETE"
        } else {
            "GET"
        };
        let not_allowed = ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{other} is not allowed here; allowed: {}",
                methods.join(", ")
            ),
        );
        for op in operations(item) {
            for (status, error) in [
                (
                    "401",
                    ApiError::new(ErrorCode::Unauthorized, "send a valid API key"),
                ),
                ("405", not_allowed.clone()),
                (
                    "429",
                    ApiError::new(
                        ErrorCode::RateLimited,
                        "rate limit reached; retry after 1 s",
                    ),
                ),
            ] {
                let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) else {
                    continue;
                };
                if let Some(content) = response.content.get_mut(PROBLEM_JSON) {
                    if content.example.is_none() && content.examples.is_empty() {
                        content.example = Some(problem_example(&error));
                    }
                }
            }
        }
    }
}

/// The `assessment_id` of the example assessment.
const EXAMPLE_ASSESSMENT_ID: &str = "7d1f3c2a-5b8e-4f6d-9a0c-1e2b3c4d5e6f";

fn media_example(doc: &mut OpenApiDoc, path: &str, status: Option<&str>, value: serde_json::Value) {
    let Some(item) = doc.paths.paths.get_mut(path) else {
        return;
    };
    for op in operations(item) {
        let content = match status {
            None => op
                .request_body
                .as_mut()
                .and_then(|b| b.content.values_mut().next()),
            Some(status) => match op.responses.responses.get_mut(status) {
                Some(RefOr::T(response)) => response.content.values_mut().next(),
                _ => None,
            },
        };
        if let Some(content) = content {
            content.example = Some(value.clone());
        }
    }
}

/// Keep the first `n` entries of the array at `key` (examples stay short but real).
fn truncate(value: &mut serde_json::Value, key: &str, keep: impl Fn(&serde_json::Value) -> bool) {
    if let Some(items) = value.get_mut(key).and_then(|v| v.as_array_mut()) {
        items.retain(keep);
    }
}

/// Request and response examples for the operations of this service, computed from the
/// knowledge base by the same code that serves them, so they cannot drift.
fn add_examples(doc: &mut OpenApiDoc, kb: &KnowledgeBase) {
    let request = crate::view::dto::triage_request_example();
    media_example(doc, "/v1/triage", None, request.clone());
    if let Ok(response) = triage_body(kb, &Texts::builtin(kb), request.to_string().as_bytes()) {
        let mut response = TriageResponse {
            assessment_id: EXAMPLE_ASSESSMENT_ID.to_owned(),
            ..response
        };
        response.safety_net.truncate(3);
        if let Ok(value) = serde_json::to_value(&response) {
            media_example(doc, "/v1/triage", Some("200"), value);
        }
    }

    let vocabulary_codes = ["saddle_numbness", "age_years", "sex", "pain_trend"];
    if let Ok(mut value) = serde_json::to_value(api::meta::vocabulary_response(
        kb,
        &crate::view::language::Lang::english(),
        &[],
    )) {
        truncate(&mut value, "codes", |c| {
            vocabulary_codes.iter().any(|code| c["code"] == *code)
        });
        let groups: Vec<serde_json::Value> = value["codes"]
            .as_array()
            .map(|codes| codes.iter().map(|c| c["group"].clone()).collect())
            .unwrap_or_default();
        truncate(&mut value, "groups", |g| groups.contains(&g["id"]));
        media_example(doc, "/v1/vocabulary", Some("200"), value);
    }

    if let Ok(mut value) = serde_json::to_value(api::meta::knowledge_base_response(kb)) {
        truncate(&mut value, "rules", |r| {
            r["id"] == "R01" || r["id"] == "R25"
        });
        for key in ["causes", "advice", "medicines", "safety_net"] {
            let first = value[key].get(0).cloned();
            truncate(&mut value, key, |x| Some(x) == first.as_ref());
        }
        let cited: Vec<serde_json::Value> =
            ["rules", "causes", "advice", "medicines", "safety_net"]
                .iter()
                .filter_map(|key| value[*key].as_array())
                .flatten()
                .filter_map(|x| x["sources"].as_array())
                .flatten()
                .cloned()
                .collect();
        truncate(&mut value, "sources", |s| cited.contains(&s["id"]));
        media_example(doc, "/v1/knowledge-base", Some("200"), value);
    }

    media_example(
        doc,
        "/openapi.json",
        Some("200"),
        json!({
            "openapi": "3.1.0",
            "info": {"title": "spasm-triage", "version": env!("CARGO_PKG_VERSION")},
            "paths": {"/v1/triage": {"post": {"operationId": "triage"}}}
        }),
    );
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
        if matches!(c.lifecycle, crate::knowledge::Lifecycle::Retired(_)) {
            // Refused as answers: not part of the request schema any more.
            continue;
        }
        let mut description = c.question.clone();
        if let Some(unit) = &c.unit {
            description.push_str(&format!(" (unit: {unit})"));
        }
        if c.required_screen {
            description.push_str(
                " Required safety screen: leaving it unknown floors the level at consultation_24.",
            );
        }
        let deprecated = c.deprecation().map(|d| {
            let instead: Vec<String> = d
                .replaced_by
                .iter()
                .map(|r| format!("`{}`", kb.vocabulary.code(r.code).code))
                .collect();
            description.push_str(&format!(
                " DEPRECATED since knowledge base {}{}: still accepted and mapped to {} (the response carries a warning and Deprecation/Sunset headers). {}",
                d.since,
                d.sunset.as_deref().map(|s| format!(", sunset {s}")).unwrap_or_default(),
                instead.join(", "),
                d.note
            ));
            Deprecated::True
        });
        for v in &c.deprecated_values {
            description.push_str(&format!(
                " Value `{}` is DEPRECATED since {}: mapped to `{}`. {}",
                c.kind.choice_name(v.value).unwrap_or_default(),
                v.since,
                c.kind.choice_name(v.replaced_by).unwrap_or_default(),
                v.note
            ));
        }
        // `null`: asked, no answer (not asked again); never for the required answers.
        let nullable = !REQUIRED_ANSWERS.contains(&c.code.as_str());
        if nullable {
            description.push_str(" `null`: asked, and the person could not or would not answer (read as unknown; not asked again in `next_questions`).");
        }
        let typed = |t: Type| -> SchemaType {
            if nullable {
                SchemaType::from_iter([t, Type::Null])
            } else {
                SchemaType::Type(t)
            }
        };
        let choices = |values: Vec<&str>| -> ObjectBuilder {
            let mut listed: Vec<serde_json::Value> =
                values.into_iter().map(serde_json::Value::from).collect();
            if nullable {
                listed.push(serde_json::Value::Null);
            }
            ObjectBuilder::new()
                .schema_type(typed(Type::String))
                .enum_values(Some(listed))
        };
        let property: Schema = match &c.kind {
            ValueKind::Tri => choices(vec!["present", "absent", "unknown"])
                .description(Some(description))
                .deprecated(deprecated)
                .into(),
            ValueKind::Integer { min, max } => ObjectBuilder::new()
                .schema_type(typed(Type::Integer))
                .minimum(Some(*min))
                .maximum(Some(*max))
                .description(Some(description))
                .deprecated(deprecated)
                .into(),
            ValueKind::Number { min, max } if !c.alternative_units.is_empty() => {
                // A plain number in the code's unit, or `{"value", "unit"}` in any offered unit
                // with that unit's range (the code's, converted and rounded inwards: exactly
                // what the service accepts).
                let base = c.unit.as_deref().unwrap_or_default();
                let quantity = |unit: &str, low: f64, high: f64| {
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property(
                            "value",
                            ObjectBuilder::new()
                                .schema_type(Type::Number)
                                .minimum(Some(low))
                                .maximum(Some(high)),
                        )
                        .property(
                            "unit",
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .enum_values(Some(vec![unit.to_owned()])),
                        )
                        .required("value")
                        .required("unit")
                        .additional_properties(Some(
                            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                        ))
                };
                let mut one_of = OneOfBuilder::new()
                    .item(
                        ObjectBuilder::new()
                            .schema_type(typed(Type::Number))
                            .minimum(Some(*min))
                            .maximum(Some(*max))
                            .deprecated(deprecated),
                    )
                    .item(quantity(base, *min, *max));
                let mut ranges = vec![format!("{min} to {max} {base}")];
                for alt in &c.alternative_units {
                    if let Some((low, high)) =
                        crate::knowledge::units::range_in(base, &alt.unit, *min, *max)
                    {
                        one_of = one_of.item(quantity(&alt.unit, low, high));
                        ranges.push(format!("{low} to {high} {}", alt.unit));
                    }
                }
                description.push_str(&format!(
                    " Or {{\"value\": <number>, \"unit\": <unit>}}, converted to {base} before the rules read it: {}.",
                    ranges.join(", ")
                ));
                one_of.description(Some(description)).into()
            }
            ValueKind::Number { min, max } => ObjectBuilder::new()
                .schema_type(typed(Type::Number))
                .minimum(Some(*min))
                .maximum(Some(*max))
                .description(Some(description))
                .deprecated(deprecated)
                .into(),
            ValueKind::Enum { values } => choices(values.iter().map(String::as_str).collect())
                .description(Some(description))
                .deprecated(deprecated)
                .into(),
            ValueKind::Response => choices(RESPONSE_VALUES.to_vec())
                .description(Some(description))
                .deprecated(deprecated)
                .into(),
            ValueKind::Set { values } => ArrayBuilder::new()
                .schema_type(typed(Type::Array))
                .items(string_enum(values.iter().map(String::as_str)))
                .unique_items(true)
                .description(Some(description))
                .deprecated(deprecated)
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::knowledge::{self, Level, MedStatus, Review, Risk, RuleSource, Timeframe};

    fn spec() -> serde_json::Value {
        let kb = knowledge::load(&RuleSource::Embedded).unwrap();
        serde_json::to_value(document(&kb)).unwrap()
    }

    fn enum_of(spec: &serde_json::Value, schema: &str) -> Vec<String> {
        spec["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} is not an enum"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn every_operation_of_the_service_lists_its_errors() {
        let own = ApiDoc::openapi();
        let mut ids = Vec::new();
        for item in own.paths.paths.values() {
            let mut item = item.clone();
            for op in operations(&mut item) {
                ids.push(op.operation_id.clone().unwrap());
            }
        }
        for id in &ids {
            assert!(
                OPERATION_ERRORS.iter().any(|(op, _)| op == id),
                "operation `{id}` has no entry in OPERATION_ERRORS"
            );
        }
        for (op, _) in OPERATION_ERRORS {
            assert!(ids.iter().any(|id| id == op), "no operation `{op}`");
        }
    }

    #[test]
    fn only_the_configured_open_paths_are_documented_without_a_key() {
        let spec = spec();
        let open = open_paths();
        assert!(open.contains(&"/health".to_owned()) && open.contains(&"/ready".to_owned()));
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let keyless = op["security"] == json!([]);
                assert_eq!(keyless, open.contains(path), "{method} {path}");
            }
        }
        assert_eq!(spec["security"], json!([{API_KEY: []}, {BEARER_KEY: []}]));
    }

    #[test]
    fn fhir_and_cds_errors_come_from_the_error_table() {
        let spec = spec();
        let mut seen = Vec::new();
        for (path, item) in spec["paths"].as_object().unwrap() {
            let face = if path.starts_with("/fhir/") {
                Face::Fhir
            } else if path.starts_with("/cds-services") {
                Face::Cds
            } else {
                continue;
            };
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().unwrap();
                let (_, table_face, codes) = FACE_ERRORS
                    .iter()
                    .find(|(op_id, ..)| *op_id == id)
                    .unwrap_or_else(|| panic!("{id} has no entry in FACE_ERRORS"));
                assert_eq!(*table_face, face, "{id}");
                seen.push(id.to_owned());
                for code in *codes {
                    let status = code.status().as_u16().to_string();
                    let response = &op["responses"][&status];
                    assert!(
                        response["headers"]["X-Request-Id"].is_object(),
                        "{id} {status}"
                    );
                    let example = match face {
                        Face::Fhir => {
                            let e = &response["content"]["application/fhir+json"]["example"];
                            assert_eq!(e["resourceType"], "OperationOutcome", "{id} {status}");
                            e["issue"][0]["details"]["coding"][0]["code"].clone()
                        }
                        Face::Cds => {
                            let e = &response["content"][PROBLEM_JSON]["example"];
                            assert_eq!(e["status"].to_string(), status, "{id}");
                            e["code"].clone()
                        }
                    };
                    assert_eq!(example, code.as_str(), "{id} {status}");
                    match code {
                        ErrorCode::Unauthorized => {
                            assert!(response["headers"]["WWW-Authenticate"].is_object())
                        }
                        ErrorCode::MethodNotAllowed => {
                            assert!(response["headers"]["Allow"].is_object())
                        }
                        ErrorCode::RateLimited => {
                            assert!(response["headers"]["Retry-After"].is_object())
                        }
                        _ => {}
                    }
                }
            }
        }
        for (id, ..) in FACE_ERRORS {
            assert!(
                seen.iter().any(|s| s == id),
                "FACE_ERRORS names no operation `{id}`"
            );
        }
    }

    #[test]
    fn error_responses_and_examples_are_real() {
        let spec = spec();
        let responses = spec["components"]["responses"].as_object().unwrap();
        for e in OPERATION_ERRORS
            .iter()
            .flat_map(|(_, errors)| errors.iter())
        {
            let content = &responses[e.name]["content"][PROBLEM_JSON];
            let examples: Vec<&serde_json::Value> = match content["examples"].as_object() {
                Some(map) => map.values().map(|x| &x["value"]).collect(),
                None => vec![&content["example"]],
            };
            for example in examples {
                assert_eq!(example["status"].to_string(), e.status, "{}", e.name);
                let code = example["code"].as_str().unwrap();
                assert!(ErrorCode::ALL.iter().any(|c| c.as_str() == code), "{code}");
            }
        }
        let unprocessable = &responses["Unprocessable"]["content"][PROBLEM_JSON]["examples"];
        for (name, example) in unprocessable.as_object().unwrap() {
            assert_eq!(example["value"]["code"], name.as_str());
        }
        let triage_ok = &spec["paths"]["/v1/triage"]["post"]["responses"]["200"]["content"]
            ["application/json"]["example"];
        assert_eq!(triage_ok["assessment_id"], EXAMPLE_ASSESSMENT_ID);
        assert_eq!(triage_ok["triage"]["level"], "consultation_24");
    }

    #[test]
    fn response_enums_list_every_value_the_service_sends() {
        let spec = spec();
        let levels: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(enum_of(&spec, "Level"), levels);
        let timeframes = [
            Timeframe::Now,
            Timeframe::Within24h,
            Timeframe::Within1Week,
            Timeframe::Within2Weeks,
            Timeframe::Routine,
            Timeframe::None,
        ];
        assert_eq!(
            enum_of(&spec, "Timeframe"),
            timeframes.map(|t| t.as_str()).to_vec()
        );
        assert_eq!(
            enum_of(&spec, "Band"),
            [crate::engine::Band::Likely, crate::engine::Band::Possible]
                .map(|b| b.as_str())
                .to_vec()
        );
        assert_eq!(
            enum_of(&spec, "MedicationStatus"),
            [
                MedStatus::Suggest,
                MedStatus::Caution,
                MedStatus::AskFirst,
                MedStatus::Suppress
            ]
            .map(|s| s.as_str())
            .to_vec()
        );
        let mut risks: Vec<&str> = [Risk::Low, Risk::Medium, Risk::High]
            .map(|r| r.as_str())
            .to_vec();
        risks.push("indeterminate");
        assert_eq!(enum_of(&spec, "StartBackRisk"), risks);
        assert_eq!(
            enum_of(&spec, "ReviewStatus"),
            [Review::Reference, Review::Draft, Review::Approved]
                .map(|r| r.as_str())
                .to_vec()
        );
        let kb = knowledge::load(&RuleSource::Embedded).unwrap();
        let value_types = enum_of(&spec, "ValueType");
        for code in &kb.vocabulary.codes {
            assert!(value_types.iter().any(|t| t == code.kind.type_name()));
        }
        assert_eq!(
            enum_of(&spec, "LanguageTag"),
            crate::view::language::available(&kb)
        );
        assert_eq!(
            enum_of(&spec, "QuestionReasonDto"),
            crate::knowledge::QUESTION_REASONS.to_vec()
        );
    }
}
