//! The knowledge base exactly as written in `config/rules/*.toml`.
//!
//! These types only describe the file format; nothing here is trusted until
//! `validate` has compiled it into [`crate::knowledge::KnowledgeBase`].

use serde::Deserialize;

/// `knowledge_base.toml`: identity, levels and fixed texts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub version: String,
    pub title: String,
    pub disclaimer: String,
    #[serde(default)]
    pub disclaimer_review: Option<String>,
    pub levels: Vec<RawLevel>,
    /// Why a next question is asked, per reason (`required_screen`, `could_raise_level`, ...).
    #[serde(default)]
    pub question_reasons: Vec<RawQuestionReason>,
    /// Words for where to get care, one set per health system (`locale.care_setting`).
    #[serde(default)]
    pub care_settings: Vec<RawCareSetting>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCareSetting {
    pub id: String,
    pub description: String,
    pub primary_care_doctor: String,
    pub primary_care_practice: String,
    #[serde(default)]
    pub review: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuestionReason {
    pub reason: String,
    pub text: String,
    #[serde(default)]
    pub review: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub level: String,
    pub action: String,
    pub care_settings: Vec<String>,
    #[serde(default)]
    pub review: Option<String>,
}

/// `vocabulary.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVocabulary {
    pub groups: Vec<RawGroup>,
    /// Required safety screens in clinical priority order (reference §7.4).
    pub required_screens: Vec<RawRequiredScreen>,
    /// Asked of everyone after the required screens, in this order (`next_questions`).
    #[serde(default)]
    pub core_questions: Vec<String>,
    pub codes: Vec<RawCode>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub qualifier: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequiredScreen {
    pub code: String,
    /// The screen is not required when this holds (e.g. pregnancy for `sex = male`).
    #[serde(default)]
    pub unless: Option<RawCondition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlternativeUnit {
    pub unit: String,
    /// The question asked when a deployment prefers this unit (`locale.units`).
    pub question: String,
    #[serde(default)]
    pub review: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCode {
    pub code: String,
    pub group: String,
    #[serde(rename = "type")]
    pub value_type: String,
    pub question: String,
    #[serde(default)]
    pub screens_for: Vec<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub unit: Option<String>,
    /// Other units the answer may be given in (number codes), each with its question.
    #[serde(default)]
    pub alternative_units: Vec<RawAlternativeUnit>,
    #[serde(default)]
    pub loinc: Option<String>,
    #[serde(default)]
    pub review: Option<String>,
    /// `active` (default), `deprecated` (still accepted, mapped to `replaced_by`) or
    /// `retired` (refused, kept so the refusal can say what replaced it).
    #[serde(default)]
    pub status: Option<String>,
    /// Knowledge-base release that deprecated or retired the code.
    #[serde(default)]
    pub since: Option<String>,
    /// Calendar date (YYYY-MM-DD) of the deprecation, for the `Deprecation` header.
    #[serde(default)]
    pub deprecated_on: Option<String>,
    /// Calendar date (YYYY-MM-DD) after which the code may be retired (`Sunset` header).
    #[serde(default)]
    pub sunset: Option<String>,
    /// Plain words for integrators: why, and what to send instead.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub replaced_by: Vec<RawReplacement>,
    /// Enum values that are deprecated, each mapped to a current value of the same code.
    #[serde(default)]
    pub deprecated_values: Vec<RawValueDeprecation>,
    /// Ask this question only when the condition holds (e.g. `gestation_weeks` only when
    /// pregnant): the JSON API's `next_questions` and the FHIR Questionnaire's `enableWhen`.
    #[serde(default)]
    pub ask_when: Option<RawCondition>,
    /// Patient-facing label per allowed value (enum and set codes), e.g.
    /// `labels = { sudden = "Suddenly", gradual = "Slowly, over days or weeks" }`.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// How a deprecated code's answer becomes an answer to a current code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplacement {
    pub code: String,
    /// Old value → new value; an old value not listed leaves the new code unanswered.
    #[serde(default)]
    pub map: std::collections::BTreeMap<String, String>,
    /// The same value carries over (a rename of a number, enum or set code).
    #[serde(default)]
    pub identity: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValueDeprecation {
    pub value: String,
    pub replaced_by: String,
    pub since: String,
    pub deprecated_on: String,
    #[serde(default)]
    pub sunset: Option<String>,
    pub note: String,
}

/// `derived.toml`: named findings computed from answers, never accepted as answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDerived {
    /// Boolean findings defined by a condition (`NEURO_ANY`, `sepsis_signs`, ...).
    #[serde(default)]
    pub findings: Vec<RawFinding>,
    /// Counts of conditions that hold (`ibp_asas_count`).
    #[serde(default)]
    pub counts: Vec<RawCount>,
    /// Answer codes that are also set present by another answer (`temperature_c` ≥ 38 ⇒ `fever`).
    #[serde(default)]
    pub implications: Vec<RawImplication>,
    /// Numbers the engine computes itself (`age_at_onset`, `sbt_total`, `sbt_psych`).
    #[serde(default)]
    pub computed: Vec<RawComputed>,
    /// Names reserved for engine outputs; refused as answers.
    #[serde(default)]
    pub reserved: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinding {
    pub name: String,
    pub description: String,
    pub when: RawCondition,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCount {
    pub name: String,
    pub description: String,
    pub of: Vec<RawCondition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImplication {
    /// A tri-state code that becomes present when `when` holds.
    pub code: String,
    pub when: RawCondition,
    /// Only when the code itself was not answered (e.g. `ibp_onset_before_40`).
    #[serde(default)]
    pub only_when_unanswered: bool,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawComputed {
    pub name: String,
    pub description: String,
}

/// `red_flags.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedFlags {
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    /// A branch (`-E`, `-C`) names its parent; it inherits screens_for, sources,
    /// remote_ok and care_settings that it does not set itself.
    #[serde(default)]
    pub parent: Option<String>,
    pub title: String,
    pub level: String,
    #[serde(default)]
    pub timeframe: Option<String>,
    pub when: RawCondition,
    #[serde(default)]
    pub screens_for: Option<Vec<String>>,
    #[serde(default)]
    pub care_settings: Option<Vec<String>>,
    #[serde(default)]
    pub remote_ok: Option<bool>,
    /// A safety floor with no clinical picture of its own (R25 and its branch): shown after
    /// the specific rules, so a front end never puts "answer the questions" beside "call 999".
    #[serde(default)]
    pub catch_all: Option<bool>,
    pub patient_text: String,
    pub clinician_text: String,
    #[serde(default)]
    pub sources: Option<Vec<String>>,
    #[serde(default)]
    pub review: Option<String>,
}

/// `floors.toml`: level floors that are not red flags (they appear only in `decided_by`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFloors {
    pub floors: Vec<RawFloor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFloor {
    pub id: String,
    pub title: String,
    pub level: String,
    #[serde(default)]
    pub timeframe: Option<String>,
    pub when: RawCondition,
    /// Applies only when the level reached so far is exactly this one (travel modifier).
    #[serde(default)]
    pub only_at_level: Option<String>,
    #[serde(default)]
    pub remote_ok: bool,
    #[serde(default)]
    pub care_settings: Option<Vec<String>>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub review: Option<String>,
}

/// `causes.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCauses {
    pub causes: Vec<RawCause>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCause {
    pub id: String,
    pub label: String,
    pub priority: u32,
    #[serde(default)]
    pub base: i32,
    /// Not evaluated at all when this holds (gynae causes for `sex = male`).
    #[serde(default)]
    pub exclude_when: Option<RawCondition>,
    #[serde(default)]
    pub gate: Option<RawCondition>,
    #[serde(default)]
    pub support: Vec<RawWeight>,
    #[serde(default)]
    pub oppose: Vec<RawWeight>,
    #[serde(default)]
    pub floor: Option<RawCauseFloor>,
    #[serde(default)]
    pub sub_labels: Vec<RawSubLabel>,
    #[serde(default)]
    pub advice: Vec<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub review: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeight {
    pub weight: i32,
    pub when: RawCondition,
    /// How the evidence is named in responses; defaults to the single code the condition tests.
    #[serde(default)]
    pub evidence: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCauseFloor {
    pub level: String,
    #[serde(default)]
    pub timeframe: Option<String>,
    /// Extra condition besides gate + support-only score ≥ 5.
    #[serde(default)]
    pub when: Option<RawCondition>,
    #[serde(default)]
    pub remote_ok: bool,
    #[serde(default)]
    pub care_settings: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubLabel {
    pub id: String,
    pub when: RawCondition,
}

/// `advice.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdvice {
    pub core: Vec<String>,
    pub phases: Vec<RawPhase>,
    /// Blocks added after the cause blocks when their condition holds.
    #[serde(default)]
    pub extras: Vec<RawExtraAdvice>,
    pub blocks: Vec<RawBlock>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    pub id: String,
    pub label: String,
    pub from_days: u32,
    #[serde(default)]
    pub to_days: Option<u32>,
    pub advice: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExtraAdvice {
    pub when: RawCondition,
    pub advice: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBlock {
    pub id: String,
    pub text: String,
    /// Shown only when this holds, wherever the block is listed.
    #[serde(default)]
    pub when: Option<RawCondition>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub review: Option<String>,
}

/// `medicines.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMedicines {
    /// Shown instead of the option's text when it is suppressed.
    pub suppress_text: String,
    /// Put before the option's text when it is cautioned.
    pub caution_prefix: String,
    /// Put before an option's text while a question it needs is unanswered.
    pub ask_first_prefix: String,
    /// Review status of the three shared texts above.
    #[serde(default)]
    pub texts_review: Option<String>,
    pub options: Vec<RawMedicine>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMedicine {
    pub id: String,
    pub label: String,
    pub text: String,
    /// Listed only when this holds (muscle relaxant); always listed otherwise.
    #[serde(default)]
    pub show_when: Option<RawCondition>,
    /// `suggest` unless a caution or suppress condition holds.
    #[serde(default)]
    pub default_status: Option<String>,
    #[serde(default)]
    pub prescription_only: bool,
    #[serde(default)]
    pub suppress: Vec<RawCondition>,
    #[serde(default)]
    pub caution: Vec<RawCondition>,
    /// Questions that must be answered (not unknown) before the option is suggested; while
    /// one is unanswered the status is `ask_first` (issue 11: never `suggest` on silence).
    #[serde(default)]
    pub ask_first: Vec<RawRequiredScreen>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub review: Option<String>,
}

/// `safety_net.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafetyNet {
    pub blocks: Vec<RawSafetyBlock>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafetyBlock {
    pub id: String,
    pub text: String,
    /// `all` (every level) or `non_emergency`.
    #[serde(default = "default_levels")]
    pub levels: String,
    #[serde(default)]
    pub when: Option<RawCondition>,
    /// Shown only when `completeness.complete` is false.
    #[serde(default)]
    pub if_incomplete: bool,
    /// Shown only when this medicine option is listed as suggest or caution.
    #[serde(default)]
    pub if_medicine_offered: Option<String>,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub review: Option<String>,
}

fn default_levels() -> String {
    "all".to_owned()
}

/// `startback.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStartBack {
    pub tool_version: String,
    pub panel_loinc: String,
    /// total ≤ this → low.
    pub low_max_total: u32,
    /// psychosocial ≥ this (and total above low) → high; otherwise medium.
    pub high_min_psychosocial: u32,
    pub items: Vec<RawStartBackItem>,
    #[serde(default)]
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStartBackItem {
    pub code: String,
    pub positive: Vec<String>,
    pub psychosocial: bool,
}

/// `sources.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSources {
    pub sources: Vec<RawSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub id: String,
    pub title: String,
    pub url: String,
    #[serde(default)]
    pub authority: Option<String>,
}

/// One node of the condition tree. Exactly one form per node:
///
/// - `{ all = [..] }`, `{ any = [..] }`, `{ not = {..} }`
/// - `{ present = "code" }`: a tri-state answer is `present`, or a named derived finding holds
/// - `{ any_present = ["a", "b"] }`: shorthand for `any` of `present`
/// - `{ absent = "code" }`: a tri-state answer is explicitly `absent` (scoring and medicines only)
/// - `{ missing = "code" }`: the code was not answered (or answered `unknown`)
/// - `{ code = "pain_trend", eq = "worsening" }`, `ne`, `in = [..]`, `not_in = [..]`:
///   enum/response equality (`eq` is false and `ne` true when unanswered)
/// - `{ code = "age_years", ge = 60 }` with any of `gt`, `ge`, `lt`, `le`: numbers (false when missing)
/// - `{ code = "cancer_type", contains = "myeloma" }`: set membership
/// - `{ startback_risk_at_least = "medium" }`: the STarT Back risk at the range minimum
/// - `{ unscreened = true }`: some required safety screen is not ruled out; `"unknown"`: some is
///   unknown or unanswered (R25); `"present"`: some is answered present (R25-P)
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    #[serde(default)]
    pub all: Option<Vec<RawCondition>>,
    #[serde(default)]
    pub any: Option<Vec<RawCondition>>,
    #[serde(default)]
    pub not: Option<Box<RawCondition>>,
    #[serde(default)]
    pub present: Option<String>,
    #[serde(default)]
    pub any_present: Option<Vec<String>>,
    #[serde(default)]
    pub absent: Option<String>,
    #[serde(default)]
    pub missing: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub eq: Option<String>,
    #[serde(default)]
    pub ne: Option<String>,
    #[serde(default, rename = "in")]
    pub in_values: Option<Vec<String>>,
    #[serde(default)]
    pub not_in: Option<Vec<String>>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub gt: Option<f64>,
    #[serde(default)]
    pub ge: Option<f64>,
    #[serde(default)]
    pub lt: Option<f64>,
    #[serde(default)]
    pub le: Option<f64>,
    #[serde(default)]
    pub startback_risk_at_least: Option<String>,
    #[serde(default)]
    pub unscreened: Option<RawUnscreened>,
}

/// `unscreened = true | "unknown" | "present"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawUnscreened {
    Flag(bool),
    Which(String),
}
