//! CDS Hooks 2.0 authentication: the EHR signs a short-lived JWT per call and sends it as
//! `Authorization: Bearer`. We trust only configured issuers, verify the signature against the
//! issuer's JWKS (fetched and cached, or inline), and check `alg`, `kid`, `aud`, `exp`, `iat`
//! and `jti` (never reused while the token is valid). The crypto is `jsonwebtoken` over `ring`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::configuration::{CdsAuthSettings, CdsIssuer};

/// CDS Hooks: a token should expire at most five minutes after it was issued.
const MAX_LIFETIME_SECS: u64 = 300;
/// Remembered `jti`s at most; beyond it (after dropping expired ones) calls are refused
/// rather than forgetting a token that could then be replayed.
const MAX_REPLAY_ENTRIES: usize = 100_000;
const MAX_JTI_LEN: usize = 256;
/// A JWKS larger than this is refused.
const MAX_JWKS_BYTES: usize = 256 * 1024;
/// An unknown `kid` refetches the JWKS (key rotation), but not more often than this.
const MIN_REFETCH: Duration = Duration::from_secs(30);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a token was refused: a fixed word for the logs (never the token or its claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    Algorithm,
    UnknownIssuer,
    UnknownKey,
    KeysUnavailable,
    Signature,
    Audience,
    Expired,
    IssuedAt,
    Lifetime,
    Jti,
    Replayed,
    ReplayCacheFull,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::Algorithm => "algorithm",
            Refusal::UnknownIssuer => "unknown_issuer",
            Refusal::UnknownKey => "unknown_key",
            Refusal::KeysUnavailable => "jwks_unavailable",
            Refusal::Signature => "signature",
            Refusal::Audience => "audience",
            Refusal::Expired => "expired",
            Refusal::IssuedAt => "issued_at",
            Refusal::Lifetime => "lifetime",
            Refusal::Jti => "jti",
            Refusal::Replayed => "replayed",
            Refusal::ReplayCacheFull => "replay_cache_full",
        }
    }
}

struct Keys {
    set: JwkSet,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

struct Issuer {
    iss: String,
    client: String,
    algorithms: Vec<Algorithm>,
    jwks_url: Option<String>,
    keys: tokio::sync::Mutex<Keys>,
}

/// The verifier, built once at start-up.
pub struct CdsAuth {
    audience: String,
    skew: u64,
    cache_for: Duration,
    pub allow_api_key: bool,
    issuers: Vec<Issuer>,
    /// (issuer index, jti) → the token's `exp`.
    seen: Mutex<HashMap<(usize, String), u64>>,
    http: reqwest::Client,
}

fn algorithm(name: &str) -> Result<Algorithm, String> {
    // HS* would make the shared secret a signing key any holder could use; `none` is no
    // signature at all: neither is offered.
    match name {
        "RS384" => Ok(Algorithm::RS384),
        "ES384" => Ok(Algorithm::ES384),
        "RS256" => Ok(Algorithm::RS256),
        other => Err(format!(
            "cds_auth.issuers: algorithm `{other}` is not allowed (RS384, ES384, RS256)"
        )),
    }
}

fn issuer(config: &CdsIssuer) -> Result<Issuer, String> {
    let name = &config.iss;
    if name.trim().is_empty() {
        return Err("cds_auth.issuers: an issuer has an empty `iss`".to_owned());
    }
    let algorithms = config
        .algorithms
        .iter()
        .map(|a| algorithm(a))
        .collect::<Result<Vec<_>, _>>()?;
    if algorithms.is_empty() {
        return Err(format!("cds_auth.issuers: `{name}` allows no algorithm"));
    }
    let (url, inline) = (config.jwks_url.trim(), config.jwks.trim());
    if url.is_empty() == inline.is_empty() {
        return Err(format!(
            "cds_auth.issuers: `{name}` needs exactly one of `jwks_url` and `jwks`"
        ));
    }
    let (set, jwks_url) = if inline.is_empty() {
        if !crate::http::outbound::is_callable(url) {
            return Err(format!(
                "cds_auth.issuers: the jwks_url of `{name}` must be https (http only on loopback)"
            ));
        }
        (JwkSet { keys: Vec::new() }, Some(url.to_owned()))
    } else {
        let set = serde_json::from_str::<JwkSet>(inline)
            .map_err(|e| format!("cds_auth.issuers: the jwks of `{name}` is not a JWKS: {e}"))?;
        (set, None)
    };
    Ok(Issuer {
        iss: config.iss.clone(),
        client: if config.client.trim().is_empty() {
            config.iss.clone()
        } else {
            config.client.clone()
        },
        algorithms,
        jwks_url,
        keys: tokio::sync::Mutex::new(Keys {
            set,
            fetched: None,
            attempted: None,
        }),
    })
}

#[derive(Deserialize)]
struct Peek {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    exp: u64,
    iat: Option<u64>,
    jti: Option<String>,
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

impl CdsAuth {
    /// `None` when CDS Hooks authentication is off.
    pub fn new(settings: &CdsAuthSettings) -> Result<Option<CdsAuth>, String> {
        if !settings.enabled {
            return Ok(None);
        }
        let issuers = settings
            .issuers
            .iter()
            .map(issuer)
            .collect::<Result<Vec<_>, _>>()?;
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| format!("cds_auth: cannot build the JWKS client: {e}"))?;
        Ok(Some(CdsAuth {
            audience: settings.audience.trim_end_matches('/').to_owned(),
            skew: settings.max_iat_skew_secs,
            cache_for: Duration::from_secs(settings.jwks_cache_secs),
            allow_api_key: settings.allow_api_key,
            issuers,
            seen: Mutex::new(HashMap::new()),
            http,
        }))
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, ()> {
        let response = self.http.get(url).send().await.map_err(|_| ())?;
        if !response.status().is_success()
            || response
                .content_length()
                .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(());
        }
        let body = response.bytes().await.map_err(|_| ())?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(());
        }
        serde_json::from_slice(&body).map_err(|_| ())
    }

    /// The issuer's key `kid`, fetching the JWKS when it is stale or lacks the kid.
    async fn key(&self, issuer: &Issuer, kid: &str) -> Result<Jwk, Refusal> {
        let mut keys = issuer.keys.lock().await;
        let Some(url) = &issuer.jwks_url else {
            return keys.set.find(kid).cloned().ok_or(Refusal::UnknownKey);
        };
        let stale = keys.fetched.is_none_or(|t| t.elapsed() >= self.cache_for);
        let missing = keys.set.find(kid).is_none();
        let may_retry = keys.attempted.is_none_or(|t| t.elapsed() >= MIN_REFETCH);
        if (stale || missing) && (keys.fetched.is_none() || may_retry) {
            keys.attempted = Some(Instant::now());
            match self.fetch(url).await {
                Ok(set) => {
                    keys.set = set;
                    keys.fetched = Some(Instant::now());
                }
                Err(()) => {
                    tracing::warn!(issuer = %issuer.client, "cds_auth: the issuer's JWKS could not be fetched");
                    if keys.fetched.is_none() {
                        return Err(Refusal::KeysUnavailable);
                    }
                }
            }
        }
        keys.set.find(kid).cloned().ok_or(Refusal::UnknownKey)
    }

    /// Verify a token presented on `path`; the trusted issuer's client name when it passes.
    pub async fn verify(&self, token: &str, path: &str) -> Result<String, Refusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
        let kid = header.kid.as_deref().ok_or(Refusal::UnknownKey)?;
        // The issuer picks the keys, so it is read before the signature is checked; nothing
        // else from the unverified payload is used.
        let payload = token.split('.').nth(1).ok_or(Refusal::Malformed)?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| Refusal::Malformed)?;
        let iss = serde_json::from_slice::<Peek>(&payload)
            .map_err(|_| Refusal::Malformed)?
            .iss
            .ok_or(Refusal::UnknownIssuer)?;
        let (index, issuer) = self
            .issuers
            .iter()
            .enumerate()
            .find(|(_, i)| i.iss == iss)
            .ok_or(Refusal::UnknownIssuer)?;
        if !issuer.algorithms.contains(&header.alg) {
            return Err(Refusal::Algorithm);
        }
        let jwk = self.key(issuer, kid).await?;
        let wrong_use = matches!(
            jwk.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        );
        if wrong_use
            || jwk
                .common
                .key_algorithm
                .is_some_and(|a| a.to_string() != format!("{:?}", header.alg))
        {
            return Err(Refusal::Algorithm);
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| Refusal::UnknownKey)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.skew;
        validation.validate_nbf = true;
        validation.set_audience(&[format!("{}{path}", self.audience), self.audience.clone()]);
        validation.set_issuer(&[&issuer.iss]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature
                    | K::InvalidEcdsaKey
                    | K::InvalidRsaKey(_)
                    | K::Crypto(_) => Refusal::Signature,
                    K::InvalidAlgorithm => Refusal::Algorithm,
                    K::ExpiredSignature => Refusal::Expired,
                    K::InvalidAudience => Refusal::Audience,
                    K::InvalidIssuer => Refusal::UnknownIssuer,
                    K::ImmatureSignature => Refusal::IssuedAt,
                    _ => Refusal::Malformed,
                }
            })?
            .claims;
        let now = now();
        let iat = claims.iat.ok_or(Refusal::IssuedAt)?;
        if iat > now + self.skew {
            return Err(Refusal::IssuedAt);
        }
        if claims.exp > now + MAX_LIFETIME_SECS + self.skew {
            return Err(Refusal::Lifetime);
        }
        let jti = claims
            .jti
            .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
            .ok_or(Refusal::Jti)?;
        self.remember(index, jti, claims.exp, now)?;
        Ok(issuer.client.clone())
    }

    /// Record a `jti` until its token expires; a second use is a replay.
    fn remember(&self, issuer: usize, jti: String, exp: u64, now: u64) -> Result<(), Refusal> {
        let Ok(mut seen) = self.seen.lock() else {
            return Err(Refusal::ReplayCacheFull);
        };
        let skew = self.skew;
        if seen.len() >= MAX_REPLAY_ENTRIES {
            seen.retain(|_, exp| *exp + skew >= now);
            if seen.len() >= MAX_REPLAY_ENTRIES {
                return Err(Refusal::ReplayCacheFull);
            }
        }
        match seen.get(&(issuer, jti.clone())) {
            Some(previous) if *previous + skew >= now => Err(Refusal::Replayed),
            _ => {
                seen.insert((issuer, jti), exp);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: CdsIssuer) -> CdsAuthSettings {
        CdsAuthSettings {
            enabled: true,
            audience: "https://triage.example.org".into(),
            issuers: vec![issuer],
            max_iat_skew_secs: 60,
            jwks_cache_secs: 300,
            allow_api_key: false,
        }
    }

    fn issuer_config(jwks_url: &str, jwks: &str, algorithms: &[&str]) -> CdsIssuer {
        CdsIssuer {
            iss: "https://ehr.example.org".into(),
            client: String::new(),
            jwks_url: jwks_url.into(),
            jwks: jwks.into(),
            algorithms: algorithms.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn unsafe_issuer_settings_are_refused() {
        let jwks = r#"{"keys": []}"#;
        assert!(CdsAuth::new(&settings(issuer_config("", jwks, &["ES384"]))).is_ok());
        for (url, inline, algs) in [
            ("", jwks, vec!["HS256"]),
            ("", jwks, vec!["none"]),
            ("", jwks, vec![]),
            ("", "", vec!["ES384"]),
            ("https://ehr.example.org/jwks", jwks, vec!["ES384"]),
            ("http://ehr.example.org/jwks", "", vec!["ES384"]),
            ("", "{not json", vec!["ES384"]),
        ] {
            let r = CdsAuth::new(&settings(issuer_config(url, inline, &algs)));
            assert!(r.is_err(), "{url} {inline} {algs:?}");
        }
        assert!(CdsAuth::new(&settings(issuer_config(
            "http://127.0.0.1:9/jwks",
            "",
            &["ES384"]
        )))
        .is_ok());
    }

    #[test]
    fn a_jti_is_refused_the_second_time_until_its_token_expires() {
        let auth = CdsAuth::new(&settings(issuer_config("", r#"{"keys": []}"#, &["ES384"])))
            .unwrap()
            .unwrap();
        assert_eq!(auth.remember(0, "a".into(), 1_000, 900), Ok(()));
        assert_eq!(
            auth.remember(0, "a".into(), 1_000, 950),
            Err(Refusal::Replayed)
        );
        assert_eq!(auth.remember(1, "a".into(), 1_000, 950), Ok(()));
        // Long after expiry (and the skew) the entry no longer matters.
        assert_eq!(auth.remember(0, "a".into(), 2_000, 1_100), Ok(()));
    }
}
