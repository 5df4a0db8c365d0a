#!/usr/bin/env python3
"""Validate every FHIR resource the running service produces against the FHIR R4 (4.0.1) or R4B models
of fhir.resources (pinned in scripts/ci-fhir.sh).

Usage: validate_fhir.py BASE_URL

Fetches the Questionnaire, builds a QuestionnaireResponse from each golden vignette in
tests/cases/ (typed as the Questionnaire asks), posts it to $triage, and validates the
Questionnaire, each QuestionnaireResponse sent, each GuidanceResponse with its contained
RiskAssessment and Parameters, a data-required response, and the OperationOutcome of bad
inputs. Exits non-zero on any validation error or unexpected answer.
"""

import glob
import json
import os
import pathlib
import sys
import urllib.error
import urllib.request

import importlib

# FHIR_MODELS=R4 (fhir.resources 6.x, whose models are FHIR 4.0.1: the version the service
# claims) or R4B (fhir.resources 8.x, under fhir.resources.R4B).
RELEASE = os.environ.get("FHIR_MODELS", "R4B")
KINDS = ["Questionnaire", "QuestionnaireResponse", "GuidanceResponse", "RiskAssessment",
         "Parameters", "OperationOutcome", "CapabilityStatement", "OperationDefinition", "Bundle",
         "Library", "CodeSystem", "ValueSet", "ServiceRequest"]
PACKAGE = "fhir.resources" if RELEASE == "R4" else "fhir.resources.R4B"
MODELS = {k: getattr(importlib.import_module(f"{PACKAGE}.{k.lower()}"), k) for k in KINDS}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEXT_QUESTION = "/fhir/Questionnaire/$next-question"
TRIAGE = "/fhir/QuestionnaireResponse/$triage"
failures = []
validated = {name: 0 for name in MODELS}


def request(base, method, path, body=None, content_type="application/fhir+json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), json.loads(err.read() or b"null")


# Required bindings fhir.resources does not check (FHIR R4/R4B value sets).
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string",
              "text", "url", "choice", "open-choice", "attachment", "reference", "quantity"}
ENABLE_WHEN_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
QR_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
GUIDANCE_STATUS = {"success", "data-requested", "data-required", "in-progress", "failure", "entered-in-error"}
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                      "entered-in-error", "unknown"}
CODE_SYSTEM_CONTENT = {"not-present", "example", "fragment", "complete", "supplement"}
RISK_PROBABILITY = {"negligible", "low", "moderate", "high", "certain"}
ISSUE_SEVERITY = {"fatal", "error", "warning", "information"}
ISSUE_TYPES = {"invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
               "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
               "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
               "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
               "exception", "timeout", "incomplete", "throttled", "informational"}


def bindings(resource, where):
    """Required bindings and a few invariants (que-1, que-2, que-12, dom-3, local references)."""
    def want(ok, what):
        if not ok:
            failures.append(f"{where}: {what}")

    kind = resource.get("resourceType")
    if kind == "ServiceRequest":
        want(resource.get("status") in REQUEST_STATUS, f"status {resource.get('status')!r}")
        want(resource.get("intent") in REQUEST_INTENT, f"intent {resource.get('intent')!r}")
        want(resource.get("priority") in REQUEST_PRIORITY, f"priority {resource.get('priority')!r}")
    if kind in ("Library", "CodeSystem", "ValueSet"):
        want(resource.get("status") in PUBLICATION_STATUS, f"status {resource.get('status')!r}")
    if kind == "CodeSystem":
        want(resource.get("content") in CODE_SYSTEM_CONTENT, f"content {resource.get('content')!r}")
        declared = {p.get("code") for p in resource.get("property", [])}
        for concept in resource.get("concept", []):
            for prop in concept.get("property", []):
                want(prop.get("code") in declared, f"concept {concept.get('code')}: undeclared property")
    if kind == "Bundle":
        for i, entry in enumerate(resource.get("entry", [])):
            if isinstance(entry.get("resource"), dict):
                bindings(entry["resource"], f"{where} entry {i}")
    if kind == "Questionnaire":
        want(resource.get("status") in PUBLICATION_STATUS, f"status {resource.get('status')!r}")
        seen = set()

        def walk(items):
            for item in items:
                want(item.get("type") in ITEM_TYPES, f"item {item.get('linkId')} type {item.get('type')!r}")
                want(item["linkId"] not in seen, f"que-2: linkId {item['linkId']} repeats")
                seen.add(item["linkId"])
                want((item.get("type") == "group") == bool(item.get("item")), f"que-1: item {item['linkId']}")
                conditions = item.get("enableWhen", [])
                want(len(conditions) < 2 or "enableBehavior" in item, f"que-12: item {item['linkId']}")
                for c in conditions:
                    want(c.get("operator") in ENABLE_WHEN_OPERATORS, f"enableWhen operator {c.get('operator')!r}")
                walk(item.get("item", []))

        walk(resource.get("item", []))
    elif kind == "QuestionnaireResponse":
        want(resource.get("status") in QR_STATUS, f"status {resource.get('status')!r}")
    elif kind == "GuidanceResponse":
        want(resource.get("status") in GUIDANCE_STATUS, f"status {resource.get('status')!r}")
        contained = {r.get("id") for r in resource.get("contained", [])}
        text = json.dumps(resource)
        local = {ref[1:] for ref in _references(resource) if ref.startswith("#")}
        want(local <= contained, f"unresolved local references {sorted(local - contained)}")
        for rid in contained:
            want(f'"#{rid}"' in text, f"dom-3: contained {rid} is not referenced")
        for req in resource.get("dataRequirement", []):
            want(req.get("type") == "QuestionnaireResponse", f"dataRequirement type {req.get('type')!r}")
    elif kind == "RiskAssessment":
        want(resource.get("status") in OBSERVATION_STATUS, f"status {resource.get('status')!r}")
        for p in resource.get("prediction", []):
            for c in p.get("qualitativeRisk", {}).get("coding", []):
                want(c.get("code") in RISK_PROBABILITY, f"qualitativeRisk {c.get('code')!r}")
    elif kind == "OperationOutcome":
        for issue in resource.get("issue", []):
            want(issue.get("severity") in ISSUE_SEVERITY, f"severity {issue.get('severity')!r}")
            want(issue.get("code") in ISSUE_TYPES, f"issue type {issue.get('code')!r}")
    elif kind == "Parameters":
        def params(ps):
            for p in ps:
                kinds = [k for k in p if k.startswith("value")] + [k for k in ("resource", "part") if k in p]
                want(len(kinds) == 1, f"inv-1: parameter {p.get('name')} has {kinds}")
                params(p.get("part", []))

        params(resource.get("parameter", []))


# Required bindings of ServiceRequest (R4 request-status, request-intent, request-priority).
REQUEST_STATUS = {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"}
REQUEST_INTENT = {"proposal", "plan", "directive", "order", "original-order", "reflex-order",
                  "filler-order", "instance-order", "option"}
REQUEST_PRIORITY = {"routine", "urgent", "asap", "stat"}


def _references(value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from _references(v)
    elif isinstance(value, list):
        for v in value:
            yield from _references(v)


def validate(resource, where):
    """Validate a resource, and each contained resource with its own model."""
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    model = MODELS.get(kind)
    if model is None:
        failures.append(f"{where}: no model for resourceType {kind!r}")
        return
    try:
        if hasattr(model, "model_validate"):
            model.model_validate(resource)
        else:  # pydantic 1 (fhir.resources 6.x)
            model.parse_obj(resource)
        validated[kind] += 1
        bindings(resource, where)
    except Exception as err:  # pydantic.ValidationError and FHIR errors
        failures.append(f"{where}: {kind} is not valid {RELEASE}:\n{err}")
    for i, inner in enumerate(resource.get("contained", [])):
        validate(inner, f"{where} contained[{i}]")


def form_of(questionnaire, older=()):
    """linkId -> (type, repeats, answer-option system), and the groups in order. Items only
    an older Questionnaire version has (deprecated codes, still accepted) come from `older`."""
    items, groups = {}, []
    for group in questionnaire["item"]:
        codes = []
        for item in group["item"]:
            options = item.get("answerOption") or [{}]
            system = options[0].get("valueCoding", {}).get("system")
            items[item["linkId"]] = (item["type"], item.get("repeats", False), system)
            codes.append(item["linkId"])
        groups.append((group["linkId"], codes))
    for old in older:
        for group in old["item"]:
            for item in group["item"]:
                if item["linkId"] in items:
                    continue
                options = item.get("answerOption") or [{}]
                system = options[0].get("valueCoding", {}).get("system")
                items[item["linkId"]] = (item["type"], item.get("repeats", False), system)
                for name, codes in groups:
                    if name == group["linkId"]:
                        codes.append(item["linkId"])
    return items, groups


def response_for(form, answers, status="completed"):
    items, groups = form

    def answer(code, value):
        kind, repeats, system = items[code]
        if kind == "integer":
            return [{"valueInteger": value}]
        if kind == "decimal":
            return [{"valueDecimal": value}]
        values = value if repeats else [value]
        return [{"valueCoding": {"system": system, "code": v}} for v in values]

    out = []
    for group, codes in groups:
        answered = [{"linkId": c, "answer": answer(c, answers[c])} for c in codes if c in answers]
        if answered:
            out.append({"linkId": group, "item": answered})
    unknown = sorted(set(answers) - set(items))
    if unknown:
        raise SystemExit(f"answers use codes the Questionnaire does not have: {unknown}")
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "qr-validate",
        "questionnaire": "urn:spasm-triage:Questionnaire/back-pain-triage",
        "status": status,
        "subject": {"reference": "Patient/validate"},
        "authored": "2026-01-15T09:00:00Z",
        "item": out,
    }


def level_of(guidance):
    risk = next(r for r in guidance["contained"] if r["resourceType"] == "RiskAssessment")
    return risk["prediction"][0]["outcome"]["coding"][0]["code"]


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    base = sys.argv[1].rstrip("/")

    # Discovery: what an EHR reads first.
    for path in ["/fhir/metadata", "/fhir/OperationDefinition/QuestionnaireResponse-triage",
                 "/fhir/Questionnaire?url=urn:spasm-triage:Questionnaire/back-pain-triage",
                 "/fhir/Library/knowledge-base", "/fhir/Library?url=urn:spasm-triage:knowledge-base",
                 # Every CodeSystem and ValueSet, in the searchsets (each entry is validated).
                 "/fhir/CodeSystem", "/fhir/ValueSet", "/fhir/CodeSystem/tri", "/fhir/ValueSet/triage-level"]:
        status, ctype, resource = request(base, "GET", path)
        if status != 200 or not ctype.startswith("application/fhir+json"):
            failures.append(f"GET {path}: {status} {ctype}")
        else:
            validate(resource, f"GET {path}")
    status, ctype, questionnaire = request(base, "GET", "/fhir/Questionnaire/back-pain-triage")
    if status != 200 or not ctype.startswith("application/fhir+json"):
        raise SystemExit(f"GET Questionnaire: {status} {ctype}")
    validate(questionnaire, "Questionnaire")
    older = [json.loads(p.read_text()) for p in sorted((pathlib.Path(__file__).resolve().parent.parent / "tests" / "compat").glob("*/questionnaire.json"))]
    form = form_of(questionnaire, older)

    cases = sorted(glob.glob(os.path.join(ROOT, "tests", "cases", "*.json")))
    if len(cases) < 18:
        raise SystemExit(f"expected the golden vignettes, found {len(cases)}")
    statuses = set()
    for path in cases:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        answers = case["request"]["answers"]
        audience = case["request"].get("options", {}).get("audience", "patient")
        qr = response_for(form, answers)
        validate(qr, f"{name}: request")
        status, ctype, guidance = request(base, "POST", f"{TRIAGE}?audience={audience}", qr)
        if status != 200 or not ctype.startswith("application/fhir+json"):
            failures.append(f"{name}: $triage answered {status} {ctype}: {guidance}")
            continue
        validate(guidance, f"{name}: GuidanceResponse")
        statuses.add(guidance.get("status"))
        expected = case["expect"]["level"]
        if level_of(guidance) != expected:
            failures.append(f"{name}: level {level_of(guidance)}, expected {expected}")

    # SDC adaptive form: $next-question walked as a form filler would, answering from two
    # vignettes (a question they do not answer is skipped); every step is validated and the
    # completed response must get the vignette's level from $triage.
    for name in ["01_lifted_sofa_spasm.json", "04_new_urinary_retention.json"]:
        path = os.path.join(ROOT, "tests", "cases", name)
        if not os.path.exists(path):
            failures.append(f"adaptive walk: {name} is not a vignette")
            continue
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        answers, given = case["request"]["answers"], {}
        response = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}
        for _ in range(300):
            status, ctype, step = request(base, "POST", NEXT_QUESTION, response)
            if status != 200 or not ctype.startswith("application/fhir+json"):
                failures.append(f"adaptive walk {name}: $next-question answered {status} {ctype}: {step}")
                break
            validate(step, f"adaptive walk {name}: QuestionnaireResponse")
            if step.get("status") == "completed":
                final = response_for(form, given)
                status, _, guidance = request(base, "POST", TRIAGE, final)
                if status != 200 or level_of(guidance) != case["expect"]["level"]:
                    failures.append(f"adaptive walk {name}: $triage {status}, level {level_of(guidance) if status == 200 else '-'}")
                break
            questions = [i["linkId"] for i in step["contained"][0].get("item", []) if i.get("type") != "display"]
            if questions and questions[-1] in answers:
                given[questions[-1]] = answers[questions[-1]]
            response = response_for(form, given, "in-progress")
            response["questionnaire"] = "#adaptive"
            response["contained"] = step["contained"]
        else:
            failures.append(f"adaptive walk {name}: not completed after 300 questions")

    suggested = {}
    # CDS Hooks: the referral a card at consultation_24 or above suggests is a FHIR R4
    # ServiceRequest the EHR will create; validate it (emergency and 24-hour cards).
    for what, answers in [("emergency", {"age_years": 34, "sex": "male", "saddle_numbness": "present"}),
                          ("consultation_24", {"age_years": 40, "sex": "male"})]:
        qr = response_for(form, answers)
        qr["id"] = "qr-cds"
        qr["subject"] = {"reference": "Patient/example"}
        call = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                "context": {"userId": "Practitioner/example", "patientId": "example"},
                "prefetch": {"questionnaireResponse": qr}}
        status, _, cards = request(base, "POST", "/cds-services/back-pain-triage", call, "application/json")
        actions = [a for c in (cards or {}).get("cards", []) for s in c.get("suggestions", []) for a in s.get("actions", [])]
        if status != 200 or len(actions) != 1:
            failures.append(f"CDS {what}: expected one suggested action, got {status}: {cards}")
            continue
        suggested = actions[0].get("resource") or {}
        validate(suggested, f"CDS {what}: suggested ServiceRequest")

    # A missing screen: data-required, with the floored assessment.
    answers = {"age_years": 34, "sex": "male", "onset_days_ago": 1, "trigger_heavy_lifting": "present"}
    status, _, guidance = request(base, "POST", TRIAGE, response_for(form, answers, "in-progress"))
    validate(guidance, "missing screens: GuidanceResponse")
    if status != 200 or guidance.get("status") != "data-required" or not guidance.get("dataRequirement"):
        failures.append(f"missing screens: expected data-required with dataRequirement, got {status} {guidance.get('status')}")
    elif level_of(guidance) != "consultation_24":
        failures.append(f"missing screens: level {level_of(guidance)}, expected consultation_24")
    statuses.add(guidance.get("status"))
    if statuses != {"success", "data-required"}:
        failures.append(f"expected both GuidanceResponse statuses, saw {sorted(map(str, statuses))}")

    # Bad inputs: an OperationOutcome with a 4xx and the JSON API's code.
    good = response_for(form, {"age_years": 40, "sex": "female"})
    wrong_type = json.loads(json.dumps(good))
    wrong_type["item"][0]["item"][0]["answer"][0] = {"valueString": "forty"}
    unknown = json.loads(json.dumps(good))
    unknown["item"][0]["item"].append({"linkId": "saddle_numbnes", "answer": [{"valueCoding": {"code": "absent"}}]})
    no_sex = response_for(form, {"age_years": 40})
    bad = [
        ("wrong resourceType", "POST", TRIAGE, {"resourceType": "Patient", "id": "x"}, 422, "invalid_request_shape"),
        ("unknown linkId", "POST", TRIAGE, unknown, 422, "unknown_answer_code"),
        ("wrong value[x] type", "POST", TRIAGE, wrong_type, 422, "invalid_answer_value"),
        ("missing sex", "POST", TRIAGE, no_sex, 422, "missing_required_answer"),
        ("malformed JSON", "POST", TRIAGE, b"{\"resourceType\":", 400, "malformed_json"),
        ("bad audience", "POST", TRIAGE + "?audience=nurse", good, 422, "invalid_option"),
        ("unknown path", "GET", "/fhir/Patient/1", None, 404, "not_found"),
        ("wrong method", "GET", TRIAGE, None, 405, "method_not_allowed"),
    ]
    for what, method, path, body, want_status, want_code in bad:
        status, ctype, outcome = request(base, method, path, body)
        validate(outcome, f"{what}: OperationOutcome")
        code = (outcome or {}).get("issue", [{}])[0].get("details", {}).get("coding", [{}])[0].get("code")
        if status != want_status or code != want_code or not ctype.startswith("application/fhir+json"):
            failures.append(f"{what}: got {status} {code} {ctype}, expected {want_status} {want_code}")
    status, ctype, outcome = request(base, "POST", TRIAGE, good, content_type="text/plain")
    validate(outcome, "wrong content type: OperationOutcome")
    if status != 415:
        failures.append(f"wrong content type: got {status}")

    # Negative controls: a validator that passes everything proves nothing. Each planted
    # error in a copy of a served resource must be caught (the counts are not touched).
    status, _, code_system = request(base, "GET", "/fhir/CodeSystem/tri")
    status, _, capability = request(base, "GET", "/fhir/metadata")
    planted = [
        ("Questionnaire item type outside its binding", questionnaire,
         lambda r: r["item"][0].__setitem__("type", "checkbox")),
        ("Questionnaire without its required status", questionnaire, lambda r: r.pop("status")),
        ("CodeSystem with an element R4 does not have", code_system, lambda r: r.__setitem__("contnet", "complete")),
        ("CodeSystem content outside its binding", code_system, lambda r: r.__setitem__("content", "everything")),
        ("CapabilityStatement rest of the wrong type", capability, lambda r: r.__setitem__("rest", "server")),
        ("ServiceRequest priority outside its binding", suggested, lambda r: r.__setitem__("priority", "now")),
        ("ServiceRequest subject of the wrong type", suggested, lambda r: r.__setitem__("subject", "Patient/example")),
    ]
    caught = 0
    for what, resource, plant in planted:
        broken = json.loads(json.dumps(resource))
        plant(broken)
        before = (len(failures), dict(validated))
        validate(broken, f"negative control: {what}")
        if len(failures) > before[0]:
            caught += 1
            del failures[before[0]:]
        else:
            failures.append(f"negative control: the planted error ({what}) was not caught")
        validated.clear()
        validated.update(before[1])
    print(f"negative controls: {caught} of {len(planted)} planted errors caught")

    print(f"validated with fhir.resources {RELEASE}: " + ", ".join(f"{n} {k}" for k, n in validated.items()))
    if failures:
        print(f"\n{len(failures)} FHIR validation failure(s):", file=sys.stderr)
        for f in failures:
            print(f"- {f}", file=sys.stderr)
        sys.exit(1)
    print(f"all FHIR resources valid ({len(cases)} vignettes, {sum(validated.values())} resources)")


if __name__ == "__main__":
    main()
