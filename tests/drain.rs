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

/// One HTTP/1.1 response read by its Content-Length: (head, body), `None` if the
/// connection closed or reset before it was complete.
fn read_response(s: &mut TcpStream) -> Option<(String, String)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
                return Some((head, body));
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn sigterm_answers_every_request_on_keep_alive_connections_with_connection_close() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_spasm-triage"))
        .current_dir(dir.path())
        .env("APP__SERVER__PORT", port.to_string())
        .env("APP__SERVER__WORKERS", "2")
        .env("APP__LOG__LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The server's log lines, so the test waits for the drain to begin instead of sleeping.
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let started = Instant::now();
    while !get(port, "/ready").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not become ready"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let body = br#"{"answers": {"age_years": 44, "sex": "male", "sudden_unilateral_weakness_or_numbness": "present"}}"#;
    let request = |s: &mut TcpStream| {
        write!(
            s,
            "POST /v1/triage HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        s.flush().unwrap();
    };
    // Keep-alive connections, each having served one request already.
    let mut streams: Vec<TcpStream> = (0..16)
        .map(|i| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            request(&mut s);
            let (head, _) = read_response(&mut s).unwrap_or_else(|| panic!("warm-up {i}"));
            assert!(head.starts_with("HTTP/1.1 200"), "warm-up {i}: {head}");
            s
        })
        .collect();
    // Half send their next request just before SIGTERM, half once the drain has begun.
    for s in &mut streams[..8] {
        request(s);
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the server logged that it is draining");
        if line.contains("draining") {
            break;
        }
    }
    for s in &mut streams[8..] {
        request(s);
    }
    for (i, s) in streams.iter_mut().enumerate() {
        let (head, body) =
            read_response(s).unwrap_or_else(|| panic!("request {i}: no response (reset)"));
        assert!(head.starts_with("HTTP/1.1 200"), "request {i}: {head}");
        assert!(body.contains("emergency_ambulance"), "request {i}: {body}");
        if i >= 8 {
            assert!(
                head.to_ascii_lowercase().contains("connection: close"),
                "request {i} during the drain: {head}"
            );
            // And the server closes the connection after it.
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest);
            assert!(rest.is_empty(), "request {i}: more after the last response");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
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
