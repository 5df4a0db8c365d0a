//! `knowledge_base.require_signed_off`: a deployment that must serve only signed-off
//! wording refuses to start while any patient-facing text is a draft, and starts once every
//! draft is approved. Runs the real binary from an empty directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn drafted_texts_stop_the_start_when_sign_off_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spasm-triage"))
        .current_dir(dir.path())
        .env("APP__SERVER__PORT", free_port().to_string())
        .env("APP__KNOWLEDGE_BASE__REQUIRE_SIGNED_OFF", "true")
        .env("APP__LOG__LEVEL", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success(), "started with drafted texts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("require_signed_off is true") && stderr.contains("review = \"draft\""),
        "{stderr}"
    );
}

#[test]
fn a_fully_signed_off_knowledge_base_starts_with_sign_off_required() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rules");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            // What a clinical safety officer's sign-off does to the files.
            let signed = text
                .replace("review = \"draft\"", "review = \"approved\"")
                .replace("texts_review = \"draft\"", "texts_review = \"approved\"")
                .replace(
                    "disclaimer_review = \"draft\"",
                    "disclaimer_review = \"approved\"",
                );
            std::fs::write(rules.join(path.file_name().unwrap()), signed).unwrap();
        }
    }
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spasm-triage"))
        .current_dir(dir.path())
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__KNOWLEDGE_BASE__DIRECTORY", rules.to_str().unwrap())
        .env("APP__KNOWLEDGE_BASE__REQUIRE_SIGNED_OFF", "true")
        .env("APP__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut ready = false;
    while started.elapsed() < Duration::from_secs(20) {
        if get(port, "/ready").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            ready = true;
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("exited {status}: {err}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ready, "server did not become ready");
}
