// The reference intake page: one question at a time from `next_questions` of
// POST /v1/triage, until the assessment has nothing left to ask. Types come from the
// committed OpenAPI document (clients/typescript, openapi-typescript), so a contract change
// that breaks the page fails `tsc`. Built to src/intake/assets/intake.js and served by the
// service at /intake/. Every text from the server is set with textContent, never as HTML.
/** Asked before the first assessment: the service needs them for every assessment. */
const FIRST_QUESTIONS = ["age_years", "sex"];
const EMERGENCY_LEVELS = ["emergency_ambulance", "emergency"];
// The page's own words (buttons and headings); the clinical texts come from the server.
// The Spanish here is a draft, like the knowledge base's translations, until reviewed.
const UI = {
    en: {
        brand: "Back pain check",
        language: "Language",
        intro: "Answer some questions about your back pain, one at a time. At the end you will see how soon to get help and what you can do yourself. You can go back to change an answer.",
        emergencyFirst: "If you have severe symptoms now, such as chest pain, trouble breathing, or you cannot pass urine, do not use this page: call your emergency number.",
        start: "Start",
        next: "Next",
        back: "Back",
        skip: "I'd rather not say",
        restart: "Start again",
        continue: "Answer the remaining questions",
        loading: "Loading…",
        question: "Question {n}",
        whyAsked: "Why we ask",
        unit: "Unit: {unit}",
        range: "Enter a number from {min} to {max}.",
        chooseOne: "Choose an answer, or “I'd rather not say”.",
        chooseAny: "Choose all that apply.",
        resultTitle: "Your result",
        emergencyTitle: "Act now",
        emergencyMore: "Only if you can do it quickly: {n} more answers may show that you need an ambulance.",
        why: "Why",
        causes: "What may be going on (not a diagnosis)",
        advice: "What you can do",
        medicines: "Medicines",
        safetyNet: "Get help sooner if",
        incomplete: "Some safety questions were not answered, so this advice is more cautious than it may need to be.",
        error: "Something went wrong: {detail}",
        offline: "The service could not be reached. If you are worried about your symptoms, call your emergency number or your doctor now.",
        resultReady: "Your result is ready.",
    },
    es: {
        brand: "Consulta sobre el dolor de espalda",
        language: "Idioma",
        intro: "Responda algunas preguntas sobre su dolor de espalda, una cada vez. Al final verá con qué urgencia buscar ayuda y qué puede hacer usted. Puede volver atrás para cambiar una respuesta.",
        emergencyFirst: "Si ahora tiene síntomas graves, como dolor en el pecho, dificultad para respirar o no puede orinar, no use esta página: llame a su número de emergencias.",
        start: "Empezar",
        next: "Siguiente",
        back: "Atrás",
        skip: "Prefiero no contestar",
        restart: "Empezar de nuevo",
        continue: "Responder las preguntas que faltan",
        loading: "Cargando…",
        question: "Pregunta {n}",
        whyAsked: "Por qué lo preguntamos",
        unit: "Unidad: {unit}",
        range: "Escriba un número de {min} a {max}.",
        chooseOne: "Elija una respuesta, o «Prefiero no contestar».",
        chooseAny: "Elija todas las que correspondan.",
        resultTitle: "Su resultado",
        emergencyTitle: "Actúe ahora",
        emergencyMore: "Solo si puede hacerlo rápido: {n} respuestas más pueden indicar que necesita una ambulancia.",
        why: "Por qué",
        causes: "Qué puede estar pasando (no es un diagnóstico)",
        advice: "Qué puede hacer usted",
        medicines: "Medicamentos",
        safetyNet: "Busque ayuda antes si",
        incomplete: "Algunas preguntas de seguridad no se respondieron, así que este consejo es más prudente de lo que quizá haga falta.",
        error: "Algo salió mal: {detail}",
        offline: "No se pudo conectar con el servicio. Si le preocupan sus síntomas, llame ahora a su número de emergencias o a su médico.",
        resultReady: "Su resultado está listo.",
    },
};
let lang = navigator.language.toLowerCase().startsWith("es") ? "es" : "en";
let steps = [];
let vocabulary = null;
let started = false;
/** Bumped on every render request, so a slow response never overwrites a newer screen. */
let generation = 0;
function t(key, fill = {}) {
    return UI[lang][key].replace(/\{(\w+)\}/g, (_, name) => String(fill[name] ?? ""));
}
function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
        node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
}
function byId(id) {
    const node = document.getElementById(id);
    if (node === null) {
        throw new Error(`the page has no #${id}`);
    }
    return node;
}
function announce(text) {
    byId("status").textContent = text;
}
/** Replace the view and move focus to its heading, so screen readers read the new step. */
function show(...children) {
    const view = byId("view");
    view.replaceChildren(...children);
    const heading = view.querySelector("[data-focus]");
    heading?.focus();
}
function answersOf(list) {
    const answers = {};
    for (const step of list) {
        answers[step.code] = step.value;
    }
    return answers;
}
class ProblemError extends Error {
}
async function loadVocabulary() {
    const r = await fetch("/v1/vocabulary", {
        headers: { accept: "application/json", "accept-language": lang },
    });
    if (!r.ok) {
        throw new ProblemError(await problemText(r));
    }
    return (await r.json());
}
async function assess(list) {
    const request = {
        // Codes come from the server's own questions, so they are vocabulary codes.
        answers: answersOf(list),
        options: { language: lang },
    };
    const r = await fetch("/v1/triage", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(request),
    });
    if (!r.ok) {
        throw new ProblemError(await problemText(r));
    }
    return (await r.json());
}
async function problemText(r) {
    try {
        const problem = (await r.json());
        return problem.detail ?? problem.title ?? `HTTP ${r.status}`;
    }
    catch {
        return `HTTP ${r.status}`;
    }
}
function renderChrome() {
    document.documentElement.lang = lang;
    document.title = t("brand");
    byId("brand").textContent = t("brand");
    byId("language-label").textContent = t("language");
    const select = byId("language");
    select.value = lang;
}
function renderIntro() {
    const heading = el("h1", { tabindex: "-1", "data-focus": "" }, t("brand"));
    const start = el("button", { type: "button", class: "primary", id: "start" }, t("start"));
    start.addEventListener("click", () => {
        started = true;
        void advance();
    });
    show(el("section", { "data-screen": "intro" }, heading, el("p", {}, t("intro")), el("p", { class: "notice" }, t("emergencyFirst")), start));
}
function renderLoading() {
    byId("view").setAttribute("aria-busy", "true");
    announce(t("loading"));
}
function renderError(message) {
    byId("view").removeAttribute("aria-busy");
    const retry = el("button", { type: "button", class: "primary" }, t("back"));
    retry.addEventListener("click", () => {
        steps = steps.slice(0, -1);
        void advance();
    });
    show(el("section", { "data-screen": "error", role: "alert" }, el("h1", { tabindex: "-1", "data-focus": "" }, t("error", { detail: message })), el("p", {}, t("offline")), retry));
}
/** The controls of one question: radios, checkboxes or a number box, each with its label. */
function answerControls(q) {
    const name = `answer-${q.code}`;
    const values = q.values ?? [];
    const labels = q.labels ?? values;
    if (q.type === "integer" || q.type === "number") {
        const input = el("input", {
            type: "number",
            id: name,
            name,
            inputmode: q.type === "integer" ? "numeric" : "decimal",
            step: q.type === "integer" ? "1" : "any",
            required: "",
            "aria-describedby": `${name}-hint`,
        });
        if (q.minimum !== undefined)
            input.min = String(q.minimum);
        if (q.maximum !== undefined)
            input.max = String(q.maximum);
        const hint = [
            q.minimum !== undefined && q.maximum !== undefined
                ? t("range", { min: q.minimum, max: q.maximum })
                : "",
            q.unit !== undefined ? t("unit", { unit: q.unit }) : "",
        ]
            .filter((s) => s !== "")
            .join(" ");
        const fields = el("div", { class: "number" }, el("label", { for: name, class: "visually-hidden" }, q.question), input, q.unit !== undefined ? el("span", { class: "unit", "aria-hidden": "true" }, q.unit) : "", el("p", { id: `${name}-hint`, class: "hint" }, hint));
        return {
            fields,
            read: () => {
                if (input.value.trim() === "" || !input.checkValidity()) {
                    return undefined;
                }
                const n = Number(input.value);
                if (!Number.isFinite(n)) {
                    return undefined;
                }
                // Asked in another unit than the code's own (the deployment's locale, e.g. °F): say
                // which, and the service converts it.
                const own = q.units?.[0];
                return own !== undefined && q.unit !== undefined && q.unit !== own ? { value: n, unit: q.unit } : n;
            },
        };
    }
    const multiple = q.type === "set";
    const options = values.map((value, i) => {
        const id = `${name}-${i}`;
        const input = el("input", { type: multiple ? "checkbox" : "radio", id, name, value });
        return { input, row: el("div", { class: "option" }, input, el("label", { for: id }, labels[i] ?? value)) };
    });
    const fields = el("div", { class: "options", role: multiple ? "group" : "radiogroup" }, el("p", { class: "hint" }, multiple ? t("chooseAny") : t("chooseOne")), ...options.map((o) => o.row));
    return {
        fields,
        read: () => {
            const chosen = options.filter((o) => o.input.checked).map((o) => o.input.value);
            if (multiple) {
                return chosen.length > 0 ? chosen : undefined;
            }
            return chosen[0];
        },
    };
}
function renderQuestion(q, number, mayDecline) {
    byId("view").removeAttribute("aria-busy");
    const { fields, read } = answerControls(q);
    const legend = el("legend", {}, el("span", { class: "count" }, t("question", { n: number })), el("span", { class: "text" }, q.question));
    const fieldset = el("fieldset", {}, legend);
    if (q.why !== undefined && q.why !== "") {
        fieldset.append(el("p", { class: "why" }, el("strong", {}, `${t("whyAsked")}: `), q.why));
    }
    fieldset.append(fields);
    const invalid = el("p", { class: "invalid", role: "alert" });
    const next = el("button", { type: "submit", class: "primary" }, t("next"));
    const buttons = el("div", { class: "buttons" }, next);
    if (mayDecline) {
        const skip = el("button", { type: "button", class: "secondary", "data-action": "skip" }, t("skip"));
        skip.addEventListener("click", () => answer(q.code, null));
        buttons.append(skip);
    }
    if (steps.length > 0) {
        const back = el("button", { type: "button", class: "secondary", "data-action": "back" }, t("back"));
        back.addEventListener("click", () => {
            steps = steps.slice(0, -1);
            void advance();
        });
        buttons.append(back);
    }
    const form = el("form", { "data-screen": "question", "data-code": q.code, novalidate: "" }, fieldset, invalid, buttons);
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        const value = read();
        if (value === undefined) {
            invalid.textContent =
                q.type === "integer" || q.type === "number"
                    ? t("range", { min: q.minimum ?? "", max: q.maximum ?? "" })
                    : t("chooseOne");
            return;
        }
        answer(q.code, value);
    });
    const heading = el("h1", { tabindex: "-1", "data-focus": "", class: "visually-hidden" }, t("question", { n: number }));
    show(heading, form);
    announce(t("question", { n: number }));
}
function answer(code, value) {
    steps = [...steps.filter((s) => s.code !== code), { code, value }];
    void advance();
}
function list(title, items, attrs = {}) {
    if (items.length === 0) {
        return [];
    }
    return [el("h2", {}, title), el("ul", attrs, ...items.map((text) => el("li", {}, text)))];
}
function renderResult(a, remaining) {
    byId("view").removeAttribute("aria-busy");
    const emergency = EMERGENCY_LEVELS.includes(a.triage.level);
    // On the emergency screen only the findings behind the emergency: a lower rule's advice
    // ("this can wait until today") must not sit beside "go now".
    const flags = a.red_flags
        .filter((f) => !emergency || f.level === a.triage.level)
        .sort((x, y) => Number(y.primary) - Number(x.primary) || x.display_order - y.display_order)
        .map((f) => f.patient_text);
    const section = el("section", {
        "data-screen": "result",
        "data-level": a.triage.level,
        class: emergency ? "result emergency" : "result",
        ...(emergency ? { role: "alert" } : {}),
    }, el("h1", { tabindex: "-1", "data-focus": "" }, emergency ? t("emergencyTitle") : t("resultTitle")), el("p", { class: "action" }, a.triage.action));
    if (emergency && remaining > 0) {
        const more = el("button", { type: "button", class: "secondary", "data-action": "continue" }, t("continue"));
        more.addEventListener("click", () => {
            const first = a.next_questions[0];
            if (first !== undefined) {
                renderQuestion(first, steps.length + 1, true);
            }
        });
        section.append(el("p", { class: "more" }, t("emergencyMore", { n: remaining })), more);
    }
    section.append(...list(t("why"), flags, { class: "flags" }), ...(a.completeness.complete || emergency ? [] : [el("p", { class: "notice" }, t("incomplete"))]), ...list(t("causes"), a.causes.map((c) => c.label)), ...list(t("advice"), a.advice.map((x) => x.text)), ...list(t("medicines"), a.medications.filter((m) => m.status === "suggest" || m.status === "caution").map((m) => m.text)), ...list(t("safetyNet"), a.safety_net.map((s) => s.text), { class: "safety-net" }));
    const back = el("button", { type: "button", class: "secondary", "data-action": "back" }, t("back"));
    back.addEventListener("click", () => {
        steps = steps.slice(0, -1);
        void advance();
    });
    const restart = el("button", { type: "button", class: "primary", "data-action": "restart" }, t("restart"));
    restart.addEventListener("click", () => {
        steps = [];
        started = false;
        renderIntro();
    });
    section.append(el("div", { class: "buttons" }, restart, back));
    show(section);
    announce(t("resultReady"));
}
/** Show the next screen for the answers so far: the first questions, then the service's. */
async function advance() {
    const mine = ++generation;
    renderLoading();
    try {
        if (vocabulary === null || vocabulary.language.code !== lang) {
            vocabulary = await loadVocabulary();
        }
        const unanswered = FIRST_QUESTIONS.find((code) => !steps.some((s) => s.code === code));
        if (unanswered !== undefined) {
            const q = vocabulary.codes.find((c) => c.code === unanswered);
            if (q === undefined) {
                throw new ProblemError(`the vocabulary has no ${unanswered}`);
            }
            if (mine === generation) {
                renderQuestion(q, steps.length + 1, false);
            }
            return;
        }
        const a = await assess(steps);
        if (mine !== generation) {
            return;
        }
        byId("disclaimer").textContent = a.disclaimer;
        const first = a.next_questions[0];
        if (EMERGENCY_LEVELS.includes(a.triage.level) || first === undefined) {
            renderResult(a, a.next_questions.length);
        }
        else {
            renderQuestion(first, steps.length + 1, true);
        }
    }
    catch (error) {
        if (mine === generation) {
            renderError(error instanceof ProblemError ? error.message : String(error));
        }
    }
}
function start() {
    renderChrome();
    const select = byId("language");
    select.addEventListener("change", () => {
        lang = select.value === "es" ? "es" : "en";
        renderChrome();
        if (started) {
            void advance();
        }
        else {
            renderIntro();
        }
    });
    renderIntro();
}
start();
export {};
