//! Choosing the language of a response's patient texts, and serving each text in it
//! (or in English, recorded, when it has no translation yet).

use std::cell::RefCell;

use crate::knowledge::i18n::SOURCE_LANGUAGE;
use crate::knowledge::{Catalog, KnowledgeBase, Review};

/// `options.language` named a language without a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLanguage {
    /// The languages there are, English first.
    pub available: Vec<String>,
}

/// The language of one response.
#[derive(Debug)]
pub struct Lang<'a> {
    pub code: &'a str,
    catalog: Option<&'a Catalog>,
    /// Keys of texts served in English because this language has no translation of them.
    untranslated: RefCell<Vec<String>>,
}

impl<'a> Lang<'a> {
    pub fn english() -> Lang<'a> {
        Lang {
            code: SOURCE_LANGUAGE,
            catalog: None,
            untranslated: RefCell::new(Vec::new()),
        }
    }

    /// `options.language` if sent (it must be a language we have), else the best match of
    /// `Accept-Language`, else English.
    pub fn choose(
        kb: &'a KnowledgeBase,
        requested: Option<&str>,
        accept_language: Option<&str>,
    ) -> Result<Lang<'a>, UnknownLanguage> {
        if let Some(tag) = requested {
            return Lang::named(kb, &primary_subtag(tag)).ok_or_else(|| UnknownLanguage {
                available: available(kb).into_iter().map(str::to_owned).collect(),
            });
        }
        let chosen = accept_language
            .map(preferences)
            .unwrap_or_default()
            .into_iter()
            .find_map(|tag| Lang::named(kb, &tag));
        Ok(chosen.unwrap_or_else(Lang::english))
    }

    fn named(kb: &'a KnowledgeBase, tag: &str) -> Option<Lang<'a>> {
        if tag == SOURCE_LANGUAGE || tag == "*" {
            return Some(Lang::english());
        }
        kb.languages
            .iter()
            .find(|c| c.language == tag)
            .map(|catalog| Lang {
                code: &catalog.language,
                catalog: Some(catalog),
                untranslated: RefCell::new(Vec::new()),
            })
    }

    /// The text under `key` in this language with its own review status, or the English
    /// with the English status (and the key recorded) when there is no translation.
    pub fn text(
        &self,
        key: impl FnOnce() -> String,
        english: &'a str,
        review: Review,
    ) -> (&'a str, Review) {
        let Some(catalog) = self.catalog else {
            return (english, review);
        };
        if let Some(t) = catalog.by_source(english) {
            return (&t.text, t.review);
        }
        let key = key();
        match catalog.get(&key) {
            Some(t) => (&t.text, t.review),
            None => {
                self.untranslated.borrow_mut().push(key);
                (english, review)
            }
        }
    }

    pub fn untranslated(&self) -> Vec<String> {
        let mut keys = self.untranslated.borrow().clone();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// Every language a response can be in: English first, then the catalogs.
pub fn available(kb: &KnowledgeBase) -> Vec<&str> {
    std::iter::once(SOURCE_LANGUAGE)
        .chain(kb.languages.iter().map(|c| c.language.as_str()))
        .collect()
}

fn primary_subtag(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The primary subtags of an `Accept-Language` value, most preferred first (RFC 9110
/// §12.5.4: `q` weights, equal weights keep their order, `q=0` means "not this").
fn preferences(header: &str) -> Vec<String> {
    let mut ranked: Vec<(u16, usize, String)> = header
        .split(',')
        .take(32)
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = primary_subtag(pieces.next()?);
            if tag.is_empty() {
                return None;
            }
            let q = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let weight = (q.clamp(0.0, 1.0) * 1000.0) as u16;
            (weight > 0).then_some((weight, i, tag))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, _, tag)| tag).collect()
}

#[cfg(test)]
mod tests {
    use super::preferences;

    #[test]
    fn accept_language_is_read_by_weight_then_order() {
        assert_eq!(preferences("es-ES,es;q=0.9,en;q=0.8"), ["es", "es", "en"]);
        assert_eq!(preferences("en;q=0.5, es"), ["es", "en"]);
        assert_eq!(preferences("es;q=0, en"), ["en"]);
        assert!(preferences("").is_empty());
        assert_eq!(preferences("*"), ["*"]);
    }
}
