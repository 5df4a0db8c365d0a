//! Arbitrary bytes through the whole request path after the transport:
//! JSON parsing → shape and option checks → answers against the vocabulary → engine →
//! response → serde_json. Nothing may panic or hang, a refusal is always a 4xx, and a
//! successful response satisfies the invariants in `common::check_ok`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spasm_triage::api::triage::triage_body;

mod common;

fuzz_target!(|data: &[u8]| {
    let kb = common::kb();
    match triage_body(kb, common::texts(), data) {
        Ok(response) => {
            // An accepted body is JSON, so the audience it asked for can be read back.
            common::check_ok(&response, asked_for_clinician(data));
        }
        Err(error) => {
            common::check_err(&error);
        }
    }
});

/// Whether an accepted body asked for the clinician audience (it parsed, so it is JSON).
fn asked_for_clinician(data: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(data)
        .ok()
        .and_then(|v| {
            v.get("options")?
                .get("audience")?
                .as_str()
                .map(|a| a == "clinician")
        })
        .unwrap_or(false)
}
