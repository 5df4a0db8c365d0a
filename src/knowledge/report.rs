//! A clinician-readable report of the whole knowledge base, in Markdown
//! (`spasm-triage kb-report > docs/knowledge-base.md`).

use std::fmt::Write;

use super::condition::{Cond, NumRef, ScreenState};
use super::model::*;

/// A condition in plain words.
pub fn describe(kb: &KnowledgeBase, cond: &Cond) -> String {
    let code = |id: &CodeId| format!("`{}`", kb.vocabulary.code(*id).code);
    match cond {
        Cond::All(list) => join(kb, list, " AND "),
        Cond::Any(list) if list.is_empty() => "never".to_owned(),
        Cond::Any(list) => {
            if list
                .iter()
                .all(|c| matches!(c, Cond::Present(_) | Cond::Finding(_)))
            {
                format!(
                    "any of ({}) present",
                    list.iter()
                        .map(|c| short(kb, c))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                join(kb, list, " OR ")
            }
        }
        Cond::Not(inner) => format!("NOT {}", wrap(kb, inner)),
        Cond::Present(id) => format!("{} present", code(id)),
        Cond::Finding(i) => format!("{} holds", short(kb, &Cond::Finding(*i))),
        Cond::Absent(id) => format!("{} answered absent", code(id)),
        Cond::Missing(id) => format!("{} not answered", code(id)),
        Cond::Choice {
            code: id,
            values,
            negate,
        } => {
            let kind = &kb.vocabulary.code(*id).kind;
            let names: Vec<&str> = values.iter().filter_map(|v| kind.choice_name(*v)).collect();
            match (names.as_slice(), negate) {
                ([one], false) => format!("{} = {one}", code(id)),
                ([one], true) => format!("{} is not {one} (or not answered)", code(id)),
                (many, false) => format!("{} is one of {}", code(id), many.join(", ")),
                (many, true) => format!(
                    "{} is none of {} (or not answered)",
                    code(id),
                    many.join(", ")
                ),
            }
        }
        Cond::SetContains { code: id, value } => {
            let kind = &kb.vocabulary.code(*id).kind;
            format!(
                "{} includes {}",
                code(id),
                kind.choice_name(*value).unwrap_or("?")
            )
        }
        Cond::Compare { num, tests } => {
            let name = match num {
                NumRef::Code(id) => code(id),
                NumRef::Count(i) => format!(
                    "`{}`",
                    kb.counts.get(*i).map(|c| c.name.as_str()).unwrap_or("?")
                ),
                NumRef::Computed(Computed::AgeAtOnset) => "`age_at_onset`".to_owned(),
                NumRef::Computed(Computed::SbtTotal) => "`sbt_total` (minimum)".to_owned(),
                NumRef::Computed(Computed::SbtPsych) => "`sbt_psych` (minimum)".to_owned(),
            };
            let parts: Vec<String> = tests
                .iter()
                .map(|(op, v)| format!("{} {v}", op.symbol()))
                .collect();
            format!("{name} {}", parts.join(" and "))
        }
        Cond::StartBackAtLeast(r) => format!(
            "STarT Back risk (at the range minimum) is {} or higher",
            r.as_str()
        ),
        Cond::Unscreened(ScreenState::NotRuledOut) => {
            "a required safety screen is not answered absent".to_owned()
        }
        Cond::Unscreened(ScreenState::Unanswered) => {
            "a required safety screen is unknown or not answered".to_owned()
        }
        Cond::Unscreened(ScreenState::Positive) => {
            "a required safety screen is answered present".to_owned()
        }
    }
}

fn short(kb: &KnowledgeBase, cond: &Cond) -> String {
    match cond {
        Cond::Present(id) => format!("`{}`", kb.vocabulary.code(*id).code),
        Cond::Finding(i) => format!(
            "`{}`",
            kb.findings.get(*i).map(|f| f.name.as_str()).unwrap_or("?")
        ),
        other => describe(kb, other),
    }
}

fn wrap(kb: &KnowledgeBase, cond: &Cond) -> String {
    match cond {
        Cond::All(l) | Cond::Any(l) if l.len() > 1 => format!("({})", describe(kb, cond)),
        _ => describe(kb, cond),
    }
}

fn join(kb: &KnowledgeBase, list: &[Cond], sep: &str) -> String {
    list.iter()
        .map(|c| wrap(kb, c))
        .collect::<Vec<_>>()
        .join(sep)
}

fn sources(kb: &KnowledgeBase, ids: &[usize]) -> String {
    ids.iter()
        .filter_map(|i| kb.sources.get(*i))
        .map(|s| s.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn level_text(level: Level, timeframe: Timeframe) -> String {
    if level == Level::Consultation {
        format!("`consultation` ({})", timeframe.as_str())
    } else {
        format!("`{}`", level.as_str())
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The whole report. Deterministic: the drift test compares it byte for byte.
pub fn render(kb: &KnowledgeBase) -> String {
    let mut out = String::new();
    let mut drafts: Vec<String> = Vec::new();
    let _ = writeln!(out, "# Knowledge base report: {}\n", kb.title);
    let _ = writeln!(
        out,
        "Generated from `config/rules/` by `cargo run -- kb-report > docs/knowledge-base.md`; do not edit by hand.\n"
    );
    let _ = writeln!(
        out,
        "- Version: `{}`\n- Digest: `{}`\n",
        kb.version, kb.digest
    );
    let _ = writeln!(
        out,
        "Every level-setting condition below tests findings only positively (reference §7.1.2): answering a\nquestion `present` can only raise the level, and answering a required screen `absent` can only lower it.\n"
    );

    let _ = writeln!(out, "## Levels\n\n| level | rank | action | default care settings | review |\n|---|---|---|---|---|");
    for l in &kb.levels {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            l.level.as_str(),
            l.level.rank(),
            cell(&l.action),
            l.care_settings.join(", "),
            l.review.as_str()
        );
        if l.review == Review::Draft {
            drafts.push(format!("level `{}` action", l.level.as_str()));
        }
    }

    let _ = writeln!(
        out,
        "\n## Care-setting words\n\nFilled into `{{primary_care_doctor}}` and `{{primary_care_practice}}`; a deployment picks one set\n(`locale.care_setting`, default the first).\n\n| set | health system | primary_care_doctor | primary_care_practice | review |\n|---|---|---|---|---|"
    );
    for c in &kb.care_settings {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            c.id,
            cell(&c.description),
            cell(&c.primary_care_doctor),
            cell(&c.primary_care_practice),
            c.review.as_str()
        );
        if c.review == Review::Draft {
            drafts.push(format!("care setting `{}` words", c.id));
        }
    }

    let _ = writeln!(
        out,
        "\n## Required safety screens (clinical priority order)\n"
    );
    for s in &kb.vocabulary.required_screens {
        let def = kb.vocabulary.code(s.code);
        let unless = s
            .unless
            .as_ref()
            .map(|u| format!(" (not required when {})", describe(kb, u)))
            .unwrap_or_default();
        let _ = writeln!(out, "1. `{}`{unless}: {}", def.code, def.question);
    }

    let _ = writeln!(
        out,
        "\n## Derived findings\n\n| name | definition | description |\n|---|---|---|"
    );
    for f in &kb.findings {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            f.name,
            cell(&describe(kb, &f.when)),
            cell(&f.description)
        );
    }
    for c in &kb.counts {
        let parts: Vec<String> = c.of.iter().map(|x| describe(kb, x)).collect();
        let _ = writeln!(
            out,
            "| `{}` | count of: {} | {} |",
            c.name,
            cell(&parts.join("; ")),
            cell(&c.description)
        );
    }
    for i in &kb.implications {
        let only = if i.only_when_unanswered {
            " (only when not answered)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}` is present | when {}{only} | {} |",
            kb.vocabulary.code(i.code).code,
            cell(&describe(kb, &i.when)),
            cell(&i.description)
        );
    }

    let _ = writeln!(out, "\n## Red-flag rules\n");
    for r in &kb.rules {
        let _ = writeln!(out, "### {} — {}\n", r.id, r.title);
        let _ = writeln!(out, "- **Level:** {}", level_text(r.level, r.timeframe));
        let _ = writeln!(out, "- **Fires when:** {}", describe(kb, &r.when));
        if let Some(p) = &r.parent {
            let _ = writeln!(out, "- **Branch of:** {p}");
        }
        let _ = writeln!(out, "- **Screens for:** {}", r.screens_for.join(", "));
        if !r.care_settings.is_empty() {
            let _ = writeln!(out, "- **Care settings:** {}", r.care_settings.join(", "));
        }
        let _ = writeln!(
            out,
            "- **Suitable for remote consultation:** {}",
            if r.remote_ok { "yes" } else { "no" }
        );
        let _ = writeln!(out, "- **Patient text:** {}", r.patient_text.trim());
        let _ = writeln!(out, "- **Clinician text:** {}", r.clinician_text.trim());
        let _ = writeln!(out, "- **Sources:** {}", sources(kb, &r.sources));
        let _ = writeln!(out, "- **Review:** {}\n", r.review.as_str());
        if r.review == Review::Draft {
            drafts.push(format!("rule {}", r.id));
        }
    }

    let _ = writeln!(
        out,
        "## Floors\n\n| id | level | applies when | remote |\n|---|---|---|---|"
    );
    for f in &kb.floors {
        let at = f
            .only_at_level
            .map(|l| format!(" (only when the level is `{}`)", l.as_str()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {}{at} | {} |",
            f.id,
            level_text(f.level, f.timeframe),
            cell(&describe(kb, &f.when)),
            if f.remote_ok { "yes" } else { "no" }
        );
    }

    let _ = writeln!(out, "\n## Causes (explanatory; never lower the level)\n");
    for c in &kb.causes {
        let _ = writeln!(out, "### `{}` — {}\n", c.id, c.label);
        let _ = writeln!(
            out,
            "- Priority {} (lower is listed first on ties), base score {}",
            c.priority, c.base
        );
        if let Some(x) = &c.exclude_when {
            let _ = writeln!(out, "- Not evaluated when: {}", describe(kb, x));
        }
        if let Some(g) = &c.gate {
            let _ = writeln!(out, "- Gate (needed for `likely`): {}", describe(kb, g));
        }
        for w in &c.support {
            let _ = writeln!(
                out,
                "- +{} `{}`: {}",
                w.weight,
                w.evidence,
                describe(kb, &w.when)
            );
        }
        for w in &c.oppose {
            let _ = writeln!(
                out,
                "- −{} `{}`: {}",
                w.weight,
                w.evidence,
                describe(kb, &w.when)
            );
        }
        if let Some(f) = &c.floor {
            let extra = f
                .when
                .as_ref()
                .map(|w| format!(" and {}", describe(kb, w)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- Floor `{}`: {} when the gate holds and base + support ≥ 5{extra}",
                f.id,
                level_text(f.level, f.timeframe)
            );
        }
        for s in &c.sub_labels {
            let _ = writeln!(out, "- Sub-label `{}` when {}", s.id, describe(kb, &s.when));
        }
        let _ = writeln!(
            out,
            "- Sources: {}; review: {}\n",
            sources(kb, &c.sources),
            c.review.as_str()
        );
        if c.review == Review::Draft {
            drafts.push(format!("cause {}", c.id));
        }
    }

    let _ = writeln!(out, "## Medicines\n");
    let _ = writeln!(
        out,
        "- Suppressed text: {}\n- Caution prefix: {}\n- Ask-first prefix: {}\n",
        kb.medicine_texts.suppress_text,
        kb.medicine_texts.caution_prefix,
        kb.medicine_texts.ask_first_prefix
    );
    for m in &kb.medicines {
        let _ = writeln!(out, "### `{}` — {}\n", m.id, m.label);
        let _ = writeln!(out, "- Text: {}", m.text.trim());
        if let Some(s) = &m.show_when {
            let _ = writeln!(out, "- Listed only when: {}", describe(kb, s));
        }
        let _ = writeln!(
            out,
            "- Default status: {}{}",
            m.default_status.as_str(),
            if m.prescription_only {
                " (prescription only)"
            } else {
                ""
            }
        );
        for s in &m.suppress {
            let _ = writeln!(out, "- Suppress when: {}", describe(kb, s));
        }
        for c in &m.caution {
            let _ = writeln!(out, "- Caution when: {}", describe(kb, c));
        }
        for q in &m.ask_first {
            let code = &kb.vocabulary.code(q.code).code;
            match &q.unless {
                Some(u) => {
                    let _ = writeln!(
                        out,
                        "- Ask first (unanswered → `ask_first`): `{code}`, unless {}",
                        describe(kb, u)
                    );
                }
                None => {
                    let _ = writeln!(out, "- Ask first (unanswered → `ask_first`): `{code}`");
                }
            }
        }
        let _ = writeln!(
            out,
            "- Sources: {}; review: {}\n",
            sources(kb, &m.sources),
            m.review.as_str()
        );
        if m.review == Review::Draft {
            drafts.push(format!("medicine {}", m.id));
        }
    }

    let _ = writeln!(out, "## Phases and advice\n");
    let name = |i: &usize| {
        kb.advice
            .blocks
            .get(*i)
            .map(|b| b.id.as_str())
            .unwrap_or("?")
    };
    let _ = writeln!(
        out,
        "- Core: {}",
        kb.advice
            .core
            .iter()
            .map(name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    for p in &kb.advice.phases {
        let to = p
            .to_days
            .map(|t| format!("< {t}"))
            .unwrap_or_else(|| "and later".to_owned());
        let _ = writeln!(
            out,
            "- `{}` ({}; days ≥ {} {to}): {}",
            p.id,
            p.label,
            p.from_days,
            p.advice.iter().map(name).collect::<Vec<_>>().join(", ")
        );
    }
    for e in &kb.advice.extras {
        let _ = writeln!(
            out,
            "- When {}: {}",
            describe(kb, &e.when),
            e.advice.iter().map(name).collect::<Vec<_>>().join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n| block | text | shown only when | sources | review |\n|---|---|---|---|---|"
    );
    for b in &kb.advice.blocks {
        let when = b.when.as_ref().map(|w| describe(kb, w)).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            b.id,
            cell(b.text.trim()),
            cell(&when),
            sources(kb, &b.sources),
            b.review.as_str()
        );
        if b.review == Review::Draft {
            drafts.push(format!("advice {}", b.id));
        }
    }

    let _ = writeln!(
        out,
        "\n## Safety net\n\n| block | levels | shown when | text | review |\n|---|---|---|---|---|"
    );
    for b in &kb.safety_net {
        let mut when = Vec::new();
        if let Some(w) = &b.when {
            when.push(describe(kb, w));
        }
        if b.if_incomplete {
            when.push("a required screen is unanswered".to_owned());
        }
        if let Some(m) = b.if_medicine_offered {
            when.push(format!(
                "`{}` is suggested or cautioned",
                kb.medicines.get(m).map(|x| x.id.as_str()).unwrap_or("?")
            ));
        }
        let levels = if b.non_emergency_only {
            "non-emergency"
        } else {
            "all"
        };
        let _ = writeln!(
            out,
            "| {} | {levels} | {} | {} | {} |",
            b.id,
            cell(&when.join("; ")),
            cell(b.text.trim()),
            b.review.as_str()
        );
        if b.review == Review::Draft {
            drafts.push(format!("safety net {}", b.id));
        }
    }

    let sb = &kb.startback;
    let _ = writeln!(out, "\n## STarT Back ({})\n", sb.tool_version);
    let _ = writeln!(
        out,
        "Total ≤ {} → low; otherwise psychosocial ≥ {} → high, else medium. Unknown items give a range; the floor uses the range minimum.\n",
        sb.low_max_total, sb.high_min_psychosocial
    );
    for item in &sb.items {
        let def = kb.vocabulary.code(item.code);
        let positive: Vec<&str> = item
            .positive
            .iter()
            .filter_map(|p| def.kind.choice_name(*p))
            .collect();
        let _ = writeln!(
            out,
            "- `{}`{}: positive when {}",
            def.code,
            if item.psychosocial {
                " (psychosocial)"
            } else {
                ""
            },
            positive.join(" or ")
        );
    }

    let _ = writeln!(out, "\n## Vocabulary\n\n| code | group | type | allowed | question | screens for | review |\n|---|---|---|---|---|---|---|");
    for id in kb.vocabulary.display_order() {
        let c = kb.vocabulary.code(id);
        let allowed = match &c.kind {
            ValueKind::Integer { min, max } | ValueKind::Number { min, max } => {
                let mut allowed = format!(
                    "{min}..{max}{}",
                    c.unit.as_ref().map(|u| format!(" {u}")).unwrap_or_default()
                );
                for alt in &c.alternative_units {
                    let base = c.unit.as_deref().unwrap_or_default();
                    if let Some((low, high)) = super::units::range_in(base, &alt.unit, *min, *max) {
                        allowed.push_str(&format!(" (or {low}..{high} {})", alt.unit));
                    }
                }
                allowed
            }
            ValueKind::Enum { values } | ValueKind::Set { values } => values.join(", "),
            ValueKind::Tri => "present, absent, unknown".to_owned(),
            ValueKind::Response => RESPONSE_VALUES.join(", "),
        };
        // A question asked in another unit is a patient text of its own: shown for review.
        let mut question = c.question.clone();
        for alt in &c.alternative_units {
            question.push_str(&format!(
                " — in {}: {} ({})",
                alt.unit,
                alt.question,
                alt.review.as_str()
            ));
        }
        let required = if c.required_screen {
            " **(required screen)**"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}`{required} | {} | {} | {} | {} | {} | {} |",
            c.code,
            c.group,
            c.kind.type_name(),
            cell(&allowed),
            cell(&question),
            c.screens_for.join(", "),
            c.review.as_str()
        );
    }

    let _ = writeln!(out, "\n## Sources\n\n| id | title | url |\n|---|---|---|");
    for s in &kb.sources {
        let _ = writeln!(out, "| {} | {} | {} |", s.id, cell(&s.title), s.url);
    }

    let _ = writeln!(
        out,
        "\n## Awaiting clinical sign-off ({} drafted texts)\n",
        drafts.len()
    );
    for d in drafts {
        let _ = writeln!(out, "- {d}");
    }
    out
}
