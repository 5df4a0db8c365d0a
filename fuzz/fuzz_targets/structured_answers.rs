//! Structured requests: answers for a subset of the vocabulary, each usually valid for
//! its code's kind (tri, integer, number, enum, set, response) and sometimes not, plus
//! options and the odd unknown or derived key. The JSON bytes go through `triage_body`.
//!
//! Checked on every input:
//! - an accepted request satisfies `common::check_ok` (rank 1..=5, a missing required
//!   screen floors the level at consultation_24, no advice or medicines at emergency
//!   levels, every placeholder filled, …);
//! - a refused one is a 4xx whose problem document never quotes a value sent;
//! - determinism: the same bytes give the same body apart from `assessment_id`;
//! - monotonicity: turning one more finding `present` never lowers the level;
//! - screening: ruling out one unknown required screen never raises it.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use spasm_triage::api::triage::triage_body;
use spasm_triage::knowledge::{KnowledgeBase, ValueKind, RESPONSE_VALUES};

mod common;

/// Marks every free-text value the fuzzer invents, so a refusal that echoes a value
/// (answers may be health data) is easy to spot.
const MARKER: &str = "QZXJ";

#[derive(Arbitrary, Debug)]
struct Input {
    answers: Vec<Answer>,
    /// Fill `age_years` and `sex` with valid values first (most requests need them).
    required: bool,
    /// Answer every required screen first (mostly `absent`), to reach the levels
    /// below consultation_24.
    screened: bool,
    audience: AudienceChoice,
    extra_key: Option<ExtraKey>,
    /// Which tri code to turn `present` for the monotonicity check.
    flip: u16,
    /// Which unknown required screen to rule out for the screening check.
    rule_out: u16,
}

#[derive(Arbitrary, Debug)]
struct Answer {
    /// Index into `kb.vocabulary.codes` (taken modulo their number).
    code: u16,
    /// Below 224 (seven times in eight): a valid value built from `seed`.
    validity: u8,
    seed: u64,
    invalid: Invalid,
}

#[derive(Arbitrary, Debug)]
enum Invalid {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    /// The code's minimum or maximum, shifted by a little or a lot.
    Edge {
        max: bool,
        shift: i8,
    },
    /// A choice value of another kind, or a tri value where it does not belong.
    WrongWord(u8),
    Text(String),
    Array(Vec<Invalid>),
    /// A set with a repeated value.
    Duplicate(u8),
    Object,
}

#[derive(Arbitrary, Debug)]
enum AudienceChoice {
    Absent,
    Null,
    EmptyOptions,
    Patient,
    Clinician,
    Other(String),
    NotAnObject,
    UnknownOption,
}

#[derive(Arbitrary, Debug)]
enum ExtraKey {
    /// A vocabulary code with one character changed (gets `did_you_mean`).
    Misspelt { code: u16, at: u8, with: char },
    /// A name the service derives itself.
    Derived(u16),
    /// An unknown top-level key.
    TopLevel(String),
    /// `answers` that is not an object.
    AnswersNotObject,
}

fn valid(kind: &ValueKind, seed: u64) -> Value {
    match kind {
        ValueKind::Tri => json!(["present", "absent", "unknown"][(seed % 3) as usize]),
        ValueKind::Integer { min, max } => {
            let span = (max - min + 1.0).max(1.0);
            json!((min + (seed as f64 % span)).floor() as i64)
        }
        ValueKind::Number { min, max } => {
            // Mostly the ends of the range and round values, sometimes anywhere in it.
            let f = match seed % 4 {
                0 => 0.0,
                1 => 1.0,
                _ => (seed >> 2) as f64 / (u64::MAX >> 2) as f64,
            };
            json!((min + (max - min) * f).clamp(*min, *max))
        }
        ValueKind::Enum { values } => json!(values[(seed % values.len() as u64) as usize]),
        ValueKind::Set { values } => Value::Array(
            values
                .iter()
                .enumerate()
                .filter(|(i, _)| (seed >> i) & 1 == 1)
                .map(|(_, v)| json!(v))
                .collect(),
        ),
        ValueKind::Response => {
            json!(RESPONSE_VALUES[(seed % RESPONSE_VALUES.len() as u64) as usize])
        }
    }
}

fn invalid(kind: &ValueKind, inv: &Invalid, depth: u8) -> Value {
    match inv {
        Invalid::Null => Value::Null,
        Invalid::Bool(b) => json!(b),
        Invalid::Integer(i) => json!(i),
        // serde_json writes a non-finite float as null.
        Invalid::Float(f) => json!(f),
        Invalid::Edge { max: at_max, shift } => match kind {
            ValueKind::Integer { min, max } | ValueKind::Number { min, max } => {
                let edge = if *at_max { *max } else { *min };
                let shift = f64::from(*shift);
                json!(
                    edge + if shift.abs() < 8.0 {
                        shift / 8.0
                    } else {
                        shift * 1e6
                    }
                )
            }
            _ => json!(f64::from(*shift) / 2.0),
        },
        Invalid::WrongWord(i) => {
            let words = [
                "present", "absent", "unknown", "helped", "male", "female", "yes", "Present",
                " absent", "",
            ];
            json!(words[usize::from(*i) % words.len()])
        }
        Invalid::Text(s) => json!(format!("{MARKER}{s}")),
        Invalid::Array(items) if depth < 3 => Value::Array(
            items
                .iter()
                .take(8)
                .map(|i| invalid(kind, i, depth + 1))
                .collect(),
        ),
        Invalid::Array(_) => json!([]),
        Invalid::Duplicate(i) => {
            let choices = kind.choices();
            let word = if choices.is_empty() {
                "present".to_owned()
            } else {
                choices[usize::from(*i) % choices.len()].clone()
            };
            json!([word.clone(), word])
        }
        Invalid::Object => json!({ "value": "present" }),
    }
}

fn build(kb: &KnowledgeBase, input: &Input) -> Value {
    let codes = &kb.vocabulary.codes;
    let mut answers = Map::new();
    if input.required {
        answers.insert("age_years".into(), json!(40));
        answers.insert("sex".into(), json!("female"));
    }
    if input.screened {
        for screen in &kb.vocabulary.required_screens {
            let def = kb.vocabulary.code(screen.code);
            let value = match &def.kind {
                ValueKind::Tri => json!("absent"),
                kind => valid(kind, 0),
            };
            answers.insert(def.code.clone(), value);
        }
    }
    for a in input.answers.iter().take(64) {
        let def = &codes[usize::from(a.code) % codes.len()];
        let value = if a.validity < 224 {
            valid(&def.kind, a.seed)
        } else {
            invalid(&def.kind, &a.invalid, 0)
        };
        answers.insert(def.code.clone(), value);
    }
    let mut top = Map::new();
    match &input.extra_key {
        Some(ExtraKey::Misspelt { code, at, with }) => {
            let real = &codes[usize::from(*code) % codes.len()].code;
            let mut chars: Vec<char> = real.chars().collect();
            let i = usize::from(*at) % (chars.len() + 1);
            if i < chars.len() {
                chars[i] = *with;
            } else {
                chars.push(*with);
            }
            answers.insert(chars.into_iter().collect(), json!("present"));
        }
        Some(ExtraKey::Derived(i)) => {
            let names: Vec<&str> = kb
                .findings
                .iter()
                .map(|f| f.name.as_str())
                .chain(kb.counts.iter().map(|c| c.name.as_str()))
                .collect();
            if !names.is_empty() {
                answers.insert(
                    names[usize::from(*i) % names.len()].to_owned(),
                    json!("present"),
                );
            }
        }
        Some(ExtraKey::TopLevel(key)) => {
            top.insert(key.clone(), json!(true));
        }
        Some(ExtraKey::AnswersNotObject) | None => {}
    }
    let answers = if matches!(input.extra_key, Some(ExtraKey::AnswersNotObject)) {
        Value::Array(answers.into_iter().map(|(k, _)| json!(k)).collect())
    } else {
        Value::Object(answers)
    };
    top.insert("answers".into(), answers);
    let options = match &input.audience {
        AudienceChoice::Absent => None,
        AudienceChoice::Null => Some(Value::Null),
        AudienceChoice::EmptyOptions => Some(json!({})),
        AudienceChoice::Patient => Some(json!({ "audience": "patient" })),
        AudienceChoice::Clinician => Some(json!({ "audience": "clinician" })),
        AudienceChoice::Other(s) => Some(json!({ "audience": format!("{MARKER}{s}") })),
        AudienceChoice::NotAnObject => Some(json!("clinician")),
        AudienceChoice::UnknownOption => Some(json!({ "language": "en" })),
    };
    if let Some(options) = options {
        top.insert("options".into(), options);
    }
    Value::Object(top)
}

/// Run the bytes and check the single-response invariants; the body without its id,
/// or `None` when the request was refused.
fn run(request: &Value, clinician: bool) -> Option<Value> {
    let bytes =
        serde_json::to_vec(request).unwrap_or_else(|e| panic!("request does not serialise: {e}"));
    match triage_body(common::kb(), common::texts(), &bytes) {
        Ok(response) => Some(common::without_id(common::check_ok(&response, clinician))),
        Err(error) => {
            let problem = common::check_err(&error).to_string();
            assert!(
                !problem.contains(MARKER),
                "a refusal quotes a value sent: {problem}"
            );
            None
        }
    }
}

/// `SPASM_FUZZ_PRINT=1` prints each request built, to turn a crasher into a test:
/// `SPASM_FUZZ_PRINT=1 cargo fuzz run structured_answers fuzz/artifacts/structured_answers/crash-…`
fn print_requests() -> bool {
    static PRINT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRINT.get_or_init(|| std::env::var_os("SPASM_FUZZ_PRINT").is_some())
}

fn rank(body: &Value) -> u64 {
    body["triage"]["rank"].as_u64().unwrap_or(0)
}

fuzz_target!(|input: Input| {
    let kb = common::kb();
    let request = build(kb, &input);
    if print_requests() {
        eprintln!("request: {request}");
    }
    let clinician = matches!(input.audience, AudienceChoice::Clinician);
    let Some(first) = run(&request, clinician) else {
        return;
    };

    // Determinism.
    let again = run(&request, clinician);
    assert_eq!(
        again.as_ref(),
        Some(&first),
        "same request, different response"
    );

    let answers = request["answers"].as_object().cloned().unwrap_or_default();

    // Monotonicity: one tri finding not yet present turns present.
    let not_present: Vec<&str> = kb
        .vocabulary
        .codes
        .iter()
        .filter(|c| c.kind == ValueKind::Tri && answers.get(&c.code) != Some(&json!("present")))
        .map(|c| c.code.as_str())
        .collect();
    if !not_present.is_empty() {
        let code = not_present[usize::from(input.flip) % not_present.len()];
        let mut raised = request.clone();
        raised["answers"][code] = json!("present");
        let after =
            run(&raised, clinician).unwrap_or_else(|| panic!("turning {code} present was refused"));
        assert!(
            rank(&after) >= rank(&first),
            "{code} turned present lowered the level: {} -> {}",
            first["triage"]["level"],
            after["triage"]["level"]
        );
    }

    // Screening: one required tri screen left unknown or unanswered is ruled out.
    let unknown: Vec<&str> = kb
        .vocabulary
        .required_screens
        .iter()
        .map(|s| kb.vocabulary.code(s.code))
        .filter(|c| {
            c.kind == ValueKind::Tri
                && matches!(answers.get(&c.code), None | Some(Value::String(_)))
                && answers
                    .get(&c.code)
                    .and_then(Value::as_str)
                    .unwrap_or("unknown")
                    == "unknown"
        })
        .map(|c| c.code.as_str())
        .collect();
    if !unknown.is_empty() {
        let code = unknown[usize::from(input.rule_out) % unknown.len()];
        let mut lowered = request.clone();
        lowered["answers"][code] = json!("absent");
        let after =
            run(&lowered, clinician).unwrap_or_else(|| panic!("ruling out {code} was refused"));
        assert!(
            rank(&after) <= rank(&first),
            "{code} ruled out raised the level: {} -> {}",
            first["triage"]["level"],
            after["triage"]["level"]
        );
    }
});
