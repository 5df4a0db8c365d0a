// Live check of the typed client against a running server:
//   SPASM_TRIAGE_URL=http://127.0.0.1:8080 [SPASM_TRIAGE_API_KEY=...] node .build/smoke.js [tests/cases]
// POSTs every golden vignette in tests/cases/ to /v1/triage and checks the typed result
// against the vignette's `expect`; checks a typed 422 problem and GET /v1/vocabulary.
// Exits non-zero on any mismatch.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import {
  deprecationNotice,
  triageClient,
  type Answers,
  type Level,
  type TriageRequest,
  type TriageResponse,
} from "./client.js";

interface Expect {
  level: Level;
  timeframe?: TriageResponse["triage"]["timeframe"];
  decided_by_includes?: string[];
  red_flags_include?: string[];
  red_flags_exclude?: string[];
  causes_include?: { cause: string; band?: "likely" | "possible"; sub_label?: string }[];
  causes_exclude?: string[];
  medications?: Record<string, "suggest" | "caution" | "ask_first" | "suppress">;
  advice_include?: string[];
  advice_empty?: boolean;
  medications_empty?: boolean;
  safety_net_include?: string[];
  startback_risk?: "low" | "medium" | "high" | "indeterminate";
  complete?: boolean;
  missing_screens?: string[];
}

interface Vignette {
  name: string;
  request: TriageRequest;
  expect: Expect;
}

const baseUrl = process.env["SPASM_TRIAGE_URL"] ?? "http://127.0.0.1:8080";
const client = triageClient({ baseUrl, apiKey: process.env["SPASM_TRIAGE_API_KEY"] });
const casesDir = process.argv[2] ?? fileURLToPath(new URL("../../../tests/cases/", import.meta.url));

const failures: string[] = [];
let checks = 0;
function want(ok: boolean, what: string): void {
  checks += 1;
  if (!ok) failures.push(what);
}

function checkAssessment(name: string, b: TriageResponse, e: Expect): void {
  const at = (what: string): string => `${name}: ${what}`;
  want(b.triage.level === e.level, at(`level ${b.triage.level} (expected ${e.level})`));
  if (e.timeframe !== undefined) {
    want(b.triage.timeframe === e.timeframe, at(`timeframe ${b.triage.timeframe} (expected ${e.timeframe})`));
  }
  for (const id of e.decided_by_includes ?? []) {
    want(b.triage.decided_by.includes(id), at(`decided_by ${JSON.stringify(b.triage.decided_by)} lacks ${id}`));
  }
  const flags = b.red_flags.map((f) => f.rule_id);
  for (const id of e.red_flags_include ?? []) want(flags.includes(id), at(`red_flags lack ${id}`));
  for (const id of e.red_flags_exclude ?? []) want(!flags.includes(id), at(`red_flags include ${id}`));
  for (const c of e.causes_include ?? []) {
    const found = b.causes.find((x) => x.cause === c.cause);
    want(found !== undefined, at(`causes lack ${c.cause}`));
    if (found !== undefined && c.band !== undefined) want(found.band === c.band, at(`${c.cause} band ${found.band}`));
    if (found !== undefined && c.sub_label !== undefined) {
      want(found.sub_label === c.sub_label, at(`${c.cause} sub_label ${String(found.sub_label)}`));
    }
  }
  for (const c of e.causes_exclude ?? []) want(!b.causes.some((x) => x.cause === c), at(`causes include ${c}`));
  for (const [option, status] of Object.entries(e.medications ?? {})) {
    const found = b.medications.find((m) => m.option === option);
    want(found?.status === status, at(`${option} is ${String(found?.status)} (expected ${status})`));
  }
  const advice = b.advice.map((a) => a.id);
  for (const id of e.advice_include ?? []) want(advice.includes(id), at(`advice lacks ${id}`));
  if (e.advice_empty !== undefined) want((advice.length === 0) === e.advice_empty, at(`advice empty is not ${e.advice_empty}`));
  if (e.medications_empty !== undefined) {
    want((b.medications.length === 0) === e.medications_empty, at(`medications empty is not ${e.medications_empty}`));
  }
  const nets = b.safety_net.map((s) => s.id);
  for (const id of e.safety_net_include ?? []) want(nets.includes(id), at(`safety_net lacks ${id}`));
  if (e.startback_risk !== undefined) {
    want(b.startback?.risk === e.startback_risk, at(`startback risk ${String(b.startback?.risk)}`));
  }
  if (e.complete !== undefined) want(b.completeness.complete === e.complete, at(`complete ${b.completeness.complete}`));
  if (e.missing_screens !== undefined) {
    const got = JSON.stringify(b.completeness.missing_screens);
    want(got === JSON.stringify(e.missing_screens), at(`missing_screens ${got}`));
  }
  want(/^[0-9a-f-]{36}$/.test(b.assessment_id), at("assessment_id is not a UUID"));
  want(b.knowledge_base.digest.startsWith("sha256:"), at("digest lacks sha256:"));
}

async function main(): Promise<void> {
  // 1. Every golden vignette, typed request in, typed assessment out.
  const files = readdirSync(casesDir).filter((f) => f.endsWith(".json")).sort();
  want(files.length > 0, `no vignettes in ${casesDir}`);
  let digest: string | undefined;
  for (const file of files) {
    const vignette = JSON.parse(readFileSync(join(casesDir, file), "utf8")) as Vignette;
    const { data, error, response } = await client.POST("/v1/triage", { body: vignette.request });
    if (data === undefined) {
      want(false, `${file}: HTTP ${response.status} ${error?.code ?? ""} ${error?.detail ?? ""}`);
      continue;
    }
    want(response.headers.get("cache-control") === "no-store", `${file}: Cache-Control is not no-store`);
    want((response.headers.get("x-request-id") ?? "") !== "", `${file}: no X-Request-Id`);
    checkAssessment(file, data, vignette.expect);
    digest = data.knowledge_base.digest;
  }

  // 2. Typed answers: the compiler checks codes and values against the vocabulary (these
  // directives fail the type check if the generated types ever stop catching them), and the
  // server answers the misspelt code with a typed problem.
  // @ts-expect-error `saddle_numbnes` is not a vocabulary code
  const misspelt: Answers = { age_years: 34, sex: "male", saddle_numbnes: "absent" };
  // @ts-expect-error `fever` is present/absent/unknown, not yes/no
  const wrongValue: Answers = { age_years: 34, sex: "male", fever: "yes" };
  const screened: Answers = { age_years: 34, sex: "female", saddle_numbness: "absent", pregnancy_status: "not_pregnant" };
  want(wrongValue.sex === "male" && screened.sex === "female", "typed answers");
  const bad = await client.POST("/v1/triage", { body: { answers: misspelt, options: { audience: "clinician" } } });
  want(bad.response.status === 422, `misspelt code: HTTP ${bad.response.status} (expected 422)`);
  want(bad.error?.code === "unknown_answer_code", `misspelt code: ${String(bad.error?.code)}`);
  want(
    bad.error?.errors?.[0]?.did_you_mean?.includes("saddle_numbness") === true,
    "misspelt code: no did_you_mean saddle_numbness",
  );
  want(
    bad.response.headers.get("content-type") === "application/problem+json",
    `misspelt code: content-type ${String(bad.response.headers.get("content-type"))}`,
  );

  // 3. The vocabulary: required screens first, typed ranges.
  const vocabulary = await client.GET("/v1/vocabulary");
  if (vocabulary.data === undefined) {
    want(false, `vocabulary: HTTP ${vocabulary.response.status}`);
  } else {
    const { codes, knowledge_base } = vocabulary.data;
    want(codes.length > 100, `vocabulary: only ${codes.length} codes`);
    want(codes[0]?.required_screen === true, "vocabulary: the first code is not a required screen");
    const saddle = codes.find((c) => c.code === "saddle_numbness");
    want(saddle?.type === "tri" && saddle.required_screen, "vocabulary: saddle_numbness is not a required tri screen");
    const age = codes.find((c) => c.code === "age_years");
    want(age?.type === "integer" && age.minimum === 0 && age.maximum === 120, "vocabulary: age_years is not 0..120");
    want(digest === undefined || knowledge_base.digest === digest, "vocabulary: digest differs from triage's");
  }

  // 4. A deprecated code still works and says so (body warning plus Deprecation header).
  const old = await client.POST("/v1/triage", {
    body: { answers: { age_years: 24, sex: "male", pain_unremitting_or_night: "present" } as Answers },
  });
  const notice = deprecationNotice(old.data, old.response.headers);
  want(old.response.status === 200, `deprecated code: HTTP ${old.response.status} (expected 200)`);
  want(
    notice.warnings.some((w) => w.answer === "pain_unremitting_or_night" && w.replaced_by.includes("pain_at_rest")),
    "deprecated code: no warning naming its replacement",
  );
  want((notice.deprecation ?? "").startsWith("@"), `deprecated code: Deprecation header ${String(notice.deprecation)}`);

  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL ${f}`);
    console.error(`typescript client: ${failures.length} of ${checks} checks failed`);
    process.exitCode = 1;
  } else {
    console.log(`typescript client: ${files.length} vignettes, ${checks} checks passed against ${baseUrl}`);
  }
}

main().catch((e: unknown) => {
  console.error("typescript client: error:", e);
  process.exitCode = 1;
});
