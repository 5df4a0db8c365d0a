//! Inputs the fuzz targets (`fuzz/`, see fuzz/README.md) found, kept as regression tests.
//! Each goes through `triage_body`, the request path the fuzzer drives, and must give a
//! sensible answer. That they are answered quickly is checked where time is measured on
//! purpose: `scripts/ci-fuzz.sh` runs each (fuzz/regressions/) under libFuzzer's 5 s
//! timeout; nothing here is timed.

use spasm_triage::api::triage::triage_body;
use spasm_triage::engine::answers::MAX_SUGGESTED_CODES;
use spasm_triage::http::error::{ApiError, ErrorCode};
use spasm_triage::view::dto::Texts;

use crate::support::kb;

fn texts() -> &'static Texts {
    static TEXTS: std::sync::OnceLock<Texts> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| Texts::builtin(kb()))
}

/// Run a body that must be refused.
fn refused(body: &[u8]) -> ApiError {
    match triage_body(kb(), texts(), body) {
        Ok(r) => panic!("accepted with level {}", r.triage.level),
        Err(e) => e,
    }
}

fn regression(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/fuzz/regressions/triage_bytes/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// libFuzzer timeout (`triage_bytes`, -max_len=65536, 5 s): every unknown key was compared
/// with every vocabulary code by a full Levenshtein distance, so "did you mean" cost grew
/// with key length times vocabulary size. 186 bytes, three misspelt keys.
#[test]
fn misspelt_keys_found_by_the_fuzzer_get_suggestions() {
    let error = refused(&regression("misspelt_keys_timeout.json"));
    assert_eq!(error.code, ErrorCode::UnknownAnswerCode);
    let paths: Vec<&str> = error.errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/answers/leg_weakneight_loss"), "{paths:?}");
    // `sex` is missing too; the request is refused as a whole, never half-assessed.
    assert!(paths.contains(&"/answers/sex"), "{paths:?}");
}

/// libFuzzer slow units (1 s and 3 s in the instrumented build): the same cost, spread
/// over several misspelt keys with valid ones around them.
#[test]
fn slow_units_found_by_the_fuzzer_are_refused() {
    let bodies = [
        regression("slow_unit_1.json"),
        regression("slow_unit_2.json"),
    ];
    for body in &bodies {
        let error = refused(body);
        assert!(
            matches!(
                error.code,
                ErrorCode::UnknownAnswerCode | ErrorCode::InvalidAnswerValue
            ),
            "{:?}",
            error.code
        );
        assert!(error.errors.iter().any(|e| !e.did_you_mean.is_empty()));
    }
    // A misspelling still gets the intended code.
    let error = refused(&bodies[0]);
    let chest = error
        .errors
        .iter()
        .find(|e| e.path == "/answers/chest_par")
        .unwrap();
    assert_eq!(
        chest.did_you_mean.first().map(String::as_str),
        Some("chest_pain")
    );
}

/// The HTTP body limit is 64 KiB; one unknown key that long took ~0.4 s of CPU in release
/// (scripts/ci-fuzz.sh runs the same body under the fuzz timeout).
#[test]
fn a_64_kib_unknown_key_is_refused() {
    let key = "a".repeat(64 * 1024 - 40);
    let body = format!(r#"{{"answers":{{"age_years":40,"sex":"male","{key}":"present"}}}}"#);
    let error = refused(body.as_bytes());
    assert_eq!(error.code, ErrorCode::UnknownAnswerCode);
    assert_eq!(error.errors.len(), 1);
    // A long key that contains a code still gets it suggested.
    let key = "x".repeat(64 * 1024 - 60) + "saddle_numbness";
    let body = format!(r#"{{"answers":{{"age_years":40,"sex":"male","{key}":"present"}}}}"#);
    let error = refused(body.as_bytes());
    assert_eq!(error.errors[0].did_you_mean, vec!["saddle_numbness"]);
}

/// 64 KiB of code-length unknown keys (~1,200 of 46 characters) took ~0.45 s in release:
/// each is close enough in length to most codes for the full distance. All are still
/// reported; only the first `MAX_SUGGESTED_CODES` get suggestions (scripts/ci-fuzz.sh runs
/// the same body under the fuzz timeout).
#[test]
fn a_thousand_unknown_keys_are_all_reported() {
    let keys: Vec<String> = (0..1200).map(|i| format!("saddle_numb{i:04}")).collect();
    let answers: Vec<String> = keys.iter().map(|k| format!(r#""{k}":"present""#)).collect();
    let body = format!(
        r#"{{"answers":{{"age_years":40,"sex":"male",{}}}}}"#,
        answers.join(",")
    );
    assert!(body.len() <= 64 * 1024, "{} bytes", body.len());
    let error = refused(body.as_bytes());
    assert_eq!(error.code, ErrorCode::UnknownAnswerCode);
    assert_eq!(
        error.errors.len(),
        keys.len(),
        "every unknown key is reported"
    );
    let suggested = error
        .errors
        .iter()
        .filter(|e| !e.did_you_mean.is_empty())
        .count();
    assert_eq!(suggested, MAX_SUGGESTED_CODES);
}
