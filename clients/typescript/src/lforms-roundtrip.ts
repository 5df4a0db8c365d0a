// Our FHIR Questionnaire in NLM's LHC-Forms (npm `lforms`, pinned in package.json), in
// headless Chromium (Debian `chromium`, driven by puppeteer-core), round-tripped to $triage:
//   1. GET /fhir/Questionnaire/back-pain-triage from the service under test
//   2. LHC-Forms, loaded from node_modules/lforms/dist/lforms and served by a static server
//      started here on 127.0.0.1, renders it (LForms.Util.addFormToPage); every question
//      without an enableWhen and every group must be on the page
//   3. the unfilled form, exported by LForms.Util.getFormFHIRData, is refused by $triage
//      (422: age and sex are required answers)
//   4. the benign vignette (tests/cases/01_lifted_sofa_spasm.json) is filled through the page:
//      numbers typed into the inputs, choices picked from LHC-Forms' answer lists, by
//      keyboard; the exported QuestionnaireResponse goes to $triage and must be self_care
//   5. a fresh form, the same answers but saddle numbness "Yes", picked with the mouse:
//      $triage must say emergency
// The page may only load from the static server: any other request is aborted and fails the
// run, as do page errors and console errors.
//
//   TRIAGE_URL=http://127.0.0.1:8080 node .build/lforms-roundtrip.js [screenshot-dir]
//
// Exits non-zero on any failure; prints "lforms round trip passed" when all pass.

import { createServer, type Server } from "node:http";
import { readFileSync, mkdirSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

import puppeteer, { type Browser, type Page } from "puppeteer-core";

const base = (process.env.TRIAGE_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = process.argv[2] ?? "target/lforms";
const cases = new URL("../../../tests/cases/", import.meta.url);
const lformsDist = fileURLToPath(new URL("../node_modules/lforms/dist/lforms/", import.meta.url));
const SCREENSHOT = "lforms-questionnaire.png";

class Failure extends Error {}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Failure(message);
  }
}

// ---- FHIR, as much as the test reads ----

interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface QItem {
  linkId: string;
  type: string;
  text?: string;
  required?: boolean;
  enableWhen?: unknown[];
  answerOption?: { valueCoding?: Coding }[];
  item?: QItem[];
}
interface Questionnaire {
  resourceType: string;
  url?: string;
  version?: string;
  item: QItem[];
}
interface QRAnswer {
  valueCoding?: Coding;
  valueInteger?: number;
  valueDecimal?: number;
  [k: string]: unknown;
}
interface QRItem {
  linkId: string;
  answer?: QRAnswer[];
  item?: QRItem[];
}
interface QuestionnaireResponse {
  resourceType: string;
  status?: string;
  questionnaire?: string;
  item?: QRItem[];
}
interface GuidanceResponse {
  resourceType: string;
  status?: string;
  contained?: {
    resourceType: string;
    prediction?: { outcome?: { coding?: Coding[] } }[];
  }[];
}

/** What the page script of LHC-Forms puts on `window` (only what the test calls). */
interface LFormsGlobal {
  lformsVersion: string;
  Util: {
    addFormToPage(form: unknown, container: HTMLElement | string, options?: unknown): Promise<void>;
    removeFormsFromPage(container: HTMLElement | string): void;
    getFormFHIRData(resourceType: string, fhirVersion: string, source?: HTMLElement | string, options?: unknown): unknown;
  };
}
declare global {
  interface Window {
    LForms?: LFormsGlobal;
  }
}

type AnswerValue = string | number;

function flatten(items: QItem[] | undefined): QItem[] {
  return (items ?? []).flatMap((i) => [i, ...flatten(i.item)]);
}

function flattenResponse(items: QRItem[] | undefined): QRItem[] {
  return (items ?? []).flatMap((i) => [i, ...flattenResponse(i.item)]);
}

function level(g: GuidanceResponse): string {
  const risk = (g.contained ?? []).find((r) => r.resourceType === "RiskAssessment");
  return risk?.prediction?.[0]?.outcome?.coding?.[0]?.code ?? "(no level)";
}

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(`${base}${path}`, { headers: { accept: "application/fhir+json" } });
  check(r.status === 200, `GET ${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function post(qr: QuestionnaireResponse): Promise<{ status: number; body: string }> {
  const r = await fetch(`${base}/fhir/QuestionnaireResponse/$triage`, {
    method: "POST",
    headers: { "content-type": "application/fhir+json", accept: "application/fhir+json" },
    body: JSON.stringify(qr),
  });
  return { status: r.status, body: await r.text() };
}

async function triage(qr: QuestionnaireResponse): Promise<GuidanceResponse> {
  const r = await post(qr);
  check(r.status === 200, `POST $triage of the LHC-Forms QuestionnaireResponse: HTTP ${r.status}: ${r.body.slice(0, 800)}`);
  const g = JSON.parse(r.body) as GuidanceResponse;
  check(g.resourceType === "GuidanceResponse", `$triage answered a ${g.resourceType}, not a GuidanceResponse`);
  return g;
}

// ---- the local static server: the test page and node_modules/lforms/dist/lforms ----

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>spasm-triage Questionnaire in LHC-Forms</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
</head>
<body>
<div id="formContainer"></div>
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/lhc-forms.js"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js"></script>
</body>
</html>
`;

const TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".css": "text/css",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
};

function staticServer(): Promise<{ server: Server; url: string }> {
  const root = resolve(lformsDist);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(PAGE);
      return;
    }
    const file = resolve(root, "." + path.replace(/^\/lforms\//, "/"));
    let ok = path.startsWith("/lforms/") && file.startsWith(root + sep);
    try {
      ok &&= statSync(file).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      check(address !== null && typeof address === "object", "the static server has no address");
      done({ server, url: `http://127.0.0.1:${address.port}` });
    });
  });
}

// ---- the page ----

interface FormPage {
  page: Page;
  problems: string[];
}

async function openForm(browser: Browser, pageUrl: string, q: Questionnaire): Promise<FormPage> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 1300 });
  const problems: string[] = [];
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    const u = r.url();
    if (u.startsWith(`${pageUrl}/`) || u.startsWith("data:")) {
      void r.continue();
    } else {
      problems.push(`request to another origin, aborted: ${u}`);
      void r.abort();
    }
  });
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.goto(`${pageUrl}/`, { waitUntil: "load" });
  await page.waitForFunction(() => typeof window.LForms?.Util?.addFormToPage === "function", { timeout: 30_000 });
  await page.evaluate(async (form) => {
    const container = document.getElementById("formContainer");
    if (!container || !window.LForms) throw new Error("no #formContainer or no LForms");
    await window.LForms.Util.addFormToPage(form, container, { fhirVersion: "R4" });
  }, q as unknown as Record<string, unknown>);
  await page.waitForSelector("wc-lhc-form lhc-item", { timeout: 30_000 });
  return { page, problems };
}

/** The rendered form: questions and groups by linkId (LHC-Forms ids are `item-<linkId>/<n>/..`). */
async function rendered(page: Page): Promise<{ questions: string[]; groups: string[] }> {
  return page.evaluate(() => {
    const ids = (selector: string) =>
      Array.from(document.querySelectorAll(selector)).map((e) => e.id.replace(/^item-/, "").split("/")[0] ?? "");
    return {
      questions: ids("wc-lhc-form lhc-item.lhc-item-question"),
      groups: ids("wc-lhc-form lhc-item.lhc-item-group"),
    };
  });
}

/** The answer input of a question (the first instance of the item). */
async function inputOf(page: Page, linkId: string): Promise<string> {
  const id = await page.evaluate((l) => {
    const item = document.querySelector(`wc-lhc-form lhc-item[id^="item-${l}/"]`);
    return item?.querySelector("input")?.id ?? null;
  }, linkId);
  check(id !== null, `${linkId}: no input rendered for it`);
  return `[id="${id}"]`;
}

const LIST = "#lhc-tools-searchResults";

/** The answer list LHC-Forms shows under a focused choice input: its visible options. */
async function listOptions(page: Page): Promise<string[]> {
  await page.waitForFunction(
    (s) => {
      const list = document.querySelector(s);
      return list !== null && getComputedStyle(list).visibility === "visible" && list.querySelector("li") !== null;
    },
    { timeout: 5_000 },
    LIST,
  );
  return page.$$eval(`${LIST} li`, (lis) =>
    lis.map((li) => (li.textContent ?? "").replace(/^\s*\d+:\s*/, "").replace(/\u00a0/g, " ").trim()),
  );
}

async function answer(page: Page, item: QItem, value: AnswerValue, input: "keyboard" | "mouse"): Promise<void> {
  const selector = await inputOf(page, item.linkId);
  await page.$eval(selector, (el) => el.scrollIntoView({ block: "center" }));
  if (item.type === "integer" || item.type === "decimal") {
    await page.click(selector);
    await page.keyboard.type(String(value));
    await page.keyboard.press("Tab");
    const shown = await page.$eval(selector, (el) => (el as HTMLInputElement).value);
    check(shown === String(value), `${item.linkId}: typed ${value}, the input shows "${shown}"`);
    return;
  }
  check(item.type === "choice", `${item.linkId}: the test cannot answer a ${item.type} item`);
  const display = item.answerOption?.find((o) => o.valueCoding?.code === value)?.valueCoding?.display;
  check(display !== undefined, `${item.linkId}: the Questionnaire offers no answer "${value}"`);
  await page.click(selector);
  const options = await listOptions(page);
  const index = options.indexOf(display);
  check(index >= 0, `${item.linkId}: LHC-Forms' list has no "${display}" (it shows ${JSON.stringify(options)})`);
  if (input === "keyboard") {
    // Arrow down the list to the answer, Enter picks it.
    for (let i = 0; i <= index; i++) {
      await page.keyboard.press("ArrowDown");
    }
    await page.keyboard.press("Enter");
  } else {
    const lis = await page.$$(`${LIST} li`);
    const li = lis[index];
    check(li !== undefined, `${item.linkId}: list item ${index} vanished`);
    await li.click();
  }
  await page.waitForFunction(
    (s, d) => (document.querySelector(s) as HTMLInputElement | null)?.value === d,
    { timeout: 5_000 },
    selector,
    display,
  ).catch(async () => {
    const shown = await page.$eval(selector, (el) => (el as HTMLInputElement).value);
    throw new Failure(`${item.linkId}: picked "${display}" by ${input}, the input shows "${shown}"`);
  });
}

async function fill(page: Page, q: Questionnaire, answers: Record<string, AnswerValue>, input: "keyboard" | "mouse"): Promise<void> {
  const items = flatten(q.item);
  const unknown = Object.keys(answers).filter((k) => !items.some((i) => i.linkId === k));
  check(unknown.length === 0, `answers the Questionnaire does not have: ${unknown.join(", ")}`);
  // In Questionnaire order, as a person fills the form top to bottom.
  for (const item of items) {
    const value = answers[item.linkId];
    if (value !== undefined) {
      await answer(page, item, value, input);
    }
  }
  // Tab out of the last answer, so that LHC-Forms commits it (on blur) before the export.
  await page.keyboard.press("Tab");
  const filled = Object.keys(answers);
  await page
    .waitForFunction(
      (codes) => {
        const container = document.getElementById("formContainer");
        if (!container || !window.LForms) return false;
        const answered = new Set<string>();
        const walk = (items: { linkId: string; answer?: unknown[]; item?: unknown[] }[] | undefined): void => {
          for (const i of items ?? []) {
            if (i.answer?.length) answered.add(i.linkId);
            walk(i.item as typeof items);
          }
        };
        const qr = window.LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", container) as {
          item?: { linkId: string }[];
        };
        walk(qr.item);
        return codes.every((c) => answered.has(c));
      },
      { timeout: 5_000, polling: 100 },
      filled,
    )
    .catch(() => undefined); // checkExported names what is missing
}

async function exportResponse(page: Page): Promise<QuestionnaireResponse> {
  const qr = await page.evaluate(() => {
    const container = document.getElementById("formContainer");
    if (!container || !window.LForms) throw new Error("no #formContainer or no LForms");
    return JSON.stringify(window.LForms.Util.getFormFHIRData("QuestionnaireResponse", "R4", container));
  });
  const parsed = JSON.parse(qr) as QuestionnaireResponse;
  check(parsed.resourceType === "QuestionnaireResponse", `LHC-Forms exported a ${parsed.resourceType}`);
  return parsed;
}

/** The exported response carries exactly the answers filled in through the page. */
function checkExported(qr: QuestionnaireResponse, answers: Record<string, AnswerValue>, what: string): void {
  const got = new Map<string, QRAnswer[]>();
  for (const i of flattenResponse(qr.item)) {
    if (i.answer?.length) got.set(i.linkId, i.answer);
  }
  for (const [code, value] of Object.entries(answers)) {
    const a = got.get(code);
    check(a !== undefined && a.length === 1, `${what}: the exported response has no answer for ${code}`);
    const v = a[0]?.valueCoding?.code ?? a[0]?.valueInteger ?? a[0]?.valueDecimal;
    check(v === value, `${what}: exported ${code} = ${JSON.stringify(a)}, filled ${JSON.stringify(value)}`);
  }
  const extra = [...got.keys()].filter((k) => !(k in answers));
  check(extra.length === 0, `${what}: the exported response answers what was not filled: ${extra.join(", ")}`);
}

function checkClean(f: FormPage, what: string): void {
  check(f.problems.length === 0, `${what}: browser problems:\n  ${f.problems.join("\n  ")}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  mkdirSync(shots, { recursive: true });
  const q = await getJson<Questionnaire>("/fhir/Questionnaire/back-pain-triage");
  check(q.resourceType === "Questionnaire", `GET /fhir/Questionnaire/back-pain-triage: a ${q.resourceType}`);
  const all = flatten(q.item);
  const groups = all.filter((i) => i.type === "group");
  const questions = all.filter((i) => i.type !== "group" && i.type !== "display");
  const vignette = JSON.parse(readFileSync(new URL("01_lifted_sofa_spasm.json", cases), "utf8")) as {
    request: { answers: Record<string, AnswerValue> };
    expect: { level: string };
  };
  check(vignette.expect.level === "self_care", `vignette 01 now expects ${vignette.expect.level}, not self_care`);
  const benign = vignette.request.answers;
  check(benign.saddle_numbness === "absent", "vignette 01 no longer answers saddle_numbness absent");
  const saddle = { ...benign, saddle_numbness: "present" };

  const { server, url } = await staticServer();
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // Root in CI: Chromium's sandbox needs an unprivileged user.
    args: ["--no-sandbox", "--disable-gpu", "--lang=en-GB"],
  });
  try {
    // Rendering.
    let f = await openForm(browser, url, q);
    const version = await f.page.evaluate(() => window.LForms?.lformsVersion ?? "");
    const shown = await rendered(f.page);
    const expected = questions.filter((i) => !i.enableWhen?.length).map((i) => i.linkId);
    const missing = expected.filter((l) => !shown.questions.includes(l));
    check(missing.length === 0, `LHC-Forms did not render ${missing.length} questions: ${missing.slice(0, 10).join(", ")}`);
    const missingGroups = groups.filter((g) => !shown.groups.includes(g.linkId)).map((g) => g.linkId);
    check(missingGroups.length === 0, `LHC-Forms did not render the groups ${missingGroups.join(", ")}`);
    const required = await f.page.$$eval("wc-lhc-form lhc-item.lf-answer-required", (e) => e.length);
    const requiredShown = questions.filter((i) => i.required && shown.questions.includes(i.linkId)).length;
    check(required === requiredShown, `${required} items are marked required on the page, the Questionnaire has ${requiredShown}`);
    console.log(
      `lforms ${version}: rendered ${shown.questions.length} of ${questions.length} questions ` +
        `(${expected.length} without enableWhen, all present) in ${shown.groups.length} groups, ${required} marked required`,
    );

    // Nothing filled: $triage refuses it (age and sex are required answers).
    const empty = await exportResponse(f.page);
    checkExported(empty, {}, "unfilled form");
    const r0 = await post(empty);
    check(r0.status === 422, `unfilled form: $triage answered HTTP ${r0.status}, not 422`);
    check(r0.body.includes("missing_required_answer") && r0.body.includes("age_years"), `unfilled form: ${r0.body.slice(0, 400)}`);
    console.log("lforms: unfilled form -> HTTP 422 (missing_required_answer: age_years, sex)");

    // The benign case, by keyboard.
    await fill(f.page, q, benign, "keyboard");
    const qr1 = await exportResponse(f.page);
    checkExported(qr1, benign, "benign");
    const g1 = await triage(qr1);
    check(level(g1) === "self_care", `benign: $triage says ${level(g1)}, not self_care (status ${g1.status})`);
    check(g1.status === "success", `benign: GuidanceResponse status ${g1.status}, not success`);
    checkClean(f, "benign");
    console.log(`lforms: benign -> ${level(g1)} (${Object.keys(benign).length} answers filled by keyboard)`);
    await f.page.close();

    // A fresh form: saddle numbness, by mouse.
    f = await openForm(browser, url, q);
    await fill(f.page, q, saddle, "mouse");
    const qr2 = await exportResponse(f.page);
    checkExported(qr2, saddle, "saddle numbness");
    const g2 = await triage(qr2);
    check(level(g2) === "emergency", `saddle numbness: $triage says ${level(g2)}, not emergency (status ${g2.status})`);
    checkClean(f, "saddle numbness");
    // The screenshot: the neurological group, saddle numbness answered Yes.
    await f.page.$eval('wc-lhc-form lhc-item[id^="item-neurological/"]', (el) => el.scrollIntoView({ block: "start" }));
    await f.page.screenshot({ path: join(shots, SCREENSHOT) });
    console.log(`lforms: saddle numbness -> ${level(g2)} (${Object.keys(saddle).length} answers filled by mouse)`);
    await f.page.close();
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`screenshot: ${join(shots, SCREENSHOT)}`);
  console.log(`lforms round trip passed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main().catch((e: unknown) => {
  console.error(`lforms round trip FAILED: ${e instanceof Failure ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
