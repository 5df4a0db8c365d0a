//! The handler's synchronous work for one `/v1/triage` body, repeated: run it under
//! `valgrind --tool=callgrind` with two counts and take the difference per call, a
//! deterministic figure on a machine shared with other work (docs/performance.md).
//!
//!   cargo run --release --example instructions -- tests/cases/01_lifted_sofa_spasm.json 10

use spasm_triage::api::triage::triage_body;
use spasm_triage::knowledge::{self, RuleSource};
use spasm_triage::view::dto::Texts;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let case = args
        .next()
        .unwrap_or_else(|| "tests/cases/01_lifted_sofa_spasm.json".to_owned());
    let times: usize = args.next().unwrap_or_else(|| "1".to_owned()).parse()?;
    let kb = knowledge::load(&RuleSource::Embedded)?;
    let texts = Texts::builtin(&kb);
    let case: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(case)?)?;
    let body = serde_json::to_vec(&case["request"])?;
    let mut bytes = 0;
    for _ in 0..times {
        let response = triage_body(&kb, &texts, std::hint::black_box(&body))
            .map_err(|e| format!("refused: {e:?}"))?;
        let mut json = Vec::with_capacity(32 * 1024);
        serde_json::to_writer(&mut json, &response)?;
        bytes = std::hint::black_box(json).len();
    }
    println!("{times} × {} B in, {bytes} B out", body.len());
    Ok(())
}
