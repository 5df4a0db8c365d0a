//! When a call has no prefetch, the CDS Hooks way to get the data is for the service to ask
//! the EHR's FHIR server itself (`fhirServer`, with the token in `fhirAuthorization`). Only
//! servers whose origin the deployment lists (`cds.fhir_servers`) are asked, with a timeout,
//! no redirects, a size cap and the query of the discovery's prefetch template; anything else
//! is 412 `prefetch_missing`, as for a missing prefetch. Neither the URL (it names the
//! patient) nor the token is logged.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::configuration::CdsSettings;
use crate::fhir_resources::questionnaire::QUESTIONNAIRE_URL;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::outbound;

/// The most a FHIR server's answer may hold.
const MAX_ANSWER_BYTES: usize = 1 << 20;

pub struct FhirFetch {
    origins: Vec<String>,
    http: reqwest::Client,
    timeout: Duration,
}

/// What a call says about where its data lives.
pub struct Source<'a> {
    pub fhir_server: &'a str,
    pub access_token: &'a str,
}

fn unavailable(reason: &str) -> ApiError {
    ApiError::new(
        ErrorCode::PrefetchMissing,
        format!(
            "the request has no prefetch, and the service could not fetch the patient's newest \
             QuestionnaireResponse for {QUESTIONNAIRE_URL} from `fhirServer`: {reason}"
        ),
    )
}

impl FhirFetch {
    /// `None` when no FHIR server is allowed (the default). Refuses, at start-up, an entry
    /// that is not an origin or not callable (https; http only on loopback).
    pub fn new(settings: &CdsSettings) -> Result<Option<FhirFetch>, String> {
        if settings.fhir_servers.is_empty() {
            return Ok(None);
        }
        let mut origins = Vec::new();
        for entry in &settings.fhir_servers {
            let entry = entry.trim().trim_end_matches('/');
            match outbound::origin(entry) {
                Some(origin)
                    if origin == entry.to_ascii_lowercase() && outbound::is_callable(&origin) =>
                {
                    origins.push(origin);
                }
                _ => {
                    return Err(format!(
                        "cds.fhir_servers: `{entry}` is not an origin this service may call \
                         (https://host[:port], no path; http only on loopback)"
                    ))
                }
            }
        }
        if settings.fetch_timeout_ms == 0 {
            return Err("cds.fetch_timeout_ms must be above 0".to_owned());
        }
        let timeout = Duration::from_millis(settings.fetch_timeout_ms);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could send the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cds: cannot build the FHIR client: {e}"))?;
        Ok(Some(FhirFetch {
            origins,
            http,
            timeout,
        }))
    }

    /// The patient's newest QuestionnaireResponse(s) for our Questionnaire, as the FHIR
    /// server's searchset Bundle (or whatever resource it answered: `select` judges it).
    pub async fn latest(&self, source: &Source<'_>, patient_id: &str) -> Result<Value, ApiError> {
        let server = source.fhir_server.trim_end_matches('/');
        // The listed origins were checked callable at start-up.
        let allowed = outbound::origin(server).is_some_and(|o| self.origins.contains(&o));
        if !allowed {
            return Err(unavailable(
                "it is not one of the FHIR servers this deployment may query (`cds.fhir_servers`)",
            ));
        }
        let mut url = reqwest::Url::parse(&format!("{server}/QuestionnaireResponse"))
            .map_err(|_| unavailable("`fhirServer` is not a URL"))?;
        url.query_pairs_mut()
            .append_pair("subject", &format!("Patient/{patient_id}"))
            .append_pair("questionnaire", QUESTIONNAIRE_URL)
            .append_pair("_sort", "-authored")
            .append_pair("_count", "1");
        let answer = self
            .http
            .get(url)
            .bearer_auth(source.access_token)
            .header(reqwest::header::ACCEPT, "application/fhir+json")
            .send()
            .await
            .map_err(|e| {
                let why = if e.is_timeout() {
                    "timeout"
                } else {
                    "unreachable"
                };
                tracing::warn!(outcome = why, "cds: FHIR server query failed");
                if e.is_timeout() {
                    unavailable(&format!("no answer within {} ms", self.timeout.as_millis()))
                } else {
                    unavailable("it could not be reached")
                }
            })?;
        let status = answer.status();
        if !status.is_success() {
            tracing::warn!(status = status.as_u16(), "cds: FHIR server query refused");
            return Err(unavailable(&format!(
                "it answered HTTP {}",
                status.as_u16()
            )));
        }
        let body = read_capped(answer).await?;
        let value: Value =
            serde_json::from_slice(&body).map_err(|_| unavailable("its answer is not JSON"))?;
        if !value.is_object() {
            return Err(unavailable("its answer is not a FHIR resource"));
        }
        Ok(value)
    }
}

async fn read_capped(mut answer: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    if answer
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(unavailable("its answer is larger than 1 MiB"));
    }
    let mut body = Vec::new();
    loop {
        match answer.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(unavailable("its answer is larger than 1 MiB"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(_) => return Err(unavailable("its answer broke off")),
        }
    }
}

/// An absolute URL without spaces or control characters, as `format: uri` asks.
fn is_absolute_url(s: &str) -> bool {
    s.is_ascii()
        && !s
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        && reqwest::Url::parse(s).is_ok()
}

/// `fhirServer` and the bearer token of `fhirAuthorization`, when the call gives both in a
/// usable form. `Err` for a malformed `fhirAuthorization` (the request's mistake).
pub fn source_of<'a>(
    top: &'a Map<String, Value>,
    shape: impl Fn(&str, &str) -> ApiError,
) -> Result<Option<Source<'a>>, ApiError> {
    let server = match top.get("fhirServer") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_absolute_url(s) => Some(s.as_str()),
        Some(_) => {
            return Err(shape(
                "/fhirServer",
                "`fhirServer` must be an absolute URL (the EHR's FHIR base)",
            ))
        }
    };
    let auth = match top.get("fhirAuthorization") {
        None | Some(Value::Null) => None,
        Some(Value::Object(auth)) => Some(auth),
        Some(_) => {
            return Err(shape(
                "/fhirAuthorization",
                "`fhirAuthorization` must be an object (access_token, token_type, ...)",
            ))
        }
    };
    let Some(auth) = auth else {
        return Ok(None);
    };
    for (key, ok) in [
        (
            "expires_in",
            auth.get("expires_in").is_none_or(|v| v.is_u64()),
        ),
        ("scope", auth.get("scope").is_none_or(Value::is_string)),
        ("subject", auth.get("subject").is_none_or(Value::is_string)),
    ] {
        if !ok {
            let what = if key == "expires_in" {
                "a whole number of seconds"
            } else {
                "a string"
            };
            return Err(shape(
                &format!("/fhirAuthorization/{key}"),
                &format!("`fhirAuthorization.{key}` must be {what}"),
            ));
        }
    }
    let token = auth
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            shape(
                "/fhirAuthorization/access_token",
                "`fhirAuthorization.access_token` is required: the bearer token (printable ASCII)",
            )
        })?;
    if auth.get("token_type").and_then(Value::as_str) != Some("Bearer") {
        return Err(shape(
            "/fhirAuthorization/token_type",
            "`fhirAuthorization.token_type` must be \"Bearer\"",
        ));
    }
    Ok(server.map(|fhir_server| Source {
        fhir_server,
        access_token: token,
    }))
}
