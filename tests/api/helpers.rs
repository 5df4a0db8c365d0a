//! `spawn_app`: the real application on a random port, plus typed helpers.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use spasm_triage::configuration::{built_in, LogFormat, Settings};
use spasm_triage::knowledge::{self, KnowledgeBase, RuleSource};
use spasm_triage::startup::Application;
use spasm_triage::telemetry::get_subscriber;

/// Every log line the test servers write (JSON), for the no-answers-in-logs test.
#[derive(Clone, Default)]
pub struct LogSink(pub Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogSink {
    type Writer = LogSink;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

pub fn logs() -> &'static LogSink {
    static SINK: OnceLock<LogSink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = LogSink::default();
        let subscriber = get_subscriber("info", LogFormat::Json, sink.clone());
        let _ = tracing::subscriber::set_global_default(subscriber);
        sink
    })
}

pub fn captured_logs() -> String {
    logs()
        .0
        .lock()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

pub fn embedded_kb() -> Arc<KnowledgeBase> {
    static KB: OnceLock<Arc<KnowledgeBase>> = OnceLock::new();
    KB.get_or_init(|| {
        Arc::new(knowledge::load(&RuleSource::Embedded).expect("embedded knowledge base loads"))
    })
    .clone()
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

pub fn test_settings() -> Settings {
    let mut settings = built_in().expect("built-in settings");
    settings.server.port = 0;
    settings.server.workers = 2;
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_settings()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    logs();
    let app = Application::build(&settings, embedded_kb()).expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> Reply {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent");
        reply(r).await
    }

    pub async fn get_with_header(&self, path: &str, name: &str, value: &str) -> Reply {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .header(name, value)
            .send()
            .await
            .expect("request sent");
        reply(r).await
    }

    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self
            .client
            .post(format!("{}{path}", self.address))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        reply(req.send().await.expect("request sent")).await
    }

    pub async fn post_triage_with_header(&self, body: &Value, name: &str, value: &str) -> Reply {
        let req = self
            .client
            .post(format!("{}/v1/triage", self.address))
            .header("content-type", "application/json")
            .header(name, value)
            .body(serde_json::to_vec(body).expect("json"));
        reply(req.send().await.expect("request sent")).await
    }

    pub async fn post_triage(&self, body: &Value) -> Reply {
        self.post_raw(
            "/v1/triage",
            Some("application/json"),
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }
}

async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

/// The fixture convention of Appendix A: every required screen answered absent.
pub fn screened(mut answers: serde_json::Map<String, Value>) -> Value {
    for code in [
        "sudden_unilateral_weakness_or_numbness",
        "chest_pain",
        "saddle_numbness",
        "urinary_retention_new",
        "urinary_incontinence_new",
        "bowel_incontinence_new",
        "bilateral_leg_symptoms",
        "leg_weakness_progressive",
        "major_trauma",
        "fever",
        "history_of_cancer",
        "unexplained_weight_loss",
    ] {
        answers
            .entry(code.to_owned())
            .or_insert(Value::from("absent"));
    }
    serde_json::json!({ "answers": answers })
}
