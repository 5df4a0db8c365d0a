//! Wire types of the JSON API. Requests are parsed strictly; responses are built
//! from an engine assessment plus the deployment's texts (emergency number etc.).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::engine::answers::Mapped;
use crate::engine::{Answers, Assessment, Audience, NextQuestion, StartBackScore};
use crate::knowledge::i18n::{RESPONSE_LABELS, TRI_LABELS};
#[cfg(doc)]
use crate::knowledge::PLACEHOLDERS;
use crate::knowledge::{
    CareSetting, CodeDef, KnowledgeBase, MedStatus, Review, Source, ValueKind, RESPONSE_VALUES,
};

use super::language::Lang;
use super::rendered::{JsonText, Rendered};
use crate::knowledge::i18n::SOURCE_LANGUAGE;
use serde_json::value::RawValue;
use std::sync::Arc;

/// `POST /v1/triage` request body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = triage_request_example)]
pub struct TriageRequest {
    /// Answers keyed by vocabulary code (`GET /v1/vocabulary`). `age_years` and `sex`
    /// are required; a missing code means unknown.
    #[schema(schema_with = answers_ref)]
    pub answers: serde_json::Map<String, serde_json::Value>,
    pub options: Option<TriageOptions>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageOptions {
    /// `patient` (default) or `clinician` (adds clinician texts and full evidence).
    #[serde(default)]
    pub audience: AudienceDto,
    /// Language of the patient texts: `en` (default) or `es`. Wins over `Accept-Language`;
    /// a language without a translation catalog is refused (`invalid_option`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<LanguageTag>, example = "es")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudienceDto {
    #[default]
    Patient,
    Clinician,
}

impl From<AudienceDto> for Audience {
    fn from(a: AudienceDto) -> Audience {
        match a {
            AudienceDto::Patient => Audience::Patient,
            AudienceDto::Clinician => Audience::Clinician,
        }
    }
}

/// The request example of the spec (its response example is computed from it): the
/// README's lifted-sofa spasm, some safety screens still unanswered.
pub fn triage_request_example() -> serde_json::Value {
    serde_json::json!({
        "answers": {
            "age_years": 34, "sex": "male", "onset_days_ago": 1, "onset_type": "sudden",
            "pain_nrs_now": 7, "trigger_heavy_lifting": "present", "muscle_tender_or_knotted": "present",
            "saddle_numbness": "absent", "tried_ice": "helped", "sbt_1_leg_pain": "disagree"
        },
        "options": { "audience": "patient" }
    })
}

/// The `Answers` schema is generated from the vocabulary (see `openapi::document`).
fn answers_ref() -> utoipa::openapi::Ref {
    utoipa::openapi::Ref::from_schema_name("Answers")
}

/// Placeholder values filled into patient texts, and every text rendered with them.
#[derive(Debug, Clone)]
pub struct Texts {
    pub emergency_number: String,
    pub urgent_line: String,
    /// Units questions are asked in where a code offers them (`locale.units`).
    pub units: Vec<String>,
    /// The deployment's words for where to get care (`locale.care_setting`); `None` only for
    /// a knowledge base without care settings (whose texts then use none of their placeholders).
    pub care: Option<CareSetting>,
    /// The care-setting words per language: (language, doctor, practice), English first.
    care_words: Vec<(String, String, String)>,
    rendered: Arc<Rendered>,
}

impl Texts {
    /// The texts of a deployment, every knowledge-base text rendered with them.
    pub fn new(
        kb: &KnowledgeBase,
        emergency_number: String,
        urgent_line: String,
        units: Vec<String>,
        care: Option<CareSetting>,
    ) -> Texts {
        let mut care_words = Vec::new();
        if let Some(c) = &care {
            care_words.push((
                SOURCE_LANGUAGE.to_owned(),
                c.primary_care_doctor.clone(),
                c.primary_care_practice.clone(),
            ));
            for catalog in &kb.languages {
                let word = |field: &str, english: &str| {
                    catalog
                        .get(&format!("care_setting.{}.{field}", c.id))
                        .map_or_else(|| english.to_owned(), |t| t.text.clone())
                };
                care_words.push((
                    catalog.language.clone(),
                    word("primary_care_doctor", &c.primary_care_doctor),
                    word("primary_care_practice", &c.primary_care_practice),
                ));
            }
        }
        let mut texts = Texts {
            emergency_number,
            urgent_line,
            units,
            care,
            care_words,
            rendered: Arc::new(Rendered::default()),
        };
        texts.rendered = Arc::new(Rendered::new(kb, |language, text| {
            texts.fill(language, text).into_owned()
        }));
        texts
    }

    /// The texts of the built-in configuration (999, NHS 111, the knowledge base's first care
    /// setting), for examples and tests.
    pub fn builtin(kb: &KnowledgeBase) -> Texts {
        Texts::new(
            kb,
            "999".to_owned(),
            "NHS 111".to_owned(),
            Vec::new(),
            kb.care_settings.first().cloned(),
        )
    }

    /// A knowledge-base text as served: rendered at start-up, or filled now in the words of
    /// `language` when it was not.
    pub fn text<'t>(&'t self, language: &str, text: &'t str) -> JsonText<'t> {
        self.rendered
            .text(text)
            .unwrap_or_else(|| JsonText::Plain(self.fill(language, text)))
    }

    /// Source `index` of `kb` as JSON, when rendered for this knowledge base.
    pub fn source(&self, kb: &KnowledgeBase, index: usize) -> Option<&RawValue> {
        self.rendered.source(kb, index)
    }

    /// `text` with every placeholder of [`PLACEHOLDERS`] replaced, care-setting words in
    /// `language`. One pass from brace to brace: an inserted value is never read again, so a
    /// value cannot bring in a placeholder. A text without a brace is returned unallocated.
    pub fn fill<'t>(&self, language: &str, text: &'t str) -> Cow<'t, str> {
        let Some(first) = text.find('{') else {
            return Cow::Borrowed(text);
        };
        let mut out: Option<String> = None;
        let mut copied = 0; // text[..copied] is in `out`
        let mut at = Some(first);
        while let Some(i) = at {
            let next = match self.placeholder_at(language, &text[i..]) {
                Some((len, with)) => {
                    let out = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
                    out.push_str(&text[copied..i]);
                    out.push_str(with);
                    copied = i + len;
                    copied
                }
                None => i + 1,
            };
            at = text[next..].find('{').map(|j| next + j);
        }
        match out {
            None => Cow::Borrowed(text),
            Some(mut out) => {
                out.push_str(&text[copied..]);
                Cow::Owned(out)
            }
        }
    }

    /// The length of the placeholder `rest` starts with, and its value.
    fn placeholder_at(&self, language: &str, rest: &str) -> Option<(usize, &str)> {
        const EMERGENCY: &str = "{emergency_number}";
        const URGENT: &str = "{urgent_line}";
        const DOCTOR: &str = "{primary_care_doctor}";
        const PRACTICE: &str = "{primary_care_practice}";
        if rest.starts_with(EMERGENCY) {
            return Some((EMERGENCY.len(), &self.emergency_number));
        }
        if rest.starts_with(URGENT) {
            return Some((URGENT.len(), &self.urgent_line));
        }
        let doctor = rest.starts_with(DOCTOR);
        if !doctor && !rest.starts_with(PRACTICE) {
            return None;
        }
        let (_, in_doctor, in_practice) = self
            .care_words
            .iter()
            .find(|(l, _, _)| l == language)
            .or_else(|| self.care_words.first())?;
        Some(if doctor {
            (DOCTOR.len(), in_doctor.as_str())
        } else {
            (PRACTICE.len(), in_practice.as_str())
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeBaseRef<'a> {
    /// Knowledge-base release (`MAJOR.MINOR.PATCH`, README "Knowledge-base releases").
    #[schema(example = "2026.12.0")]
    pub version: &'a str,
    /// `sha256:` + hex digest of the rule files.
    #[schema(example = "sha256:0f1e...")]
    pub digest: &'a str,
}

#[derive(Debug, ToSchema)]
pub struct SourceDto<'a> {
    /// Source id, as listed by `GET /v1/knowledge-base`.
    pub id: &'a str,
    /// Title of the guideline, paper or article.
    pub title: &'a str,
    /// Where to read it (a URL, or a `urn:` for sources not published online).
    pub url: &'a str,
    /// The same three fields as JSON, rendered at start-up.
    #[schema(ignore)]
    pub rendered: Option<&'a RawValue>,
}

impl Serialize for SourceDto<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if let Some(json) = self.rendered {
            return json.serialize(serializer);
        }
        let mut s = serializer.serialize_struct("SourceDto", 3)?;
        s.serialize_field("id", self.id)?;
        s.serialize_field("title", self.title)?;
        s.serialize_field("url", self.url)?;
        s.end()
    }
}

impl<'a> From<&'a Source> for SourceDto<'a> {
    fn from(s: &'a Source) -> Self {
        SourceDto {
            id: &s.id,
            title: &s.title,
            url: &s.url,
            rendered: None,
        }
    }
}

/// Triage level, most urgent first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Level)]
pub enum LevelDto {
    EmergencyAmbulance,
    Emergency,
    #[serde(rename = "consultation_24")]
    Consultation24,
    Consultation,
    SelfCare,
}

/// When to act, most urgent first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Timeframe)]
pub enum TimeframeDto {
    Now,
    #[serde(rename = "within_24h")]
    Within24h,
    #[serde(rename = "within_1_week")]
    Within1Week,
    #[serde(rename = "within_2_weeks")]
    Within2Weeks,
    Routine,
    None,
}

/// How well the answers fit a cause.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Band)]
pub enum BandDto {
    Likely,
    Possible,
}

/// What the service says about a medicine option.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = MedicationStatus)]
pub enum MedStatusDto {
    Suggest,
    Caution,
    AskFirst,
    Suppress,
}

/// STarT Back risk group; `indeterminate` while unknown items could change the group.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = StartBackRisk)]
pub enum RiskDto {
    Low,
    Medium,
    High,
    Indeterminate,
}

/// Clinical review status of a text or rule: `draft` awaits sign-off by the clinical safety officer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ReviewStatus)]
pub enum ReviewDto {
    Reference,
    Draft,
    Approved,
}

/// Value type of a vocabulary code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ValueType)]
pub enum ValueTypeDto {
    Tri,
    Integer,
    Number,
    Enum,
    Set,
    Response,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TriageDto<'a> {
    /// How urgently to seek care: `emergency_ambulance`, `emergency`, `consultation_24`, `consultation` or `self_care`; the most urgent of every fired rule and floor.
    #[schema(value_type = LevelDto, example = "self_care")]
    pub level: &'static str,
    /// 5 (`emergency_ambulance`) … 1 (`self_care`).
    #[schema(example = 1, minimum = 1, maximum = 5)]
    pub rank: u8,
    /// When to act: `immediately` (emergencies), `within_24h`, `within_1_week` / `within_2_weeks` / `routine` (consultation), `none` (self-care).
    #[schema(value_type = TimeframeDto, example = "none")]
    pub timeframe: &'static str,
    /// Where to go, most urgent first (`ambulance`, `emergency_department`, `urgent_care`, `gp`, `physiotherapy`, `pharmacist`).
    pub care_settings: Vec<&'static str>,
    /// What to do, in plain words, in the response's language; show it first.
    #[schema(value_type = String)]
    pub action: JsonText<'a>,
    /// Review status of `action`: `draft` until a clinician signs it off.
    #[schema(value_type = ReviewDto)]
    pub action_review: &'static str,
    /// Rule and floor ids that set the level (empty for the `self_care` default).
    pub decided_by: Vec<&'a str>,
    /// True only at `consultation` and `consultation_24` when every rule that set the level allows a phone or video consultation; always false at emergency levels and at `self_care` (nothing to book).
    pub remote_consult_suitable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedFlagDto<'a> {
    /// Id of the rule that fired (`GET /v1/knowledge-base` lists them all).
    #[schema(example = "R01")]
    pub rule_id: &'a str,
    /// Short name of the rule, in the response's language.
    pub title: &'a str,
    /// The level this rule alone sets.
    #[schema(value_type = LevelDto)]
    pub level: &'static str,
    /// Present only for `consultation` rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<TimeframeDto>, nullable = false)]
    pub timeframe: Option<&'static str>,
    /// The answer codes that made the rule fire.
    pub triggered_by: Vec<&'a str>,
    /// Conditions this rule screens for (clinical ids, not diagnoses).
    pub screens_for: &'a [String],
    /// What the person is told about this finding, in plain words and in the response's language.
    #[schema(value_type = String)]
    pub patient_text: JsonText<'a>,
    /// Clinician audience only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub clinician_text: Option<&'a str>,
    /// Guidance the rule is drawn from.
    pub sources: Vec<SourceDto<'a>>,
    /// Where a front end shows this text (1 first). The list itself stays in level order;
    /// this order puts specific rules first and the catch-all safety floors (`R25`,
    /// `R25-P`) last, so "go back and answer" never sits above "call 999".
    #[schema(minimum = 1, example = 1)]
    pub display_order: usize,
    /// Show first: the most urgent specific rules that fired (or the catch-all floors when
    /// nothing more specific fired). A front end that shows one text shows a primary one.
    pub primary: bool,
    /// Review status of the texts: `draft` until a clinician signs them off.
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceDto<'a> {
    /// The finding (a code or a named condition such as `age_years>=60`).
    pub code: &'a str,
    /// Positive supports the cause; negative (clinician audience) opposes it.
    pub weight: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CauseDto<'a> {
    /// Cause id (never a cardiac or aortic explanation: those are red flags only).
    pub cause: &'a str,
    /// The cause in plain words, in the response's language.
    pub label: &'a str,
    /// `likely` (gate met and score at least 5) or `possible` (score at least 2, or the non-specific default).
    #[schema(value_type = BandDto)]
    pub band: &'static str,
    /// Base plus supporting weights minus opposing weights.
    pub score: i32,
    /// `spasm_pattern` or `strain_pattern` (only on `muscle_strain_or_spasm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "spasm_pattern")]
    pub sub_label: Option<&'a str>,
    /// The answers that supported the cause, with their weights (opposing ones too for `clinician`).
    pub evidence: Vec<EvidenceDto<'a>>,
    /// Review status of `label`.
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhaseDto<'a> {
    /// Phase id by days since onset (`phase_acute_0_72h` …).
    #[schema(example = "phase_acute_0_72h")]
    pub id: &'a str,
    /// The phase in plain words, in the response's language.
    pub label: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdviceDto<'a> {
    /// Advice block id.
    #[schema(example = "ADV-A3")]
    pub id: &'a str,
    /// The advice, in the response's language.
    #[schema(value_type = String)]
    pub text: JsonText<'a>,
    /// Guidance the advice is drawn from.
    pub sources: Vec<SourceDto<'a>>,
    /// Review status of `text`.
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MedicationDto<'a> {
    /// Medicine option id (over-the-counter unless `prescription_only`).
    #[schema(example = "med_opt_oral_nsaid")]
    pub option: &'a str,
    /// `suggest`, `caution` (personal cautions in `because`), `ask_first` (a safety question is unanswered: the codes are in `because` and `completeness.medicine_questions`) or `suppress` (not for this person; why in `because`).
    #[schema(value_type = MedStatusDto)]
    pub status: &'static str,
    /// Answer codes behind a caution or suppression; for `ask_first`, the unanswered
    /// questions that decide whether the option is safe (also in
    /// `completeness.medicine_questions`).
    pub because: Vec<&'a str>,
    /// What to tell the person about this option, in the response's language.
    #[schema(value_type = String)]
    pub text: JsonText<'a>,
    /// Needs a prescription (never an over-the-counter suggestion).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prescription_only: bool,
    /// Review status of `text` (`draft` when the option's text or the shared wording put
    /// before it is a draft).
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StartBackDto<'a> {
    /// Total score (the minimum when items are unknown).
    pub total: u32,
    /// Psychosocial subscale (items 5–9; the minimum when items are unknown).
    pub psychosocial: u32,
    /// `low`, `medium`, `high`, or `indeterminate` when unknown items could change the group.
    #[schema(value_type = RiskDto)]
    pub risk: &'static str,
    /// `[lowest, highest]` total possible once the missing items are answered (only when items are missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 2, max_items = 2)]
    pub total_range: Option<[u32; 2]>,
    /// `[lowest, highest]` psychosocial subscale possible once the missing items are answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, min_items = 2, max_items = 2)]
    pub psychosocial_range: Option<[u32; 2]>,
    /// STarT Back items not yet answered (only when some are missing).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub missing_items: Option<Vec<&'a str>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SafetyNetDto<'a> {
    /// Safety-net block id.
    #[schema(example = "SN-EMERGENCY")]
    pub id: &'a str,
    /// When to seek help sooner, in the response's language.
    #[schema(value_type = String)]
    pub text: JsonText<'a>,
    /// Review status of `text`.
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionDto<'a> {
    /// The answer code of the unanswered screen.
    pub code: &'a str,
    /// The question to ask, in the response's language.
    #[schema(value_type = String)]
    pub question: JsonText<'a>,
    /// What the screen rules out.
    pub screens_for: &'a [String],
    /// Review status of `question`.
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

/// A question a medicine option needs answered before it can be suggested.
#[derive(Debug, Serialize, ToSchema)]
pub struct MedicineQuestionDto<'a> {
    /// The answer code a medicine option waits on.
    pub code: &'a str,
    /// The question to ask, in the response's language.
    #[schema(value_type = String)]
    pub question: JsonText<'a>,
    /// The medicine options (`medications[].option`) waiting on this answer.
    pub for_options: Vec<&'a str>,
    /// Review status of `question`.
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompletenessDto<'a> {
    /// False exactly when a required safety screen is unknown or unanswered.
    pub complete: bool,
    /// Required safety screens unknown or unanswered, in clinical priority order.
    pub missing_screens: Vec<&'a str>,
    /// The questions for `missing_screens`, in the same order.
    pub questions: Vec<QuestionDto<'a>>,
    /// Questions that medicine options with status `ask_first` need answered, in
    /// vocabulary order (they do not change `complete`: a missing one never lowers safety,
    /// it only holds a medicine back).
    pub medicine_questions: Vec<MedicineQuestionDto<'a>>,
}

/// `POST /v1/triage` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriageResponse<'a> {
    /// A new UUID v4 per assessment (the only field that differs between identical requests).
    #[schema(format = "uuid")]
    pub assessment_id: String,
    /// The knowledge-base release that produced this assessment (version and digest).
    pub knowledge_base: KnowledgeBaseRef<'a>,
    /// The level, when and where to go, and what to do.
    pub triage: TriageDto<'a>,
    /// Every rule that fired, most urgent first; show the `primary` ones first, in `display_order`.
    pub red_flags: Vec<RedFlagDto<'a>>,
    /// Up to three causes the picture may be consistent with (not diagnoses); empty at emergency levels for patients.
    pub causes: Vec<CauseDto<'a>>,
    /// The phase of the episode; `null` when the onset is unknown.
    #[schema(required = true)]
    pub phase: Option<PhaseDto<'a>>,
    /// Self-care advice for the phase and causes; empty at emergency levels.
    pub advice: Vec<AdviceDto<'a>>,
    /// Over-the-counter options with a personal status; empty at emergency levels.
    pub medications: Vec<MedicationDto<'a>>,
    /// STarT Back score; `null` when no STarT Back item is answered.
    #[schema(required = true)]
    pub startback: Option<StartBackDto<'a>>,
    /// When to seek help sooner or call the emergency number.
    pub safety_net: Vec<SafetyNetDto<'a>>,
    /// Whether every required safety screen was ruled out, and the questions still open.
    pub completeness: CompletenessDto<'a>,
    /// Decision support, not a diagnosis: show it with every result.
    #[schema(value_type = String)]
    pub disclaimer: JsonText<'a>,
    /// Review status of `disclaimer`.
    #[schema(value_type = ReviewDto)]
    pub disclaimer_review: &'static str,
    /// Deprecated answer codes or values that were accepted and mapped to their
    /// replacements before the assessment (also signalled by `Deprecation` and `Sunset`
    /// headers). Empty when the request used only current codes.
    pub warnings: Vec<WarningDto<'a>>,
    /// The unanswered questions that matter most now, most important first (at most 5):
    /// required safety screens not yet asked, then questions that could still raise the
    /// level, then those a medicine waits on, then those that refine a cause, then STarT
    /// Back. A form that asks the first, adds the answer and posts again reaches a complete
    /// assessment. A question answered in any way (also `unknown`, or `null` for "asked,
    /// no answer") is not asked again. Empty at `emergency_ambulance`; at `emergency` only
    /// what could make it more urgent.
    pub next_questions: Vec<NextQuestionDto<'a>>,
    /// The language of the patient texts and which texts fell back to English.
    pub language: LanguageDto<'a>,
}

/// A language the patient texts can be served in: English, and each translation catalog of
/// the knowledge base (a test keeps the two lists equal).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LanguageTag {
    En,
    Es,
}

/// The language the patient texts are in.
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageDto<'a> {
    /// `en`, or a translation chosen by `options.language` or `Accept-Language` (also sent
    /// as `Content-Language`).
    #[schema(value_type = LanguageTag, example = "es")]
    pub code: &'a str,
    /// Keys of texts this language has no translation of yet, served in English (empty
    /// for English). Keys name texts as `config/rules/i18n/*.toml` does.
    pub untranslated: Vec<String>,
}

/// A question to ask next, ready to show.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextQuestionDto<'a> {
    /// The answer code to send back in `answers`.
    #[schema(example = "saddle_numbness")]
    pub code: &'a str,
    /// The question, in the response's language.
    #[schema(value_type = String)]
    pub question: JsonText<'a>,
    /// How to answer it: type, allowed values and their labels, or range and unit.
    #[serde(flatten)]
    pub answer: AnswerShape<'a>,
    /// Why it is asked now, in asking order: `required_screen`, `settles_uncertainty` (its
    /// being unknown is what set the level), `core_intake`, `could_raise_level`,
    /// `medicine_screen`, `refines_cause`, `start_back`.
    #[schema(value_type = QuestionReasonDto)]
    pub reason: &'static str,
    /// The reason in plain words, for the person answering.
    #[schema(value_type = String)]
    pub why: JsonText<'a>,
    /// Rule, floor, medicine option or cause ids whose outcome this answer could change.
    pub could_change: Vec<&'a str>,
    /// Review status of the texts shown (`draft` if any of them is).
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
}

/// Why a question is in `next_questions`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionReasonDto {
    RequiredScreen,
    SettlesUncertainty,
    CoreIntake,
    CouldRaiseLevel,
    MedicineScreen,
    RefinesCause,
    StartBack,
}

/// A deprecated input that still worked: what was sent, what it now means, and until when.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningDto<'a> {
    /// `deprecated_answer_code` or `deprecated_answer_value`.
    #[schema(example = "deprecated_answer_code")]
    pub code: &'static str,
    /// The answer code sent.
    #[schema(example = "pain_unremitting_or_night")]
    pub answer: &'a str,
    /// For `deprecated_answer_value`: the deprecated value sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub value: Option<&'a str>,
    /// The current codes the answer was mapped to (for a value: the current value).
    pub replaced_by: Vec<&'a str>,
    /// Knowledge-base release that deprecated it.
    pub since: &'a str,
    /// Date (YYYY-MM-DD) after which it may stop being accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sunset: Option<&'a str>,
    /// Plain words: why, and what to send instead.
    pub message: &'a str,
}

/// The response's warnings for the deprecated inputs of a request.
pub fn warnings<'a>(kb: &'a KnowledgeBase, answers: &Answers) -> Vec<WarningDto<'a>> {
    let vocabulary = &kb.vocabulary;
    answers
        .mapped()
        .iter()
        .filter_map(|m| match *m {
            Mapped::Code(id) => {
                let def = vocabulary.code(id);
                let d = def.deprecation()?;
                Some(WarningDto {
                    code: "deprecated_answer_code",
                    answer: &def.code,
                    value: None,
                    replaced_by: d
                        .replaced_by
                        .iter()
                        .map(|r| vocabulary.code(r.code).code.as_str())
                        .collect(),
                    since: &d.since,
                    sunset: d.sunset.as_deref(),
                    message: &d.note,
                })
            }
            Mapped::Value { code, from, to } => {
                let def = vocabulary.code(code);
                let d = def.deprecated_values.iter().find(|d| d.value == from)?;
                Some(WarningDto {
                    code: "deprecated_answer_value",
                    answer: &def.code,
                    value: def.kind.choice_name(from),
                    replaced_by: def.kind.choice_name(to).into_iter().collect(),
                    since: &d.since,
                    sunset: d.sunset.as_deref(),
                    message: &d.note,
                })
            }
        })
        .collect()
}

/// RFC 9745 `Deprecation` and RFC 8594 `Sunset` header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeprecationHeaders {
    /// `@<unix seconds>` of the earliest deprecation among the inputs.
    pub deprecation: String,
    /// HTTP-date of the earliest sunset among them, if any has one.
    pub sunset: Option<String>,
}

/// The deprecation headers for a request's deprecated inputs, if it used any.
pub fn deprecation_headers(kb: &KnowledgeBase, answers: &Answers) -> Option<DeprecationHeaders> {
    let vocabulary = &kb.vocabulary;
    let mut dates: Vec<(&str, Option<&str>)> = Vec::new();
    for m in answers.mapped() {
        match *m {
            Mapped::Code(id) => {
                if let Some(d) = vocabulary.code(id).deprecation() {
                    dates.push((&d.deprecated_on, d.sunset.as_deref()));
                }
            }
            Mapped::Value { code, from, .. } => {
                if let Some(d) = vocabulary
                    .code(code)
                    .deprecated_values
                    .iter()
                    .find(|d| d.value == from)
                {
                    dates.push((&d.deprecated_on, d.sunset.as_deref()));
                }
            }
        }
    }
    let deprecated_on = dates.iter().map(|(d, _)| *d).min()?;
    let sunset = dates.iter().filter_map(|(_, s)| *s).min();
    Some(DeprecationHeaders {
        deprecation: crate::clock::structured_date(deprecated_on)?,
        sunset: sunset.and_then(crate::clock::http_date_end_of_day),
    })
}

fn sources<'a>(kb: &'a KnowledgeBase, texts: &'a Texts, ids: &[usize]) -> Vec<SourceDto<'a>> {
    ids.iter()
        .filter_map(|&i| {
            let mut dto = SourceDto::from(kb.sources.get(i)?);
            dto.rendered = texts.source(kb, i);
            Some(dto)
        })
        .collect()
}

impl<'a> TriageResponse<'a> {
    /// The response in English.
    pub fn build(
        kb: &'a KnowledgeBase,
        a: &Assessment<'a>,
        texts: &'a Texts,
        assessment_id: String,
    ) -> TriageResponse<'a> {
        TriageResponse::build_in(kb, a, texts, assessment_id, &Lang::english())
    }

    /// The response with its patient texts in `lang` (English where not yet translated).
    pub fn build_in(
        kb: &'a KnowledgeBase,
        a: &Assessment<'a>,
        texts: &'a Texts,
        assessment_id: String,
        lang: &Lang<'a>,
    ) -> TriageResponse<'a> {
        let code = |id: usize| kb.vocabulary.code(id).code.as_str();
        let clinician = a.audience == Audience::Clinician;
        let question = |id: usize| {
            let def = kb.vocabulary.code(id);
            lang.text(
                || format!("code.{}.question", def.code),
                &def.question,
                def.review,
            )
        };
        let unscreened: Vec<&str> = a.missing_screens.iter().map(|id| question(*id).0).collect();
        let level_info = kb.level_info(a.level);
        let (action, action_review) = lang.text(
            || format!("level.{}.action", a.level.as_str()),
            &level_info.action,
            level_info.review,
        );
        let (disclaimer, disclaimer_review) = lang.text(
            || "disclaimer".to_owned(),
            &kb.disclaimer,
            kb.disclaimer_review,
        );
        let medicine_texts = &kb.medicine_texts;
        let mut response = TriageResponse {
            assessment_id,
            knowledge_base: KnowledgeBaseRef {
                version: &kb.version,
                digest: &kb.digest,
            },
            triage: TriageDto {
                level: a.level.as_str(),
                rank: a.level.rank(),
                timeframe: a.timeframe.as_str(),
                care_settings: a.care_settings.clone(),
                action: texts.text(lang.code, action),
                action_review: action_review.as_str(),
                decided_by: a.decided_by.clone(),
                remote_consult_suitable: a.remote_consult_suitable,
            },
            red_flags: a
                .red_flags
                .iter()
                .map(|f| {
                    let r = f.rule;
                    let (title, title_review) =
                        lang.text(|| format!("rule.{}.title", r.id), &r.title, r.review);
                    let (patient_text, text_review) = lang.text(
                        || format!("rule.{}.patient_text", r.id),
                        &r.patient_text,
                        r.review,
                    );
                    RedFlagDto {
                        rule_id: &r.id,
                        title,
                        level: r.level.as_str(),
                        timeframe: (r.level == crate::knowledge::Level::Consultation)
                            .then(|| r.timeframe.as_str()),
                        triggered_by: f.triggered_by.iter().map(|id| code(*id)).collect(),
                        screens_for: &r.screens_for,
                        patient_text: texts.text(lang.code, patient_text),
                        clinician_text: clinician.then_some(r.clinician_text.as_str()),
                        sources: sources(kb, texts, &r.sources),
                        display_order: f.display_order,
                        primary: f.primary,
                        review: least_reviewed(title_review, text_review),
                    }
                })
                .collect(),
            causes: a
                .causes
                .iter()
                .map(|c| {
                    let (label, review) = lang.text(
                        || format!("cause.{}.label", c.cause.id),
                        &c.cause.label,
                        c.cause.review,
                    );
                    CauseDto {
                        cause: &c.cause.id,
                        label,
                        band: c.band.as_str(),
                        score: c.score,
                        sub_label: c.sub_label,
                        evidence: c
                            .evidence
                            .iter()
                            .map(|e| EvidenceDto {
                                code: e.name,
                                weight: e.weight,
                            })
                            .collect(),
                        review: review.as_str(),
                    }
                })
                .collect(),
            phase: a.phase.map(|p| PhaseDto {
                id: &p.id,
                label: lang
                    .text(|| format!("phase.{}.label", p.id), &p.label, Review::Draft)
                    .0,
            }),
            advice: a
                .advice
                .iter()
                .map(|b| {
                    let (text, review) =
                        lang.text(|| format!("advice.{}.text", b.id), &b.text, b.review);
                    AdviceDto {
                        id: &b.id,
                        text: texts.text(lang.code, text),
                        sources: sources(kb, texts, &b.sources),
                        review: review.as_str(),
                    }
                })
                .collect(),
            medications: a
                .medications
                .iter()
                .map(|m| {
                    let (own, own_review) = lang.text(
                        || format!("medicine.{}.text", m.medicine.id),
                        &m.medicine.text,
                        m.medicine.review,
                    );
                    let shared = |key: &'static str, english: &'a str| {
                        lang.text(
                            || format!("medicines.{key}"),
                            english,
                            medicine_texts.review,
                        )
                    };
                    let (text, review) = match m.status {
                        MedStatus::Suppress => {
                            let (t, r) = shared("suppress_text", &medicine_texts.suppress_text);
                            (texts.text(lang.code, t), r.as_str())
                        }
                        MedStatus::Caution | MedStatus::AskFirst => {
                            let (prefix, r) = if m.status == MedStatus::Caution {
                                shared("caution_prefix", &medicine_texts.caution_prefix)
                            } else {
                                shared("ask_first_prefix", &medicine_texts.ask_first_prefix)
                            };
                            (
                                JsonText::from(format!(
                                    "{} {}",
                                    prefix.trim(),
                                    texts.text(lang.code, own)
                                )),
                                least_reviewed(own_review, r),
                            )
                        }
                        MedStatus::Suggest => (texts.text(lang.code, own), own_review.as_str()),
                    };
                    MedicationDto {
                        option: &m.medicine.id,
                        status: m.status.as_str(),
                        because: m.because.iter().map(|id| code(*id)).collect(),
                        text,
                        prescription_only: m.medicine.prescription_only,
                        review,
                    }
                })
                .collect(),
            startback: a.startback.as_ref().map(|s| startback(kb, s)),
            safety_net: a
                .safety_net
                .iter()
                .map(|b| {
                    let (own, review) =
                        lang.text(|| format!("safety_net.{}.text", b.id), &b.text, b.review);
                    let filled = texts.text(lang.code, own);
                    let text = if filled.contains("{unscreened}") {
                        JsonText::from(filled.replace("{unscreened}", &unscreened.join(" ")))
                    } else {
                        filled
                    };
                    SafetyNetDto {
                        id: &b.id,
                        text,
                        review: review.as_str(),
                    }
                })
                .collect(),
            completeness: CompletenessDto {
                complete: a.complete(),
                missing_screens: a.missing_screens.iter().map(|id| code(*id)).collect(),
                questions: a
                    .missing_screens
                    .iter()
                    .map(|id| {
                        let def = kb.vocabulary.code(*id);
                        let (question, review) = question(*id);
                        QuestionDto {
                            code: &def.code,
                            question: texts.text(lang.code, question),
                            screens_for: &def.screens_for,
                            review: review.as_str(),
                        }
                    })
                    .collect(),
                medicine_questions: medicine_questions(kb, a, texts, lang),
            },
            next_questions: a
                .next_questions
                .iter()
                .map(|q| next_question(kb, q, lang, texts))
                .collect(),
            disclaimer: texts.text(lang.code, disclaimer),
            disclaimer_review: disclaimer_review.as_str(),
            warnings: Vec::new(),
            language: LanguageDto {
                code: lang.code,
                untranslated: Vec::new(),
            },
        };
        response.language.untranslated = lang.untranslated();
        response
    }
}

/// How a question is answered, as `/v1/vocabulary` and `next_questions` show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerShape<'a> {
    /// Answer type: `tri` (present/absent/unknown), `integer`, `number`, `enum` (one value),
    /// `set` (an array of values) or `response` (did a treatment help).
    #[serde(rename = "type")]
    #[schema(value_type = ValueTypeDto)]
    pub value_type: &'static str,
    /// Allowed values (tri, enum, set, response), in the order to show them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub values: Option<Vec<&'a str>>,
    /// What to show for each of `values`, same order (tri-state: "Yes", "No", "Not sure";
    /// enum and set codes when the knowledge base labels them; in the response's language).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub labels: Option<Vec<&'a str>>,
    /// Smallest allowed value (integer and number).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub minimum: Option<f64>,
    /// Largest allowed value (integer and number).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub maximum: Option<f64>,
    /// Unit of a number answer (`years`, `days`, `°C`, `beats/min`, …): the unit the
    /// question asks in (the deployment's `locale.units` where the code offers it; then
    /// `minimum` and `maximum` are in it too). A plain number is always read in the code's own
    /// unit, the first of `units`; send `{"value": 101.3, "unit": "°F"}` for another.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "years")]
    pub unit: Option<&'a str>,
    /// Units the answer may be given in, the code's own first (only codes that offer more
    /// than one: `temperature_c` °C/°F, `weight_kg` kg/lb/st).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = json!(["°C", "°F"]))]
    pub units: Option<Vec<&'a str>>,
    /// `draft` if any label is a draft (the caller folds it into its own `review`).
    #[serde(skip)]
    pub labels_review: Review,
}

/// The question for `def`, asked in the first of `units` the code offers (else its own unit).
pub fn question_of<'a>(def: &'a CodeDef, lang: &Lang<'a>, units: &[String]) -> (&'a str, Review) {
    match def.preferred_unit(units) {
        Some(alt) => lang.text(
            || format!("code.{}.question.{}", def.code, alt.unit),
            &alt.question,
            alt.review,
        ),
        None => lang.text(
            || format!("code.{}.question", def.code),
            &def.question,
            def.review,
        ),
    }
}

pub fn answerable<'a>(def: &'a CodeDef, lang: &Lang<'a>, units: &[String]) -> AnswerShape<'a> {
    let (values, minimum, maximum) = match &def.kind {
        ValueKind::Tri => (
            Some(TRI_LABELS.iter().map(|(v, _)| *v).collect()),
            None,
            None,
        ),
        ValueKind::Integer { min, max } | ValueKind::Number { min, max } => {
            (None, Some(*min), Some(*max))
        }
        ValueKind::Enum { values } | ValueKind::Set { values } => (
            Some(values.iter().map(String::as_str).collect()),
            None,
            None,
        ),
        ValueKind::Response => (Some(RESPONSE_VALUES.to_vec()), None, None),
    };
    let mut labels_review = def.review;
    let mut label = |key: String, english: &'a str| {
        let (text, review) = lang.text(|| key, english, def.review);
        if review == Review::Draft {
            labels_review = Review::Draft;
        }
        text
    };
    let labels = match &def.kind {
        ValueKind::Tri => Some(
            TRI_LABELS
                .iter()
                .map(|(v, l)| label(format!("tri.label.{v}"), l))
                .collect(),
        ),
        ValueKind::Enum { values } | ValueKind::Set { values } if !def.labels.is_empty() => Some(
            values
                .iter()
                .zip(&def.labels)
                .map(|(v, l)| label(format!("code.{}.label.{v}", def.code), l))
                .collect(),
        ),
        ValueKind::Response => Some(
            RESPONSE_VALUES
                .iter()
                .zip(RESPONSE_LABELS)
                .map(|(v, l)| label(format!("response.label.{v}"), l))
                .collect(),
        ),
        _ => None,
    };
    // Asked in a preferred unit: the range and unit in it (the answer goes back as
    // `{"value", "unit"}`, converted at the boundary).
    let preferred = def.preferred_unit(units);
    let (minimum, maximum, unit) = match (preferred, def.unit.as_deref(), minimum, maximum) {
        (Some(alt), Some(base), Some(min), Some(max)) => {
            match crate::knowledge::units::range_in(base, &alt.unit, min, max) {
                Some((low, high)) => (Some(low), Some(high), Some(alt.unit.as_str())),
                None => (Some(min), Some(max), Some(base)),
            }
        }
        _ => (minimum, maximum, def.unit.as_deref()),
    };
    let accepted_units = (!def.alternative_units.is_empty()).then(|| {
        def.unit
            .as_deref()
            .into_iter()
            .chain(def.alternative_units.iter().map(|a| a.unit.as_str()))
            .collect()
    });
    AnswerShape {
        value_type: def.kind.type_name(),
        values,
        labels,
        minimum,
        maximum,
        unit,
        units: accepted_units,
        labels_review,
    }
}

fn next_question<'a>(
    kb: &'a KnowledgeBase,
    q: &NextQuestion<'a>,
    lang: &Lang<'a>,
    texts: &'a Texts,
) -> NextQuestionDto<'a> {
    let def = kb.vocabulary.code(q.code);
    let (question, question_review) = question_of(def, lang, &texts.units);
    let shape = answerable(def, lang, &texts.units);
    let (why, why_review) = match q.reason.text(kb) {
        Some(r) => lang.text(
            || format!("question_reason.{}.text", r.reason),
            &r.text,
            r.review,
        ),
        None => ("", Review::Draft),
    };
    let labels_review = shape.labels_review;
    NextQuestionDto {
        code: &def.code,
        question: texts.text(lang.code, question),
        answer: shape,
        reason: q.reason.as_str(),
        why: texts.text(lang.code, why),
        could_change: q.for_ids.clone(),
        review: least_reviewed(
            question_review,
            if labels_review == Review::Draft || why_review == Review::Draft {
                Review::Draft
            } else {
                question_review
            },
        ),
    }
}

/// `draft` if either part of a combined text is a draft, else the first's status.
fn least_reviewed(a: Review, b: Review) -> &'static str {
    if b == Review::Draft {
        b.as_str()
    } else {
        a.as_str()
    }
}

fn medicine_questions<'a>(
    kb: &'a KnowledgeBase,
    a: &Assessment<'a>,
    texts: &'a Texts,
    lang: &Lang<'a>,
) -> Vec<MedicineQuestionDto<'a>> {
    let mut asked: Vec<usize> = a
        .medications
        .iter()
        .filter(|m| m.status == MedStatus::AskFirst)
        .flat_map(|m| m.because.iter().copied())
        .collect();
    asked.sort_unstable();
    asked.dedup();
    asked
        .into_iter()
        .map(|id| {
            let def = kb.vocabulary.code(id);
            let (question, review) = lang.text(
                || format!("code.{}.question", def.code),
                &def.question,
                def.review,
            );
            MedicineQuestionDto {
                code: &def.code,
                question: texts.text(lang.code, question),
                for_options: a
                    .medications
                    .iter()
                    .filter(|m| m.status == MedStatus::AskFirst && m.because.contains(&id))
                    .map(|m| m.medicine.id.as_str())
                    .collect(),
                review: review.as_str(),
            }
        })
        .collect()
}

fn startback<'a>(kb: &'a KnowledgeBase, s: &StartBackScore) -> StartBackDto<'a> {
    let partial = !s.missing_items.is_empty();
    StartBackDto {
        total: s.total,
        psychosocial: s.psychosocial,
        risk: s.risk.map(|r| r.as_str()).unwrap_or("indeterminate"),
        total_range: partial.then_some([s.total, s.total_max]),
        psychosocial_range: partial.then_some([s.psychosocial, s.psychosocial_max]),
        missing_items: partial.then(|| {
            s.missing_items
                .iter()
                .map(|id| kb.vocabulary.code(*id).code.as_str())
                .collect()
        }),
    }
}

/// One vocabulary entry of `GET /v1/vocabulary`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VocabularyCode<'a> {
    pub code: &'a str,
    pub group: &'a str,
    /// How to answer it: type, allowed values and their labels, or range and unit.
    #[serde(flatten)]
    pub answer: AnswerShape<'a>,
    pub question: &'a str,
    pub screens_for: &'a [String],
    pub required_screen: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub loinc: Option<&'a str>,
    #[schema(value_type = ReviewDto)]
    pub review: &'static str,
    /// `active`; `deprecated` (still accepted: answers are mapped to `lifecycle.replaced_by`
    /// and the response carries a warning and `Deprecation`/`Sunset` headers); `retired`
    /// (refused as `unknown_answer_code`, with the replacement named).
    #[schema(value_type = CodeStatusDto)]
    pub status: &'static str,
    /// For deprecated and retired codes: when, why, and what replaces them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub lifecycle: Option<LifecycleDto<'a>>,
    /// Values still accepted but mapped to a current value (enum codes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deprecated_values: Vec<DeprecatedValueDto<'a>>,
    /// Ask this question only when the condition holds (the knowledge base's branching,
    /// also the Questionnaire's `enableWhen`). In the rule files' form: `{"present": code}`,
    /// `{"code": c, "eq"|"ne": v}`, `{"code": c, "in"|"not_in": [..]}`, `{"code": c,
    /// "ge"|"gt"|"le"|"lt": n}`, `{"all"|"any": [..]}`, `{"not": ..}`. Absent: always ask.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Object)]
    pub ask_when: Option<serde_json::Value>,
}

/// Lifecycle status of a vocabulary code.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CodeStatus)]
pub enum CodeStatusDto {
    Active,
    Deprecated,
    Retired,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifecycleDto<'a> {
    /// Knowledge-base release that deprecated (or retired) the code.
    pub since: &'a str,
    /// Date (YYYY-MM-DD) of the deprecation.
    pub deprecated_on: &'a str,
    /// Date (YYYY-MM-DD) after which the code may be retired.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sunset: Option<&'a str>,
    pub note: &'a str,
    /// Where an old answer goes.
    pub replaced_by: Vec<ReplacementDto<'a>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplacementDto<'a> {
    pub code: &'a str,
    /// Old value → new value; absent when the value carries over unchanged. An old value
    /// not listed leaves this code unanswered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub map: Option<std::collections::BTreeMap<&'a str, &'a str>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeprecatedValueDto<'a> {
    pub value: &'a str,
    pub replaced_by: &'a str,
    pub since: &'a str,
    pub deprecated_on: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub sunset: Option<&'a str>,
    pub note: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VocabularyResponse<'a> {
    pub knowledge_base: KnowledgeBaseRef<'a>,
    pub groups: Vec<GroupDto<'a>>,
    /// Required safety screens first, in clinical priority order.
    pub codes: Vec<VocabularyCode<'a>>,
    /// The language of the questions and labels (chosen by `Accept-Language`).
    pub language: LanguageDto<'a>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto<'a> {
    pub id: &'a str,
    pub label: &'a str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub fn review(r: Review) -> &'static str {
    r.as_str()
}

#[cfg(test)]
mod tests {
    use super::Texts;
    use crate::knowledge::{KnowledgeBase, RuleSource};

    fn kb() -> KnowledgeBase {
        crate::knowledge::load(&RuleSource::Embedded).unwrap_or_else(|e| panic!("{e}"))
    }

    fn texts(kb: &KnowledgeBase, emergency_number: &str, urgent_line: &str) -> Texts {
        Texts::new(
            kb,
            emergency_number.to_owned(),
            urgent_line.to_owned(),
            Vec::new(),
            kb.care_settings.first().cloned(),
        )
    }

    #[test]
    fn fill_replaces_every_placeholder_like_replace_calls() {
        let kb = kb();
        let all = [
            texts(&kb, "999", "NHS 111"),
            texts(&kb, "", "111"),
            texts(&kb, "112 / 999", ""),
        ];
        let samples = [
            "",
            "no braces",
            "call {emergency_number} now",
            "{emergency_number}{urgent_line}{unscreened}",
            "{{emergency_number}} {urgent_line",
            "{urg{emergency_number}_line} {emergency_number",
            "{emergency_number}{emergency_number}{urgent_line}",
            "{{{{",
            "a {b} {urgent_line}{urgent_line} \u{e9} é {emergency_number}",
            "ask your {primary_care_practice} or see a {primary_care_doctor}{primary_care_doctor",
        ];
        for t in &all {
            for s in samples {
                let expected = s
                    .replace("{emergency_number}", &t.emergency_number)
                    .replace("{urgent_line}", &t.urgent_line)
                    .replace("{primary_care_practice}", "GP practice")
                    .replace("{primary_care_doctor}", "GP");
                assert_eq!(t.fill("en", s), expected, "{s:?}");
            }
        }
        // In Spanish, the Spanish words.
        assert_eq!(
            all[0].fill("es", "su {primary_care_practice}"),
            "su centro de salud"
        );
    }

    #[test]
    fn an_inserted_value_is_never_read_again() {
        let kb = kb();
        let t = texts(&kb, "{urgent_line}", "{emergency_number}");
        assert_eq!(
            t.fill("en", "{emergency_number} {urgent_line}"),
            "{urgent_line} {emergency_number}"
        );
    }

    #[test]
    fn a_text_without_placeholders_is_not_copied() {
        let kb = kb();
        let filled = texts(&kb, "999", "111").fill("en", "rest and keep moving");
        assert!(matches!(filled, std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn rendered_texts_are_the_filled_texts() {
        let kb = kb();
        let t = texts(&kb, "112", "116 117");
        let served = t.text("en", &kb.disclaimer);
        assert!(matches!(served, super::JsonText::Rendered(..)));
        assert_eq!(served.as_str(), t.fill("en", &kb.disclaimer));
        assert!(served.contains("112"));
        // A text that is not the knowledge base's is filled as it is served.
        let other = String::from("call {emergency_number}");
        let served = t.text("en", &other);
        assert!(matches!(served, super::JsonText::Plain(_)));
        assert_eq!(served.as_str(), "call 112");
    }
}
