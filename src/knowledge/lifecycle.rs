//! The life of a vocabulary code or value: `active`, `deprecated` (still accepted and
//! mapped to its replacement before the engine runs) or `retired` (refused with a pointer to
//! the replacement). Compiling the lifecycle fields and the checks that keep a release from
//! breaking a deployed form: a deprecated code needs a replacement, a replacement must be
//! current, and no rule may read a code or value that the engine never sees.

use super::condition::Cond;
use super::model::{
    CodeDef, CodeId, Deprecation, KnowledgeBase, Lifecycle, MappedValue, Replacement,
    ValueDeprecation, ValueKind, ValueMapping, Vocabulary,
};
use super::raw::RawCode;

/// Problems are returned as messages; the caller files them under the code's name.
pub fn compile_code(
    raw: &RawCode,
    vocabulary: &Vocabulary,
) -> (Lifecycle, Vec<ValueDeprecation>, Vec<String>) {
    let mut problems = Vec::new();
    let status = raw.status.as_deref().unwrap_or("active");
    let lifecycle = match status {
        "active" => {
            if raw.since.is_some() || !raw.replaced_by.is_empty() || raw.note.is_some() {
                problems.push(
                    "since, note and replaced_by belong to deprecated or retired codes".to_owned(),
                );
            }
            Lifecycle::Active
        }
        "deprecated" | "retired" => {
            let deprecation = deprecation(raw, vocabulary, &mut problems);
            if status == "deprecated" {
                if deprecation.replaced_by.is_empty() {
                    problems.push(
                        "a deprecated code needs replaced_by: the mapping that keeps old answers working"
                            .to_owned(),
                    );
                }
                Lifecycle::Deprecated(deprecation)
            } else {
                Lifecycle::Retired(deprecation)
            }
        }
        other => {
            problems.push(format!(
                "status `{other}` is not one of active, deprecated, retired"
            ));
            Lifecycle::Active
        }
    };
    let own = vocabulary
        .lookup(&raw.code)
        .map(|id| &vocabulary.code(id).kind);
    let mut values = Vec::new();
    for d in &raw.deprecated_values {
        let index = |v: &str| {
            own.and_then(|k| match k {
                ValueKind::Enum { .. } => k.choice_index(v),
                _ => None,
            })
        };
        let (Some(value), Some(replaced_by)) = (index(&d.value), index(&d.replaced_by)) else {
            problems.push(format!(
                "deprecated value `{}` → `{}`: both must be values of this enum code",
                d.value, d.replaced_by
            ));
            continue;
        };
        if raw
            .deprecated_values
            .iter()
            .any(|x| x.value == d.replaced_by)
        {
            problems.push(format!(
                "value `{}` is replaced by `{}`, which is itself deprecated",
                d.value, d.replaced_by
            ));
        }
        check_date(&d.deprecated_on, "deprecated_on", &mut problems);
        if let Some(s) = &d.sunset {
            check_date(s, "sunset", &mut problems);
        }
        values.push(ValueDeprecation {
            value,
            replaced_by,
            since: d.since.clone(),
            deprecated_on: d.deprecated_on.clone(),
            sunset: d.sunset.clone(),
            note: d.note.clone(),
        });
    }
    (lifecycle, values, problems)
}

fn deprecation(raw: &RawCode, vocabulary: &Vocabulary, problems: &mut Vec<String>) -> Deprecation {
    let since = raw.since.clone().unwrap_or_else(|| {
        problems.push("a deprecated or retired code needs `since` (the release)".to_owned());
        String::new()
    });
    let deprecated_on = raw.deprecated_on.clone().unwrap_or_else(|| {
        problems.push("a deprecated or retired code needs `deprecated_on` (YYYY-MM-DD)".to_owned());
        String::new()
    });
    check_date(&deprecated_on, "deprecated_on", problems);
    if let Some(s) = &raw.sunset {
        check_date(s, "sunset", problems);
    }
    let note = raw.note.clone().unwrap_or_else(|| {
        problems.push("a deprecated or retired code needs a plain-words `note`".to_owned());
        String::new()
    });
    let old_kind = vocabulary
        .lookup(&raw.code)
        .map(|id| vocabulary.code(id).kind.clone());
    let mut replaced_by = Vec::new();
    for r in &raw.replaced_by {
        let Some(id) = vocabulary.lookup(&r.code) else {
            problems.push(format!("replacement `{}` is not in the vocabulary", r.code));
            continue;
        };
        let new = vocabulary.code(id);
        if !new.is_active() {
            problems.push(format!("replacement `{}` is not an active code", r.code));
        }
        if new.code == raw.code {
            problems.push("a code cannot replace itself".to_owned());
        }
        let mapping = if r.identity {
            if !r.map.is_empty() {
                problems.push(format!(
                    "replacement `{}`: identity and map exclude each other",
                    r.code
                ));
            }
            if old_kind.as_ref().map(ValueKind::type_name) != Some(new.kind.type_name()) {
                problems.push(format!(
                    "replacement `{}`: identity needs the same type as the old code",
                    r.code
                ));
            }
            ValueMapping::Identity
        } else {
            if r.map.is_empty() {
                problems.push(format!(
                    "replacement `{}` needs `map` or `identity = true`",
                    r.code
                ));
            }
            let mut table = Vec::new();
            for (from, to) in &r.map {
                let old = old_kind.as_ref().and_then(|k| mapped_value(k, from));
                let new_value = mapped_value(&new.kind, to);
                match (old, new_value) {
                    (Some(o), Some(n)) => table.push((o, n)),
                    (None, _) => problems.push(format!(
                        "replacement `{}`: `{from}` is not a value of the old code",
                        r.code
                    )),
                    (_, None) => problems.push(format!(
                        "replacement `{}`: `{to}` is not a value of `{}`",
                        r.code, r.code
                    )),
                }
            }
            ValueMapping::Table(table)
        };
        replaced_by.push(Replacement { code: id, mapping });
    }
    Deprecation {
        since,
        deprecated_on,
        sunset: raw.sunset.clone(),
        note,
        replaced_by,
    }
}

/// A tri-state or enum value by name (mappings only cover those kinds).
fn mapped_value(kind: &ValueKind, name: &str) -> Option<MappedValue> {
    match kind {
        ValueKind::Tri => match name {
            "present" => Some(MappedValue::Present),
            "absent" => Some(MappedValue::Absent),
            "unknown" => Some(MappedValue::Unknown),
            _ => None,
        },
        ValueKind::Enum { .. } | ValueKind::Response => {
            kind.choice_index(name).map(MappedValue::Choice)
        }
        _ => None,
    }
}

fn check_date(date: &str, what: &str, problems: &mut Vec<String>) {
    let parts: Vec<&str> = date.split('-').collect();
    let ok = matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && y.parse::<u32>().is_ok()
            && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
            && d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)));
    if !ok && !date.is_empty() {
        problems.push(format!("`{what}` must be a date YYYY-MM-DD"));
    }
}

/// Every place a compiled knowledge base reads a code, with the code it reads, for the
/// lifecycle checks: a code the engine never sees (deprecated answers are mapped away,
/// retired ones refused) must not be read by anything.
pub fn usage_problems(kb: &KnowledgeBase) -> Vec<(String, String)> {
    let mut uses: Vec<(String, &Cond)> = Vec::new();
    for r in &kb.rules {
        uses.push((format!("red_flags.toml {}", r.id), &r.when));
    }
    for f in &kb.floors {
        uses.push((format!("floors.toml {}", f.id), &f.when));
    }
    for f in &kb.findings {
        uses.push((format!("derived.toml {}", f.name), &f.when));
    }
    for c in &kb.counts {
        for x in &c.of {
            uses.push((format!("derived.toml {}", c.name), x));
        }
    }
    for i in &kb.implications {
        uses.push((
            format!(
                "derived.toml implication of {}",
                kb.vocabulary.code(i.code).code
            ),
            &i.when,
        ));
    }
    for c in &kb.causes {
        let at = format!("causes.toml {}", c.id);
        for x in c.gate.iter().chain(c.exclude_when.iter()) {
            uses.push((at.clone(), x));
        }
        for w in c.support.iter().chain(c.oppose.iter()) {
            uses.push((at.clone(), &w.when));
        }
        for l in &c.sub_labels {
            uses.push((at.clone(), &l.when));
        }
        if let Some(w) = c.floor.as_ref().and_then(|f| f.when.as_ref()) {
            uses.push((at.clone(), w));
        }
    }
    for e in &kb.advice.extras {
        uses.push(("advice.toml extras".to_owned(), &e.when));
    }
    for b in &kb.advice.blocks {
        if let Some(w) = &b.when {
            uses.push((format!("advice.toml {}", b.id), w));
        }
    }
    for m in &kb.medicines {
        let at = format!("medicines.toml {}", m.id);
        for x in m
            .show_when
            .iter()
            .chain(m.suppress.iter())
            .chain(m.caution.iter())
        {
            uses.push((at.clone(), x));
        }
        for q in &m.ask_first {
            if let Some(u) = &q.unless {
                uses.push((at.clone(), u));
            }
        }
    }
    for b in &kb.safety_net {
        if let Some(w) = &b.when {
            uses.push((format!("safety_net.toml {}", b.id), w));
        }
    }
    let mut direct: Vec<(String, CodeId)> = Vec::new();
    for (at, cond) in &uses {
        let mut ids = Vec::new();
        cond.code_refs(&mut ids);
        direct.extend(ids.into_iter().map(|id| (at.clone(), id)));
    }
    for i in &kb.implications {
        direct.push(("derived.toml implications".to_owned(), i.code));
    }
    for m in &kb.medicines {
        for q in &m.ask_first {
            direct.push((format!("medicines.toml {} ask_first", m.id), q.code));
        }
    }
    for s in &kb.vocabulary.required_screens {
        direct.push(("vocabulary.toml required_screens".to_owned(), s.code));
    }
    for item in &kb.startback.items {
        direct.push(("startback.toml items".to_owned(), item.code));
    }
    let mut problems = Vec::new();
    for (at, id) in direct {
        let def: &CodeDef = kb.vocabulary.code(id);
        if !def.is_active() {
            problems.push((
                at,
                format!(
                    "reads `{}`, which is {}: the engine never sees it (read its replacement instead)",
                    def.code,
                    def.status()
                ),
            ));
        }
    }
    for (at, cond) in &uses {
        let mut choices = Vec::new();
        choice_refs(cond, &mut choices);
        for (code, value) in choices {
            let def = kb.vocabulary.code(code);
            if def.deprecated_values.iter().any(|d| d.value == value) {
                problems.push((
                    at.clone(),
                    format!(
                        "tests `{}` = `{}`, a deprecated value the engine never sees",
                        def.code,
                        def.kind.choice_name(value).unwrap_or("?")
                    ),
                ));
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

fn choice_refs(cond: &Cond, out: &mut Vec<(CodeId, u16)>) {
    match cond {
        Cond::All(list) | Cond::Any(list) => list.iter().for_each(|c| choice_refs(c, out)),
        Cond::Not(inner) => choice_refs(inner, out),
        Cond::Choice { code, values, .. } => out.extend(values.iter().map(|v| (*code, *v))),
        Cond::SetContains { code, value } => out.push((*code, *value)),
        _ => {}
    }
}
