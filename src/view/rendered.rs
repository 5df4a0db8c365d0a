//! The knowledge base's texts as a deployment serves them, filled and escaped as JSON once at
//! start-up, so writing a response copies them instead of escaping every byte of every text
//! again (most of an assessment's bytes are these texts).
//!
//! Nothing here decides what is said: a text is found by its address in the knowledge base
//! and checked to be the same text before its rendering is used, and anything not found is
//! filled and escaped as it is written. The bytes are the same either way.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Deref;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::knowledge::i18n::{english_texts, is_filled, SOURCE_LANGUAGE};
use crate::knowledge::KnowledgeBase;

/// A text of a response: ready JSON when it was rendered at start-up, else a string.
#[derive(Debug, Clone)]
pub enum JsonText<'a> {
    /// The text and the same text as a JSON string literal.
    Rendered(&'a str, &'a RawValue),
    Plain(Cow<'a, str>),
}

impl<'a> JsonText<'a> {
    pub fn as_str(&self) -> &str {
        match self {
            JsonText::Rendered(text, _) => text,
            JsonText::Plain(text) => text,
        }
    }
}

impl Deref for JsonText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for JsonText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for JsonText<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for JsonText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            JsonText::Rendered(_, json) => json.serialize(serializer),
            JsonText::Plain(text) => serializer.serialize_str(text),
        }
    }
}

impl From<String> for JsonText<'_> {
    fn from(text: String) -> Self {
        JsonText::Plain(Cow::Owned(text))
    }
}

/// Addresses are already well spread; hashing them again would only cost time.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        // Heap addresses are aligned: drop the low bits that never differ.
        self.0 >> 3
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

struct Entry {
    /// The knowledge-base text this renders (compared before use).
    source: String,
    /// The text as served: placeholders filled with the deployment's values.
    filled: String,
    json: Box<RawValue>,
}

/// Every text of one knowledge base, rendered for one deployment.
#[derive(Default)]
pub struct Rendered {
    /// The knowledge base rendered (its digest): sources are looked up by index only then.
    digest: String,
    by_address: HashMap<usize, Entry, BuildHasherDefault<AddressHasher>>,
    /// `{"id","title","url"}` of each source, by its index in the knowledge base.
    sources: Vec<Box<RawValue>>,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rendered")
            .field("digest", &self.digest)
            .field("texts", &self.by_address.len())
            .field("sources", &self.sources.len())
            .finish()
    }
}

impl Rendered {
    /// Render every English text and every translation, each filled by `fill` with the
    /// values for its own language (a text served in English in a Spanish response keeps
    /// the English care-setting words).
    pub fn new(kb: &KnowledgeBase, fill: impl Fn(&str, &str) -> String) -> Rendered {
        let mut rendered = Rendered {
            digest: kb.digest.clone(),
            ..Rendered::default()
        };
        let mut add = |key: &str, text: &str, language: &str| {
            let filled = if is_filled(key) {
                fill(language, text)
            } else {
                text.to_owned()
            };
            let Ok(json) = serde_json::to_string(&filled) else {
                return;
            };
            let Ok(json) = RawValue::from_string(json) else {
                return;
            };
            rendered.by_address.insert(
                text.as_ptr() as usize,
                Entry {
                    source: text.to_owned(),
                    filled,
                    json,
                },
            );
        };
        for (key, text) in english_texts(kb) {
            add(&key, text, SOURCE_LANGUAGE);
        }
        for catalog in &kb.languages {
            for (key, t) in &catalog.texts {
                add(key, &t.text, &catalog.language);
            }
        }
        for s in &kb.sources {
            let json = serde_json::to_string(&serde_json::json!({
                "id": s.id,
                "title": s.title,
                "url": s.url,
            }))
            .ok()
            .and_then(|j| RawValue::from_string(j).ok());
            match json {
                Some(json) => rendered.sources.push(json),
                // Unreachable for strings; without it the indexes would shift.
                None => {
                    rendered.sources.clear();
                    break;
                }
            }
        }
        rendered
    }

    /// The rendering of `text` (a knowledge-base text), if it was rendered.
    pub fn text<'s>(&'s self, text: &str) -> Option<JsonText<'s>> {
        let entry = self.by_address.get(&(text.as_ptr() as usize))?;
        (entry.source == text).then(|| JsonText::Rendered(&entry.filled, &entry.json))
    }

    /// The rendering of source `index` of `kb`, if `kb` is the knowledge base rendered.
    pub fn source(&self, kb: &KnowledgeBase, index: usize) -> Option<&RawValue> {
        if self.digest != kb.digest {
            return None;
        }
        self.sources.get(index).map(|b| &**b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_text_is_the_json_serde_would_write() {
        let Ok(kb) = crate::knowledge::load(&crate::knowledge::RuleSource::Embedded) else {
            panic!("embedded knowledge base");
        };
        let rendered = Rendered::new(&kb, |_, t| t.replace("{emergency_number}", "999"));
        let mut seen = 0;
        for (_, text) in english_texts(&kb) {
            let Some(JsonText::Rendered(filled, json)) = rendered.text(text) else {
                panic!("{text:?} was not rendered");
            };
            assert_eq!(
                json.get(),
                serde_json::to_string(filled).unwrap_or_default()
            );
            seen += 1;
        }
        assert!(seen > 500, "{seen}");
        // The same words at another address are not the knowledge base's text.
        let copy = kb.disclaimer.clone();
        assert!(rendered.text(&copy).is_none());
        let escaped = "a \"quoted\" \\ line\nbreak";
        assert!(rendered.text(escaped).is_none());
    }
}
