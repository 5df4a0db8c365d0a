//! Start-up against the real binary: local defaults warn that authentication is off, and
//! `APP_ENV=production` refuses to start while any protected route would be open.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const KEY_HASH: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
const ISSUERS: &str = r#"[{"iss": "https://ehr.example.org", "jwks": "{\"keys\": []}"}]"#;

/// Run the binary from an empty directory with `env`; its exit status and stderr.
fn refused(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_spasm-triage"));
    command
        .current_dir(dir.path())
        .env("APP__SERVER__PORT", free_port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("started (and was killed) with {env:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{env:?}: {stderr}");
    stderr
}

#[test]
fn production_refuses_to_start_with_any_protected_route_open() {
    let production = ("APP_ENV", "production");
    let keys_json = format!(r#"[{{"client": "a", "sha256": "{KEY_HASH}"}}]"#);
    let keys = ("APP__AUTH__KEYS", keys_json.as_str());
    let auth = ("APP__AUTH__ENABLED", "true");
    let cds = ("APP__CDS_AUTH__ENABLED", "true");
    let audience = ("APP__CDS_AUTH__AUDIENCE", "https://triage.example.org");
    let issuers = ("APP__CDS_AUTH__ISSUERS", ISSUERS);
    let card_key = ("APP__CDS__CARD_KEY", &*"ab".repeat(32));

    // No production.toml in an empty directory: the built-in defaults have auth off.
    let e = refused(&[production]);
    assert!(e.contains("auth.enabled"), "{e}");
    // API keys on, but the CDS routes would still be open.
    let e = refused(&[production, auth, keys]);
    assert!(e.contains("cds_auth.enabled"), "{e}");
    // CDS authentication without issuers would let no EHR in: refused too.
    let e = refused(&[production, auth, keys, cds, audience]);
    assert!(e.contains("issuers"), "{e}");
    // A protected route listed as open.
    let open = ("APP__AUTH__OPEN_PATHS", "[\"/health\",\"/v1/triage\"]");
    let e = refused(&[
        production, auth, keys, cds, audience, issuers, card_key, open,
    ]);
    assert!(e.contains("/v1/triage"), "{e}");
    // Cards that could not be verified on another replica.
    let e = refused(&[production, auth, keys, cds, audience, issuers]);
    assert!(e.contains("card_key"), "{e}");
}

#[test]
fn local_defaults_start_but_warn_that_authentication_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spasm-triage"))
        .current_dir(dir.path())
        .env("APP__SERVER__PORT", free_port().to_string())
        .env("APP__SERVER__WORKERS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    // Read until the server says it is listening (or stdout ends).
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.contains("listening");
        seen.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    let log = seen.join("\n");
    assert!(log.contains("listening"), "{log}");
    let warnings: Vec<&String> = seen.iter().filter(|l| l.contains("WARN")).collect();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("authentication is off") && l.contains("/v1")),
        "{log}"
    );
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("CDS Hooks authentication is off")),
        "{log}"
    );
}
