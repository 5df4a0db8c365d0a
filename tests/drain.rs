//! SIGTERM while a burst of requests is in flight: every request completes with 200
//! and the process exits 0. Runs the real binary from an empty directory, so it also
//! shows the built-in defaults are enough to start.
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
fn sigterm_lets_requests_in_flight_finish_then_exits_zero() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spasm-triage"))
        .current_dir(dir.path())
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__SERVER__WORKERS", "2")
        .env("APP__LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !get(port, "/ready").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not become ready"
        );
        thread::sleep(Duration::from_millis(20));
    }

    let body = br#"{"answers": {"age_years": 44, "sex": "male", "sudden_unilateral_weakness_or_numbness": "present"}}"#;
    let half = body.len() / 2;
    let mut streams: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            write!(
                s,
                "POST /v1/triage HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            s.write_all(&body[..half]).unwrap();
            s.flush().unwrap();
            s
        })
        .collect();
    // Every request is now mid-body on the server.
    thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    thread::sleep(Duration::from_millis(300));

    for s in &mut streams {
        s.write_all(&body[half..]).unwrap();
    }
    for (i, s) in streams.iter_mut().enumerate() {
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "request {i}: {response}"
        );
        assert!(
            response.contains("emergency_ambulance"),
            "request {i} got a real assessment"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "process did not exit after SIGTERM"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "exit status {exit:?}");
}
