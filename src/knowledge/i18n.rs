//! Translations of the patient-facing texts (`config/rules/i18n/<language>.toml`).
//!
//! Each entry names one English text by key (see [`english_texts`]) and carries its own
//! review status. A missing translation is not an error: the English text is served and
//! the response says so. A key that names no text, or a translation that drops or adds a
//! placeholder, is refused at load (fail closed), because a lost `{emergency_number}`
//! would leave a patient without the number to call.

use std::collections::HashMap;

use serde::Deserialize;

use super::model::{
    Catalog, KnowledgeBase, Review, SourcedTranslation, Translation, ValueKind, RESPONSE_VALUES,
};

/// The language every text is written in first.
pub const SOURCE_LANGUAGE: &str = "en";

/// The answer labels of tri-state questions, in `present`, `absent`, `unknown` order.
pub const TRI_LABELS: [(&str, &str); 3] = [
    ("present", "Yes"),
    ("absent", "No"),
    ("unknown", "Not sure"),
];

/// The answer labels of "did it help" questions, one per `RESPONSE_VALUES` entry.
pub const RESPONSE_LABELS: [&str; 8] = [
    "Not tried",
    "It helped",
    "It helped within 48 hours",
    "It partly helped",
    "It did not help",
    "It made it worse",
    "It gave me side effects",
    "Not sure",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    pub language: String,
    #[serde(default)]
    pub texts: Vec<RawTranslation>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTranslation {
    pub key: String,
    pub text: String,
    #[serde(default)]
    pub review: Option<String>,
}

/// How much of the English a language covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub language: String,
    pub translated: usize,
    pub total: usize,
    pub signed_off: usize,
    /// Keys without a translation, in `english_texts` order.
    pub missing: Vec<String>,
}

/// Every translatable English text, keyed as the catalogs key them.
pub fn english_texts(kb: &KnowledgeBase) -> Vec<(String, &str)> {
    let mut out: Vec<(String, &str)> = vec![("disclaimer".to_owned(), kb.disclaimer.as_str())];
    for l in &kb.levels {
        out.push((format!("level.{}.action", l.level.as_str()), &l.action));
    }
    for c in &kb.care_settings {
        out.push((
            format!("care_setting.{}.primary_care_doctor", c.id),
            &c.primary_care_doctor,
        ));
        out.push((
            format!("care_setting.{}.primary_care_practice", c.id),
            &c.primary_care_practice,
        ));
    }
    for r in &kb.question_reasons {
        out.push((format!("question_reason.{}.text", r.reason), &r.text));
    }
    for g in &kb.vocabulary.groups {
        out.push((format!("group.{}.label", g.id), &g.label));
    }
    for c in &kb.vocabulary.codes {
        out.push((format!("code.{}.question", c.code), &c.question));
        for alt in &c.alternative_units {
            out.push((
                format!("code.{}.question.{}", c.code, alt.unit),
                &alt.question,
            ));
        }
        if let ValueKind::Enum { values } | ValueKind::Set { values } = &c.kind {
            for (value, label) in values.iter().zip(&c.labels) {
                out.push((format!("code.{}.label.{value}", c.code), label));
            }
        }
    }
    for (value, label) in TRI_LABELS {
        out.push((format!("tri.label.{value}"), label));
    }
    for (value, label) in RESPONSE_VALUES.iter().zip(RESPONSE_LABELS) {
        out.push((format!("response.label.{value}"), label));
    }
    for r in &kb.rules {
        out.push((format!("rule.{}.title", r.id), &r.title));
        out.push((format!("rule.{}.patient_text", r.id), &r.patient_text));
    }
    for c in &kb.causes {
        out.push((format!("cause.{}.label", c.id), &c.label));
    }
    for p in &kb.advice.phases {
        out.push((format!("phase.{}.label", p.id), &p.label));
    }
    for b in &kb.advice.blocks {
        out.push((format!("advice.{}.text", b.id), &b.text));
    }
    for m in &kb.medicines {
        out.push((format!("medicine.{}.label", m.id), &m.label));
        out.push((format!("medicine.{}.text", m.id), &m.text));
    }
    let t = &kb.medicine_texts;
    out.push(("medicines.suppress_text".to_owned(), &t.suppress_text));
    out.push(("medicines.caution_prefix".to_owned(), &t.caution_prefix));
    out.push(("medicines.ask_first_prefix".to_owned(), &t.ask_first_prefix));
    for b in &kb.safety_net {
        out.push((format!("safety_net.{}.text", b.id), &b.text));
    }
    out
}

/// Whether the text under `key` has its placeholders filled when it is served (questions,
/// labels and titles are served as written).
pub fn is_filled(key: &str) -> bool {
    key == "disclaimer"
        || key.starts_with("level.")
        || key.starts_with("question_reason.")
        || (key.starts_with("rule.") && key.ends_with(".patient_text"))
        || key.starts_with("advice.")
        || (key.starts_with("medicine.") && key.ends_with(".text"))
        || key == "medicines.suppress_text"
        || key.starts_with("safety_net.")
}

/// The `{placeholder}` names in a text, sorted (a translation must keep exactly these).
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    found.push(name);
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    found.sort_unstable();
    found
}

pub fn coverage(kb: &KnowledgeBase) -> Vec<Coverage> {
    let english = english_texts(kb);
    kb.languages
        .iter()
        .map(|catalog| {
            let missing: Vec<String> = english
                .iter()
                .filter(|(key, _)| catalog.get(key).is_none())
                .map(|(key, _)| key.clone())
                .collect();
            Coverage {
                language: catalog.language.clone(),
                translated: english.len() - missing.len(),
                total: english.len(),
                signed_off: catalog
                    .texts
                    .values()
                    .filter(|t| t.review != Review::Draft)
                    .count(),
                missing,
            }
        })
        .collect()
}

/// A BCP 47 primary language subtag we can name a catalog by: two or three ASCII letters.
pub fn is_language_tag(tag: &str) -> bool {
    (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_lowercase())
}

/// Compile the `i18n/<language>.toml` files among `files` against the knowledge base's
/// English texts. Problems come back as (file, key, message).
pub fn compile_catalogs(
    kb: &KnowledgeBase,
    files: &[(String, String)],
) -> (Vec<Catalog>, Vec<(String, String, String)>) {
    let english: HashMap<String, &str> = english_texts(kb).into_iter().collect();
    // An English text reached under two keys (none today) is left to the key lookup.
    let mut keys_at: HashMap<(usize, usize), usize> = HashMap::new();
    for source in english.values() {
        *keys_at
            .entry((source.as_ptr() as usize, source.len()))
            .or_default() += 1;
    }
    let mut catalogs: Vec<Catalog> = Vec::new();
    let mut problems = Vec::new();
    let mut names: Vec<&(String, String)> = files
        .iter()
        .filter(|(name, _)| name.starts_with("i18n/") && name.ends_with(".toml"))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (file, text) in names {
        let mut problem = |key: &str, message: String| {
            problems.push((file.clone(), key.to_owned(), message));
        };
        let raw: RawCatalog = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                problem("", e.to_string().trim().replace('\n', " "));
                continue;
            }
        };
        let expected_name = format!("i18n/{}.toml", raw.language);
        if !is_language_tag(&raw.language) || raw.language == SOURCE_LANGUAGE {
            problem(
                "",
                format!(
                    "language `{}` must be a lower-case primary language subtag other than `{SOURCE_LANGUAGE}`",
                    raw.language
                ),
            );
            continue;
        }
        if *file != expected_name {
            problem(
                "",
                format!(
                    "a catalog for `{}` belongs in `{expected_name}`",
                    raw.language
                ),
            );
        }
        if catalogs.iter().any(|c| c.language == raw.language) {
            problem("", format!("language `{}` has two catalogs", raw.language));
            continue;
        }
        let mut texts = HashMap::with_capacity_and_hasher(raw.texts.len(), Default::default());
        for t in raw.texts {
            let Some(source) = english.get(&t.key) else {
                problem(
                    &t.key,
                    "names no English text (see the key scheme in the file header)".to_owned(),
                );
                continue;
            };
            if placeholders(source) != placeholders(&t.text) {
                problem(
                    &t.key,
                    format!(
                        "placeholders differ from the English ({:?} there, {:?} here)",
                        placeholders(source),
                        placeholders(&t.text)
                    ),
                );
            }
            if t.text.trim().is_empty() {
                problem(
                    &t.key,
                    "empty translation (leave the entry out to fall back to English)".to_owned(),
                );
            }
            let review = match t.review.as_deref() {
                None | Some("draft") => Review::Draft,
                Some("reference") => Review::Reference,
                Some("approved") => Review::Approved,
                Some(other) => {
                    problem(
                        &t.key,
                        format!("review `{other}` is not one of draft, reference, approved"),
                    );
                    Review::Draft
                }
            };
            if texts.contains_key(&t.key) {
                problem(&t.key, "translated twice".to_owned());
            }
            texts.insert(
                t.key,
                Translation {
                    text: t.text,
                    review,
                },
            );
        }
        // A translated text filled with English care words would mix two languages.
        let uses_care_words = texts.values().any(|t| {
            placeholders(&t.text)
                .iter()
                .any(|p| p.starts_with("primary_care"))
        });
        if uses_care_words {
            for c in &kb.care_settings {
                for field in ["primary_care_doctor", "primary_care_practice"] {
                    let key = format!("care_setting.{}.{field}", c.id);
                    if !texts.contains_key(&key) {
                        problem(
                            &key,
                            "missing: this catalog's texts use care-setting words, so it must translate every one".to_owned(),
                        );
                    }
                }
            }
        }
        let by_source = texts
            .keys()
            .filter_map(|key| {
                let source = *english.get(key)?;
                let at = (source.as_ptr() as usize, source.len());
                (keys_at.get(&at) == Some(&1)).then(|| {
                    (
                        at,
                        SourcedTranslation {
                            english: source.to_owned(),
                            key: key.clone(),
                        },
                    )
                })
            })
            .collect();
        catalogs.push(Catalog {
            language: raw.language,
            texts,
            by_source,
        });
    }
    (catalogs, problems)
}
