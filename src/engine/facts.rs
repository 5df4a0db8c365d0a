//! Everything the conditions read, worked out once per assessment.

use crate::knowledge::condition::{Cond, NumRef, ScreenState};
use crate::knowledge::{CodeId, Computed, KnowledgeBase, Risk, ValueKind};

use super::answers::{Answers, Tri, Value};

/// STarT Back scores; with unknown items, `total`/`psychosocial` are the minimums.
#[derive(Debug, Clone, PartialEq)]
pub struct StartBackScore {
    pub total: u32,
    pub psychosocial: u32,
    pub total_max: u32,
    pub psychosocial_max: u32,
    /// `None` when the range spans more than one risk group (indeterminate).
    pub risk: Option<Risk>,
    /// The risk at the range minimum (drives the floor, reference §7.8).
    pub risk_at_min: Risk,
    pub missing_items: Vec<CodeId>,
    pub positive_items: Vec<CodeId>,
}

pub struct Facts<'a> {
    pub kb: &'a KnowledgeBase,
    pub answers: &'a Answers,
    present: Vec<bool>,
    /// For codes present only through an implication: which one.
    implied_by: Vec<Option<usize>>,
    findings: Vec<bool>,
    pub age_at_onset: Option<f64>,
    pub startback: Option<StartBackScore>,
    /// Required screens not ruled out (unknown, missing or present), in priority order.
    pub unscreened: Vec<CodeId>,
    /// Required screens left unknown or unanswered, in priority order.
    pub missing_screens: Vec<CodeId>,
    /// Required screens answered present, in priority order.
    pub positive_screens: Vec<CodeId>,
}

impl<'a> Facts<'a> {
    pub fn new(kb: &'a KnowledgeBase, answers: &'a Answers) -> Facts<'a> {
        let n = kb.vocabulary.codes.len();
        let present: Vec<bool> = (0..n).map(|id| answers.tri(id) == Tri::Present).collect();
        let mut facts = Facts {
            kb,
            answers,
            present,
            implied_by: vec![None; n],
            findings: vec![false; kb.findings.len()],
            age_at_onset: None,
            startback: None,
            unscreened: Vec::new(),
            missing_screens: Vec::new(),
            positive_screens: Vec::new(),
        };
        facts.age_at_onset = facts.compute_age_at_onset();
        // Implications read answers and computed numbers only, never each other.
        let implied: Vec<(CodeId, usize)> = kb
            .implications
            .iter()
            .enumerate()
            .filter(|(_, imp)| !(imp.only_when_unanswered && facts.is_answered(imp.code)))
            .filter(|(_, imp)| facts.eval(&imp.when))
            .map(|(i, imp)| (imp.code, i))
            .collect();
        for (code, i) in implied {
            if !facts.present[code] {
                facts.present[code] = true;
                facts.implied_by[code] = Some(i);
            }
        }
        facts.startback = facts.score_startback();
        for &i in &kb.finding_order {
            let value = facts.eval(&kb.findings[i].when);
            facts.findings[i] = value;
        }
        facts.screen();
        facts
    }

    /// Answered with a real value (not missing, not `unknown`).
    pub fn is_answered(&self, id: CodeId) -> bool {
        match self.answers.get(id) {
            None => false,
            Some(Value::Tri(t)) => *t != Tri::Unknown,
            Some(Value::Choice(c)) => {
                let kind = &self.kb.vocabulary.code(id).kind;
                kind.choice_name(*c) != Some("unknown")
            }
            Some(_) => true,
        }
    }

    pub fn is_present(&self, id: CodeId) -> bool {
        self.present[id]
    }

    fn compute_age_at_onset(&self) -> Option<f64> {
        let known = &self.kb.vocabulary.well_known;
        let onset_age = known
            .back_pain_onset_age
            .and_then(|id| self.answers.number(id));
        if onset_age.is_some() {
            return onset_age;
        }
        let first = known
            .first_episode
            .is_some_and(|id| self.answers.tri(id) == Tri::Present);
        let age = known.age_years.and_then(|id| self.answers.number(id));
        let days = known.onset_days_ago.and_then(|id| self.answers.number(id));
        match (first, age, days) {
            (true, Some(age), Some(days)) => Some(age - days / 365.0),
            _ => None,
        }
    }

    fn score_startback(&self) -> Option<StartBackScore> {
        let sb = &self.kb.startback;
        let (mut total, mut psych, mut missing_total, mut missing_psych) = (0u32, 0u32, 0u32, 0u32);
        let mut missing_items = Vec::new();
        let mut positive_items = Vec::new();
        for item in &sb.items {
            if !self.is_answered(item.code) {
                missing_total += 1;
                missing_psych += u32::from(item.psychosocial);
                missing_items.push(item.code);
                continue;
            }
            let positive = self
                .answers
                .choice(item.code)
                .is_some_and(|c| item.positive.contains(&c));
            if positive {
                total += 1;
                psych += u32::from(item.psychosocial);
                positive_items.push(item.code);
            }
        }
        if missing_items.len() == sb.items.len() {
            return None;
        }
        let risk_at_min = sb.risk(total, psych);
        let risk_at_max = sb.risk(total + missing_total, psych + missing_psych);
        Some(StartBackScore {
            total,
            psychosocial: psych,
            total_max: total + missing_total,
            psychosocial_max: psych + missing_psych,
            risk: (risk_at_min == risk_at_max).then_some(risk_at_min),
            risk_at_min,
            missing_items,
            positive_items,
        })
    }

    fn screen(&mut self) {
        let mut unscreened = Vec::new();
        let mut missing = Vec::new();
        let mut positive = Vec::new();
        for screen in &self.kb.vocabulary.required_screens {
            if screen.unless.as_ref().is_some_and(|u| self.eval(u)) {
                continue;
            }
            let id = screen.code;
            match self.kb.vocabulary.code(id).kind {
                ValueKind::Tri => {
                    if self.present[id] {
                        unscreened.push(id);
                        positive.push(id);
                    } else if self.answers.tri(id) != Tri::Absent {
                        unscreened.push(id);
                        missing.push(id);
                    }
                }
                _ => {
                    if !self.is_answered(id) {
                        unscreened.push(id);
                        missing.push(id);
                    }
                }
            }
        }
        self.unscreened = unscreened;
        self.missing_screens = missing;
        self.positive_screens = positive;
    }

    fn screens(&self, state: ScreenState) -> &[CodeId] {
        match state {
            ScreenState::NotRuledOut => &self.unscreened,
            ScreenState::Unanswered => &self.missing_screens,
            ScreenState::Positive => &self.positive_screens,
        }
    }

    fn number(&self, num: NumRef) -> Option<f64> {
        match num {
            NumRef::Code(id) => self.answers.number(id),
            NumRef::Count(i) => self
                .kb
                .counts
                .get(i)
                .map(|c| c.of.iter().filter(|x| self.eval(x)).count() as f64),
            NumRef::Computed(Computed::AgeAtOnset) => self.age_at_onset,
            NumRef::Computed(Computed::SbtTotal) => {
                self.startback.as_ref().map(|s| f64::from(s.total))
            }
            NumRef::Computed(Computed::SbtPsych) => {
                self.startback.as_ref().map(|s| f64::from(s.psychosocial))
            }
        }
    }

    pub fn eval(&self, cond: &Cond) -> bool {
        match cond {
            Cond::All(list) => list.iter().all(|c| self.eval(c)),
            Cond::Any(list) => list.iter().any(|c| self.eval(c)),
            Cond::Not(inner) => !self.eval(inner),
            Cond::Present(id) => self.present[*id],
            Cond::Finding(i) => self.findings.get(*i).copied().unwrap_or(false),
            Cond::Absent(id) => self.answers.tri(*id) == Tri::Absent && !self.present[*id],
            Cond::Missing(id) => !self.is_answered(*id),
            Cond::Choice {
                code,
                values,
                negate,
            } => {
                let hit = self
                    .answers
                    .choice(*code)
                    .is_some_and(|c| values.contains(&c));
                hit != *negate
            }
            Cond::SetContains { code, value } => {
                matches!(self.answers.get(*code), Some(Value::Set(s)) if s.contains(value))
            }
            Cond::Compare { num, tests } => self
                .number(*num)
                .is_some_and(|v| tests.iter().all(|(op, t)| op.holds(v, *t))),
            Cond::StartBackAtLeast(risk) => self
                .startback
                .as_ref()
                .is_some_and(|s| s.risk_at_min >= *risk),
            Cond::Unscreened(state) => !self.screens(*state).is_empty(),
        }
    }

    /// The answer codes that made a (true) condition true, in first-seen order.
    pub fn triggers(&self, cond: &Cond) -> Vec<CodeId> {
        let mut out = Vec::new();
        self.collect_triggers(cond, &mut out);
        let mut seen = Vec::with_capacity(out.len());
        for id in out {
            if !seen.contains(&id) {
                seen.push(id);
            }
        }
        seen
    }

    fn collect_triggers(&self, cond: &Cond, out: &mut Vec<CodeId>) {
        match cond {
            Cond::All(list) => list.iter().for_each(|c| self.collect_triggers(c, out)),
            Cond::Any(list) => list
                .iter()
                .filter(|c| self.eval(c))
                .for_each(|c| self.collect_triggers(c, out)),
            Cond::Not(_) => {}
            Cond::Present(id) => match self.implied_by[*id] {
                Some(i) if self.answers.tri(*id) != Tri::Present => {
                    if let Some(imp) = self.kb.implications.get(i) {
                        self.collect_triggers(&imp.when, out);
                    }
                }
                _ => out.push(*id),
            },
            Cond::Finding(i) => {
                if let Some(f) = self.kb.findings.get(*i) {
                    self.collect_triggers(&f.when, out);
                }
            }
            Cond::Absent(id) | Cond::Missing(id) => out.push(*id),
            Cond::Choice { code, .. } | Cond::SetContains { code, .. } => out.push(*code),
            Cond::Compare { num, .. } => match num {
                NumRef::Code(id) => out.push(*id),
                NumRef::Count(i) => {
                    if let Some(c) = self.kb.counts.get(*i) {
                        c.of.iter()
                            .filter(|x| self.eval(x))
                            .for_each(|x| self.collect_triggers(x, out));
                    }
                }
                NumRef::Computed(Computed::AgeAtOnset) => {
                    let known = &self.kb.vocabulary.well_known;
                    let direct = known.back_pain_onset_age.filter(|id| self.is_answered(*id));
                    match direct {
                        Some(id) => out.push(id),
                        None => [known.first_episode, known.age_years, known.onset_days_ago]
                            .into_iter()
                            .flatten()
                            .for_each(|id| out.push(id)),
                    }
                }
                NumRef::Computed(_) => {
                    if let Some(s) = &self.startback {
                        out.extend(s.positive_items.iter().copied());
                    }
                }
            },
            Cond::StartBackAtLeast(_) => {
                if let Some(s) = &self.startback {
                    out.extend(s.positive_items.iter().copied());
                }
            }
            Cond::Unscreened(state) => out.extend(self.screens(*state).iter().copied()),
        }
    }
}
