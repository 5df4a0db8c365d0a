//! Deliberately broken knowledge bases: each refuses to load with a message naming
//! the file, the rule and what is wrong.

use spasm_triage::knowledge::{load_from_files, Problem};

use crate::support::files;

fn broken(file: &str, from: &str, to: &str) -> Vec<Problem> {
    let mut files = files();
    let entry = files.iter_mut().find(|(n, _)| n == file).unwrap();
    assert!(entry.1.contains(from), "{file} does not contain {from:?}");
    entry.1 = entry.1.replacen(from, to, 1);
    match load_from_files(&files) {
        Ok(_) => panic!("a knowledge base with {from:?} → {to:?} in {file} loaded"),
        Err(e) => e.problems,
    }
}

fn has(problems: &[Problem], file: &str, item: &str, fragment: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.file == file && p.item == item && p.message.contains(fragment)),
        "no problem in {file} / {item} mentioning {fragment:?}; got:\n{}",
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_embedded_knowledge_base_is_valid() {
    let files = files();
    let kb = load_from_files(&files).unwrap_or_else(|e| panic!("{e}"));
    assert!(kb.digest.starts_with("sha256:") && kb.digest.len() == 71);
    assert!(!kb.version.is_empty());
}

#[test]
fn a_misspelt_code_in_a_rule_names_file_rule_and_intended_code() {
    let problems = broken(
        "red_flags.toml",
        "\"saddle_numbness\"",
        "\"saddle_numbnes\"",
    );
    let p = problems
        .iter()
        .find(|p| p.message.contains("saddle_numbnes"))
        .unwrap();
    assert_eq!(p.file, "red_flags.toml");
    assert!(!p.item.is_empty());
    assert!(p.message.contains("did you mean `saddle_numbness`"), "{p}");
    assert!(p.to_string().starts_with("red_flags.toml: "), "{p}");
}

#[test]
fn a_misspelt_code_in_a_derived_finding_is_named() {
    let problems = broken("derived.toml", "\"saddle_numbness\"", "\"sadle_numbness\"");
    assert!(
        problems
            .iter()
            .any(|p| p.file == "derived.toml"
                && p.message.contains("did you mean `saddle_numbness`")),
        "{problems:?}"
    );
}

#[test]
fn duplicate_rule_ids_are_refused() {
    let problems = broken("red_flags.toml", "id = \"R02\"", "id = \"R01\"");
    has(&problems, "red_flags.toml", "R01", "duplicate rule id");
}

#[test]
fn a_dangling_source_is_refused() {
    let problems = broken("sources.toml", "id = \"S-NG59\"", "id = \"S-NG59-RENAMED\"");
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("source `S-NG59` is not defined")),
        "{problems:?}"
    );
}

#[test]
fn a_dangling_advice_id_is_refused() {
    let problems = broken("advice.toml", "id = \"ADV-CORE-1\"", "id = \"ADV-CORE-X\"");
    assert!(
        problems.iter().any(|p| p
            .message
            .contains("advice block `ADV-CORE-1` is not defined")),
        "{problems:?}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_refused() {
    let problems = broken(
        "red_flags.toml",
        "eq = \"worsening\"",
        "eq = \"getting_worse\"",
    );
    assert!(
        problems.iter().any(|p| p.file == "red_flags.toml"
            && p.message
                .contains("`getting_worse` is not a value of `pain_trend`")),
        "{problems:?}"
    );
}

#[test]
fn a_condition_that_can_never_be_true_is_refused() {
    let problems = broken(
        "red_flags.toml",
        "code = \"age_years\", lt = 16",
        "code = \"age_years\", lt = -1",
    );
    has(&problems, "red_flags.toml", "R23", "can never be true");
}

#[test]
fn a_level_setting_condition_may_not_test_absence() {
    let problems = broken(
        "floors.toml",
        "present = \"unable_to_walk\"",
        "absent = \"unable_to_walk\"",
    );
    has(
        &problems,
        "floors.toml",
        "MOD-travel",
        "may not test that a finding is absent",
    );
}

#[test]
fn a_required_screen_missing_from_the_vocabulary_is_refused() {
    let problems = broken(
        "vocabulary.toml",
        "code = \"saddle_numbness\"\ngroup",
        "code = \"saddle_numbness_x\"\ngroup",
    );
    assert!(
        problems.iter().any(|p| p.file == "vocabulary.toml"
            && p.message
                .contains("required screen `saddle_numbness` is not in the vocabulary")),
        "{problems:?}"
    );
}

#[test]
fn an_unknown_key_in_a_rule_file_is_refused() {
    let problems = broken(
        "red_flags.toml",
        "id = \"R01\"",
        "id = \"R01\"\nlevle = \"emergency\"",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.file == "red_flags.toml" && p.message.contains("levle")),
        "{problems:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut files = files();
    for (name, text) in files.iter_mut() {
        if name == "red_flags.toml" {
            *text = text.replacen("id = \"R02\"", "id = \"R01\"", 1).replacen(
                "\"S-NHS\"",
                "\"S-NHSX\"",
                1,
            );
        }
    }
    let problems = load_from_files(&files).unwrap_err().problems;
    assert!(problems
        .iter()
        .any(|p| p.message.contains("duplicate rule id")));
    assert!(problems.iter().any(|p| p.message.contains("S-NHSX")));
}

/// Lifecycle fields inserted after a code's `group = ...` line.
fn with_lifecycle(code: &str, fields: &str) -> Vec<Problem> {
    let from = format!("code = \"{code}\"\ngroup");
    let to = format!("code = \"{code}\"\n{fields}\ngroup");
    broken("vocabulary.toml", &from, &to)
}

#[test]
fn a_deprecated_code_without_a_replacement_is_refused() {
    let problems = with_lifecycle(
        "can_travel_safely",
        "status = \"deprecated\"\nsince = \"2026.12.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"no longer asked\"",
    );
    has(
        &problems,
        "vocabulary.toml",
        "can_travel_safely",
        "a deprecated code needs replaced_by",
    );
}

#[test]
fn a_replacement_that_is_not_in_the_vocabulary_is_refused() {
    let problems = with_lifecycle(
        "can_travel_safely",
        "status = \"deprecated\"\nsince = \"2026.12.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"renamed\"\nreplaced_by = [{ code = \"can_travel_safe\", identity = true }]",
    );
    has(
        &problems,
        "vocabulary.toml",
        "can_travel_safely",
        "replacement `can_travel_safe` is not in the vocabulary",
    );
}

#[test]
fn a_mapping_to_a_value_the_replacement_does_not_have_is_refused() {
    let problems = with_lifecycle(
        "can_travel_safely",
        "status = \"deprecated\"\nsince = \"2026.12.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"merged\"\nreplaced_by = [{ code = \"unable_to_walk\", map = { present = \"yes\" } }]",
    );
    has(
        &problems,
        "vocabulary.toml",
        "can_travel_safely",
        "`yes` is not a value of `unable_to_walk`",
    );
}

#[test]
fn a_retired_code_still_read_by_a_rule_is_refused() {
    let problems = with_lifecycle(
        "unable_to_walk",
        "status = \"retired\"\nsince = \"2026.12.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"gone\"",
    );
    has(
        &problems,
        "vocabulary.toml",
        "floors.toml MOD-travel",
        "reads `unable_to_walk`, which is retired",
    );
}

#[test]
fn a_deprecated_code_still_read_by_a_rule_is_refused() {
    let problems = with_lifecycle(
        "desk_or_sedentary_work",
        "status = \"deprecated\"\nsince = \"2026.12.0\"\ndeprecated_on = \"2026-12-07\"\nnote = \"renamed\"\nreplaced_by = [{ code = \"heavy_manual_work\", identity = true }]",
    );
    assert!(
        problems.iter().any(|p| p.item.starts_with("causes.toml")
            && p.message
                .contains("reads `desk_or_sedentary_work`, which is deprecated")),
        "{problems:?}"
    );
}

#[test]
fn a_deprecated_value_needs_a_current_replacement_value() {
    let problems = broken(
        "vocabulary.toml",
        "code = \"onset_type\"\ngroup",
        "code = \"onset_type\"\ndeprecated_values = [{ value = \"gradual\", replaced_by = \"slow\", since = \"2026.12.0\", deprecated_on = \"2026-12-07\", note = \"renamed\" }]\ngroup",
    );
    has(
        &problems,
        "vocabulary.toml",
        "onset_type",
        "both must be values of this enum code",
    );
}

#[test]
fn a_branching_condition_on_an_unknown_code_is_refused() {
    let problems = broken(
        "vocabulary.toml",
        "ask_when = { present = \"history_of_cancer\" }",
        "ask_when = { present = \"history_of_cancr\" }",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.file == "vocabulary.toml" && p.message.contains("history_of_cancr")),
        "{problems:?}"
    );
}

#[test]
fn a_branching_cycle_is_refused() {
    // history_of_cancer asked only after cancer_type, which is asked only after it.
    let problems = broken(
        "vocabulary.toml",
        "[[codes]]\ncode = \"history_of_cancer\"\n",
        "[[codes]]\ncode = \"history_of_cancer\"\nask_when = { present = \"cancer_active_treatment\" }\n",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("branching cycle")),
        "{problems:?}"
    );
}

#[test]
fn an_unknown_core_question_is_refused() {
    let problems = broken(
        "vocabulary.toml",
        "  \"night_pain\",\n",
        "  \"nite_pain\",\n",
    );
    has(
        &problems,
        "vocabulary.toml",
        "core_questions.nite_pain",
        "not in the vocabulary",
    );
}

#[test]
fn a_translation_that_drops_a_placeholder_is_refused() {
    let problems = broken(
        "i18n/es.toml",
        "llame al {emergency_number} ahora.\"",
        "llame a urgencias ahora.\"",
    );
    has(
        &problems,
        "i18n/es.toml",
        "disclaimer",
        "placeholders differ",
    );
}

#[test]
fn a_translation_of_a_text_that_does_not_exist_is_refused() {
    let problems = broken(
        "i18n/es.toml",
        "key = \"disclaimer\"",
        "key = \"disclaimr\"",
    );
    has(
        &problems,
        "i18n/es.toml",
        "disclaimr",
        "names no English text",
    );
}

#[test]
fn an_answer_unit_without_a_conversion_or_a_question_is_refused() {
    let problems = broken("vocabulary.toml", "unit = \"°F\"", "unit = \"K\"");
    has(
        &problems,
        "vocabulary.toml",
        "temperature_c",
        "no conversion to `°C`",
    );
    let problems = broken(
        "vocabulary.toml",
        "question = \"How much do you weigh, in pounds (lb)?\"",
        "question = \" \"",
    );
    has(
        &problems,
        "vocabulary.toml",
        "weight_kg",
        "needs a question",
    );
    let problems = broken("vocabulary.toml", "unit = \"st\"", "unit = \"lb\"");
    has(&problems, "vocabulary.toml", "weight_kg", "listed twice");
}

#[test]
fn a_misspelt_placeholder_is_refused() {
    // Served as written, the patient would read "{emergency_numbr}" instead of a number.
    let problems = broken(
        "knowledge_base.toml",
        "call {emergency_number} now.\"",
        "call {emergency_numbr} now.\"",
    );
    has(
        &problems,
        "knowledge_base.toml",
        "",
        "disclaimer: `{emergency_numbr}` is not a placeholder",
    );
}

#[test]
fn a_placeholder_in_a_text_that_is_not_filled_is_refused() {
    // Questions are served as written.
    let problems = broken(
        "vocabulary.toml",
        "question = \"How old are you",
        "question = \"Ask your {primary_care_doctor}: how old are you",
    );
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("code.age_years.question")
                && p.message.contains("filled only in")),
        "{problems:?}"
    );
}

#[test]
fn care_setting_words_are_checked() {
    let problems = broken(
        "knowledge_base.toml",
        "primary_care_doctor = \"GP\"",
        "primary_care_doctor = \"{urgent_line}\"",
    );
    has(
        &problems,
        "knowledge_base.toml",
        "care_settings.uk",
        "must not contain",
    );
    let problems = broken("knowledge_base.toml", "id = \"us\"", "id = \"uk\"");
    has(
        &problems,
        "knowledge_base.toml",
        "care_settings.uk",
        "listed twice",
    );
}

#[test]
fn care_placeholders_need_a_care_setting() {
    let mut files = files();
    let entry = files
        .iter_mut()
        .find(|(n, _)| n == "knowledge_base.toml")
        .unwrap();
    let start = entry.1.find("[[care_settings]]").unwrap();
    let end = entry.1.find("[[question_reasons]]").unwrap();
    entry.1.replace_range(start..end, "");
    let problems = load_from_files(&files).unwrap_err().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("needs at least one [[care_settings]]")),
        "{problems:?}"
    );
}

#[test]
fn a_catalog_that_uses_care_words_must_translate_them() {
    let problems = broken(
        "i18n/es.toml",
        "key = \"care_setting.us.primary_care_practice\"",
        "key = \"care_setting.us.primary_care_practise\"",
    );
    has(
        &problems,
        "i18n/es.toml",
        "care_setting.us.primary_care_practice",
        "must translate every one",
    );
}

/// The Spanish catalog of `kb` and `kb`'s own English saddle-numbness question.
fn spanish_and_saddle_question(
    kb: &spasm_triage::knowledge::KnowledgeBase,
) -> (&spasm_triage::knowledge::Catalog, &str) {
    let es = kb
        .languages
        .iter()
        .find(|c| c.language == "es")
        .expect("a Spanish catalog");
    let id = kb
        .vocabulary
        .lookup("saddle_numbness")
        .expect("saddle_numbness");
    (es, &kb.vocabulary.code(id).question)
}

#[test]
fn a_translation_is_found_by_its_english_text_only_where_that_text_lies() {
    let (es, question) = spanish_and_saddle_question(crate::support::kb());
    let by_key = es
        .get("code.saddle_numbness.question")
        .expect("a Spanish saddle_numbness question");
    assert_ne!(by_key.text, question);
    assert_eq!(
        es.by_source(question).map(|t| t.text.as_str()),
        Some(by_key.text.as_str())
    );
    // The same words elsewhere (a copy of the knowledge base) are left to the key lookup.
    let copy = question.to_owned();
    assert!(es.by_source(&copy).is_none());
    assert!(es.by_source("").is_none());
}

#[test]
fn a_copy_of_the_knowledge_base_finds_its_translations_by_key() {
    let copy = crate::support::kb().clone();
    let (es, question) = spanish_and_saddle_question(&copy);
    assert!(es.by_source(question).is_none());
    assert!(es.get("code.saddle_numbness.question").is_some());
}
