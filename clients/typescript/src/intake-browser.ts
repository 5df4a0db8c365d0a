// The intake page (/intake/) as a person uses it, in headless Chromium (Debian `chromium`,
// driven by puppeteer-core): one walk by keyboard only, one with the mouse, one in Spanish.
// Answers come from the golden vignettes in tests/cases/; a question the vignette does not
// answer gets "I'd rather not say", as a person who skips would. Each walk checks that the
// page ends on the level the API gives for the same answers and shows the API's texts.
//
//   INTAKE_URL=http://127.0.0.1:8080 node .build/intake-browser.js [screenshot-dir]
//
// Exits non-zero on any failure; prints "intake: N passed, N failed".

import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

import puppeteer, { type Browser, type ElementHandle, type Page } from "puppeteer-core";

import type { components } from "./schema.js";

type TriageResponse = components["schemas"]["TriageResponse"];
/** What the test reads of GET /v1/vocabulary (declared here: older releases' types lack `language`). */
interface VocabularyResponse {
  language?: { code: string };
  codes: { code: string; question: string }[];
}
type AnswerValue = string | number | string[] | null;

const base = (process.env.INTAKE_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";
const shots = process.argv[2] ?? "target/browser";
const cases = new URL("../../../tests/cases/", import.meta.url);
const MAX_QUESTIONS = 120;

interface Vignette {
  name: string;
  answers: Record<string, AnswerValue>;
}

function vignette(file: string): Vignette {
  const raw = JSON.parse(readFileSync(new URL(file, cases), "utf8")) as {
    name: string;
    request: { answers: Record<string, AnswerValue> };
  };
  return { name: raw.name, answers: raw.request.answers };
}

class Failure extends Error {}

function check(condition: boolean, message: string): void {
  if (!condition) {
    throw new Failure(message);
  }
}

interface Walk {
  /** Every answer given, in order; `null` = "I'd rather not say". */
  given: [string, AnswerValue][];
  /** The question texts shown, by code. */
  shown: Map<string, string>;
  level: string;
  heading: string;
  action: string;
  page: Page;
}

type Input = "keyboard" | "mouse";

/** Press Tab until the focused element matches `selector` (a keyboard user's way there). */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) {
      return;
    }
  }
  throw new Failure(`Tab never reached ${selector}`);
}

async function screen(page: Page): Promise<ElementHandle<Element>> {
  const handle = await page.waitForSelector("#view:not([aria-busy]) [data-screen]", { timeout: 10_000 });
  check(handle !== null, "no screen rendered");
  return handle as ElementHandle<Element>;
}

/** Wait until `old` has been replaced by the next screen. */
async function nextScreen(page: Page, old: ElementHandle<Element>): Promise<ElementHandle<Element>> {
  await page.waitForFunction(
    (o) => !document.contains(o) && document.querySelector("#view:not([aria-busy]) [data-screen]") !== null,
    { timeout: 10_000 },
    old,
  );
  return screen(page);
}

async function answerQuestion(page: Page, code: string, value: AnswerValue, input: Input): Promise<void> {
  const form = `form[data-code="${code}"]`;
  if (value === null) {
    if (input === "keyboard") {
      await tabTo(page, `${form} [data-action="skip"]`);
      await page.keyboard.press("Enter");
    } else {
      await page.click(`${form} [data-action="skip"]`);
    }
    return;
  }
  const type = await page.$eval(`${form} input`, (i) => (i as HTMLInputElement).type);
  if (type === "number") {
    if (input === "keyboard") {
      await tabTo(page, `${form} input[type="number"]`);
    } else {
      await page.click(`${form} input[type="number"]`);
    }
    await page.keyboard.type(String(value));
  } else {
    const wanted = Array.isArray(value) ? value.map(String) : [String(value)];
    for (const v of wanted) {
      const selector = `${form} input[value="${v}"]`;
      check((await page.$(selector)) !== null, `${code}: the page offers no answer "${v}"`);
      if (input === "keyboard") {
        // Radios: Tab lands on the group, arrows move the choice; checkboxes: Tab to each, Space.
        if (type === "radio") {
          await tabTo(page, `${form} input[type="radio"]`);
          for (let i = 0; i < 12; i++) {
            if (await page.$eval(selector, (el) => el === document.activeElement)) {
              break;
            }
            await page.keyboard.press("ArrowDown");
          }
          // Tab focuses the first radio of an unanswered group without choosing it.
          if (!(await page.$eval(selector, (el) => (el as HTMLInputElement).checked))) {
            await page.keyboard.press("Space");
          }
          check(await page.$eval(selector, (el) => (el as HTMLInputElement).checked), `${code}: arrows never chose ${v}`);
        } else {
          await tabTo(page, selector);
          await page.keyboard.press("Space");
        }
      } else {
        await page.click(`${form} label[for="${await page.$eval(selector, (el) => el.id)}"]`);
      }
    }
  }
  if (input === "keyboard") {
    await tabTo(page, `${form} button[type="submit"]`);
    await page.keyboard.press("Enter");
  } else {
    await page.click(`${form} button[type="submit"]`);
  }
}

async function walk(browser: Browser, v: Vignette, input: Input, language: "en" | "es", shot: string): Promise<Walk> {
  const page = await browser.newPage();
  await page.setViewport({ width: 900, height: 1100 });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`));
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) problems.push(`request to another origin: ${r.url()}`);
  });
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));

  await page.goto(`${base}/intake/`, { waitUntil: "networkidle0" });
  let current = await screen(page);
  if (language === "es") {
    await page.select("#language", "es");
    current = await nextScreen(page, current);
    check((await page.$eval("html", (h) => h.lang)) === "es", "html lang is not es after the switch");
  }
  if (input === "keyboard") {
    // Focus starts on the heading; the first Tab stops are the language menu, then Start.
    await tabTo(page, "#start");
    await page.keyboard.press("Enter");
  } else {
    await page.click("#start");
  }
  current = await nextScreen(page, current);

  const given: [string, AnswerValue][] = [];
  const shown = new Map<string, string>();
  for (let n = 0; n < MAX_QUESTIONS; n++) {
    const kind = await current.evaluate((el) => el.getAttribute("data-screen"));
    if (kind !== "question") {
      break;
    }
    const code = await current.evaluate((el) => el.getAttribute("data-code") ?? "");
    const text = await page.$eval("legend .text", (el) => el.textContent ?? "");
    // The heading that took focus names the question number, for screen readers.
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    check(focused.length > 0, `${code}: nothing has focus after the question appeared`);
    check(!shown.has(code), `${code} was asked twice`);
    shown.set(code, text);
    if (n === 2) {
      await page.screenshot({ path: join(shots, `${shot}-question.png`) });
    }
    const value = code in v.answers ? (v.answers[code] ?? null) : null;
    given.push([code, value]);
    await answerQuestion(page, code, value, input);
    current = await nextScreen(page, current);
  }
  const kind = await current.evaluate((el) => el.getAttribute("data-screen"));
  if (kind === "error") {
    throw new Failure(`the page showed an error: ${await current.evaluate((el) => el.textContent ?? "")}`);
  }
  check(kind === "result", `no result after ${MAX_QUESTIONS} questions (last screen: ${kind})`);
  await page.screenshot({ path: join(shots, `${shot}-result.png`), fullPage: true });
  const level = await current.evaluate((el) => el.getAttribute("data-level") ?? "");
  const heading = await current.$eval("h1", (el) => el.textContent ?? "");
  // The action comes first, right under the heading.
  const action = await current.$eval("h1 + p", (el) => (el.classList.contains("action") ? (el.textContent ?? "") : ""));
  check(problems.length === 0, `browser problems:\n  ${problems.join("\n  ")}`);
  return { given, shown, level, heading, action, page };
}

/** The API's assessment of the answers the walk gave. */
async function apiAssessment(given: [string, AnswerValue][], language: "en" | "es"): Promise<TriageResponse> {
  const r = await fetch(`${base}/v1/triage`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ answers: Object.fromEntries(given), options: { language } }),
  });
  check(r.status === 200, `POST /v1/triage of the walk's answers: HTTP ${r.status}`);
  return (await r.json()) as TriageResponse;
}

async function vocabulary(language: string): Promise<VocabularyResponse> {
  const r = await fetch(`${base}/v1/vocabulary`, { headers: { "accept-language": language } });
  return (await r.json()) as VocabularyResponse;
}

const tests: [string, (browser: Browser) => Promise<void>][] = [
  [
    "a benign walk-through, keyboard only, ends in self_care",
    async (browser) => {
      const v = vignette("01_lifted_sofa_spasm.json");
      const w = await walk(browser, v, "keyboard", "en", "benign");
      const api = await apiAssessment(w.given, "en");
      check(w.level === "self_care", `ended in ${w.level}, not self_care (${w.given.length} questions)`);
      check(api.triage.level === "self_care", `the API gives ${api.triage.level} for the walk's answers`);
      check(w.action === api.triage.action, `the page's action differs from the API's: ${w.action}`);
      check(w.heading === "Your result", `heading: ${w.heading}`);
      console.log(`    ${w.given.length} questions, ${w.given.filter(([, x]) => x === null).length} declined`);
      await w.page.close();
    },
  ],
  [
    "saddle numbness interrupts the flow with the emergency screen, action first",
    async (browser) => {
      const v = vignette("01_lifted_sofa_spasm.json");
      v.answers.saddle_numbness = "present";
      const w = await walk(browser, v, "mouse", "en", "emergency");
      check(w.level === "emergency", `ended in ${w.level}, not emergency`);
      const last = w.given[w.given.length - 1];
      check(last?.[0] === "saddle_numbness", `the flow went on after saddle numbness (last: ${last?.[0]})`);
      check(w.heading === "Act now", `heading: ${w.heading}`);
      const api = await apiAssessment(w.given, "en");
      check(w.action === api.triage.action && w.action.length > 0, `action: ${w.action}`);
      const alert = await w.page.$eval("[data-screen=result]", (el) => el.getAttribute("role"));
      check(alert === "alert", "the emergency screen is not announced as an alert");
      await w.page.close();
    },
  ],
  [
    "the Spanish flow shows Spanish questions, buttons and result",
    async (browser) => {
      const v = vignette("01_lifted_sofa_spasm.json");
      const es = await vocabulary("es");
      const en = await vocabulary("en");
      check(es.language?.code === "es", "the vocabulary has no Spanish");
      const w = await walk(browser, v, "mouse", "es", "spanish");
      let compared = 0;
      for (const [code, text] of w.shown) {
        const spanish = es.codes.find((c) => c.code === code)?.question;
        const english = en.codes.find((c) => c.code === code)?.question;
        check(text === spanish, `${code}: shown "${text}", Spanish is "${spanish}"`);
        if (spanish !== english) compared++;
      }
      check(compared >= 10, `only ${compared} questions differ from English`);
      const api = await apiAssessment(w.given, "es");
      check(w.level === api.triage.level, `page ${w.level}, API ${api.triage.level}`);
      check(w.action === api.triage.action, `the page's action is not the API's Spanish action: ${w.action}`);
      check(w.heading === "Su resultado", `heading: ${w.heading}`);
      const restart = await w.page.$eval('[data-action="restart"]', (el) => el.textContent ?? "");
      check(restart === "Empezar de nuevo", `restart button: ${restart}`);
      console.log(`    ${w.shown.size} questions shown, ${compared} differ from English`);
      await w.page.close();
    },
  ],
];

async function main(): Promise<void> {
  mkdirSync(shots, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // Root in CI: Chromium's sandbox needs an unprivileged user.
    args: ["--no-sandbox", "--disable-gpu", "--lang=en-GB"],
  });
  let passed = 0;
  let failed = 0;
  try {
    for (const [name, test] of tests) {
      try {
        await test(browser);
        passed++;
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}\n     ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${shots}/`);
  console.log(`intake: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();
