//! Reading the rule files, validating them against each other, and compiling them.
//!
//! Validation collects every problem before failing, so a reviewer fixes a broken
//! knowledge base in one pass: each problem names its file and the rule or code.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::condition::{compile, Cond, Scope};
use super::model::*;
use super::raw::*;

/// The rule files, in the byte order of their names (the digest's order).
pub const FILES: [&str; 11] = [
    "advice.toml",
    "causes.toml",
    "derived.toml",
    "floors.toml",
    "knowledge_base.toml",
    "medicines.toml",
    "red_flags.toml",
    "safety_net.toml",
    "sources.toml",
    "startback.toml",
    "vocabulary.toml",
];

/// The default knowledge base, compiled into the binary.
const EMBEDDED: [(&str, &str); 12] = [
    (
        "i18n/es.toml",
        include_str!("../../config/rules/i18n/es.toml"),
    ),
    (
        "advice.toml",
        include_str!("../../config/rules/advice.toml"),
    ),
    (
        "causes.toml",
        include_str!("../../config/rules/causes.toml"),
    ),
    (
        "derived.toml",
        include_str!("../../config/rules/derived.toml"),
    ),
    (
        "floors.toml",
        include_str!("../../config/rules/floors.toml"),
    ),
    (
        "knowledge_base.toml",
        include_str!("../../config/rules/knowledge_base.toml"),
    ),
    (
        "medicines.toml",
        include_str!("../../config/rules/medicines.toml"),
    ),
    (
        "red_flags.toml",
        include_str!("../../config/rules/red_flags.toml"),
    ),
    (
        "safety_net.toml",
        include_str!("../../config/rules/safety_net.toml"),
    ),
    (
        "sources.toml",
        include_str!("../../config/rules/sources.toml"),
    ),
    (
        "startback.toml",
        include_str!("../../config/rules/startback.toml"),
    ),
    (
        "vocabulary.toml",
        include_str!("../../config/rules/vocabulary.toml"),
    ),
];

/// One problem in the knowledge base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    /// The rule, code or block id the problem is in (empty for file-level problems).
    pub item: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.item.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.item, self.message)
        }
    }
}

/// The knowledge base refused to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the knowledge base has {} problem(s):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// Where the rule files come from.
#[derive(Debug, Clone)]
pub enum RuleSource {
    Embedded,
    Directory(PathBuf),
}

/// The rule files' text, by file name.
pub fn read_files(source: &RuleSource) -> Result<Vec<(String, String)>, LoadError> {
    match source {
        RuleSource::Embedded => Ok(EMBEDDED
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect()),
        RuleSource::Directory(dir) => {
            let mut files = Vec::new();
            let mut problems = Vec::new();
            for name in FILES {
                let path = dir.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(text) => files.push((name.to_owned(), text)),
                    Err(e) => problems.push(Problem {
                        file: name.to_owned(),
                        item: String::new(),
                        message: format!("cannot read `{}`: {e}", path.display()),
                    }),
                }
            }
            // Translations: every `i18n/<language>.toml` there is (none is fine).
            if let Ok(entries) = std::fs::read_dir(dir.join("i18n")) {
                let mut names: Vec<String> = entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".toml"))
                    .collect();
                names.sort();
                for n in names {
                    let name = format!("i18n/{n}");
                    match std::fs::read_to_string(dir.join(&name)) {
                        Ok(text) => files.push((name, text)),
                        Err(e) => problems.push(Problem {
                            file: name,
                            item: String::new(),
                            message: format!("cannot read it: {e}"),
                        }),
                    }
                }
            }
            if problems.is_empty() {
                Ok(files)
            } else {
                Err(LoadError { problems })
            }
        }
    }
}

pub fn load(source: &RuleSource) -> Result<KnowledgeBase, LoadError> {
    let files = read_files(source)?;
    load_from_files(&files)
}

/// `sha256:` + hex SHA-256 over, per file in byte order of its path: path, `\n`,
/// content with `\n` line endings, `\n` (reference §7.11).
pub fn digest(files: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hasher = Sha256::new();
    for (path, content) in sorted {
        hasher.update(path.as_bytes());
        hasher.update(b"\n");
        hasher.update(content.replace("\r\n", "\n").as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

pub fn load_from_files(files: &[(String, String)]) -> Result<KnowledgeBase, LoadError> {
    let mut problems = Vec::new();
    let text = |name: &str| -> &str {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    };
    fn parse<T: DeserializeOwned>(
        name: &str,
        text: &str,
        problems: &mut Vec<Problem>,
    ) -> Option<T> {
        match toml::from_str::<T>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(Problem {
                    file: name.to_owned(),
                    item: String::new(),
                    message: e.to_string().trim().replace('\n', " "),
                });
                None
            }
        }
    }
    let meta: Option<RawMeta> = parse(
        "knowledge_base.toml",
        text("knowledge_base.toml"),
        &mut problems,
    );
    let vocabulary: Option<RawVocabulary> =
        parse("vocabulary.toml", text("vocabulary.toml"), &mut problems);
    let derived: Option<RawDerived> = parse("derived.toml", text("derived.toml"), &mut problems);
    let red_flags: Option<RawRedFlags> =
        parse("red_flags.toml", text("red_flags.toml"), &mut problems);
    let floors: Option<RawFloors> = parse("floors.toml", text("floors.toml"), &mut problems);
    let causes: Option<RawCauses> = parse("causes.toml", text("causes.toml"), &mut problems);
    let advice: Option<RawAdvice> = parse("advice.toml", text("advice.toml"), &mut problems);
    let medicines: Option<RawMedicines> =
        parse("medicines.toml", text("medicines.toml"), &mut problems);
    let safety: Option<RawSafetyNet> =
        parse("safety_net.toml", text("safety_net.toml"), &mut problems);
    let startback: Option<RawStartBack> =
        parse("startback.toml", text("startback.toml"), &mut problems);
    let sources: Option<RawSources> = parse("sources.toml", text("sources.toml"), &mut problems);
    let (
        Some(meta),
        Some(vocabulary),
        Some(derived),
        Some(red_flags),
        Some(floors),
        Some(causes),
        Some(advice),
        Some(medicines),
        Some(safety),
        Some(startback),
        Some(sources),
    ) = (
        meta, vocabulary, derived, red_flags, floors, causes, advice, medicines, safety, startback,
        sources,
    )
    else {
        return Err(LoadError { problems });
    };
    let raw = RawKnowledgeBase {
        meta,
        vocabulary,
        derived,
        red_flags,
        floors,
        causes,
        advice,
        medicines,
        safety,
        startback,
        sources,
    };
    let mut compiler = Compiler {
        problems,
        file: "",
        item: String::new(),
    };
    let mut kb = compiler.compile(&raw, digest(files));
    let (languages, catalog_problems) = super::i18n::compile_catalogs(&kb, files);
    compiler.problems.extend(
        catalog_problems
            .into_iter()
            .map(|(file, item, message)| Problem {
                file,
                item,
                message,
            }),
    );
    kb.languages = languages;
    if compiler.problems.is_empty() {
        Ok(kb)
    } else {
        Err(LoadError {
            problems: compiler.problems,
        })
    }
}

struct RawKnowledgeBase {
    meta: RawMeta,
    vocabulary: RawVocabulary,
    derived: RawDerived,
    red_flags: RawRedFlags,
    floors: RawFloors,
    causes: RawCauses,
    advice: RawAdvice,
    medicines: RawMedicines,
    safety: RawSafetyNet,
    startback: RawStartBack,
    sources: RawSources,
}

struct Compiler {
    problems: Vec<Problem>,
    file: &'static str,
    item: String,
}

impl Compiler {
    fn at(&mut self, file: &'static str, item: &str) {
        self.file = file;
        self.item = item.to_owned();
    }

    fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            item: self.item.clone(),
            message: message.into(),
        });
    }

    fn cond(&mut self, raw: &RawCondition, scope: &Scope<'_>, what: &str) -> Cond {
        let mut errors = Vec::new();
        let cond = compile(raw, scope, &mut errors);
        for e in errors {
            self.problem(format!("{what}: {e}"));
        }
        cond
    }

    fn review(&mut self, raw: Option<&str>) -> Review {
        match raw {
            None | Some("draft") => Review::Draft,
            Some("reference") => Review::Reference,
            Some("approved") => Review::Approved,
            Some(other) => {
                self.problem(format!(
                    "review `{other}` is not one of draft, reference, approved"
                ));
                Review::Draft
            }
        }
    }

    /// Branching conditions: on vocabulary codes only, and no question may (through other
    /// questions' conditions) depend on itself.
    fn ask_when(&mut self, raw: &RawVocabulary, vocabulary: &mut Vocabulary, none: &[String]) {
        let mut compiled: Vec<(CodeId, Cond)> = Vec::new();
        for c in &raw.codes {
            let (Some(when), Some(id)) = (&c.ask_when, vocabulary.lookup(&c.code)) else {
                continue;
            };
            self.at("vocabulary.toml", &c.code);
            let scope = Scope {
                vocabulary,
                findings: none,
                counts: none,
                allow_derived: false,
                allow_unscreened: false,
            };
            let cond = self.cond(when, &scope, "ask_when");
            self.never(&cond, "ask_when");
            compiled.push((id, cond));
        }
        let depends: Vec<(CodeId, Vec<CodeId>)> = compiled
            .iter()
            .map(|(id, cond)| {
                let mut refs = Vec::new();
                cond.code_refs(&mut refs);
                (*id, refs)
            })
            .collect();
        for (start, _) in &depends {
            // Depth-first walk from each question; meeting it again is a cycle.
            let mut stack: Vec<CodeId> = vec![*start];
            let mut seen: Vec<CodeId> = Vec::new();
            while let Some(at) = stack.pop() {
                for (id, refs) in &depends {
                    if *id != at {
                        continue;
                    }
                    for r in refs {
                        if r == start {
                            let name = vocabulary.code(*start).code.clone();
                            self.at("vocabulary.toml", &name);
                            self.problem(
                                "ask_when depends on this question itself (a branching cycle)",
                            );
                            stack.clear();
                            break;
                        }
                        if !seen.contains(r) {
                            seen.push(*r);
                            stack.push(*r);
                        }
                    }
                }
            }
        }
        for (id, cond) in compiled {
            vocabulary.codes[id].ask_when = Some(cond);
        }
    }

    /// Other units of a number code: each must convert to the code's own unit
    /// (`knowledge::units`), once, with a question of its own.
    fn alternative_units(&mut self, raw: &RawCode, kind: &ValueKind) -> Vec<AlternativeUnit> {
        if raw.alternative_units.is_empty() {
            return Vec::new();
        }
        let Some(base) = raw.unit.as_deref() else {
            self.problem("alternative_units needs the code's own `unit`");
            return Vec::new();
        };
        if !matches!(kind, ValueKind::Number { .. }) {
            self.problem("only number codes take alternative_units");
        }
        let mut out: Vec<AlternativeUnit> = Vec::new();
        for alt in &raw.alternative_units {
            if !super::units::converts(base, &alt.unit) {
                self.problem(format!(
                    "alternative unit `{}` has no conversion to `{base}` (known: °F to °C, lb and st to kg)",
                    alt.unit
                ));
            }
            if out.iter().any(|o| o.unit == alt.unit) {
                self.problem(format!("alternative unit `{}` is listed twice", alt.unit));
            }
            if alt.question.trim().is_empty() {
                self.problem(format!("alternative unit `{}` needs a question", alt.unit));
            }
            let review = self.review(alt.review.as_deref());
            out.push(AlternativeUnit {
                unit: alt.unit.clone(),
                question: alt.question.clone(),
                review,
            });
        }
        out
    }

    /// Value labels in value order: every value of an enum or set code needs one when any is
    /// given, and only values of the code may have one.
    fn labels(&mut self, raw: &RawCode, kind: &ValueKind) -> Vec<String> {
        if raw.labels.is_empty() {
            return Vec::new();
        }
        let values = kind.choices();
        if values.is_empty() {
            self.problem("only enum and set codes take labels");
            return Vec::new();
        }
        for key in raw.labels.keys() {
            if !values.contains(key) {
                self.problem(format!(
                    "label for `{key}`, which is not a value of this code"
                ));
            }
        }
        values
            .iter()
            .map(|v| match raw.labels.get(v) {
                Some(label) if !label.trim().is_empty() => label.clone(),
                _ => {
                    self.problem(format!(
                        "value `{v}` has no label (label every value or none)"
                    ));
                    v.clone()
                }
            })
            .collect()
    }

    fn sources(&mut self, ids: &[String], index: &HashMap<String, usize>) -> Vec<usize> {
        let mut out = Vec::new();
        for id in ids {
            match index.get(id) {
                Some(i) => out.push(*i),
                None => {
                    let close = super::fuzzy::closest(id, index.keys().map(String::as_str), 3);
                    self.problem(format!(
                        "source `{id}` is not defined in sources.toml{}",
                        hint(&close)
                    ));
                }
            }
        }
        out
    }

    fn care_settings(&mut self, settings: &[String]) {
        for s in settings {
            if !CARE_SETTINGS.contains(&s.as_str()) {
                self.problem(format!(
                    "care setting `{s}` is not one of {}",
                    CARE_SETTINGS.join(", ")
                ));
            }
        }
    }

    fn screens_for(&mut self, values: &[String]) {
        for s in values {
            if !SCREENS_FOR.contains(&s.as_str()) {
                let close = super::fuzzy::closest(s, SCREENS_FOR.into_iter(), 3);
                self.problem(format!(
                    "screens_for `{s}` is not a known value{}",
                    hint(&close)
                ));
            }
        }
    }

    fn level(&mut self, raw: &str) -> Level {
        Level::parse(raw).unwrap_or_else(|| {
            self.problem(format!(
                "level `{raw}` is not one of emergency_ambulance, emergency, consultation_24, consultation, self_care"
            ));
            Level::SelfCare
        })
    }

    fn timeframe(&mut self, level: Level, raw: Option<&str>) -> Timeframe {
        match (level, raw) {
            (Level::Consultation, Some(t)) => {
                Timeframe::parse_consultation(t).unwrap_or_else(|| {
                    self.problem(format!(
                        "timeframe `{t}` is not one of within_1_week, within_2_weeks, routine"
                    ));
                    Timeframe::Routine
                })
            }
            (Level::Consultation, None) => {
                self.problem("a consultation level needs a timeframe (within_1_week, within_2_weeks or routine)");
                Timeframe::Routine
            }
            (other, Some(t)) => {
                self.problem(format!(
                    "timeframe `{t}` is only allowed with level consultation, not {}",
                    other.as_str()
                ));
                Timeframe::for_level(other, None)
            }
            (other, None) => Timeframe::for_level(other, None),
        }
    }

    /// Level-setting conditions must never test absence (reference §7.1.2).
    fn monotone(
        &mut self,
        cond: &Cond,
        findings: &[Finding],
        vocabulary: &Vocabulary,
        names: &[String],
        what: &str,
    ) {
        let defs: Vec<Cond> = findings.iter().map(|f| f.when.clone()).collect();
        let mut bad = Vec::new();
        cond.negative_tri_tests(&defs, &mut bad, vocabulary, names);
        if !bad.is_empty() {
            self.problem(format!(
                "{what} sets a level, so it may not test that a finding is absent (reference §7.1.2); it tests {}",
                bad.join(", ")
            ));
        }
    }

    fn never(&mut self, cond: &Cond, what: &str) {
        if cond.is_never() || contradictory(cond) {
            self.problem(format!("{what} can never be true"));
        }
    }

    fn compile(&mut self, raw: &RawKnowledgeBase, digest: String) -> KnowledgeBase {
        // Sources.
        self.at("sources.toml", "");
        let mut source_index = HashMap::new();
        let mut sources = Vec::new();
        for s in &raw.sources.sources {
            self.at("sources.toml", &s.id);
            if source_index.insert(s.id.clone(), sources.len()).is_some() {
                self.problem("duplicate source id");
            }
            if s.url.trim().is_empty() || s.title.trim().is_empty() {
                self.problem("a source needs a title and a url");
            }
            sources.push(Source {
                id: s.id.clone(),
                title: s.title.clone(),
                url: s.url.clone(),
                authority: s.authority.clone(),
            });
        }

        let vocabulary = self.vocabulary(&raw.vocabulary, &raw.derived);

        // Derived findings: names first, so definitions may refer to each other.
        let finding_names: Vec<String> = raw
            .derived
            .findings
            .iter()
            .map(|f| f.name.clone())
            .collect();
        let count_names: Vec<String> = raw.derived.counts.iter().map(|c| c.name.clone()).collect();
        let scope = Scope {
            vocabulary: &vocabulary,
            findings: &finding_names,
            counts: &count_names,
            allow_derived: true,
            allow_unscreened: false,
        };
        let mut findings = Vec::new();
        for f in &raw.derived.findings {
            self.at("derived.toml", &f.name);
            let when = self.cond(&f.when, &scope, "condition");
            self.never(&when, "condition");
            findings.push(Finding {
                name: f.name.clone(),
                description: f.description.clone(),
                when,
            });
        }
        let finding_order = self.finding_order(&findings);
        let mut counts = Vec::new();
        for c in &raw.derived.counts {
            self.at("derived.toml", &c.name);
            let of =
                c.of.iter()
                    .map(|x| self.cond(x, &scope, "counted condition"))
                    .collect();
            counts.push(Count {
                name: c.name.clone(),
                description: c.description.clone(),
                of,
            });
        }
        let answers_only = Scope {
            allow_derived: false,
            ..scope
        };
        let mut implications = Vec::new();
        for imp in &raw.derived.implications {
            self.at("derived.toml", &imp.code);
            let when = self.cond(&imp.when, &answers_only, "implication");
            match vocabulary.lookup(&imp.code) {
                Some(id) if vocabulary.code(id).kind == ValueKind::Tri => {
                    implications.push(Implication {
                        code: id,
                        when,
                        only_when_unanswered: imp.only_when_unanswered,
                        description: imp.description.clone(),
                    })
                }
                Some(_) => self.problem("an implication must set a tri-state code"),
                None => self.problem(format!(
                    "unknown code `{}`{}",
                    imp.code,
                    hint(&vocabulary.suggestions(&imp.code))
                )),
            }
        }
        for c in &raw.derived.computed {
            self.at("derived.toml", &c.name);
            if Computed::parse(&c.name).is_none() {
                self.problem("the engine computes only age_at_onset, sbt_total and sbt_psych");
            }
        }

        // Levels.
        self.at("knowledge_base.toml", "");
        let mut levels = Vec::new();
        for level in Level::ALL {
            let matching: Vec<&RawLevel> = raw
                .meta
                .levels
                .iter()
                .filter(|l| l.level == level.as_str())
                .collect();
            self.at("knowledge_base.toml", level.as_str());
            match matching.as_slice() {
                [one] => {
                    self.care_settings(&one.care_settings);
                    let review = self.review(one.review.as_deref());
                    levels.push(LevelInfo {
                        level,
                        action: one.action.clone(),
                        care_settings: one.care_settings.clone(),
                        review,
                    });
                }
                [] => {
                    self.problem("level is missing from [[levels]]");
                    levels.push(LevelInfo {
                        level,
                        action: String::new(),
                        care_settings: Vec::new(),
                        review: Review::Draft,
                    });
                }
                _ => self.problem("level is listed more than once"),
            }
        }
        for l in &raw.meta.levels {
            if Level::parse(&l.level).is_none() {
                self.at("knowledge_base.toml", &l.level);
                self.problem("unknown level");
            }
        }
        self.at("knowledge_base.toml", "");
        let disclaimer_review = self.review(raw.meta.disclaimer_review.as_deref());
        let mut question_reasons = Vec::new();
        for reason in QUESTION_REASONS {
            match raw.meta.question_reasons.iter().find(|r| r.reason == reason) {
                Some(r) => question_reasons.push(QuestionReason {
                    reason: r.reason.clone(),
                    text: r.text.clone(),
                    review: self.review(r.review.as_deref()),
                }),
                None => self.problem(format!(
                    "question_reasons: `{reason}` has no text (every next-question reason needs one)"
                )),
            }
        }
        for r in &raw.meta.question_reasons {
            if !QUESTION_REASONS.contains(&r.reason.as_str()) {
                self.problem(format!(
                    "question_reasons: `{}` is not a reason (one of {})",
                    r.reason,
                    QUESTION_REASONS.join(", ")
                ));
            }
        }
        if raw.meta.version.trim().is_empty() {
            self.problem("version must not be empty");
        }
        let care_settings = self.care_word_sets(&raw.meta.care_settings);

        // Rules.
        let rule_scope = Scope {
            allow_unscreened: true,
            ..scope
        };
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut rules: Vec<Rule> = Vec::new();
        for r in &raw.red_flags.rules {
            self.at("red_flags.toml", &r.id);
            if !seen_ids.insert(r.id.clone()) {
                self.problem("duplicate rule id");
            }
            let parent = match &r.parent {
                Some(p) => {
                    let found = raw.red_flags.rules.iter().find(|x| &x.id == p);
                    if found.is_none() {
                        self.problem(format!("parent `{p}` is not a rule"));
                    }
                    found
                }
                None => None,
            };
            let level = self.level(&r.level);
            let timeframe = self.timeframe(level, r.timeframe.as_deref());
            let when = self.cond(&r.when, &rule_scope, "condition");
            self.never(&when, "condition");
            self.monotone(
                &when,
                &findings,
                &vocabulary,
                &finding_names,
                "the condition",
            );
            let inherit = |own: &Option<Vec<String>>,
                           parent_field: Option<&Option<Vec<String>>>|
             -> Vec<String> {
                own.clone()
                    .or_else(|| parent_field.and_then(|p| p.clone()))
                    .unwrap_or_default()
            };
            let screens_for = inherit(&r.screens_for, parent.map(|p| &p.screens_for));
            if screens_for.is_empty() {
                self.problem("screens_for is empty");
            }
            self.screens_for(&screens_for);
            let care_settings = inherit(&r.care_settings, parent.map(|p| &p.care_settings));
            self.care_settings(&care_settings);
            let source_ids = inherit(&r.sources, parent.map(|p| &p.sources));
            if source_ids.is_empty() {
                self.problem("a rule must cite at least one source");
            }
            let sources = self.sources(&source_ids, &source_index);
            let remote_ok = r
                .remote_ok
                .or(parent.and_then(|p| p.remote_ok))
                .unwrap_or(false);
            let catch_all = r
                .catch_all
                .or(parent.and_then(|p| p.catch_all))
                .unwrap_or(false);
            let review = self.review(r.review.as_deref());
            if r.patient_text.trim().is_empty()
                || r.clinician_text.trim().is_empty()
                || r.title.trim().is_empty()
            {
                self.problem("title, patient_text and clinician_text must not be empty");
            }
            rules.push(Rule {
                id: r.id.clone(),
                parent: r.parent.clone(),
                title: r.title.clone(),
                level,
                timeframe,
                when,
                screens_for,
                care_settings,
                remote_ok,
                catch_all,
                patient_text: r.patient_text.clone(),
                clinician_text: r.clinician_text.clone(),
                sources,
                review,
            });
        }

        let mut floors = Vec::new();
        for f in &raw.floors.floors {
            self.at("floors.toml", &f.id);
            if !seen_ids.insert(f.id.clone()) {
                self.problem("duplicate id (rule and floor ids share one namespace)");
            }
            let level = self.level(&f.level);
            let timeframe = self.timeframe(level, f.timeframe.as_deref());
            let when = self.cond(&f.when, &scope, "condition");
            self.never(&when, "condition");
            self.monotone(
                &when,
                &findings,
                &vocabulary,
                &finding_names,
                "the condition",
            );
            let only_at_level = f.only_at_level.as_deref().map(|l| self.level(l));
            let care_settings = f.care_settings.clone().unwrap_or_default();
            self.care_settings(&care_settings);
            let sources = self.sources(&f.sources, &source_index);
            let review = self.review(f.review.as_deref());
            floors.push(Floor {
                id: f.id.clone(),
                title: f.title.clone(),
                level,
                timeframe,
                when,
                only_at_level,
                remote_ok: f.remote_ok,
                care_settings,
                sources,
                review,
            });
        }

        // Advice blocks before causes, which refer to them.
        let mut block_index = HashMap::new();
        let mut blocks = Vec::new();
        for b in &raw.advice.blocks {
            self.at("advice.toml", &b.id);
            if block_index.insert(b.id.clone(), blocks.len()).is_some() {
                self.problem("duplicate advice block id");
            }
            let when = b.when.as_ref().map(|c| self.cond(c, &scope, "condition"));
            let sources = self.sources(&b.sources, &source_index);
            let review = self.review(b.review.as_deref());
            blocks.push(AdviceBlock {
                id: b.id.clone(),
                text: b.text.clone(),
                when,
                sources,
                review,
            });
        }
        let block_refs = |c: &mut Compiler, ids: &[String]| -> Vec<usize> {
            ids.iter()
                .filter_map(|id| {
                    let found = block_index.get(id).copied();
                    if found.is_none() {
                        let close =
                            super::fuzzy::closest(id, block_index.keys().map(String::as_str), 3);
                        c.problem(format!(
                            "advice block `{id}` is not defined in advice.toml{}",
                            hint(&close)
                        ));
                    }
                    found
                })
                .collect()
        };
        self.at("advice.toml", "core");
        let core = block_refs(self, &raw.advice.core);
        let mut phases = Vec::new();
        let mut expected_from = 0;
        for p in &raw.advice.phases {
            self.at("advice.toml", &p.id);
            if p.from_days != expected_from {
                self.problem(format!(
                    "phases must cover every day without gaps: expected from_days = {expected_from}"
                ));
            }
            if let Some(to) = p.to_days {
                if to <= p.from_days {
                    self.problem("to_days must be after from_days");
                }
                expected_from = to;
            }
            let advice = block_refs(self, &p.advice);
            phases.push(Phase {
                id: p.id.clone(),
                label: p.label.clone(),
                from_days: p.from_days,
                to_days: p.to_days,
                advice,
            });
        }
        if raw
            .advice
            .phases
            .last()
            .is_some_and(|p| p.to_days.is_some())
        {
            self.at("advice.toml", "phases");
            self.problem("the last phase must have no to_days (it covers every later day)");
        }
        let mut extras = Vec::new();
        for (i, e) in raw.advice.extras.iter().enumerate() {
            self.at("advice.toml", &format!("extras[{i}]"));
            let when = self.cond(&e.when, &scope, "condition");
            let advice = block_refs(self, &e.advice);
            extras.push(ExtraAdvice { when, advice });
        }

        // Causes.
        let mut causes = Vec::new();
        let mut cause_ids = HashSet::new();
        for c in &raw.causes.causes {
            self.at("causes.toml", &c.id);
            if !cause_ids.insert(c.id.clone()) {
                self.problem("duplicate cause id");
            }
            let exclude_when = c
                .exclude_when
                .as_ref()
                .map(|x| self.cond(x, &scope, "exclude_when"));
            let gate = c.gate.as_ref().map(|x| self.cond(x, &scope, "gate"));
            let weights = |list: &[RawWeight], what: &str, s: &mut Compiler| -> Vec<Weight> {
                list.iter()
                    .map(|w| {
                        let when = s.cond(&w.when, &scope, what);
                        if w.weight <= 0 {
                            s.problem(format!("{what} weights are written as positive numbers"));
                        }
                        let evidence = w.evidence.clone().unwrap_or_else(|| {
                            single_code(&w.when).unwrap_or_else(|| {
                                s.problem(format!(
                                    "{what} entry tests more than one code; give it an `evidence` name"
                                ));
                                String::new()
                            })
                        });
                        Weight {
                            weight: w.weight,
                            when,
                            evidence,
                        }
                    })
                    .collect()
            };
            let support = weights(&c.support, "support", self);
            let oppose = weights(&c.oppose, "oppose", self);
            let floor = c.floor.as_ref().map(|f| {
                let level = self.level(&f.level);
                let timeframe = self.timeframe(level, f.timeframe.as_deref());
                let when = f
                    .when
                    .as_ref()
                    .map(|x| self.cond(x, &scope, "floor condition"));
                let care_settings = f.care_settings.clone().unwrap_or_default();
                self.care_settings(&care_settings);
                CauseFloor {
                    id: format!("CAUSE-{}", c.id),
                    level,
                    timeframe,
                    when,
                    remote_ok: f.remote_ok,
                    care_settings,
                }
            });
            if let Some(f) = &floor {
                // A floor raises the level from gate + support: both must be monotone.
                if let Some(g) = &gate {
                    self.monotone(
                        g,
                        &findings,
                        &vocabulary,
                        &finding_names,
                        "the gate of a cause with a floor",
                    );
                }
                for w in &support {
                    self.monotone(
                        &w.when,
                        &findings,
                        &vocabulary,
                        &finding_names,
                        "a support entry of a cause with a floor",
                    );
                }
                if let Some(w) = &f.when {
                    self.monotone(
                        w,
                        &findings,
                        &vocabulary,
                        &finding_names,
                        "the floor condition",
                    );
                }
                if !seen_ids.insert(f.id.clone()) {
                    self.problem(format!("floor id `{}` collides with another id", f.id));
                }
            }
            let sub_labels = c
                .sub_labels
                .iter()
                .map(|s| SubLabel {
                    id: s.id.clone(),
                    when: self.cond(&s.when, &scope, "sub_label"),
                })
                .collect();
            let advice = block_refs(self, &c.advice);
            let sources = self.sources(&c.sources, &source_index);
            let review = self.review(c.review.as_deref());
            causes.push(Cause {
                id: c.id.clone(),
                label: c.label.clone(),
                priority: c.priority,
                base: c.base,
                exclude_when,
                gate,
                support,
                oppose,
                floor,
                sub_labels,
                advice,
                sources,
                review,
            });
        }

        // Medicines.
        self.at("medicines.toml", "");
        let medicine_texts_review = self.review(raw.medicines.texts_review.as_deref());
        let mut medicines = Vec::new();
        let mut medicine_index = HashMap::new();
        for m in &raw.medicines.options {
            self.at("medicines.toml", &m.id);
            if medicine_index
                .insert(m.id.clone(), medicines.len())
                .is_some()
            {
                self.problem("duplicate medicine option id");
            }
            let show_when = m
                .show_when
                .as_ref()
                .map(|x| self.cond(x, &scope, "show_when"));
            let default_status = match m.default_status.as_deref() {
                None | Some("suggest") => MedStatus::Suggest,
                Some("caution") => MedStatus::Caution,
                Some(other) => {
                    self.problem(format!(
                        "default_status `{other}` is not suggest or caution"
                    ));
                    MedStatus::Suggest
                }
            };
            let suppress = m
                .suppress
                .iter()
                .map(|x| self.cond(x, &scope, "suppress"))
                .collect();
            let caution = m
                .caution
                .iter()
                .map(|x| self.cond(x, &scope, "caution"))
                .collect();
            let mut ask_first = Vec::new();
            for q in &m.ask_first {
                let Some(id) = vocabulary.lookup(&q.code) else {
                    self.problem(format!(
                        "ask_first code `{}` is not in the vocabulary{}",
                        q.code,
                        hint(&vocabulary.suggestions(&q.code))
                    ));
                    continue;
                };
                if ask_first.iter().any(|x: &RequiredScreen| x.code == id) {
                    self.problem(format!("ask_first lists `{}` twice", q.code));
                }
                let unless = q.unless.as_ref().map(|u| self.cond(u, &scope, "unless"));
                ask_first.push(RequiredScreen { code: id, unless });
            }
            let sources = self.sources(&m.sources, &source_index);
            let review = self.review(m.review.as_deref());
            medicines.push(Medicine {
                id: m.id.clone(),
                label: m.label.clone(),
                text: m.text.clone(),
                show_when,
                default_status,
                prescription_only: m.prescription_only,
                suppress,
                caution,
                ask_first,
                sources,
                review,
            });
        }

        // Safety net.
        let mut safety_net = Vec::new();
        let mut safety_ids = HashSet::new();
        for b in &raw.safety.blocks {
            self.at("safety_net.toml", &b.id);
            if !safety_ids.insert(b.id.clone()) {
                self.problem("duplicate safety-net block id");
            }
            let non_emergency_only = match b.levels.as_str() {
                "all" => false,
                "non_emergency" => true,
                other => {
                    self.problem(format!("levels `{other}` is not all or non_emergency"));
                    false
                }
            };
            let when = b.when.as_ref().map(|x| self.cond(x, &scope, "condition"));
            let if_medicine_offered = b.if_medicine_offered.as_ref().and_then(|m| {
                let found = medicine_index.get(m).copied();
                if found.is_none() {
                    self.problem(format!(
                        "medicine option `{m}` is not defined in medicines.toml"
                    ));
                }
                found
            });
            let sources = self.sources(&b.sources, &source_index);
            let review = self.review(b.review.as_deref());
            safety_net.push(SafetyBlock {
                id: b.id.clone(),
                text: b.text.clone(),
                non_emergency_only,
                when,
                if_incomplete: b.if_incomplete,
                if_medicine_offered,
                sources,
                review,
            });
        }

        // STarT Back.
        self.at("startback.toml", "");
        let mut items = Vec::new();
        for item in &raw.startback.items {
            self.at("startback.toml", &item.code);
            let Some(id) = vocabulary.lookup(&item.code) else {
                self.problem("STarT Back item is not a vocabulary code");
                continue;
            };
            let kind = vocabulary.code(id).kind.clone();
            if !matches!(kind, ValueKind::Enum { .. }) {
                self.problem("STarT Back item must be an enum code");
            }
            let positive: Vec<u16> = item
                .positive
                .iter()
                .filter_map(|v| {
                    let idx = kind.choice_index(v);
                    if idx.is_none() {
                        self.problem(format!("`{v}` is not a value of `{}`", item.code));
                    }
                    idx
                })
                .collect();
            items.push(StartBackItem {
                code: id,
                positive,
                psychosocial: item.psychosocial,
            });
        }
        self.at("startback.toml", "");
        let sb_sources = self.sources(&raw.startback.sources, &source_index);

        let mut kb = KnowledgeBase {
            version: raw.meta.version.clone(),
            digest,
            title: raw.meta.title.clone(),
            disclaimer: raw.meta.disclaimer.clone(),
            disclaimer_review,
            question_reasons,
            care_settings,
            languages: Vec::new(),
            levels,
            vocabulary,
            findings,
            finding_order,
            counts,
            implications,
            rule_splits: Vec::new(),
            floor_splits: Vec::new(),
            rules,
            floors,
            causes,
            advice: Advice {
                core,
                phases,
                extras,
                blocks,
            },
            medicines,
            medicine_texts: MedicineTexts {
                suppress_text: raw.medicines.suppress_text.clone(),
                caution_prefix: raw.medicines.caution_prefix.clone(),
                ask_first_prefix: raw.medicines.ask_first_prefix.clone(),
                review: medicine_texts_review,
            },
            safety_net,
            startback: StartBack {
                tool_version: raw.startback.tool_version.clone(),
                panel_loinc: raw.startback.panel_loinc.clone(),
                low_max_total: raw.startback.low_max_total,
                high_min_psychosocial: raw.startback.high_min_psychosocial,
                items,
                sources: sb_sources,
            },
            sources,
        };
        // Split once the findings, counts and implications they read through are in place.
        kb.rule_splits = kb.rules.iter().map(|r| kb.split(&r.when)).collect();
        kb.floor_splits = kb.floors.iter().map(|f| kb.split(&f.when)).collect();
        for (at, message) in super::lifecycle::usage_problems(&kb) {
            self.file = "vocabulary.toml";
            self.item = at;
            self.problem(message);
        }
        self.placeholder_problems(&kb);
        kb
    }

    /// A placeholder nobody fills would reach the patient as `{…}`; one that needs care
    /// words needs a set to take them from.
    fn placeholder_problems(&mut self, kb: &KnowledgeBase) {
        self.at("knowledge_base.toml", "");
        for (key, text) in super::i18n::english_texts(kb) {
            for name in super::i18n::placeholders(text) {
                let known = PLACEHOLDERS.contains(&name)
                    || (name == "unscreened" && key.starts_with("safety_net."));
                if !super::i18n::is_filled(&key) {
                    self.problem(format!(
                        "{key}: `{{{name}}}` would be shown as it is: placeholders are filled only in actions, rule patient texts, advice, medicine texts, safety-net texts, question reasons and the disclaimer"
                    ));
                } else if !known {
                    self.problem(format!(
                        "{key}: `{{{name}}}` is not a placeholder (one of {}; `unscreened` in safety-net texts)",
                        PLACEHOLDERS.join(", ")
                    ));
                } else if name.starts_with("primary_care") && kb.care_settings.is_empty() {
                    self.problem(format!(
                        "{key}: `{{{name}}}` needs at least one [[care_settings]] to fill it"
                    ));
                }
            }
        }
    }

    fn care_word_sets(&mut self, raw: &[RawCareSetting]) -> Vec<CareSetting> {
        let mut sets: Vec<CareSetting> = Vec::new();
        for c in raw {
            self.at("knowledge_base.toml", &format!("care_settings.{}", c.id));
            if c.id.is_empty() || !c.id.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_') {
                self.problem("a care setting id is lower-case letters and `_` (e.g. `uk`)");
            }
            if sets.iter().any(|s| s.id == c.id) {
                self.problem("care setting listed twice");
            }
            for (field, word) in [
                ("primary_care_doctor", &c.primary_care_doctor),
                ("primary_care_practice", &c.primary_care_practice),
            ] {
                if word.trim().is_empty() {
                    self.problem(format!("{field} must not be empty"));
                }
                // A brace would let a word inject a placeholder into the text it fills.
                if word.contains(['{', '}']) {
                    self.problem(format!("{field} must not contain `{{` or `}}`"));
                }
            }
            let review = self.review(c.review.as_deref());
            sets.push(CareSetting {
                id: c.id.clone(),
                description: c.description.clone(),
                primary_care_doctor: c.primary_care_doctor.clone(),
                primary_care_practice: c.primary_care_practice.clone(),
                review,
            });
        }
        sets
    }

    fn vocabulary(&mut self, raw: &RawVocabulary, derived: &RawDerived) -> Vocabulary {
        let mut groups = Vec::new();
        for g in &raw.groups {
            self.at("vocabulary.toml", &g.id);
            if groups.iter().any(|x: &Group| x.id == g.id) {
                self.problem("duplicate group id");
            }
            groups.push(Group {
                id: g.id.clone(),
                label: g.label.clone(),
                qualifier: g.qualifier,
            });
        }
        let mut codes = Vec::new();
        let mut index = CodeIndex::default();
        for c in &raw.codes {
            self.at("vocabulary.toml", &c.code);
            if index.insert(c.code.clone(), codes.len()).is_some() {
                self.problem("duplicate code");
            }
            if !groups.iter().any(|g| g.id == c.group) {
                self.problem(format!("group `{}` is not listed in [[groups]]", c.group));
            }
            let range = |s: &mut Compiler| -> (f64, f64) {
                match (c.min, c.max) {
                    (Some(min), Some(max)) if min <= max => (min, max),
                    (Some(_), Some(_)) => {
                        s.problem("min must not exceed max");
                        (0.0, 0.0)
                    }
                    _ => {
                        s.problem("integer and number codes need min and max");
                        (0.0, 0.0)
                    }
                }
            };
            let kind = match c.value_type.as_str() {
                "tri" => ValueKind::Tri,
                "integer" => {
                    let (min, max) = range(self);
                    ValueKind::Integer { min, max }
                }
                "number" => {
                    let (min, max) = range(self);
                    ValueKind::Number { min, max }
                }
                "enum" | "set" => {
                    if c.values.is_empty() {
                        self.problem("enum and set codes need values");
                    }
                    let unique: HashSet<&String> = c.values.iter().collect();
                    if unique.len() != c.values.len() {
                        self.problem("duplicate value");
                    }
                    if c.value_type == "enum" {
                        ValueKind::Enum {
                            values: c.values.clone(),
                        }
                    } else {
                        ValueKind::Set {
                            values: c.values.clone(),
                        }
                    }
                }
                "response" => ValueKind::Response,
                other => {
                    self.problem(format!(
                        "type `{other}` is not one of tri, integer, number, enum, set, response"
                    ));
                    ValueKind::Tri
                }
            };
            if !matches!(kind, ValueKind::Enum { .. } | ValueKind::Set { .. })
                && !c.values.is_empty()
            {
                self.problem("only enum and set codes take values");
            }
            if c.question.trim().is_empty() {
                self.problem("question must not be empty");
            }
            self.screens_for(&c.screens_for);
            let review = self.review(c.review.as_deref());
            let labels = self.labels(c, &kind);
            let alternative_units = self.alternative_units(c, &kind);
            codes.push(CodeDef {
                code: c.code.clone(),
                group: c.group.clone(),
                kind,
                question: c.question.clone(),
                screens_for: c.screens_for.clone(),
                unit: c.unit.clone(),
                alternative_units,
                loinc: c.loinc.clone(),
                required_screen: false,
                review,
                lifecycle: Lifecycle::Active,
                deprecated_values: Vec::new(),
                labels,
                ask_when: None,
            });
        }
        let mut derived_names: Vec<String> = derived
            .findings
            .iter()
            .map(|f| f.name.clone())
            .chain(derived.counts.iter().map(|c| c.name.clone()))
            .chain(derived.computed.iter().map(|c| c.name.clone()))
            .chain(derived.reserved.iter().cloned())
            .collect();
        derived_names.sort();
        for w in derived_names.windows(2) {
            if let [a, b] = w {
                if a == b {
                    self.at("derived.toml", a);
                    self.problem("name defined more than once");
                }
            }
        }
        for name in &derived_names {
            if index.contains_key(name) {
                self.at("derived.toml", name);
                self.problem("a derived name may not also be a vocabulary code");
            }
        }
        let mut vocabulary = Vocabulary {
            groups,
            codes,
            required_screens: Vec::new(),
            core_questions: Vec::new(),
            well_known: WellKnownCodes::resolve(&index),
            index,
            derived_names,
        };
        // Lifecycles refer to other codes, so they are compiled once every code is known.
        for (id, c) in raw.codes.iter().enumerate() {
            if vocabulary.lookup(&c.code) != Some(id) {
                continue;
            }
            let (lifecycle, values, problems) = super::lifecycle::compile_code(c, &vocabulary);
            self.at("vocabulary.toml", &c.code);
            for p in problems {
                self.problem(p);
            }
            vocabulary.codes[id].lifecycle = lifecycle;
            vocabulary.codes[id].deprecated_values = values;
        }
        let no_findings: Vec<String> = Vec::new();
        self.ask_when(raw, &mut vocabulary, &no_findings);
        let mut required = Vec::new();
        for r in &raw.required_screens {
            self.at("vocabulary.toml", &format!("required_screens.{}", r.code));
            let Some(id) = vocabulary.lookup(&r.code) else {
                self.problem(format!(
                    "required screen `{}` is not in the vocabulary{}",
                    r.code,
                    hint(&vocabulary.suggestions(&r.code))
                ));
                continue;
            };
            if !matches!(
                vocabulary.code(id).kind,
                ValueKind::Tri | ValueKind::Enum { .. }
            ) {
                self.problem("a required screen must be a tri or enum code");
            }
            if required.iter().any(|x: &RequiredScreen| x.code == id) {
                self.problem("required screen listed twice");
            }
            let unless = r.unless.as_ref().map(|u| {
                let scope = Scope {
                    vocabulary: &vocabulary,
                    findings: &no_findings,
                    counts: &no_findings,
                    allow_derived: false,
                    allow_unscreened: false,
                };
                self.cond(u, &scope, "unless")
            });
            required.push(RequiredScreen { code: id, unless });
        }
        for r in &required {
            vocabulary.codes[r.code].required_screen = true;
        }
        vocabulary.required_screens = required;
        let mut core = Vec::new();
        for name in &raw.core_questions {
            self.at("vocabulary.toml", &format!("core_questions.{name}"));
            match vocabulary.lookup(name) {
                Some(id) if !vocabulary.code(id).is_active() => {
                    self.problem("a core question must be an active code")
                }
                Some(id) if core.contains(&id) => self.problem("core question listed twice"),
                Some(id) => core.push(id),
                None => self.problem(format!(
                    "core question `{name}` is not in the vocabulary{}",
                    hint(&vocabulary.suggestions(name))
                )),
            }
        }
        vocabulary.core_questions = core;
        vocabulary
    }

    /// Evaluation order for findings that refer to each other; a cycle is an error.
    fn finding_order(&mut self, findings: &[Finding]) -> Vec<usize> {
        fn visit(
            i: usize,
            findings: &[Finding],
            state: &mut [u8],
            order: &mut Vec<usize>,
            cycles: &mut Vec<String>,
        ) {
            match state[i] {
                2 => return,
                1 => {
                    cycles.push(findings[i].name.clone());
                    return;
                }
                _ => {}
            }
            state[i] = 1;
            let mut refs = Vec::new();
            findings[i].when.finding_refs(&mut refs);
            for r in refs {
                visit(r, findings, state, order, cycles);
            }
            state[i] = 2;
            order.push(i);
        }
        let mut state = vec![0u8; findings.len()];
        let mut order = Vec::new();
        let mut cycles = Vec::new();
        for i in 0..findings.len() {
            visit(i, findings, &mut state, &mut order, &mut cycles);
        }
        for name in cycles {
            self.at("derived.toml", &name);
            self.problem("finding refers to itself through other findings");
        }
        order
    }
}

fn hint(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(
            "; did you mean {}?",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The one code a raw condition tests, if it tests exactly one directly.
fn single_code(raw: &RawCondition) -> Option<String> {
    if let Some(p) = &raw.present {
        return Some(p.clone());
    }
    if raw.all.is_none() && raw.any.is_none() && raw.not.is_none() && raw.any_present.is_none() {
        if let Some(c) = &raw.code {
            return Some(c.clone());
        }
        if let Some(a) = &raw.absent {
            return Some(format!("no {a}"));
        }
    }
    None
}

/// An `all` that requires one enum code to take two disjoint sets of values,
/// or a tri code to be both present and absent.
fn contradictory(cond: &Cond) -> bool {
    match cond {
        Cond::All(list) => {
            let mut choices: HashMap<usize, Vec<u16>> = HashMap::new();
            for c in list {
                if let Cond::Choice {
                    code,
                    values,
                    negate: false,
                } = c
                {
                    let entry = choices.entry(*code).or_insert_with(|| values.clone());
                    entry.retain(|v| values.contains(v));
                    if entry.is_empty() {
                        return true;
                    }
                }
                if let Cond::Present(p) = c {
                    if list.iter().any(|o| matches!(o, Cond::Absent(a) if a == p)) {
                        return true;
                    }
                }
            }
            list.iter().any(contradictory)
        }
        Cond::Any(list) => !list.is_empty() && list.iter().all(contradictory),
        _ => false,
    }
}

/// The rule files of a directory, for `kb-check`.
pub fn describe_source(source: &RuleSource) -> String {
    match source {
        RuleSource::Embedded => "the embedded knowledge base".to_owned(),
        RuleSource::Directory(d) => format!("the knowledge base in `{}`", Path::new(d).display()),
    }
}
