//! CDS Hooks 2.0 authentication with real signed JWTs: keys are generated at test time
//! (ES384 with ring; RS384 with `openssl` when it is installed), JWKS inline or served by a
//! loopback HTTP server the test starts.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use spasm_triage::configuration::{ApiKey, CdsIssuer};

use crate::fhir::form;
use crate::helpers::{captured_logs, spawn_app, spawn_app_with, test_settings, TestApp};

const AUDIENCE: &str = "https://triage.example.test";
const SERVICE: &str = "/cds-services/back-pain-triage";
const ISS: &str = "https://ehr-a.example.test";
const KEY: &str = "cds-auth-test-key-7f3e";

struct Signer {
    kid: String,
    alg: Algorithm,
    key: EncodingKey,
    jwk: Value,
}

fn es384(kid: &str) -> Signer {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    Signer {
        kid: kid.to_owned(),
        alg: Algorithm::ES384,
        key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "crv": "P-384", "use": "sig", "alg": "ES384", "kid": kid,
                    "x": URL_SAFE_NO_PAD.encode(&point[1..49]), "y": URL_SAFE_NO_PAD.encode(&point[49..97])}),
    }
}

/// An RS384 key from `openssl`, or `None` where it is not installed.
fn rs384(kid: &str) -> Option<Signer> {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("key.pem");
    let der = dir.path().join("key.der");
    let run = |args: &[&str]| {
        std::process::Command::new("openssl")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let pem_s = pem.to_str().unwrap();
    run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        pem_s,
    ])?;
    // ring signs with a PKCS#1 RSAPrivateKey.
    run(&[
        "rsa",
        "-in",
        pem_s,
        "-traditional",
        "-outform",
        "DER",
        "-out",
        der.to_str().unwrap(),
    ])?;
    let modulus = run(&["rsa", "-in", pem_s, "-noout", "-modulus"])?;
    let modulus = String::from_utf8(modulus.stdout).unwrap();
    let n = hex::decode(modulus.trim().trim_start_matches("Modulus=")).unwrap();
    Some(Signer {
        kid: kid.to_owned(),
        alg: Algorithm::RS384,
        key: EncodingKey::from_rsa_der(&std::fs::read(der).unwrap()),
        jwk: json!({"kty": "RSA", "use": "sig", "alg": "RS384", "kid": kid,
                    "n": URL_SAFE_NO_PAD.encode(n), "e": "AQAB"}),
    })
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(iss: &str, path: &str) -> Value {
    json!({"iss": iss, "sub": "client-a", "aud": format!("{AUDIENCE}{path}"),
           "iat": now(), "exp": now() + 240, "jti": uuid::Uuid::new_v4().to_string()})
}

fn sign(signer: &Signer, claims: &Value) -> String {
    let mut header = Header::new(signer.alg);
    header.kid = Some(signer.kid.clone());
    jsonwebtoken::encode(&header, claims, &signer.key).unwrap()
}

fn jwks(signers: &[&Signer]) -> String {
    json!({"keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

/// A loopback HTTP server answering every request with `body`.
async fn serve_jwks(body: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

fn issuer(iss: &str, jwks_url: &str, jwks: &str, algorithms: &[&str]) -> CdsIssuer {
    CdsIssuer {
        iss: iss.to_owned(),
        client: format!("ehr:{iss}"),
        jwks_url: jwks_url.to_owned(),
        jwks: jwks.to_owned(),
        algorithms: algorithms.iter().map(|a| a.to_string()).collect(),
    }
}

async fn app(issuers: Vec<CdsIssuer>) -> TestApp {
    let mut settings = test_settings();
    settings.auth.enabled = true;
    settings.auth.keys = vec![ApiKey {
        client: "json-api".into(),
        sha256: hex::encode(Sha256::digest(KEY.as_bytes())),
    }];
    // This test sends many bad tokens on purpose; the failure throttle is tested elsewhere.
    settings.auth.failure_burst = 10_000;
    settings.cds_auth.enabled = true;
    settings.cds_auth.audience = AUDIENCE.to_owned();
    settings.cds_auth.issuers = issuers;
    spawn_app_with(settings).await
}

async fn call_body(_app: &TestApp) -> Value {
    // The Questionnaire from an open server (this one wants keys for /fhir/).
    let form = form(&spawn_app().await).await;
    let mut qr = form.response(json!({"age_years": 40, "sex": "male"}).as_object().unwrap());
    qr["subject"] = json!({"reference": "Patient/pt-1"});
    json!({"hook": "patient-view", "hookInstance": uuid::Uuid::new_v4().to_string(),
           "context": {"userId": "Practitioner/dr-1", "patientId": "pt-1"},
           "prefetch": {"questionnaireResponse": qr}})
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = app.client.post(format!("{}{path}", app.address)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_signed_jwt_from_a_trusted_issuer_is_the_cds_credential() {
    let a = es384("ehr-a-1");
    let rsa = rs384("ehr-a-rsa");
    let mut keys = vec![&a];
    if let Some(r) = &rsa {
        keys.push(r);
    }
    let app = app(vec![issuer(ISS, "", &jwks(&keys), &["ES384", "RS384"])]).await;
    let body = call_body(&app).await;

    let token = sign(&a, &claims(ISS, SERVICE));
    let (status, reply) = post(&app, SERVICE, Some(&token), &body).await;
    assert_eq!(status, 200, "{reply}");
    let card = reply["cards"][0]["uuid"].as_str().unwrap().to_owned();
    let suggestion = reply["cards"][0]["suggestions"][0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same token again is a replay.
    let (status, reply) = post(&app, SERVICE, Some(&token), &body).await;
    assert_eq!(status, 401, "{reply}");
    assert_eq!(reply["code"], "unauthorized");

    if let Some(r) = &rsa {
        let (status, reply) =
            post(&app, SERVICE, Some(&sign(r, &claims(ISS, SERVICE))), &body).await;
        assert_eq!(status, 200, "RS384: {reply}");
    } else {
        eprintln!("openssl not found: RS384 not tested");
    }

    // Feedback takes a token whose audience is the feedback endpoint.
    let feedback = format!("{SERVICE}/feedback");
    let entry = json!({"feedback": [{"card": card, "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}], "outcomeTimestamp": "2026-01-15T09:40:00Z"}]});
    let (status, reply) = post(
        &app,
        &feedback,
        Some(&sign(&a, &claims(ISS, &feedback))),
        &entry,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    // Discovery too.
    let r = app
        .client
        .get(format!("{}/cds-services", app.address))
        .bearer_auth(sign(&a, &claims(ISS, "/cds-services")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The audit line names the configured client, never the token.
    let logs = captured_logs();
    assert!(logs.contains(&format!("\"client\":\"ehr:{ISS}\"")));
    assert!(!logs.contains(&token), "a token reached the logs");
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let a = es384("ehr-a-1");
    let stranger = es384("ehr-a-1"); // same kid, a key nobody configured
    let app = app(vec![issuer(ISS, "", &jwks(&[&a]), &["ES384"])]).await;
    let body = call_body(&app).await;
    let valid = claims(ISS, SERVICE);
    let with = |key: &str, value: Value| {
        let mut c = valid.clone();
        c[key] = value;
        c["jti"] = json!(uuid::Uuid::new_v4().to_string());
        c
    };
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "ehr-a-1"})),
        b64(&with("iat", json!(now())))
    );
    // HS256 with the public key as the secret: the classic algorithm-confusion forgery.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("ehr-a-1".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &with("iat", json!(now())),
        &EncodingKey::from_secret(a.jwk.to_string().as_bytes()),
    )
    .unwrap();
    let mut no_kid = Header::new(Algorithm::ES384);
    no_kid.kid = None;
    let without_kid = jsonwebtoken::encode(&no_kid, &with("iat", json!(now())), &a.key).unwrap();
    let mut other_kid = Header::new(Algorithm::ES384);
    other_kid.kid = Some("ehr-a-2".into());
    let unknown_kid = jsonwebtoken::encode(&other_kid, &with("iat", json!(now())), &a.key).unwrap();
    let mut no_jti = valid.clone();
    no_jti.as_object_mut().unwrap().remove("jti");
    let mut no_iat = with("jti", json!("x-1"));
    no_iat.as_object_mut().unwrap().remove("iat");
    let cases = [
        ("alg none", unsigned),
        ("HS256", confused),
        ("no kid", without_kid),
        ("unknown kid", unknown_kid),
        (
            "someone else's key",
            sign(&stranger, &with("iat", json!(now()))),
        ),
        ("expired", sign(&a, &with("exp", json!(now() - 600)))),
        (
            "wrong audience",
            sign(
                &a,
                &with(
                    "aud",
                    json!("https://other.example.test/cds-services/back-pain-triage"),
                ),
            ),
        ),
        (
            "audience of another endpoint",
            sign(
                &a,
                &with("aud", json!(format!("{AUDIENCE}/cds-services/other"))),
            ),
        ),
        (
            "unknown issuer",
            sign(&a, &with("iss", json!("https://ehr-b.example.test"))),
        ),
        (
            "issued in the future",
            sign(&a, &with("iat", json!(now() + 3_600))),
        ),
        (
            "lives too long",
            sign(&a, &with("exp", json!(now() + 86_400))),
        ),
        (
            "not yet valid",
            sign(&a, &with("nbf", json!(now() + 3_600))),
        ),
        ("no jti", sign(&a, &no_jti)),
        ("no iat", sign(&a, &no_iat)),
        ("not a JWT", "not-a-jwt".to_owned()),
    ];
    for (what, token) in cases {
        let (status, reply) = post(&app, SERVICE, Some(&token), &body).await;
        assert_eq!(status, 401, "{what}: {reply}");
        assert_eq!(reply["code"], "unauthorized", "{what}");
    }
    // Without a token, and with only an API key (not allowed on CDS routes by default).
    assert_eq!(post(&app, SERVICE, None, &body).await.0, 401);
    let r = app
        .client
        .post(format!("{}{SERVICE}", app.address))
        .header("x-api-key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    // API keys still open the JSON API.
    let r = app
        .client
        .get(format!("{}/v1/vocabulary", app.address))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The control: the valid claims pass.
    let (status, reply) = post(&app, SERVICE, Some(&sign(&a, &valid)), &body).await;
    assert_eq!(status, 200, "{reply}");
}

#[tokio::test]
async fn keys_come_from_the_issuers_jwks_url_and_api_keys_only_when_allowed() {
    let b = es384("ehr-b-2026");
    let url = serve_jwks(jwks(&[&b])).await;
    let iss = "https://ehr-b.example.test";
    let mut settings_issuers = vec![issuer(iss, &url, "", &["ES384"])];
    settings_issuers.push(issuer(ISS, "", r#"{"keys": []}"#, &["ES384"]));
    let app = app(settings_issuers).await;
    let body = call_body(&app).await;
    let (status, reply) = post(&app, SERVICE, Some(&sign(&b, &claims(iss, SERVICE))), &body).await;
    assert_eq!(status, 200, "{reply}");
    // A key of issuer B does not sign for issuer A.
    let (status, _) = post(&app, SERVICE, Some(&sign(&b, &claims(ISS, SERVICE))), &body).await;
    assert_eq!(status, 401);

    let mut settings = test_settings();
    settings.auth.enabled = true;
    settings.auth.keys = vec![ApiKey {
        client: "ehr-with-key".into(),
        sha256: hex::encode(Sha256::digest(KEY.as_bytes())),
    }];
    settings.cds_auth.enabled = true;
    settings.cds_auth.audience = AUDIENCE.to_owned();
    settings.cds_auth.issuers = vec![issuer(iss, &url, "", &["ES384"])];
    settings.cds_auth.allow_api_key = true;
    let keyed = spawn_app_with(settings).await;
    let r = keyed
        .client
        .post(format!("{}{SERVICE}", keyed.address))
        .header("x-api-key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
