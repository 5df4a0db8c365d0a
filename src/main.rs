//! spasm-triage binary: serve (default), or `kb-check [DIR]`, `kb-report`, `openapi`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use spasm_triage::configuration::get_settings;
use spasm_triage::knowledge::{self, RuleSource};
use spasm_triage::startup::Application;
use spasm_triage::{openapi, telemetry};

const USAGE: &str =
    "usage: spasm-triage [serve | healthcheck | kb-check [DIR] | kb-report | openapi]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("healthcheck") => healthcheck(),
        Some("kb-check") => kb_check(args.get(1).map(PathBuf::from)),
        Some("kb-report") => with_embedded(|kb| print!("{}", knowledge::report::render(kb))),
        Some("openapi") => with_embedded(|kb| match openapi::to_json(&openapi::document(kb)) {
            Ok(json) => print!("{json}"),
            Err(e) => eprintln!("cannot serialise the OpenAPI document: {e}"),
        }),
        Some(other) => {
            eprintln!("unknown command `{other}`\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn with_embedded(f: impl FnOnce(&knowledge::KnowledgeBase)) -> ExitCode {
    match knowledge::load(&RuleSource::Embedded) {
        Ok(kb) => {
            f(&kb);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Container health check without a shell or curl: GET /health on the configured port.
fn healthcheck() -> ExitCode {
    use std::io::{Read, Write};
    use std::time::Duration;
    let port = get_settings(Path::new("config"))
        .map(|s| s.server.port)
        .unwrap_or(8080);
    let check = || -> std::io::Result<bool> {
        let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    match check() {
        Ok(true) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

fn kb_check(dir: Option<PathBuf>) -> ExitCode {
    let source = dir
        .map(RuleSource::Directory)
        .unwrap_or(RuleSource::Embedded);
    match knowledge::load(&source) {
        Ok(kb) => {
            println!(
                "{} is valid: version {}, {}, {} codes, {} rules, {} floors, {} causes",
                knowledge::load::describe_source(&source),
                kb.version,
                kb.digest,
                kb.vocabulary.codes.len(),
                kb.rules.len(),
                kb.floors.len(),
                kb.causes.len()
            );
            for c in knowledge::i18n::coverage(&kb) {
                println!(
                    "translations `{}`: {} of {} texts ({:.0}%), {} signed off; untranslated texts are served in English and listed in the response's `language.untranslated`",
                    c.language,
                    c.translated,
                    c.total,
                    100.0 * c.translated as f64 / c.total.max(1) as f64,
                    c.signed_off
                );
                if !c.missing.is_empty() {
                    println!("  missing: {}", c.missing.join(", "));
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "{} refused to load: {e}",
                knowledge::load::describe_source(&source)
            );
            ExitCode::FAILURE
        }
    }
}

fn serve() -> ExitCode {
    let settings = match get_settings(Path::new("config")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = settings.check() {
        eprintln!("configuration error: {e}");
        return ExitCode::FAILURE;
    }
    // Log lines go to a writer thread through a bounded queue, so a request never waits on a
    // `write` to stdout; when the queue is full the request waits rather than dropping a line
    // (audit events must not be lost). The guard flushes the queue when `serve` returns.
    let (stdout, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("log-writer")
        .finish(std::io::stdout());
    let subscriber = telemetry::get_subscriber(&settings.log.level, settings.log.format, stdout);
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("a global tracing subscriber was already set");
    }
    // Fail closed: a knowledge base that does not validate never serves.
    let source = settings.knowledge_base.source();
    let kb = match knowledge::load(&source) {
        Ok(kb) => kb,
        Err(e) => {
            tracing::error!(
                problems = e.problems.len(),
                "knowledge base refused to load"
            );
            eprintln!(
                "{} refused to load: {e}",
                knowledge::load::describe_source(&source)
            );
            return ExitCode::FAILURE;
        }
    };
    if settings.knowledge_base.require_signed_off {
        let drafts = knowledge::review::drafted_patient_texts(&kb);
        if !drafts.is_empty() {
            tracing::error!(drafts = drafts.len(), "knowledge base has drafted texts");
            eprintln!(
                "knowledge_base.require_signed_off is true, but {} patient-facing texts are still review = \"draft\" (first: {}); sign them off (review = \"approved\") or turn the setting off",
                drafts.len(),
                drafts.iter().take(5).cloned().collect::<Vec<_>>().join("; ")
            );
            return ExitCode::FAILURE;
        }
    }
    tracing::info!(version = %kb.version, digest = %kb.digest, "knowledge base loaded");
    let runtime = match actix_web::rt::System::new().block_on(async {
        let app = Application::build(&settings, Arc::new(kb))?;
        tracing::info!(host = %settings.server.host, port = app.port(), "listening");
        app.run_until_signalled().await
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            ExitCode::FAILURE
        }
    };
    runtime
}
