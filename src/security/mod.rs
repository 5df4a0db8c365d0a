//! Access control and browser-facing protections: API keys, CDS Hooks JWTs, CORS, security
//! headers, per-client rate limits, a failed-authentication throttle per peer address and
//! request timeouts. Every refusal is problem+json.

pub mod cds_jwt;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::configuration::Settings;
use crate::http::error::{ApiError, ErrorCode};
use crate::http::identity::Client;

struct KeyHash {
    client: String,
    sha256: [u8; 32],
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Security configuration, compiled once at start-up.
pub struct Security {
    auth_enabled: bool,
    open_paths: Vec<String>,
    keys: Vec<KeyHash>,
    origins: Vec<String>,
    any_origin: bool,
    allow_credentials: bool,
    max_age: String,
    hsts: Option<HeaderValue>,
    rate: Option<(f64, f64)>,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Failed authentications per peer address: (per second, burst) and their buckets.
    failure_rate: (f64, f64),
    failures: Mutex<HashMap<String, Bucket>>,
    trusted_proxies: Vec<std::net::IpAddr>,
    cds: Option<cds_jwt::CdsAuth>,
}

/// More tracked clients than this and idle buckets are dropped (bounded memory).
const MAX_BUCKETS: usize = 10_000;

impl Security {
    pub fn new(settings: &Settings) -> Result<Security, String> {
        settings.check()?;
        let mut keys = Vec::new();
        for key in &settings.auth.keys {
            let mut sha256 = [0u8; 32];
            hex::decode_to_slice(&key.sha256, &mut sha256).map_err(|_| {
                format!(
                    "auth.keys: the sha256 of client `{}` is not hex",
                    key.client
                )
            })?;
            keys.push(KeyHash {
                client: key.client.clone(),
                sha256,
            });
        }
        let rl = &settings.rate_limit;
        let trusted_proxies = settings
            .auth
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse()
                    .map_err(|_| format!("auth.trusted_proxies: `{p}` is not an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Security {
            auth_enabled: settings.auth.enabled,
            open_paths: settings.auth.open_paths.clone(),
            keys,
            origins: settings
                .cors
                .allowed_origins
                .iter()
                .filter(|o| *o != "*")
                .cloned()
                .collect(),
            any_origin: settings.cors.allowed_origins.iter().any(|o| o == "*"),
            allow_credentials: settings.cors.allow_credentials,
            max_age: settings.cors.max_age_secs.to_string(),
            hsts: (settings.security.hsts_max_age_secs > 0)
                .then(|| {
                    HeaderValue::from_str(&format!(
                        "max-age={}",
                        settings.security.hsts_max_age_secs
                    ))
                    .ok()
                })
                .flatten(),
            rate: rl.enabled.then(|| {
                (
                    f64::from(rl.requests_per_minute) / 60.0,
                    f64::from(rl.burst),
                )
            }),
            buckets: Mutex::new(HashMap::new()),
            failure_rate: (
                f64::from(settings.auth.failures_per_minute) / 60.0,
                f64::from(settings.auth.failure_burst),
            ),
            failures: Mutex::new(HashMap::new()),
            trusted_proxies,
            cds: cds_jwt::CdsAuth::new(&settings.cds_auth)?,
        })
    }

    /// The client whose key hash matches; every configured hash is compared in constant time.
    fn client_for(&self, presented: &str) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.sha256.ct_eq(&digest)) {
                found = Some(key.client.as_str());
            }
        }
        found
    }

    /// Take one token for `client`; `Err(seconds)` to wait when none is left.
    fn take_token(&self, client: &str) -> Result<(), u64> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        take(&self.buckets, rate, client, true)
    }

    /// `Err(seconds)` while `peer` has spent its failed authentications.
    fn failures_left(&self, peer: &str) -> Result<(), u64> {
        take(&self.failures, self.failure_rate, peer, false)
    }

    fn record_failure(&self, peer: &str) {
        let _ = take(&self.failures, self.failure_rate, peer, true);
    }

    /// The address that rate limits key on: the peer, or for a trusted proxy the last
    /// `X-Forwarded-For` entry (the one that proxy added). Anyone else's header is ignored,
    /// or a client could pick a fresh identity per request.
    fn peer(&self, req: &ServiceRequest) -> String {
        let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
            return "unknown".to_owned();
        };
        if self.trusted_proxies.contains(&peer) {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
                .last();
            if let Some(client) = forwarded {
                return limit_key(client);
            }
        }
        limit_key(peer)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.any_origin || self.origins.iter().any(|o| o == origin)
    }

    fn cors_headers(&self, origin: &str, headers: &mut HeaderMap) {
        let value = if self.any_origin && !self.allow_credentials {
            "*"
        } else {
            origin
        };
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if self.allow_credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after"),
        );
    }
}

/// An address as a rate-limit key: IPv4 as is, IPv6 by its /64, since one host commonly
/// holds a whole /64 and could otherwise take a fresh bucket per address.
fn limit_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Token bucket `key` in `buckets` at `(per_second, burst)`: take one token when `spend`,
/// else only look; `Err(seconds)` to wait when none is left. Memory stays bounded.
fn take(
    buckets: &Mutex<HashMap<String, Bucket>>,
    (per_second, burst): (f64, f64),
    key: &str,
    spend: bool,
) -> Result<(), u64> {
    let Ok(mut buckets) = buckets.lock() else {
        return Ok(());
    };
    let now = Instant::now();
    if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
        let idle = Duration::from_secs_f64(burst / per_second);
        buckets.retain(|_, b| now.duration_since(b.updated) < idle);
    }
    if !spend && !buckets.contains_key(key) {
        return Ok(());
    }
    let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
        tokens: burst,
        updated: now,
    });
    bucket.tokens =
        (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * per_second).min(burst);
    bucket.updated = now;
    if bucket.tokens >= 1.0 {
        if spend {
            bucket.tokens -= 1.0;
        }
        Ok(())
    } else {
        Err(((1.0 - bucket.tokens) / per_second).ceil().max(1.0) as u64)
    }
}

fn rate_limited(seconds: u64) -> ApiError {
    let mut error = ApiError::new(
        ErrorCode::RateLimited,
        format!("rate limit reached; retry after {seconds} s"),
    );
    error.retry_after = Some(seconds);
    error
}

fn refuse<B>(req: ServiceRequest, error: ApiError) -> ServiceResponse<EitherBody<B>> {
    // FHIR clients read every error under /fhir/ as an OperationOutcome.
    let response = if crate::http::outcome::serves_fhir(req.path()) {
        crate::http::outcome::operation_outcome_response(&error)
    } else {
        error.error_response()
    };
    req.into_response(response).map_into_right_body()
}

fn security(req: &ServiceRequest) -> Option<web::Data<Security>> {
    req.app_data::<web::Data<Security>>().cloned()
}

/// Security headers on every response; CORS for allowed origins, preflight answered.
pub async fn headers_and_cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(sec) = security(&req) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed_origin = origin.filter(|o| sec.origin_allowed(o));
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let docs = req.path().starts_with("/docs");
    // The reference intake page (`crate::intake`), mounted at /intake/.
    let intake = req.path().starts_with("/intake");
    let mut res = if preflight && allowed_origin.is_some() {
        let mut response = HttpResponse::NoContent();
        response.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS"));
        response.insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, content-type, x-api-key, x-request-id",
        ));
        response.insert_header((header::ACCESS_CONTROL_MAX_AGE, sec.max_age.clone()));
        req.into_response(response.finish()).map_into_right_body()
    } else {
        next.call(req).await?.map_into_left_body()
    };
    let headers = res.headers_mut();
    if let Some(origin) = &allowed_origin {
        sec.cors_headers(origin, headers);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    let csp = if docs {
        // Swagger UI: its own scripts and styles only, no third-party requests.
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    } else if intake {
        // The intake page: its own script and stylesheet, calls to this origin only; no inline
        // code, no third-party requests.
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    if let Some(hsts) = &sec.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    Ok(res)
}

fn bearer(req: &ServiceRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        })
}

fn api_key(req: &ServiceRequest) -> Option<&str> {
    req.headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Whether a path is a CDS Hooks route (discovery, service, feedback).
fn cds_route(path: &str) -> bool {
    path == "/cds-services" || path.starts_with("/cds-services/")
}

/// The client the request authenticates as, `None` when it does not.
async fn authenticate(sec: &Security, req: &ServiceRequest) -> Option<String> {
    let path = req.path();
    if cds_route(path) {
        if let Some(cds) = &sec.cds {
            // CDS Hooks: the EHR's signed JWT; an API key only where configured.
            if let Some(token) = bearer(req) {
                match cds.verify(token, path).await {
                    Ok(client) => return Some(client),
                    // A fixed word, never the token or its claims.
                    Err(reason) => tracing::info!(reason = reason.as_str(), "cds jwt refused"),
                }
            }
            if cds.allow_api_key && sec.auth_enabled {
                return api_key(req)
                    .and_then(|k| sec.client_for(k))
                    .map(str::to_owned);
            }
            return None;
        }
        // Without CDS authentication the bearer on these paths is still the EHR's JWT, never
        // an API key (§7.11): keys come in X-API-Key only.
        return api_key(req)
            .and_then(|k| sec.client_for(k))
            .map(str::to_owned);
    }
    bearer(req)
        .or_else(|| api_key(req))
        .and_then(|k| sec.client_for(k))
        .map(str::to_owned)
}

/// Credentials (API keys or CDS Hooks JWTs, when enabled), then the per-client rate limit.
/// Failed authentications are throttled per peer address, before credentials are checked.
pub async fn access(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(sec) = security(&req) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let open = req.method() == Method::OPTIONS || sec.open_paths.iter().any(|p| p == req.path());
    let needs_auth = if cds_route(req.path()) && sec.cds.is_some() {
        true
    } else {
        sec.auth_enabled
    };
    let peer = sec.peer(&req);
    let client = if needs_auth && !open {
        if let Err(seconds) = sec.failures_left(&peer) {
            return Ok(refuse(req, rate_limited(seconds)));
        }
        match authenticate(&sec, &req).await {
            Some(name) => Some(name),
            None => {
                sec.record_failure(&peer);
                req.extensions_mut()
                    .insert(Client("unauthenticated".to_owned()));
                let detail = if cds_route(req.path()) && sec.cds.is_some() {
                    "send a valid CDS Hooks JWT (Authorization: Bearer) from a trusted issuer"
                } else {
                    "send a valid API key"
                };
                return Ok(refuse(req, ApiError::new(ErrorCode::Unauthorized, detail)));
            }
        }
    } else {
        None
    };
    if let Some(name) = &client {
        req.extensions_mut().insert(Client(name.clone()));
    }
    if !open {
        let key = client.unwrap_or(peer);
        if let Err(seconds) = sec.take_token(&key) {
            return Ok(refuse(req, rate_limited(seconds)));
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(keys: &str) -> Settings {
        let mut s = crate::configuration::built_in().unwrap();
        s.auth.enabled = true;
        s.auth.keys = vec![crate::configuration::ApiKey {
            client: "clinic-a".into(),
            sha256: keys.into(),
        }];
        s.rate_limit.enabled = true;
        s.rate_limit.requests_per_minute = 60;
        s.rate_limit.burst = 2;
        s
    }

    #[test]
    fn keys_match_by_hash_only() {
        let hash = hex::encode(Sha256::digest(b"secret-key"));
        let sec = Security::new(&settings(&hash)).unwrap();
        assert_eq!(sec.client_for("secret-key"), Some("clinic-a"));
        assert_eq!(sec.client_for("secret-kex"), None);
        assert_eq!(sec.client_for(&hash), None);
    }

    #[test]
    fn bucket_allows_the_burst_then_asks_to_wait() {
        let hash = hex::encode(Sha256::digest(b"k"));
        let sec = Security::new(&settings(&hash)).unwrap();
        assert!(sec.take_token("a").is_ok());
        assert!(sec.take_token("a").is_ok());
        assert_eq!(sec.take_token("a"), Err(1));
        assert!(sec.take_token("b").is_ok());
    }

    #[test]
    fn ipv6_peers_share_a_bucket_per_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(c));
        let mapped: std::net::IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(limit_key(mapped), "192.0.2.7");
    }

    #[test]
    fn unsafe_settings_are_refused() {
        let mut s = settings("00");
        assert!(Security::new(&s).is_err());
        s.auth.keys.clear();
        assert!(s.check().unwrap_err().contains("auth.keys is empty"));
        s.auth.enabled = false;
        s.cors.allowed_origins = vec!["*".into()];
        s.cors.allow_credentials = true;
        assert!(s.check().unwrap_err().contains("wildcard"));
    }
}
