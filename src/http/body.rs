//! Reading a request body: the media type, a size limit, a time limit, and JSON errors
//! described without quoting the input.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use super::error::{ApiError, ErrorCode};

pub fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body with Content-Type: application/json",
        ))
    }
}

/// The body, at most `limit` bytes, arriving within `timeout` (actix-web's own timeout
/// covers only the request head, so a body sent a byte at a time would hold a connection).
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, ApiError> {
    match actix_web::rt::time::timeout(timeout, read_body_within_limit(req, payload, limit)).await {
        Ok(read) => read,
        Err(_) => Err(ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs()
            ),
        )),
    }
}

async fn read_body_within_limit(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body must be at most {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(
                ErrorCode::MalformedJson,
                "the request body could not be read",
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Describe a JSON error without quoting the input (it may be health data).
pub fn malformed(e: &serde_json::Error) -> ApiError {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the JSON ends too early",
        serde_json::error::Category::Io => "the body could not be read",
        _ if e.to_string().contains("recursion limit") => "the JSON is nested too deeply",
        _ if e.to_string().contains("number out of range") => "a number is out of range",
        _ => "syntax error",
    };
    ApiError::new(
        ErrorCode::MalformedJson,
        format!("{what} at line {}, column {}", e.line(), e.column()),
    )
}
