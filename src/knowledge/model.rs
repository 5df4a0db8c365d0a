//! The validated, compiled knowledge base the engine runs on.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Triage levels, ordered by urgency (rank 1..=5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    SelfCare = 1,
    Consultation = 2,
    Consultation24 = 3,
    Emergency = 4,
    EmergencyAmbulance = 5,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::EmergencyAmbulance,
        Level::Emergency,
        Level::Consultation24,
        Level::Consultation,
        Level::SelfCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::SelfCare => "self_care",
            Level::Consultation => "consultation",
            Level::Consultation24 => "consultation_24",
            Level::Emergency => "emergency",
            Level::EmergencyAmbulance => "emergency_ambulance",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn is_emergency(self) -> bool {
        self >= Level::Emergency
    }
}

/// When to act. Ordered from most to least urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timeframe {
    Now,
    Within24h,
    Within1Week,
    Within2Weeks,
    Routine,
    None,
}

impl Timeframe {
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::Now => "now",
            Timeframe::Within24h => "within_24h",
            Timeframe::Within1Week => "within_1_week",
            Timeframe::Within2Weeks => "within_2_weeks",
            Timeframe::Routine => "routine",
            Timeframe::None => "none",
        }
    }

    /// Timeframes a `consultation` rule may name.
    pub fn parse_consultation(s: &str) -> Option<Timeframe> {
        match s {
            "within_1_week" => Some(Timeframe::Within1Week),
            "within_2_weeks" => Some(Timeframe::Within2Weeks),
            "routine" => Some(Timeframe::Routine),
            _ => None,
        }
    }

    /// The timeframe implied by a level (for `consultation`, the rule's own).
    pub fn for_level(level: Level, consultation: Option<Timeframe>) -> Timeframe {
        match level {
            Level::EmergencyAmbulance | Level::Emergency => Timeframe::Now,
            Level::Consultation24 => Timeframe::Within24h,
            Level::Consultation => consultation.unwrap_or(Timeframe::Routine),
            Level::SelfCare => Timeframe::None,
        }
    }
}

/// Care settings in the order responses list them (reference §7.6).
pub const CARE_SETTINGS: [&str; 9] = [
    "ambulance",
    "emergency_department",
    "maternity",
    "oncology_team",
    "urgent_care",
    "gp",
    "rheumatology",
    "physiotherapy",
    "pharmacist",
];

/// Values a `screens_for` list may use (reference §7.9).
pub const SCREENS_FOR: [&str; 29] = [
    "cauda_equina_syndrome",
    "spinal_cord_compression",
    "nerve_root_compression",
    "spinal_infection",
    "sepsis",
    "malignancy",
    "metastatic_spinal_cord_compression",
    "vertebral_fracture",
    "aortic_aneurysm_or_dissection",
    "acute_coronary_syndrome",
    "pulmonary_embolism",
    "stroke",
    "meningitis",
    "subarachnoid_haemorrhage",
    "renal_colic_or_pyelonephritis",
    "pancreatitis",
    "gastrointestinal_bleed",
    "ectopic_pregnancy",
    "obstetric_emergency",
    "rhabdomyolysis",
    "inflammatory_back_pain",
    "medication_adverse_effect",
    "persistent_pain_risk",
    "uncontrolled_pain",
    "paediatric_back_pain",
    "pregnancy_care",
    "hepatobiliary_disease",
    "electrolyte_disturbance",
    "unscreened_red_flags",
];

/// Values of the `response` type (`tried_*` codes).
pub const RESPONSE_VALUES: [&str; 8] = [
    "not_tried",
    "helped",
    "helped_within_48h",
    "partly_helped",
    "no_help",
    "made_worse",
    "side_effects",
    "unknown",
];

pub type CodeId = usize;

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Tri,
    Integer { min: f64, max: f64 },
    Number { min: f64, max: f64 },
    Enum { values: Vec<String> },
    Set { values: Vec<String> },
    Response,
}

impl ValueKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueKind::Tri => "tri",
            ValueKind::Integer { .. } => "integer",
            ValueKind::Number { .. } => "number",
            ValueKind::Enum { .. } => "enum",
            ValueKind::Set { .. } => "set",
            ValueKind::Response => "response",
        }
    }

    /// Allowed string values for choice-like kinds.
    pub fn choices(&self) -> &[String] {
        match self {
            ValueKind::Enum { values } | ValueKind::Set { values } => values,
            _ => &[],
        }
    }

    /// Index of a choice value, for enums, sets and responses.
    pub fn choice_index(&self, value: &str) -> Option<u16> {
        let position = match self {
            ValueKind::Enum { values } | ValueKind::Set { values } => {
                values.iter().position(|v| v == value)
            }
            ValueKind::Response => RESPONSE_VALUES.iter().position(|v| *v == value),
            _ => None,
        };
        position.and_then(|p| u16::try_from(p).ok())
    }

    pub fn choice_name(&self, index: u16) -> Option<&str> {
        let i = usize::from(index);
        match self {
            ValueKind::Enum { values } | ValueKind::Set { values } => {
                values.get(i).map(String::as_str)
            }
            ValueKind::Response => RESPONSE_VALUES.get(i).copied(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CodeDef {
    pub code: String,
    pub group: String,
    pub kind: ValueKind,
    pub question: String,
    pub screens_for: Vec<String>,
    pub unit: Option<String>,
    /// Other units a number answer may be given in (`{"value": …, "unit": …}`), converted to
    /// `unit` before the engine runs.
    pub alternative_units: Vec<AlternativeUnit>,
    pub loinc: Option<String>,
    pub required_screen: bool,
    pub review: Review,
    pub lifecycle: Lifecycle,
    /// Enum values still accepted but mapped to a current value before the engine runs.
    pub deprecated_values: Vec<ValueDeprecation>,
    /// Patient-facing label per choice value (enum and set codes), in value order; empty when
    /// the knowledge base gives none.
    pub labels: Vec<String>,
    /// Ask only when this holds (branching); `None`: always.
    pub ask_when: Option<Cond>,
}

/// A unit a number answer may also be given in, with the question asked in it.
#[derive(Debug, Clone)]
pub struct AlternativeUnit {
    pub unit: String,
    pub question: String,
    pub review: Review,
}

impl CodeDef {
    /// The alternative unit among `preferred` (a deployment's `locale.units`), if any.
    pub fn preferred_unit(&self, preferred: &[String]) -> Option<&AlternativeUnit> {
        self.alternative_units
            .iter()
            .find(|a| preferred.contains(&a.unit))
    }
}

/// Where a code is in its life (knowledge-base compatibility policy, README).
#[derive(Debug, Clone, PartialEq)]
pub enum Lifecycle {
    Active,
    /// Accepted and mapped to its replacements before the engine runs; no rule reads it.
    Deprecated(Deprecation),
    /// Refused, with a message naming what replaced it.
    Retired(Deprecation),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deprecation {
    /// Release that deprecated (or retired) the code.
    pub since: String,
    /// YYYY-MM-DD.
    pub deprecated_on: String,
    /// YYYY-MM-DD after which it may be retired.
    pub sunset: Option<String>,
    pub note: String,
    pub replaced_by: Vec<Replacement>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replacement {
    pub code: CodeId,
    pub mapping: ValueMapping,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueMapping {
    /// The answer carries over unchanged (same kind).
    Identity,
    /// Old value → new value (tri and choice values, as parsed); others leave it unanswered.
    Table(Vec<(MappedValue, MappedValue)>),
}

/// A tri-state or choice value, as a mapping names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappedValue {
    Present,
    Absent,
    Unknown,
    Choice(u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValueDeprecation {
    pub value: u16,
    pub replaced_by: u16,
    pub since: String,
    pub deprecated_on: String,
    pub sunset: Option<String>,
    pub note: String,
}

impl CodeDef {
    pub fn deprecation(&self) -> Option<&Deprecation> {
        match &self.lifecycle {
            Lifecycle::Deprecated(d) => Some(d),
            _ => None,
        }
    }

    pub fn status(&self) -> &'static str {
        match self.lifecycle {
            Lifecycle::Active => "active",
            Lifecycle::Deprecated(_) => "deprecated",
            Lifecycle::Retired(_) => "retired",
        }
    }

    pub fn is_active(&self) -> bool {
        self.lifecycle == Lifecycle::Active
    }
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub label: String,
    /// Its answers (who, when) qualify rules but are not evidence that points to one.
    pub qualifier: bool,
}

#[derive(Debug, Clone)]
pub struct RequiredScreen {
    pub code: CodeId,
    pub unless: Option<Cond>,
}

#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub groups: Vec<Group>,
    pub codes: Vec<CodeDef>,
    /// In clinical priority order (reference §7.4).
    pub required_screens: Vec<RequiredScreen>,
    /// The core intake questions, asked of everyone after the required screens.
    pub core_questions: Vec<CodeId>,
    pub(crate) index: CodeIndex,
    /// Names that exist but may not be sent as answers (derived findings, engine outputs).
    pub(crate) derived_names: Vec<String>,
    /// Ids of the codes the engine reads by name on every request, looked up once.
    pub(crate) well_known: WellKnownCodes,
}

/// Code name → id. Every request looks up each answer key here, so it uses FNV-1a
/// rather than SipHash: the table is fixed at load time and only read afterwards, so
/// keys chosen by a client cannot make it degrade (no inserts, no hash flooding).
pub(crate) type CodeIndex = HashMap<String, CodeId, BuildHasherDefault<Fnv1a>>;

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Codes the engine reads by name (`None` if a knowledge base lacks one).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WellKnownCodes {
    pub(crate) age_years: Option<CodeId>,
    pub(crate) onset_days_ago: Option<CodeId>,
    pub(crate) first_episode: Option<CodeId>,
    pub(crate) back_pain_onset_age: Option<CodeId>,
}

impl WellKnownCodes {
    pub(crate) fn resolve(index: &CodeIndex) -> WellKnownCodes {
        let id = |name: &str| index.get(name).copied();
        WellKnownCodes {
            age_years: id("age_years"),
            onset_days_ago: id("onset_days_ago"),
            first_episode: id("first_episode"),
            back_pain_onset_age: id("back_pain_onset_age"),
        }
    }
}

impl Vocabulary {
    pub fn lookup(&self, code: &str) -> Option<CodeId> {
        self.index.get(code).copied()
    }

    pub fn code(&self, id: CodeId) -> &CodeDef {
        &self.codes[id]
    }

    pub fn is_derived_name(&self, name: &str) -> bool {
        self.derived_names.iter().any(|n| n == name)
    }

    /// Known codes closest to a misspelt one, best first.
    pub fn suggestions(&self, unknown: &str) -> Vec<String> {
        super::fuzzy::closest(unknown, self.codes.iter().map(|c| c.code.as_str()), 3)
    }

    /// Codes in the order `GET /v1/vocabulary` lists them: required screens first.
    pub fn display_order(&self) -> Vec<CodeId> {
        let mut order: Vec<CodeId> = self.required_screens.iter().map(|s| s.code).collect();
        for id in 0..self.codes.len() {
            if !order.contains(&id) {
                order.push(id);
            }
        }
        order
    }
}

/// Whether a clinician has signed a text off (reference §7.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Review {
    /// Wording taken from the clinical reference.
    Reference,
    /// Drafted by the engineers; awaiting clinical sign-off.
    Draft,
    /// Signed off by the clinical safety officer.
    Approved,
}

impl Review {
    pub fn as_str(self) -> &'static str {
        match self {
            Review::Reference => "reference",
            Review::Draft => "draft",
            Review::Approved => "approved",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub name: String,
    pub description: String,
    pub when: Cond,
}

#[derive(Debug, Clone)]
pub struct Count {
    pub name: String,
    pub description: String,
    pub of: Vec<Cond>,
}

#[derive(Debug, Clone)]
pub struct Implication {
    pub code: CodeId,
    pub when: Cond,
    pub only_when_unanswered: bool,
    pub description: String,
}

/// Numbers the engine computes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    AgeAtOnset,
    SbtTotal,
    SbtPsych,
}

impl Computed {
    pub fn parse(name: &str) -> Option<Computed> {
        match name {
            "age_at_onset" => Some(Computed::AgeAtOnset),
            "sbt_total" => Some(Computed::SbtTotal),
            "sbt_psych" => Some(Computed::SbtPsych),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub parent: Option<String>,
    pub title: String,
    pub level: Level,
    pub timeframe: Timeframe,
    pub when: Cond,
    pub screens_for: Vec<String>,
    pub care_settings: Vec<String>,
    pub remote_ok: bool,
    /// Shown after the specific rules (R25 and its branch).
    pub catch_all: bool,
    pub patient_text: String,
    pub clinician_text: String,
    pub sources: Vec<usize>,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct Floor {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub timeframe: Timeframe,
    pub when: Cond,
    pub only_at_level: Option<Level>,
    pub remote_ok: bool,
    pub care_settings: Vec<String>,
    pub sources: Vec<usize>,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct Weight {
    pub weight: i32,
    pub when: Cond,
    pub evidence: String,
}

#[derive(Debug, Clone)]
pub struct CauseFloor {
    pub id: String,
    pub level: Level,
    pub timeframe: Timeframe,
    pub when: Option<Cond>,
    pub remote_ok: bool,
    pub care_settings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SubLabel {
    pub id: String,
    pub when: Cond,
}

#[derive(Debug, Clone)]
pub struct Cause {
    pub id: String,
    pub label: String,
    pub priority: u32,
    pub base: i32,
    pub exclude_when: Option<Cond>,
    pub gate: Option<Cond>,
    pub support: Vec<Weight>,
    pub oppose: Vec<Weight>,
    pub floor: Option<CauseFloor>,
    pub sub_labels: Vec<SubLabel>,
    pub advice: Vec<usize>,
    pub sources: Vec<usize>,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct Phase {
    pub id: String,
    pub label: String,
    pub from_days: u32,
    pub to_days: Option<u32>,
    pub advice: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct ExtraAdvice {
    pub when: Cond,
    pub advice: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct AdviceBlock {
    pub id: String,
    pub text: String,
    pub when: Option<Cond>,
    pub sources: Vec<usize>,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct Advice {
    pub core: Vec<usize>,
    pub phases: Vec<Phase>,
    pub extras: Vec<ExtraAdvice>,
    pub blocks: Vec<AdviceBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MedStatus {
    Suggest,
    Caution,
    /// A question that decides whether the option is safe is unanswered.
    AskFirst,
    Suppress,
}

impl MedStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MedStatus::Suggest => "suggest",
            MedStatus::Caution => "caution",
            MedStatus::AskFirst => "ask_first",
            MedStatus::Suppress => "suppress",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Medicine {
    pub id: String,
    pub label: String,
    pub text: String,
    pub show_when: Option<Cond>,
    pub default_status: MedStatus,
    pub prescription_only: bool,
    pub suppress: Vec<Cond>,
    pub caution: Vec<Cond>,
    /// Questions that must be answered before `suggest` or `caution` (same shape as a
    /// required screen: a code, skipped when `unless` holds).
    pub ask_first: Vec<RequiredScreen>,
    pub sources: Vec<usize>,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct SafetyBlock {
    pub id: String,
    pub text: String,
    pub non_emergency_only: bool,
    pub when: Option<Cond>,
    pub if_incomplete: bool,
    pub if_medicine_offered: Option<usize>,
    pub sources: Vec<usize>,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct StartBackItem {
    pub code: CodeId,
    pub positive: Vec<u16>,
    pub psychosocial: bool,
}

#[derive(Debug, Clone)]
pub struct StartBack {
    pub tool_version: String,
    pub panel_loinc: String,
    pub low_max_total: u32,
    pub high_min_psychosocial: u32,
    pub items: Vec<StartBackItem>,
    pub sources: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Risk> {
        match s {
            "low" => Some(Risk::Low),
            "medium" => Some(Risk::Medium),
            "high" => Some(Risk::High),
            _ => None,
        }
    }
}

impl StartBack {
    pub fn risk(&self, total: u32, psychosocial: u32) -> Risk {
        if total <= self.low_max_total {
            Risk::Low
        } else if psychosocial >= self.high_min_psychosocial {
            Risk::High
        } else {
            Risk::Medium
        }
    }
}

#[derive(Debug, Clone)]
pub struct Source {
    pub id: String,
    pub title: String,
    pub url: String,
    pub authority: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LevelInfo {
    pub level: Level,
    pub action: String,
    pub care_settings: Vec<String>,
    pub review: Review,
}

/// Medicine wording shared by every option.
#[derive(Debug, Clone)]
pub struct MedicineTexts {
    pub suppress_text: String,
    pub caution_prefix: String,
    pub ask_first_prefix: String,
    pub review: Review,
}

/// The reasons a next question is asked, in the order they are asked (the engine's
/// `Reason` follows this order).
pub const QUESTION_REASONS: [&str; 7] = [
    "required_screen",
    "settles_uncertainty",
    "core_intake",
    "could_raise_level",
    "medicine_screen",
    "refines_cause",
    "start_back",
];

#[derive(Debug, Clone)]
pub struct QuestionReason {
    pub reason: String,
    pub text: String,
    pub review: Review,
}

#[derive(Debug, Clone)]
pub struct Translation {
    pub text: String,
    pub review: Review,
}

/// One language (`config/rules/i18n/<language>.toml`)'s translations, by key.
#[derive(Debug)]
pub struct Catalog {
    pub language: String,
    /// Key → translation. A response in this language looks up each of its texts here, so
    /// FNV-1a as for [`CodeIndex`]: the keys come from the reviewed catalog, never a client.
    pub texts: HashMap<String, Translation, BuildHasherDefault<Fnv1a>>,
    /// The same translations found by where their English text lies in this knowledge base
    /// (address and length), so a response finds each without building its key. Checked by
    /// content on use; empty in a copy (see `Clone`), which finds everything in `texts`.
    pub by_source: HashMap<(usize, usize), SourcedTranslation, BuildHasherDefault<Fnv1a>>,
}

/// Where to find the translation of one English text: its key in `texts`, with the English
/// it translates (to check an address hit by content).
#[derive(Debug, Clone)]
pub struct SourcedTranslation {
    pub english: String,
    pub key: String,
}

/// A copy's English texts lie elsewhere, and the original's addresses could later hold other
/// texts: a copy finds its translations by key only.
impl Clone for Catalog {
    fn clone(&self) -> Catalog {
        Catalog {
            language: self.language.clone(),
            texts: self.texts.clone(),
            by_source: HashMap::default(),
        }
    }
}

impl Catalog {
    pub fn get(&self, key: &str) -> Option<&Translation> {
        self.texts.get(key)
    }

    /// The translation of the English text `english` of this knowledge base, by address.
    pub fn by_source(&self, english: &str) -> Option<&Translation> {
        if english.is_empty() {
            return None;
        }
        self.by_source
            .get(&(english.as_ptr() as usize, english.len()))
            .filter(|s| s.english == english)
            .and_then(|s| self.texts.get(&s.key))
    }
}

/// The words one health system uses for where to get care (e.g. UK "GP", US "primary care
/// doctor"), so that one text serves every deployment.
#[derive(Debug, Clone)]
pub struct CareSetting {
    pub id: String,
    /// Which health system this is, for the reviewer and the report.
    pub description: String,
    /// Fills `{primary_care_doctor}`: the family doctor, as in "see your …".
    pub primary_care_doctor: String,
    /// Fills `{primary_care_practice}`: where that doctor works, as in "ask your … for an
    /// urgent appointment".
    pub primary_care_practice: String,
    pub review: Review,
}

/// The placeholders patient texts may use, filled per deployment when a response is written.
pub const PLACEHOLDERS: [&str; 4] = [
    "emergency_number",
    "urgent_line",
    "primary_care_doctor",
    "primary_care_practice",
];

/// The whole knowledge base, validated. Shared read-only by every request.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pub version: String,
    pub digest: String,
    pub title: String,
    pub disclaimer: String,
    pub disclaimer_review: Review,
    /// Plain words for why a next question is asked, in `engine::Reason::ALL` order.
    pub question_reasons: Vec<QuestionReason>,
    /// Words filled into `{primary_care_doctor}` and `{primary_care_practice}`, one set per
    /// health system; a deployment picks one (`locale.care_setting`, default the first).
    pub care_settings: Vec<CareSetting>,
    /// Translations of the patient texts, one catalog per language (English is the source).
    pub languages: Vec<Catalog>,
    pub levels: Vec<LevelInfo>,
    pub vocabulary: Vocabulary,
    pub findings: Vec<Finding>,
    /// Evaluation order of `findings` (dependencies first).
    pub finding_order: Vec<usize>,
    pub counts: Vec<Count>,
    pub implications: Vec<Implication>,
    pub rules: Vec<Rule>,
    pub floors: Vec<Floor>,
    /// Each rule's condition split into alternatives of conjuncts, with the codes each part
    /// reads, `rules` order: what `next_questions` walks to see what could still raise the
    /// level, worked out once at load.
    pub rule_splits: Vec<Split>,
    /// The same for `floors`.
    pub floor_splits: Vec<Split>,
    pub causes: Vec<Cause>,
    pub advice: Advice,
    pub medicines: Vec<Medicine>,
    pub medicine_texts: MedicineTexts,
    pub safety_net: Vec<SafetyBlock>,
    pub startback: StartBack,
    pub sources: Vec<Source>,
}

/// A condition as alternatives of conjuncts (it holds when every conjunct of one alternative
/// holds), each part with the answer codes it reads.
#[derive(Debug, Clone)]
pub struct Split {
    /// Every code the whole condition reads, in the order written.
    pub reads: Vec<CodeId>,
    pub alternatives: Vec<Vec<Conjunct>>,
}

#[derive(Debug, Clone)]
pub struct Conjunct {
    pub when: Cond,
    /// The codes `when` reads, in the order written.
    pub reads: Vec<CodeId>,
}

impl KnowledgeBase {
    pub fn level_info(&self, level: Level) -> &LevelInfo {
        // Validation guarantees one entry per level, stored in `Level::ALL` order.
        let i = Level::ALL.iter().position(|l| *l == level).unwrap_or(0);
        &self.levels[i]
    }
}

// ---------------------------------------------------------------------------------------------
// The condition language (compiled form); compiling and walking it is in `condition.rs`.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CmpOp::Gt => left > right,
            CmpOp::Ge => left >= right,
            CmpOp::Lt => left < right,
            CmpOp::Le => left <= right,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Gt => ">",
            CmpOp::Ge => "≥",
            CmpOp::Lt => "<",
            CmpOp::Le => "≤",
        }
    }
}

/// Where a compared number comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumRef {
    Code(CodeId),
    Count(usize),
    Computed(Computed),
}

/// A compiled condition: names resolved to indices, values to choice indices.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    /// A tri-state code is present (answered, or implied by another answer).
    Present(CodeId),
    /// A named derived finding holds.
    Finding(usize),
    /// A tri-state code was explicitly answered `absent`.
    Absent(CodeId),
    /// The code was not answered, or answered `unknown`.
    Missing(CodeId),
    /// An enum/response value is one of `values` (`negate`: is none of them; true when unanswered).
    Choice {
        code: CodeId,
        values: Vec<u16>,
        negate: bool,
    },
    SetContains {
        code: CodeId,
        value: u16,
    },
    /// All comparisons must hold (e.g. `ge = 20, le = 55`).
    Compare {
        num: NumRef,
        tests: Vec<(CmpOp, f64)>,
    },
    StartBackAtLeast(Risk),
    /// Some required safety screen is not ruled out, in the given way (R25 and its branch).
    Unscreened(ScreenState),
}

/// How a required screen can fail to be ruled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenState {
    /// Unknown, unanswered or present (`unscreened = true`).
    NotRuledOut,
    /// Unknown or unanswered only (`unscreened = "unknown"`): a question to go back to.
    Unanswered,
    /// Answered present (`unscreened = "present"`): a positive answer, not a gap.
    Positive,
}
