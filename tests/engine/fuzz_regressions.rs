//! Inputs the fuzz targets (`fuzz/`, see fuzz/README.md) found, kept as regression tests.
//! Each goes through `triage_body`, the request path the fuzzer drives, and must give a
//! sensible answer quickly.

use std::time::{Duration, Instant};

use spasm_triage::api::triage::triage_body;
use spasm_triage::engine::answers::MAX_SUGGESTED_CODES;
use spasm_triage::http::error::{ApiError, ErrorCode};
use spasm_triage::view::dto::Texts;

use crate::support::kb;

/// Far above what these inputs take now (milliseconds, even unoptimised) and far below
/// what they took before the fix (seconds unoptimised; ~0.4 s for 64 KiB in release).
const QUICK: Duration = Duration::from_secs(2);

fn texts() -> Texts {
    Texts::builtin(kb())
}

/// Run a body that must be refused, and time it.
fn refused(body: &[u8]) -> (ApiError, Duration) {
    let start = Instant::now();
    let result = triage_body(kb(), &texts(), body);
    let elapsed = start.elapsed();
    match result {
        Ok(r) => panic!("accepted with level {}", r.triage.level),
        Err(e) => (e, elapsed),
    }
}

/// libFuzzer timeout (`triage_bytes`, -max_len=65536, 5 s): every unknown key was compared
/// with every vocabulary code by a full Levenshtein distance, so "did you mean" cost grew
/// with key length times vocabulary size. 186 bytes, three misspelt keys.
#[test]
fn misspelt_keys_found_by_the_fuzzer_get_suggestions_quickly() {
    let body = br#"{"answers":{"age_ye,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,ateral_leg_sym)toms":"absent","leg_weakneight_lbilateral_leg_sym)toms":"absent","leg_weakneight_loss":"absent"}}"#;
    let (error, elapsed) = refused(body);
    assert_eq!(error.code, ErrorCode::UnknownAnswerCode);
    assert!(elapsed < QUICK, "took {elapsed:?}");
    let paths: Vec<&str> = error.errors.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"/answers/leg_weakneight_loss"), "{paths:?}");
    // `sex` is missing too; the request is refused as a whole, never half-assessed.
    assert!(paths.contains(&"/answers/sex"), "{paths:?}");
}

/// libFuzzer slow units (1 s and 3 s in the instrumented build): the same cost, spread
/// over several misspelt keys with valid ones around them.
#[test]
fn slow_units_found_by_the_fuzzer_are_refused_quickly() {
    let bodies: [&[u8]; 2] = [
        br#"{"answers":{"age_years":30,"sex":"female","pregnancy_Status":"pregnant","pain_nrs_nowsbt_4_dress_slowlyks":24,"trigger_twisting_bending":"present","suddtriggeroieral_weakness_or_numbness":"absent","chest_par":"absent","history_of_cancer":"absent","unexplained_weight_loss":"absent"}}"#,
        br#"{"answers":{"age_years":28,"sen_unilateral_weakness_or_numbness":"atnesb","chest_pain":"absent","saddle_numbness":"absent","urinary_retention_new":"absent","urinary_incontinence_new":"absent","bovel_incontinence_new":"absent","bil_leg_symnrs_now":5,"onset_days_ago":400,"pa_or_numbness":"absent","chest_aterPl_leg_symptoms":"absent","leg_weakne_unilateral_weakness_or_nsexness":"absent","chest_pain":"absent","saddl333333X33333333333333333333333333333333333333333333333333333333333JJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJJcy_status":"not_pregnant","pain_nrs_now":3,"onset_days_ago":56,"sbt_1_leg_pain":"disagrae","sbt_2_neck_shoulder_pqin":"disagree","bs_t3_walk_short":"agree","sbt_4_dress_slowly":"agree","sbt_5_fecr_activity":"agree","sbt_6_worry":"agree","sbt_7_catastrophising":"agree","sbt_8_low_mood":"disagree","sbt_8_bothersome":"very_much","sudden_unilateral_weakness_or_numbness":"atnesb","chest_pain":"absent","saddle_numbness":"absent","urinary_retention_new":"absent","urinary_incontinence_new":"absent","bovel_incontinence_new":"absent","bil_leg_symnrs_now":6,"onseq":"absent","urinary_retention_new":"absent","urinary_inotncinence_new":"absent","bowel_incontinence_new":"absent","bilateral_leg_symptoms":"absent","leg_weakness_progressive":"abseft","major_traum_":"absent","history_of_cancer":"absent","unexlpained_%eight_loss":"absent"}}"#,
    ];
    for body in bodies {
        let (error, elapsed) = refused(body);
        assert!(
            matches!(
                error.code,
                ErrorCode::UnknownAnswerCode | ErrorCode::InvalidAnswerValue
            ),
            "{:?}",
            error.code
        );
        assert!(elapsed < QUICK, "took {elapsed:?}");
        assert!(error.errors.iter().any(|e| !e.did_you_mean.is_empty()));
    }
    // A misspelling still gets the intended code.
    let (error, _) = refused(bodies[0]);
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

/// The HTTP body limit is 64 KiB; one unknown key that long took ~0.4 s of CPU in release.
#[test]
fn a_64_kib_unknown_key_is_refused_quickly() {
    let key = "a".repeat(64 * 1024 - 40);
    let body = format!(r#"{{"answers":{{"age_years":40,"sex":"male","{key}":"present"}}}}"#);
    let (error, elapsed) = refused(body.as_bytes());
    assert_eq!(error.code, ErrorCode::UnknownAnswerCode);
    assert_eq!(error.errors.len(), 1);
    assert!(elapsed < QUICK, "took {elapsed:?}");
    // A long key that contains a code still gets it suggested.
    let key = "x".repeat(64 * 1024 - 60) + "saddle_numbness";
    let body = format!(r#"{{"answers":{{"age_years":40,"sex":"male","{key}":"present"}}}}"#);
    let (error, elapsed) = refused(body.as_bytes());
    assert!(elapsed < QUICK, "took {elapsed:?}");
    assert_eq!(error.errors[0].did_you_mean, vec!["saddle_numbness"]);
}

/// 64 KiB of code-length unknown keys (~1,200 of 46 characters) took ~0.45 s in release:
/// each is close enough in length to most codes for the full distance. All are still
/// reported; only the first `MAX_SUGGESTED_CODES` get suggestions.
#[test]
fn a_thousand_unknown_keys_are_refused_quickly() {
    let keys: Vec<String> = (0..1200).map(|i| format!("saddle_numb{i:04}")).collect();
    let answers: Vec<String> = keys.iter().map(|k| format!(r#""{k}":"present""#)).collect();
    let body = format!(
        r#"{{"answers":{{"age_years":40,"sex":"male",{}}}}}"#,
        answers.join(",")
    );
    assert!(body.len() <= 64 * 1024, "{} bytes", body.len());
    let (error, elapsed) = refused(body.as_bytes());
    assert!(elapsed < QUICK, "took {elapsed:?}");
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
