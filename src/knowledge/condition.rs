//! The condition language shared by rules, floors, causes, advice, medicines and safety nets.

// The condition types live in the model (types there, behaviour here: one-way imports).
pub use super::model::{CmpOp, Cond, NumRef, ScreenState};
use super::model::{
    CodeId, Computed, Conjunct, Finding, KnowledgeBase, Risk, Split, ValueKind, Vocabulary,
};
use super::raw::{RawCondition, RawUnscreened};

/// Names a condition may refer to, besides vocabulary codes.
pub struct Scope<'a> {
    pub vocabulary: &'a Vocabulary,
    pub findings: &'a [String],
    pub counts: &'a [String],
    /// Whether derived findings/counts/computed numbers may be referenced (not in implications).
    pub allow_derived: bool,
    /// Whether `unscreened` may be used (rules only).
    pub allow_unscreened: bool,
}

/// Compile a raw condition, pushing every problem found onto `errors`.
pub fn compile(raw: &RawCondition, scope: &Scope<'_>, errors: &mut Vec<String>) -> Cond {
    let forms = [
        raw.all.is_some(),
        raw.any.is_some(),
        raw.not.is_some(),
        raw.present.is_some(),
        raw.any_present.is_some(),
        raw.absent.is_some(),
        raw.missing.is_some(),
        raw.code.is_some(),
        raw.startback_risk_at_least.is_some(),
        raw.unscreened.is_some(),
    ];
    let count = forms.iter().filter(|f| **f).count();
    if count != 1 {
        errors.push(format!(
            "a condition must have exactly one form (all, any, not, present, any_present, absent, missing, code, startback_risk_at_least, unscreened); found {count}"
        ));
        return Cond::Any(Vec::new());
    }
    if raw.code.is_none()
        && (raw.eq.is_some()
            || raw.ne.is_some()
            || raw.in_values.is_some()
            || raw.not_in.is_some()
            || raw.contains.is_some()
            || raw.gt.is_some()
            || raw.ge.is_some()
            || raw.lt.is_some()
            || raw.le.is_some())
    {
        errors.push(
            "a comparison (eq, ne, in, not_in, contains, gt, ge, lt, le) needs `code`".to_owned(),
        );
    }
    if let Some(list) = &raw.all {
        if list.is_empty() {
            errors.push("`all` with no conditions".to_owned());
        }
        return Cond::All(list.iter().map(|c| compile(c, scope, errors)).collect());
    }
    if let Some(list) = &raw.any {
        if list.is_empty() {
            errors.push("`any` with no conditions can never be true".to_owned());
        }
        return Cond::Any(list.iter().map(|c| compile(c, scope, errors)).collect());
    }
    if let Some(inner) = &raw.not {
        return Cond::Not(Box::new(compile(inner, scope, errors)));
    }
    if let Some(name) = &raw.present {
        return present(name, scope, errors);
    }
    if let Some(names) = &raw.any_present {
        if names.is_empty() {
            errors.push("`any_present` with no codes can never be true".to_owned());
        }
        return Cond::Any(names.iter().map(|n| present(n, scope, errors)).collect());
    }
    if let Some(name) = &raw.absent {
        return match tri_code(name, scope, errors) {
            Some(id) => Cond::Absent(id),
            None => Cond::Any(Vec::new()),
        };
    }
    if let Some(name) = &raw.missing {
        return match code(name, scope, errors) {
            Some(id) => Cond::Missing(id),
            None => Cond::Any(Vec::new()),
        };
    }
    if let Some(risk) = &raw.startback_risk_at_least {
        if !scope.allow_derived {
            errors.push("`startback_risk_at_least` is not allowed here".to_owned());
        }
        return match Risk::parse(risk) {
            Some(r) => Cond::StartBackAtLeast(r),
            None => {
                errors.push(format!(
                    "unknown STarT Back risk `{risk}` (expected low, medium or high)"
                ));
                Cond::Any(Vec::new())
            }
        };
    }
    if let Some(which) = &raw.unscreened {
        let state = match which {
            RawUnscreened::Flag(true) => ScreenState::NotRuledOut,
            RawUnscreened::Which(w) if w == "unknown" => ScreenState::Unanswered,
            RawUnscreened::Which(w) if w == "present" => ScreenState::Positive,
            RawUnscreened::Flag(false) => {
                errors.push("`unscreened = false` is not a condition; remove it".to_owned());
                ScreenState::NotRuledOut
            }
            RawUnscreened::Which(_) => {
                errors.push("`unscreened` takes true, \"unknown\" or \"present\"".to_owned());
                ScreenState::NotRuledOut
            }
        };
        if !scope.allow_unscreened {
            errors.push("`unscreened` is only allowed in red-flag rules".to_owned());
        }
        return Cond::Unscreened(state);
    }
    let name = raw.code.as_deref().unwrap_or_default();
    comparison(name, raw, scope, errors)
}

fn unknown_name(name: &str, scope: &Scope<'_>) -> String {
    let candidates = scope
        .vocabulary
        .codes
        .iter()
        .map(|c| c.code.as_str())
        .chain(scope.findings.iter().map(String::as_str))
        .chain(scope.counts.iter().map(String::as_str));
    let suggestions = super::fuzzy::closest(name, candidates, 3);
    if suggestions.is_empty() {
        format!("unknown code `{name}`")
    } else {
        format!(
            "unknown code `{name}`; did you mean {}?",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn code(name: &str, scope: &Scope<'_>, errors: &mut Vec<String>) -> Option<CodeId> {
    let id = scope.vocabulary.lookup(name);
    if id.is_none() {
        errors.push(unknown_name(name, scope));
    }
    id
}

fn tri_code(name: &str, scope: &Scope<'_>, errors: &mut Vec<String>) -> Option<CodeId> {
    let id = code(name, scope, errors)?;
    let def = scope.vocabulary.code(id);
    if def.kind != ValueKind::Tri {
        errors.push(format!(
            "`{name}` is of type {}, not tri; test it with `code = \"{name}\"` and eq/in or a comparison",
            def.kind.type_name()
        ));
        return None;
    }
    Some(id)
}

fn present(name: &str, scope: &Scope<'_>, errors: &mut Vec<String>) -> Cond {
    if let Some(i) = scope.findings.iter().position(|f| f == name) {
        if !scope.allow_derived {
            errors.push(format!("derived finding `{name}` is not allowed here"));
        }
        return Cond::Finding(i);
    }
    match tri_code(name, scope, errors) {
        Some(id) => Cond::Present(id),
        None => Cond::Any(Vec::new()),
    }
}

fn comparison(name: &str, raw: &RawCondition, scope: &Scope<'_>, errors: &mut Vec<String>) -> Cond {
    let numeric: Vec<(CmpOp, f64)> = [
        (CmpOp::Gt, raw.gt),
        (CmpOp::Ge, raw.ge),
        (CmpOp::Lt, raw.lt),
        (CmpOp::Le, raw.le),
    ]
    .into_iter()
    .filter_map(|(op, v)| v.map(|v| (op, v)))
    .collect();
    let choice_forms = [
        raw.eq.is_some(),
        raw.ne.is_some(),
        raw.in_values.is_some(),
        raw.not_in.is_some(),
        raw.contains.is_some(),
    ]
    .iter()
    .filter(|f| **f)
    .count();
    if choice_forms + usize::from(!numeric.is_empty()) != 1 || choice_forms > 1 {
        errors.push(format!(
            "`code = \"{name}\"` needs exactly one test: eq, ne, in, not_in, contains, or numeric bounds (gt/ge/lt/le)"
        ));
        return Cond::Any(Vec::new());
    }

    if !numeric.is_empty() {
        let num = if let Some(c) = Computed::parse(name) {
            if !scope.allow_derived && c != Computed::AgeAtOnset {
                errors.push(format!("computed number `{name}` is not allowed here"));
            }
            NumRef::Computed(c)
        } else if let Some(i) = scope.counts.iter().position(|c| c == name) {
            if !scope.allow_derived {
                errors.push(format!("count `{name}` is not allowed here"));
            }
            NumRef::Count(i)
        } else {
            let Some(id) = code(name, scope, errors) else {
                return Cond::Any(Vec::new());
            };
            match &scope.vocabulary.code(id).kind {
                ValueKind::Integer { min, max } | ValueKind::Number { min, max } => {
                    check_satisfiable(name, &numeric, *min, *max, errors);
                }
                other => {
                    errors.push(format!(
                        "`{name}` is of type {}, so it cannot be compared with numbers",
                        other.type_name()
                    ));
                    return Cond::Any(Vec::new());
                }
            }
            NumRef::Code(id)
        };
        if let NumRef::Count(_) | NumRef::Computed(_) = num {
            check_satisfiable(name, &numeric, 0.0, 200.0, errors);
        }
        return Cond::Compare {
            num,
            tests: numeric,
        };
    }

    let Some(id) = code(name, scope, errors) else {
        return Cond::Any(Vec::new());
    };
    let kind = &scope.vocabulary.code(id).kind;
    let resolve = |value: &str, errors: &mut Vec<String>| -> Option<u16> {
        let idx = kind.choice_index(value);
        if idx.is_none() {
            let allowed: Vec<String> = match kind {
                ValueKind::Response => super::model::RESPONSE_VALUES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                other => other.choices().to_vec(),
            };
            errors.push(format!(
                "`{value}` is not a value of `{name}` ({}); allowed: {}",
                kind.type_name(),
                if allowed.is_empty() {
                    "none (compare numbers with gt/ge/lt/le, tri codes with present)".to_owned()
                } else {
                    allowed.join(", ")
                }
            ));
        }
        idx
    };
    if let Some(value) = &raw.contains {
        if !matches!(kind, ValueKind::Set { .. }) {
            errors.push(format!(
                "`contains` needs a set code; `{name}` is {}",
                kind.type_name()
            ));
            return Cond::Any(Vec::new());
        }
        return match resolve(value, errors) {
            Some(v) => Cond::SetContains { code: id, value: v },
            None => Cond::Any(Vec::new()),
        };
    }
    if !matches!(kind, ValueKind::Enum { .. } | ValueKind::Response) {
        errors.push(format!(
            "eq/ne/in/not_in need an enum or response code; `{name}` is {}",
            kind.type_name()
        ));
        return Cond::Any(Vec::new());
    }
    let (values, negate): (Vec<&String>, bool) = if let Some(v) = &raw.eq {
        (vec![v], false)
    } else if let Some(v) = &raw.ne {
        (vec![v], true)
    } else if let Some(v) = &raw.in_values {
        (v.iter().collect(), false)
    } else if let Some(v) = &raw.not_in {
        (v.iter().collect(), true)
    } else {
        (Vec::new(), false)
    };
    if values.is_empty() {
        errors.push(format!("`in`/`not_in` on `{name}` lists no values"));
    }
    let resolved: Vec<u16> = values.iter().filter_map(|v| resolve(v, errors)).collect();
    Cond::Choice {
        code: id,
        values: resolved,
        negate,
    }
}

/// A numeric test that no value in the code's range can satisfy is a rule that can never fire.
fn check_satisfiable(
    name: &str,
    tests: &[(CmpOp, f64)],
    min: f64,
    max: f64,
    errors: &mut Vec<String>,
) {
    let (mut lo, mut hi) = (min, max);
    let (mut lo_open, mut hi_open) = (false, false);
    for (op, v) in tests {
        match op {
            CmpOp::Gt if *v >= lo => {
                lo = *v;
                lo_open = true;
            }
            CmpOp::Ge if *v > lo => {
                lo = *v;
                lo_open = false;
            }
            CmpOp::Lt if *v <= hi => {
                hi = *v;
                hi_open = true;
            }
            CmpOp::Le if *v < hi => {
                hi = *v;
                hi_open = false;
            }
            _ => {}
        }
    }
    if lo > hi || (lo == hi && (lo_open || hi_open)) {
        let shown: Vec<String> = tests
            .iter()
            .map(|(op, v)| format!("{} {v}", op.symbol()))
            .collect();
        errors.push(format!(
            "condition on `{name}` ({}) can never be true: the allowed range is {min}..{max}",
            shown.join(", ")
        ));
    }
}

impl Cond {
    /// Does this condition (not looking through derived findings) test a tri-state
    /// code negatively? Used to keep level-setting conditions monotone (reference §7.1.2).
    pub fn negative_tri_tests(
        &self,
        findings: &[Cond],
        out: &mut Vec<String>,
        vocabulary: &Vocabulary,
        finding_names: &[String],
    ) {
        self.walk_negative(false, findings, out, vocabulary, finding_names);
    }

    fn walk_negative(
        &self,
        negated: bool,
        findings: &[Cond],
        out: &mut Vec<String>,
        vocabulary: &Vocabulary,
        names: &[String],
    ) {
        match self {
            Cond::All(list) | Cond::Any(list) => {
                for c in list {
                    c.walk_negative(negated, findings, out, vocabulary, names);
                }
            }
            Cond::Not(inner) => inner.walk_negative(!negated, findings, out, vocabulary, names),
            Cond::Absent(id) => out.push(format!("absent `{}`", vocabulary.code(*id).code)),
            Cond::Present(id) if negated => {
                out.push(format!("not present `{}`", vocabulary.code(*id).code));
            }
            Cond::Finding(i) => {
                if negated {
                    out.push(format!(
                        "not `{}`",
                        names.get(*i).map(String::as_str).unwrap_or("?")
                    ));
                } else if let Some(def) = findings.get(*i) {
                    let mut inner = Vec::new();
                    def.walk_negative(false, findings, &mut inner, vocabulary, names);
                    if !inner.is_empty() {
                        out.push(format!(
                            "`{}` (which tests {})",
                            names.get(*i).map(String::as_str).unwrap_or("?"),
                            inner.join(", ")
                        ));
                    }
                }
            }
            Cond::Unscreened(_) | Cond::StartBackAtLeast(_) if negated => {
                out.push("a negated screen or STarT Back test".to_owned());
            }
            _ => {}
        }
    }

    /// Findings this condition refers to directly.
    pub fn finding_refs(&self, out: &mut Vec<usize>) {
        match self {
            Cond::All(list) | Cond::Any(list) => list.iter().for_each(|c| c.finding_refs(out)),
            Cond::Not(inner) => inner.finding_refs(out),
            Cond::Finding(i) => out.push(*i),
            _ => {}
        }
    }

    /// Vocabulary codes this condition reads directly (not through derived findings).
    pub fn code_refs(&self, out: &mut Vec<CodeId>) {
        match self {
            Cond::All(list) | Cond::Any(list) => list.iter().for_each(|c| c.code_refs(out)),
            Cond::Not(inner) => inner.code_refs(out),
            Cond::Present(id) | Cond::Absent(id) | Cond::Missing(id) => out.push(*id),
            Cond::Choice { code, .. } | Cond::SetContains { code, .. } => out.push(*code),
            Cond::Compare {
                num: NumRef::Code(id),
                ..
            } => out.push(*id),
            _ => {}
        }
    }

    /// Is this trivially unsatisfiable (an empty `any`, left by a compile error or written so)?
    pub fn is_never(&self) -> bool {
        match self {
            Cond::Any(list) => list.is_empty() || list.iter().all(Cond::is_never),
            Cond::All(list) => list.iter().any(Cond::is_never),
            _ => false,
        }
    }
}

impl KnowledgeBase {
    /// `cond` split into alternatives of conjuncts, with what each part reads.
    pub fn split(&self, cond: &Cond) -> Split {
        let mut reads = Vec::new();
        self.reads(cond, &mut reads);
        let alternatives = alternatives(&self.findings, cond)
            .into_iter()
            .map(|conjuncts| {
                conjuncts
                    .into_iter()
                    .map(|when| {
                        let mut reads = Vec::new();
                        self.reads(&when, &mut reads);
                        Conjunct { when, reads }
                    })
                    .collect()
            })
            .collect();
        Split {
            reads,
            alternatives,
        }
    }

    /// Every answer code a condition reads, through findings, counts, implications and
    /// computed numbers, in the order written (authors list the most telling first), each
    /// once; appended to `out`.
    pub fn reads(&self, cond: &Cond, out: &mut Vec<CodeId>) {
        let add = |id: CodeId, out: &mut Vec<CodeId>| {
            if !out.contains(&id) {
                out.push(id);
            }
        };
        match cond {
            Cond::All(list) | Cond::Any(list) => list.iter().for_each(|c| self.reads(c, out)),
            Cond::Not(inner) => self.reads(inner, out),
            Cond::Present(id) => {
                add(*id, out);
                for imp in self.implications.iter().filter(|i| i.code == *id) {
                    self.reads(&imp.when, out);
                }
            }
            Cond::Finding(i) => {
                if let Some(f) = self.findings.get(*i) {
                    self.reads(&f.when, out);
                }
            }
            Cond::Absent(id) | Cond::Missing(id) => add(*id, out),
            Cond::Choice { code, .. } | Cond::SetContains { code, .. } => add(*code, out),
            Cond::Compare { num, .. } => match num {
                NumRef::Code(id) => add(*id, out),
                NumRef::Count(i) => {
                    if let Some(c) = self.counts.get(*i) {
                        c.of.iter().for_each(|x| self.reads(x, out));
                    }
                }
                NumRef::Computed(Computed::AgeAtOnset) => {
                    let known = &self.vocabulary.well_known;
                    [
                        known.first_episode,
                        known.onset_days_ago,
                        known.back_pain_onset_age,
                    ]
                    .into_iter()
                    .flatten()
                    .for_each(|id| add(id, out));
                }
                NumRef::Computed(_) => self.startback.items.iter().for_each(|i| add(i.code, out)),
            },
            Cond::StartBackAtLeast(_) => self.startback.items.iter().for_each(|i| add(i.code, out)),
            Cond::Unscreened(_) => {}
        }
    }
}

/// `cond` as alternatives of conjuncts: an `any` (or a finding that is one) splits into its
/// branches, and each branch's `all` (or a finding that is one) into its parts, in the order
/// written. A rule holds when every conjunct of one alternative holds.
pub fn alternatives(findings: &[Finding], cond: &Cond) -> Vec<Vec<Cond>> {
    let mut branches = Vec::new();
    branches_of(findings, cond, &mut branches);
    branches
        .into_iter()
        .map(|branch| {
            let mut conjuncts = Vec::new();
            conjuncts_of(findings, branch, &mut conjuncts);
            conjuncts.into_iter().cloned().collect()
        })
        .collect()
}

fn branches_of<'c>(findings: &'c [Finding], cond: &'c Cond, out: &mut Vec<&'c Cond>) {
    match cond {
        Cond::Any(list) => list.iter().for_each(|c| branches_of(findings, c, out)),
        Cond::Finding(i) => match findings.get(*i) {
            Some(f) => branches_of(findings, &f.when, out),
            None => out.push(cond),
        },
        _ => out.push(cond),
    }
}

fn conjuncts_of<'c>(findings: &'c [Finding], cond: &'c Cond, out: &mut Vec<&'c Cond>) {
    match cond {
        Cond::All(list) => list.iter().for_each(|c| conjuncts_of(findings, c, out)),
        Cond::Finding(i) => match findings.get(*i) {
            Some(f) if matches!(f.when, Cond::All(_)) => conjuncts_of(findings, &f.when, out),
            _ => out.push(cond),
        },
        _ => out.push(cond),
    }
}
