//! Which unanswered questions matter most now: worked out from the same facts as the
//! assessment, so a form that asks them one at a time reaches a complete, safe
//! assessment without walking the whole vocabulary.
//!
//! Order (most important first):
//! 1. required safety screens not yet asked;
//! 2. questions whose being unknown is what set the level (a rule that fires on "not
//!    known", such as an unknown onset of new leg symptoms): the answer may settle it;
//! 3. the core intake questions every back-pain assessment needs (vocabulary.toml);
//! 4. questions that could still raise the level: the missing parts of a rule or floor
//!    above the current level that an answer already points to (a clinical answer
//!    before age or sex alone);
//! 5. questions a medicine option waits on (`ask_first`);
//! 6. questions that could firm up a listed cause;
//! 7. STarT Back items, below the urgent levels.
//!
//! A question is asked once: any answer, `unknown` or `null` (declined) retires it, so the
//! loop always ends. At an emergency level only what could make it more urgent is asked.

use crate::knowledge::condition::Cond;
use crate::knowledge::{
    CodeId, Conjunct, KnowledgeBase, Level, MedStatus, QuestionReason, Split, ValueKind,
    QUESTION_REASONS,
};

use super::facts::Facts;
use super::{Band, CauseResult, FiredRule, MedicineResult};

/// At most this many questions per assessment: enough for a form to show a short page,
/// few enough that the most important one is obvious.
pub const MAX_NEXT_QUESTIONS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    RequiredScreen,
    SettlesUncertainty,
    CoreIntake,
    CouldRaiseLevel,
    MedicineScreen,
    RefinesCause,
    StartBack,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::RequiredScreen,
        Reason::SettlesUncertainty,
        Reason::CoreIntake,
        Reason::CouldRaiseLevel,
        Reason::MedicineScreen,
        Reason::RefinesCause,
        Reason::StartBack,
    ];

    pub fn as_str(self) -> &'static str {
        QUESTION_REASONS[self as usize]
    }

    /// Its plain-words explanation in the knowledge base (validated to exist at load).
    pub fn text(self, kb: &KnowledgeBase) -> Option<&QuestionReason> {
        kb.question_reasons.get(self as usize)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NextQuestion<'kb> {
    pub code: CodeId,
    pub reason: Reason,
    /// The rules, floors, medicine options or causes this answer could change.
    pub for_ids: Vec<&'kb str>,
}

/// A rule or floor above the current level, seen as alternatives of conjuncts.
struct Target<'kb> {
    id: &'kb str,
    level: Level,
    /// Its condition as alternatives of conjuncts, with what each part reads (split at load).
    split: &'kb Split,
    /// A floor that only applies at the current level: the level itself is the evidence.
    modifier: bool,
}

/// How close one alternative of a target is to holding, and what would settle it.
struct Path<'kb> {
    id: &'kb str,
    level: Level,
    open_conjuncts: usize,
    order: usize,
    codes: Vec<CodeId>,
}

pub fn next_questions<'kb>(
    kb: &'kb KnowledgeBase,
    facts: &Facts<'_>,
    level: Level,
    fired: &[FiredRule<'kb>],
    medications: &[MedicineResult<'kb>],
    causes: &[CauseResult<'kb>],
) -> Vec<NextQuestion<'kb>> {
    let mut out: Vec<NextQuestion<'kb>> = Vec::with_capacity(MAX_NEXT_QUESTIONS);
    if level == Level::EmergencyAmbulance {
        return out;
    }
    let emergency = level.is_emergency();
    let askable = |id: CodeId| {
        let def = kb.vocabulary.code(id);
        def.is_active()
            && !facts.answers.was_asked(id)
            && def.ask_when.as_ref().is_none_or(|w| facts.eval(w))
    };
    let push = |out: &mut Vec<NextQuestion<'kb>>, code: CodeId, reason: Reason, id: &'kb str| {
        if let Some(q) = out.iter_mut().find(|q| q.code == code) {
            if !id.is_empty() && !q.for_ids.contains(&id) {
                q.for_ids.push(id);
            }
            return;
        }
        // Later questions would be cut off; what they could change still reaches the
        // questions already listed (above).
        if out.len() >= MAX_NEXT_QUESTIONS {
            return;
        }
        out.push(NextQuestion {
            code,
            reason,
            for_ids: if id.is_empty() { Vec::new() } else { vec![id] },
        });
    };

    if !emergency {
        for &code in &facts.missing_screens {
            if askable(code) {
                push(&mut out, code, Reason::RequiredScreen, "");
            }
        }
    }
    for f in fired
        .iter()
        .filter(|f| !f.rule.catch_all && f.rule.level == level)
    {
        let mut unknown = Vec::new();
        missing_that_hold(facts, &f.rule.when, &mut unknown);
        for code in unknown {
            if askable(code) {
                push(&mut out, code, Reason::SettlesUncertainty, &f.rule.id);
            }
        }
    }
    if !emergency {
        for &code in &kb.vocabulary.core_questions {
            if askable(code) {
                push(&mut out, code, Reason::CoreIntake, "");
            }
        }
    }

    // Rules and floors that could still raise the level.
    let mut targets: Vec<Target<'kb>> = kb
        .rules
        .iter()
        .zip(&kb.rule_splits)
        .filter(|(r, _)| !r.catch_all && r.level > level)
        .filter(|(r, _)| !fired.iter().any(|f| std::ptr::eq(f.rule, *r)))
        .map(|(r, split)| Target {
            id: &r.id,
            level: r.level,
            split,
            modifier: false,
        })
        .collect();
    for (floor, split) in kb.floors.iter().zip(&kb.floor_splits) {
        let applies = match floor.only_at_level {
            Some(at) => at == level,
            None => floor.level > level,
        };
        if applies && floor.level > level && !facts.eval(&floor.when) {
            targets.push(Target {
                id: &floor.id,
                level: floor.level,
                split,
                modifier: floor.only_at_level.is_some(),
            });
        }
    }
    // Follow-ups by branching: a question the knowledge base asks only after some answer
    // (`ask_when`, e.g. why someone cannot walk), now open, that a target reads.
    for (id, def) in kb.vocabulary.codes.iter().enumerate() {
        let Some(when) = &def.ask_when else { continue };
        if matches!(when, Cond::Not(_) | Cond::Choice { negate: true, .. }) || !askable(id) {
            continue;
        }
        for target in &targets {
            if target.split.reads.contains(&id) {
                push(&mut out, id, Reason::CouldRaiseLevel, target.id);
            }
        }
    }
    // With the list already full, a target matters only if it reads a listed question (it
    // may add to what that answer could change); paths keep their order either way.
    let full = out.len() >= MAX_NEXT_QUESTIONS;
    let mut paths: Vec<Path<'kb>> = Vec::with_capacity(targets.len());
    for (order, target) in targets.iter().enumerate() {
        if full && !out.iter().any(|q| target.split.reads.contains(&q.code)) {
            continue;
        }
        for conjuncts in &target.split.alternatives {
            if let Some(path) = path_of(kb, facts, target, conjuncts, order, &askable) {
                paths.push(path);
            }
        }
    }
    paths.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| a.open_conjuncts.cmp(&b.open_conjuncts))
            .then_with(|| a.order.cmp(&b.order))
    });
    for path in &paths {
        for &code in &path.codes {
            push(&mut out, code, Reason::CouldRaiseLevel, path.id);
        }
    }

    if !emergency {
        for m in medications
            .iter()
            .filter(|m| m.status == MedStatus::AskFirst)
        {
            for &code in &m.because {
                if askable(code) {
                    push(&mut out, code, Reason::MedicineScreen, &m.medicine.id);
                }
            }
        }
        // The leading cause that is only possible: its missing evidence could firm it up.
        for c in causes.iter().filter(|c| c.band == Band::Possible).take(1) {
            let mut codes = Vec::new();
            if let Some(gate) = &c.cause.gate {
                if !facts.eval(gate) {
                    kb.reads(gate, &mut codes);
                }
            }
            for w in c.cause.support.iter().filter(|w| !facts.eval(&w.when)) {
                kb.reads(&w.when, &mut codes);
            }
            for code in codes {
                if askable(code) {
                    push(&mut out, code, Reason::RefinesCause, &c.cause.id);
                }
            }
        }
        if level < Level::Consultation24 {
            for item in &kb.startback.items {
                if askable(item.code) {
                    push(&mut out, item.code, Reason::StartBack, "");
                }
            }
        }
    }
    out
}

/// The tests that hold only because something is unanswered (`missing`, and `ne` /
/// `not_in` of an unanswered code), in the parts of a condition that hold: the unknowns a
/// fired rule rests on.
fn missing_that_hold(facts: &Facts<'_>, cond: &Cond, out: &mut Vec<CodeId>) {
    if !facts.eval(cond) {
        return;
    }
    match cond {
        Cond::All(list) | Cond::Any(list) => {
            list.iter().for_each(|c| missing_that_hold(facts, c, out))
        }
        Cond::Finding(i) => {
            if let Some(f) = facts.kb.findings.get(*i) {
                missing_that_hold(facts, &f.when, out);
            }
        }
        Cond::Missing(id) => out.push(*id),
        // `ne` / `not_in` hold while unanswered: the answer may make them fail.
        Cond::Choice {
            code, negate: true, ..
        } if !facts.is_answered(*code) => out.push(*code),
        _ => {}
    }
}

/// `None` when nothing answered points to the alternative, or it cannot hold whatever is
/// asked next (a false part whose questions are all answered, or one that only an
/// answer's absence makes true).
fn path_of<'kb>(
    kb: &'kb KnowledgeBase,
    facts: &Facts<'_>,
    target: &Target<'kb>,
    conjuncts: &'kb [Conjunct],
    order: usize,
    askable: &impl Fn(CodeId) -> bool,
) -> Option<Path<'kb>> {
    let mut codes: Vec<CodeId> = Vec::new();
    let mut open_conjuncts = 0;
    // Evidence is a symptom or history answered (or implied) present, or a value the rule
    // looks for (a pulse over 130, both legs); answers in qualifier groups (age, sex,
    // onset) point only to emergency rules, and "not"-tests never point to a rule.
    let mut evidence = target.modifier;
    for Conjunct { when: conjunct, .. } in conjuncts {
        if facts.eval(conjunct) {
            evidence |= facts.triggers(conjunct).into_iter().any(|id| {
                let def = kb.vocabulary.code(id);
                let qualifier = kb
                    .vocabulary
                    .groups
                    .iter()
                    .any(|g| g.id == def.group && g.qualifier);
                match def.kind {
                    // Who and when point only to emergencies (an aneurysm over 60).
                    _ if qualifier => target.level.is_emergency() && facts.is_answered(id),
                    ValueKind::Tri => facts.is_present(id),
                    _ => facts.is_answered(id),
                }
            });
        }
    }
    if !evidence {
        return None;
    }
    for Conjunct {
        when: conjunct,
        reads,
    } in conjuncts
    {
        if facts.eval(conjunct) {
            continue;
        }
        // Answers only ever add facts: a part that needs something to be false or
        // unanswered, and is not, stays so.
        if matches!(
            conjunct,
            Cond::Not(_) | Cond::Missing(_) | Cond::Choice { negate: true, .. }
        ) {
            return None;
        }
        let mut any_askable = false;
        for &id in reads.iter().filter(|id| askable(**id)) {
            any_askable = true;
            if !codes.contains(&id) {
                codes.push(id);
            }
        }
        if !any_askable {
            return None;
        }
        open_conjuncts += 1;
    }
    Some(Path {
        id: target.id,
        level: target.level,
        open_conjuncts,
        order,
        codes,
    })
}
