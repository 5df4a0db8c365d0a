//! The triage engine: a pure, synchronous function from (knowledge base, parsed
//! answers) to an explained assessment. No I/O, no HTTP, no clocks, no randomness.
//!
//! Pipeline (reference §7.1.6): derived findings → rules → cause scores and bands
//! → floors → level → content (advice, medicines, safety net, questions).

pub mod answers;
pub mod facts;
pub mod next;

use crate::knowledge::{
    AdviceBlock, Cause, CodeId, KnowledgeBase, Level, MedStatus, Medicine, Phase, Rule,
    SafetyBlock, Timeframe, CARE_SETTINGS,
};

pub use answers::{
    parse_answer_pairs, parse_answers, AnswerError, AnswerErrorKind, AnswerJson, Answers, Tri,
    Value,
};
pub use facts::{Facts, StartBackScore};
pub use next::{NextQuestion, Reason, MAX_NEXT_QUESTIONS};

/// Who reads the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    #[default]
    Patient,
    Clinician,
}

#[derive(Debug, Clone)]
pub struct Assessment<'kb> {
    pub level: Level,
    pub timeframe: Timeframe,
    pub care_settings: Vec<&'static str>,
    /// Ids that set the final level, in byte order (empty for the `self_care` default).
    pub decided_by: Vec<&'kb str>,
    pub remote_consult_suitable: bool,
    pub red_flags: Vec<FiredRule<'kb>>,
    pub causes: Vec<CauseResult<'kb>>,
    pub phase: Option<&'kb Phase>,
    pub advice: Vec<&'kb AdviceBlock>,
    pub medications: Vec<MedicineResult<'kb>>,
    pub startback: Option<StartBackScore>,
    pub safety_net: Vec<&'kb SafetyBlock>,
    /// Required screens left unknown or unanswered, in clinical priority order.
    pub missing_screens: Vec<CodeId>,
    /// The unanswered questions that matter most now, most important first.
    pub next_questions: Vec<NextQuestion<'kb>>,
    pub audience: Audience,
}

impl Assessment<'_> {
    pub fn complete(&self) -> bool {
        self.missing_screens.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct FiredRule<'kb> {
    pub rule: &'kb Rule,
    pub triggered_by: Vec<CodeId>,
    /// Position in which a front end shows the texts (1 first): specific rules by level
    /// rank descending then id, catch-all safety floors (R25 and its branch) last.
    pub display_order: usize,
    /// Show this text first: the most urgent specific rules, or the catch-all floors when
    /// no specific rule fired.
    pub primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    Likely,
    Possible,
}

impl Band {
    pub fn as_str(&self) -> &'static str {
        match self {
            Band::Likely => "likely",
            Band::Possible => "possible",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evidence<'kb> {
    pub name: &'kb str,
    pub weight: i32,
}

#[derive(Debug, Clone)]
pub struct CauseResult<'kb> {
    pub cause: &'kb Cause,
    pub band: Band,
    pub score: i32,
    pub sub_label: Option<&'kb str>,
    pub evidence: Vec<Evidence<'kb>>,
}

#[derive(Debug, Clone)]
pub struct MedicineResult<'kb> {
    pub medicine: &'kb Medicine,
    pub status: MedStatus,
    pub because: Vec<CodeId>,
}

/// One thing that can set the level: a fired rule or an applying floor.
struct Setter<'kb> {
    id: &'kb str,
    level: Level,
    timeframe: Timeframe,
    remote_ok: bool,
    care_settings: &'kb [String],
}

struct Scored<'kb> {
    cause: &'kb Cause,
    band: Option<Band>,
    score: i32,
    gate: bool,
    support_only: i32,
}

pub fn assess<'kb>(
    kb: &'kb KnowledgeBase,
    answers: &Answers,
    audience: Audience,
) -> Assessment<'kb> {
    let facts = Facts::new(kb, answers);

    // Rules.
    let mut fired: Vec<FiredRule<'kb>> = kb
        .rules
        .iter()
        .filter(|r| facts.eval(&r.when))
        .map(|rule| FiredRule {
            rule,
            triggered_by: facts.triggers(&rule.when),
            display_order: 0,
            primary: false,
        })
        .collect();
    fired.sort_by(|a, b| {
        b.rule
            .level
            .cmp(&a.rule.level)
            .then_with(|| a.rule.id.as_bytes().cmp(b.rule.id.as_bytes()))
    });
    mark_display_order(&mut fired);

    let mut setters: Vec<Setter<'kb>> = fired
        .iter()
        .map(|f| Setter {
            id: &f.rule.id,
            level: f.rule.level,
            timeframe: f.rule.timeframe,
            remote_ok: f.rule.remote_ok,
            care_settings: &f.rule.care_settings,
        })
        .collect();

    // Causes: scores, bands and floors (floors use the support-only score, §7.3).
    let scored: Vec<Scored<'kb>> = kb
        .causes
        .iter()
        .filter(|c| !c.exclude_when.as_ref().is_some_and(|x| facts.eval(x)))
        .map(|cause| score_cause(&facts, cause))
        .collect();
    for s in &scored {
        if let Some(floor) = &s.cause.floor {
            if s.gate && s.support_only >= 5 && floor.when.as_ref().is_none_or(|w| facts.eval(w)) {
                setters.push(Setter {
                    id: &floor.id,
                    level: floor.level,
                    timeframe: floor.timeframe,
                    remote_ok: floor.remote_ok,
                    care_settings: &floor.care_settings,
                });
            }
        }
    }

    // Other floors; those tied to a level (the travel modifier) come last.
    for floor in kb.floors.iter().filter(|f| f.only_at_level.is_none()) {
        if facts.eval(&floor.when) {
            setters.push(Setter {
                id: &floor.id,
                level: floor.level,
                timeframe: floor.timeframe,
                remote_ok: floor.remote_ok,
                care_settings: &floor.care_settings,
            });
        }
    }
    let mut level = setters
        .iter()
        .map(|s| s.level)
        .max()
        .unwrap_or(Level::SelfCare);
    for floor in kb.floors.iter().filter(|f| f.only_at_level.is_some()) {
        if floor.only_at_level == Some(level) && facts.eval(&floor.when) {
            setters.push(Setter {
                id: &floor.id,
                level: floor.level,
                timeframe: floor.timeframe,
                remote_ok: floor.remote_ok,
                care_settings: &floor.care_settings,
            });
            level = level.max(floor.level);
        }
    }

    let mut deciding: Vec<&Setter<'kb>> = setters.iter().filter(|s| s.level == level).collect();
    deciding.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    deciding.dedup_by(|a, b| a.id == b.id);
    let decided_by: Vec<&'kb str> = deciding.iter().map(|s| s.id).collect();
    let timeframe = if level == Level::Consultation {
        deciding
            .iter()
            .map(|s| s.timeframe)
            .min()
            .unwrap_or(Timeframe::Routine)
    } else {
        Timeframe::for_level(level, None)
    };
    let default_settings = &kb.level_info(level).care_settings;
    let mut wanted: Vec<&str> = Vec::new();
    if deciding.is_empty() {
        wanted.extend(default_settings.iter().map(String::as_str));
    }
    for s in &deciding {
        let own = if s.care_settings.is_empty() {
            default_settings.as_slice()
        } else {
            s.care_settings
        };
        wanted.extend(own.iter().map(String::as_str));
    }
    let care_settings: Vec<&'static str> = CARE_SETTINGS
        .into_iter()
        .filter(|c| wanted.contains(c))
        .collect();
    let remote_consult_suitable = matches!(level, Level::Consultation | Level::Consultation24)
        && !deciding.is_empty()
        && deciding.iter().all(|s| s.remote_ok);

    // Causes listed: up to three likely/possible, else the non-specific default.
    let mut listed: Vec<&Scored<'kb>> = scored.iter().filter(|s| s.band.is_some()).collect();
    listed.sort_by(|a, b| {
        a.band
            .cmp(&b.band)
            .then_with(|| b.score.cmp(&a.score))
            .then_with(|| a.cause.priority.cmp(&b.cause.priority))
            .then_with(|| a.cause.id.cmp(&b.cause.id))
    });
    listed.truncate(3);
    let mut causes: Vec<CauseResult<'kb>> = listed
        .iter()
        .map(|s| {
            cause_result(
                &facts,
                s,
                s.band.clone().unwrap_or(Band::Possible),
                audience,
            )
        })
        .collect();
    if causes.is_empty() {
        if let Some(default) = scored
            .iter()
            .find(|s| s.cause.id == "nonspecific_mechanical_lbp")
        {
            causes.push(cause_result(&facts, default, Band::Possible, audience));
        }
    }
    let emergency = level.is_emergency();
    if emergency && audience == Audience::Patient {
        causes.clear();
    }

    // Phase.
    let phase = kb
        .vocabulary
        .well_known
        .onset_days_ago
        .and_then(|id| answers.number(id))
        .and_then(|days| {
            kb.advice.phases.iter().find(|p| {
                days >= f64::from(p.from_days) && p.to_days.is_none_or(|to| days < f64::from(to))
            })
        });

    // Advice and medicines only below emergency levels (§7.5).
    let mut advice: Vec<&'kb AdviceBlock> = Vec::new();
    let mut medications: Vec<MedicineResult<'kb>> = Vec::new();
    if !emergency {
        let mut ids: Vec<usize> = kb.advice.core.clone();
        if let Some(p) = phase {
            ids.extend(p.advice.iter().copied());
        }
        for c in &causes {
            ids.extend(c.cause.advice.iter().copied());
        }
        for extra in &kb.advice.extras {
            if facts.eval(&extra.when) {
                ids.extend(extra.advice.iter().copied());
            }
        }
        let mut seen = Vec::with_capacity(ids.len());
        for id in ids {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(block) = kb.advice.blocks.get(id) {
                if block.when.as_ref().is_none_or(|w| facts.eval(w)) {
                    advice.push(block);
                }
            }
        }
        medications = kb
            .medicines
            .iter()
            .filter(|m| m.show_when.as_ref().is_none_or(|w| facts.eval(w)))
            .map(|m| medicine_result(&facts, m))
            .collect();
    }

    let complete = facts.missing_screens.is_empty();
    let safety_net: Vec<&'kb SafetyBlock> = kb
        .safety_net
        .iter()
        .filter(|b| !(b.non_emergency_only && emergency))
        .filter(|b| b.when.as_ref().is_none_or(|w| facts.eval(w)))
        .filter(|b| !b.if_incomplete || !complete)
        .filter(|b| {
            b.if_medicine_offered.is_none_or(|m| {
                medications.iter().any(|r| {
                    std::ptr::eq(r.medicine, &kb.medicines[m]) && r.status != MedStatus::Suppress
                })
            })
        })
        .collect();

    let next_questions = next::next_questions(kb, &facts, level, &fired, &medications, &causes);

    Assessment {
        level,
        timeframe,
        care_settings,
        decided_by,
        remote_consult_suitable,
        red_flags: fired,
        causes,
        phase,
        advice,
        medications,
        startback: facts.startback.clone(),
        safety_net,
        missing_screens: facts.missing_screens.clone(),
        next_questions,
        audience,
    }
}

/// `fired` is sorted by level rank descending then id; the display order keeps that order
/// but moves catch-all floors after every specific rule.
fn mark_display_order(fired: &mut [FiredRule<'_>]) {
    let top_specific = fired
        .iter()
        .filter(|f| !f.rule.catch_all)
        .map(|f| f.rule.level)
        .max();
    let mut position = 0;
    for catch_all in [false, true] {
        for f in fired.iter_mut().filter(|f| f.rule.catch_all == catch_all) {
            position += 1;
            f.display_order = position;
            f.primary = match top_specific {
                Some(level) => !catch_all && f.rule.level == level,
                None => true,
            };
        }
    }
}

fn score_cause<'kb>(facts: &Facts<'_>, cause: &'kb Cause) -> Scored<'kb> {
    let support: i32 = cause
        .support
        .iter()
        .filter(|w| facts.eval(&w.when))
        .map(|w| w.weight)
        .sum();
    let oppose: i32 = cause
        .oppose
        .iter()
        .filter(|w| facts.eval(&w.when))
        .map(|w| w.weight)
        .sum();
    let score = cause.base + support - oppose;
    let gate = cause.gate.as_ref().is_none_or(|g| facts.eval(g));
    let band = if gate && score >= 5 {
        Some(Band::Likely)
    } else if score >= 2 {
        Some(Band::Possible)
    } else {
        None
    };
    Scored {
        cause,
        band,
        score,
        gate,
        support_only: cause.base + support,
    }
}

fn cause_result<'kb>(
    facts: &Facts<'_>,
    s: &Scored<'kb>,
    band: Band,
    audience: Audience,
) -> CauseResult<'kb> {
    let mut evidence: Vec<Evidence<'kb>> = s
        .cause
        .support
        .iter()
        .filter(|w| facts.eval(&w.when))
        .map(|w| Evidence {
            name: &w.evidence,
            weight: w.weight,
        })
        .collect();
    if audience == Audience::Clinician {
        evidence.extend(
            s.cause
                .oppose
                .iter()
                .filter(|w| facts.eval(&w.when))
                .map(|w| Evidence {
                    name: &w.evidence,
                    weight: -w.weight,
                }),
        );
    }
    let sub_label = s
        .cause
        .sub_labels
        .iter()
        .find(|l| facts.eval(&l.when))
        .map(|l| l.id.as_str());
    CauseResult {
        cause: s.cause,
        band,
        score: s.score,
        sub_label,
        evidence,
    }
}

fn medicine_result<'kb>(facts: &Facts<'_>, medicine: &'kb Medicine) -> MedicineResult<'kb> {
    let collect = |conds: &[crate::knowledge::condition::Cond]| -> Vec<CodeId> {
        let mut because = Vec::new();
        for c in conds.iter().filter(|c| facts.eval(c)) {
            for id in facts.triggers(c) {
                if !because.contains(&id) {
                    because.push(id);
                }
            }
        }
        because
    };
    let suppressed = collect(&medicine.suppress);
    if medicine.suppress.iter().any(|c| facts.eval(c)) {
        return MedicineResult {
            medicine,
            status: MedStatus::Suppress,
            because: suppressed,
        };
    }
    // Silence is not a "no": an unanswered question that decides safety gives ask_first,
    // whatever the cautions say (the answer could be a reason to suppress).
    let unanswered: Vec<CodeId> = medicine
        .ask_first
        .iter()
        .filter(|q| !q.unless.as_ref().is_some_and(|u| facts.eval(u)))
        .filter(|q| !facts.is_answered(q.code))
        .map(|q| q.code)
        .collect();
    if !unanswered.is_empty() {
        return MedicineResult {
            medicine,
            status: MedStatus::AskFirst,
            because: unanswered,
        };
    }
    let cautioned = collect(&medicine.caution);
    let status = if medicine.default_status == MedStatus::Caution
        || medicine.caution.iter().any(|c| facts.eval(c))
    {
        MedStatus::Caution
    } else {
        MedStatus::Suggest
    };
    MedicineResult {
        medicine,
        status,
        because: cautioned,
    }
}
