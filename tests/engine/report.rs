use crate::support::kb;

#[test]
fn committed_report_matches_the_embedded_knowledge_base() {
    let committed = include_str!("../../docs/knowledge-base.md");
    let fresh = spasm_triage::knowledge::report::render(kb());
    assert!(
        committed == fresh,
        "docs/knowledge-base.md is stale: regenerate it with `cargo run --quiet -- kb-report > docs/knowledge-base.md`"
    );
}

#[test]
fn report_lists_every_rule_and_its_sources() {
    let report = spasm_triage::knowledge::report::render(kb());
    for rule in &kb().rules {
        assert!(
            report.contains(&format!("### {} — ", rule.id)),
            "{} missing",
            rule.id
        );
    }
    assert!(report.contains("Awaiting clinical sign-off"));
}
