//! RFC 9457 problem details: one JSON shape and one table of stable codes for
//! every error the service returns outside `/fhir/`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::AnswerError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every stable error code, with its status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    InvalidRequestShape,
    UnknownAnswerCode,
    DerivedAnswerCode,
    InvalidAnswerValue,
    MissingRequiredAnswer,
    InvalidOption,
    NotFound,
    MethodNotAllowed,
    Unauthorized,
    RateLimited,
    RequestTimeout,
    /// CDS Hooks: the prefetch lacks the data the service needs (412).
    PrefetchMissing,
    /// CDS Hooks feedback for a card uuid this service did not issue (422).
    UnknownCard,
    /// CDS Hooks feedback accepting a suggestion the card did not carry (422).
    UnknownSuggestion,
    /// FHIR: the client accepts only a format this service does not produce (XML).
    NotAcceptable,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::MalformedJson,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::InvalidRequestShape,
        ErrorCode::UnknownAnswerCode,
        ErrorCode::DerivedAnswerCode,
        ErrorCode::InvalidAnswerValue,
        ErrorCode::MissingRequiredAnswer,
        ErrorCode::InvalidOption,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Unauthorized,
        ErrorCode::RateLimited,
        ErrorCode::RequestTimeout,
        ErrorCode::PrefetchMissing,
        ErrorCode::UnknownCard,
        ErrorCode::UnknownSuggestion,
        ErrorCode::NotAcceptable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::InvalidRequestShape => "invalid_request_shape",
            ErrorCode::UnknownAnswerCode => "unknown_answer_code",
            ErrorCode::DerivedAnswerCode => "derived_answer_code",
            ErrorCode::InvalidAnswerValue => "invalid_answer_value",
            ErrorCode::MissingRequiredAnswer => "missing_required_answer",
            ErrorCode::InvalidOption => "invalid_option",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::PrefetchMissing => "prefetch_missing",
            ErrorCode::UnknownCard => "unknown_card",
            ErrorCode::UnknownSuggestion => "unknown_suggestion",
            ErrorCode::NotAcceptable => "not_acceptable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedJson => StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidRequestShape
            | ErrorCode::UnknownAnswerCode
            | ErrorCode::DerivedAnswerCode
            | ErrorCode::InvalidAnswerValue
            | ErrorCode::MissingRequiredAnswer
            | ErrorCode::InvalidOption
            | ErrorCode::UnknownCard
            | ErrorCode::UnknownSuggestion => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::PrefetchMissing => StatusCode::PRECONDITION_FAILED,
            ErrorCode::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "The request body is not valid JSON",
            ErrorCode::UnsupportedMediaType => "The request body must be application/json",
            ErrorCode::PayloadTooLarge => "The request body is too large",
            ErrorCode::InvalidRequestShape => "The request does not have the expected shape",
            ErrorCode::UnknownAnswerCode => "An answer uses a code that is not in the vocabulary",
            ErrorCode::DerivedAnswerCode => "An answer uses a code the service derives itself",
            ErrorCode::InvalidAnswerValue => "An answer has a value its code does not allow",
            ErrorCode::MissingRequiredAnswer => "A required answer is missing",
            ErrorCode::InvalidOption => "An option is not valid",
            ErrorCode::NotFound => "No such resource",
            ErrorCode::MethodNotAllowed => "Method not allowed on this resource",
            ErrorCode::Unauthorized => "A valid API key is required",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::RequestTimeout => "The request took too long",
            ErrorCode::PrefetchMissing => "The CDS Hooks prefetch lacks the data the service needs",
            ErrorCode::UnknownCard => "The feedback names a card this service did not issue",
            ErrorCode::UnknownSuggestion => {
                "The feedback accepts a suggestion the card did not carry"
            }
            ErrorCode::NotAcceptable => "The service cannot answer in an accepted format",
            ErrorCode::Internal => "Internal error",
        }
    }

    /// A stable URI ending in the code.
    pub fn type_uri(self) -> String {
        format!("urn:spasm-triage:problem:{}", self.as_str())
    }

    fn from_answer_error(e: &AnswerError) -> ErrorCode {
        use crate::engine::AnswerErrorKind as K;
        match e.kind {
            K::UnknownAnswerCode => ErrorCode::UnknownAnswerCode,
            K::DerivedAnswerCode => ErrorCode::DerivedAnswerCode,
            K::InvalidAnswerValue => ErrorCode::InvalidAnswerValue,
            K::MissingRequiredAnswer => ErrorCode::MissingRequiredAnswer,
        }
    }
}

/// One problem with one field of the request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer to the field, e.g. `/answers/saddle_numbnes`.
    #[schema(example = "/answers/saddle_numbnes")]
    pub path: String,
    #[schema(example = "unknown_answer_code")]
    pub code: String,
    #[schema(
        example = "`saddle_numbnes` is not a vocabulary code; did you mean `saddle_numbness`?"
    )]
    pub message: String,
    /// Closest known codes, for unknown codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub did_you_mean: Vec<String>,
}

/// RFC 9457 problem details.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:spasm-triage:problem:unknown_answer_code",
    "title": "An answer uses a code that is not in the vocabulary",
    "status": 422,
    "detail": "1 answer could not be accepted",
    "code": "unknown_answer_code",
    "errors": [{
        "path": "/answers/saddle_numbnes",
        "code": "unknown_answer_code",
        "message": "`saddle_numbnes` is not a vocabulary code; did you mean `saddle_numbness`?",
        "did_you_mean": ["saddle_numbness"]
    }]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error a handler returns; rendered as problem+json.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// Methods for the `Allow` header of a 405.
    pub allow: Option<String>,
    /// Seconds for the `Retry-After` header of a 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            allow: None,
            retry_after: None,
        }
    }

    pub fn field(code: ErrorCode, path: impl Into<String>, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError {
            code,
            detail: message.clone(),
            errors: vec![FieldError {
                path: path.into(),
                code: code.as_str().to_owned(),
                message,
                did_you_mean: Vec::new(),
            }],
            allow: None,
            retry_after: None,
        }
    }

    /// All answer problems in one response; its code is the first problem's.
    pub fn from_answers(errors: &[AnswerError]) -> ApiError {
        let code = errors
            .first()
            .map(ErrorCode::from_answer_error)
            .unwrap_or(ErrorCode::InvalidRequestShape);
        let n = errors.len();
        ApiError {
            code,
            detail: format!(
                "{n} answer{} could not be accepted",
                if n == 1 { "" } else { "s" }
            ),
            errors: errors
                .iter()
                .map(|e| FieldError {
                    path: format!("/answers/{}", escape_pointer(&e.code)),
                    code: ErrorCode::from_answer_error(e).as_str().to_owned(),
                    message: e.message.clone(),
                    did_you_mean: e.did_you_mean.clone(),
                })
                .collect(),
            allow: None,
            retry_after: None,
        }
    }

    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: self.code.type_uri(),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
            errors: self.errors.clone(),
        }
    }
}

/// JSON pointer escaping (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.code.status());
        builder.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        builder.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if let Some(allow) = &self.allow {
            builder.insert_header((header::ALLOW, allow.clone()));
        }
        if let Some(seconds) = self.retry_after {
            builder.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.code == ErrorCode::Unauthorized {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        builder.body(body)
    }
}
