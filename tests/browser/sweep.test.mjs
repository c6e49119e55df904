// The sweep: every page of every demo role, at a desktop's 1366×800 and a phone's 390×844, run
// through the checks every page must pass (docs/testing.md, "The sweep of every page"):
//
//   overflow   nothing wider than the viewport outside a box that scrolls sideways itself
//   empty      no visible «null», «undefined» or «NaN»
//   english    no Latin words in the interface: data is exempt (form values, <code>, <kbd>,
//              <samp>, elements with translate="no" or data-verbatim, e-mail, URL, file-name
//              and login-looking tokens)
//   format     no ISO date (2026-12-05), no raw float (3.8999) and no number alone in its
//              element with a decimal point (4.00), outside data
//   label      every input, select, textarea and button has an accessible name
//   console    no console error and no uncaught exception
//   axe        axe-core (npm, tests/browser/node_modules) finds no serious or critical violation
//   error      the page does not greet its visitor with an error (not found, forbidden, failed)
//
// The pages: a fresh demo node of its own (so that what other tests changed never matters), a
// little data the demo lacks made through the API (a thread each way, a certificate), then for
// each role the links of #nav after login, /account, and every page they link to, two links
// deep, one page per route pattern (/diary/8 and /diary/9 are one pattern), plus a few detail
// pages named below (a test, a draft, an item under review). The Ministry's pages are swept on a
// hub (lib.mjs, startHubWithReport). A screenshot of every page at both sizes goes to
// build/screenshots/ROLE-PAGE-WIDTH.png, and every finding to build/screenshots/findings.md.
// Each role's test checks all its pages and fails at the end with the list of what it found.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, startHubWithReport, startNode } from "./lib.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const AXE = join(HERE, "node_modules", "axe-core", "axe.min.js");
export const SHOTS = process.env.SWEEP_SHOTS ?? join(HERE, "..", "..", "build", "screenshots");
// SWEEP_BROWSER_CHECKS=0 leaves out axe-core and the screenshots (what only the browser's
// rendering decides): a quicker pass over the other checks (docs/testing.md).
export const BROWSER_CHECKS = process.env.SWEEP_BROWSER_CHECKS !== "0";
const SIZES = [{ width: 1366, height: 800 }, { width: 390, height: 844 }];
const DEPTH = 2; // links followed from the navigation's pages
const MAX_PAGES = 40; // per role: a safety net, the demo's roles have fewer

// Latin words the interface may show as they are: names of file formats and standards (in any
// case: «ZIP-архив», «zip-архив»).
export const LATIN_TERMS = new Set(["CSV", "PDF", "ZIP", "QR", "OneRoster"]);

// ---- The checks, run inside the page -------------------------------------------------------

// Everything the checks need from one rendered page, in one evaluate. `terms`: LATIN_TERMS in
// lower case.
function inspect(terms) {
  const out = { overflow: [], empty: [], english: [], format: [], label: [], error: [] };
  const vw = document.documentElement.clientWidth;
  const describe = (e) => {
    let s = e.tagName.toLowerCase();
    if (e.id) s += `#${e.id}`;
    for (const c of [...e.classList].slice(0, 3)) s += `.${c}`;
    const text = (e.innerText ?? e.textContent ?? "").trim().replace(/\s+/g, " ");
    return text ? `${s} «${text.length > 40 ? text.slice(0, 40) + "…" : text}»` : s;
  };
  const visible = (e) => e.checkVisibility({ checkOpacity: false, visibilityProperty: true });
  // Rendered, or an option of a rendered select (options have no boxes of their own).
  const shown = (e) => (e.closest("select") ? visible(e.closest("select")) : visible(e));

  // overflow: the page itself, then the outermost elements sticking out of the viewport that
  // no box of theirs scrolls (or clips) sideways.
  const se = document.scrollingElement;
  if (se.scrollWidth > se.clientWidth)
    out.overflow.push(`the page scrolls sideways: ${se.scrollWidth} px wide in ${se.clientWidth}`);
  const sticking = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (!visible(e) || sticking.some((s) => s.contains(e))) continue;
    const r = e.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue; // visually hidden text for screen readers
    if (r.right <= vw + 0.5 && r.left >= -0.5) continue;
    let boxed = false;
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === "auto" || ox === "scroll" || ox === "hidden" || ox === "clip") { boxed = true; break; }
    }
    if (boxed) continue;
    sticking.push(e);
    out.overflow.push(`${describe(e)} spans ${Math.round(r.left)}..${Math.round(r.right)} px of ${vw}`);
  }

  // The texts a person sees or hears: text nodes, and the attributes shown or read out.
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!e || !n.data.trim() || e.closest("script, style, noscript, textarea") || !shown(e)) continue;
    texts.push([e, n.data, "text"]);
  }
  for (const e of document.body.querySelectorAll("[placeholder], [aria-label], [title], img[alt], input[type=submit][value], input[type=button][value]")) {
    if (!shown(e)) continue;
    for (const a of ["placeholder", "aria-label", "title", "alt"])
      if (e.getAttribute(a)?.trim()) texts.push([e, e.getAttribute(a), a]);
    if (/^(submit|button)$/.test(e.type) && e.tagName === "INPUT") texts.push([e, e.value, "value"]);
  }
  for (const e of document.body.querySelectorAll("input:not([type]), input[type=text], input[type=search], input[type=number], input[type=date], textarea"))
    if (shown(e) && /\b(null|undefined|NaN)\b/.test(e.value)) out.empty.push(`${describe(e)} holds the value «${e.value}»`);

  // Data is exempt: what a page marks as such, and text in another language marked with lang
  // (an English textbook's title, <span lang="en">).
  const lang = document.documentElement.lang || "ru";
  const isData = (e) => e.closest("code, kbd, samp, [translate=no], [data-verbatim]")
    || (e.closest("[lang]") && !e.closest("[lang]").lang.startsWith(lang));
  const dataToken = (w) => /@|:\/\/|^www\.|^\/|\d/.test(w) // e-mail, URL, path, ids and numbers
    || /^[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)*\.[A-Za-z]{1,5}$/u.test(w) // a file name: отчёт.pdf
    || /^[a-z]+([._][a-z]+)+$/.test(w) // a login: ivanova.e, ivanov_a
    || /^[IVXLC]+$/.test(w); // a Roman numeral
  const seenEnglish = new Set();
  const decimals = new Map();
  for (const [e, text, where] of texts) {
    const bad = text.match(/\b(null|undefined|NaN)\b/);
    if (bad) out.empty.push(`${describe(e)}${where === "text" ? "" : ` (${where})`} shows «${bad[0]}»`);
    if (isData(e)) continue;
    const unformatted = text.match(/\b\d{4}-\d{2}-\d{2}\b|(?<![\d.,])\d+\.\d{3,}(?![\d.])/g);
    // A number standing alone in its element (a table's cell, a badge) with a dot for its
    // decimal comma, «4.00»: fmt.number writes «4» and «3,33». «05.12» (fmt.short) is a date.
    const alone = text.trim();
    if (!unformatted && where === "text" && /^\d+\.\d+$/.test(alone) && !/^(0[1-9]|[12]\d|3[01])\.(0[1-9]|1[0-2])$/.test(alone)) {
      const kind = describe(e).replace(/ «.*$/, ""); // one finding per kind of element: td.avg
      if (!decimals.has(kind)) decimals.set(kind, []);
      decimals.get(kind).push(alone);
    }
    if (unformatted) out.format.push(`${describe(e)}${where === "text" ? "" : ` (${where})`} shows «${unformatted.join("», «")}»`);
    const words = [];
    for (const raw of text.split(/\s+/)) {
      if (/^[^\p{L}\p{N}]*\.[A-Za-z0-9]{1,5}[^\p{L}\p{N}]*$/u.test(raw)) continue; // a file's extension: (.zip)
      const token = raw.replace(/^[^\p{L}\p{N}/]+|[^\p{L}\p{N}/]+$/gu, "");
      if (!/[A-Za-z]{2}/.test(token) || dataToken(token)) continue;
      // "QR-код", "Present/Past": each part on its own
      for (const w of token.split(/[-/'’]+/))
        if (/[A-Za-z]{2}/.test(w) && !terms.includes(w.toLowerCase()) && !/^[IVXLC]+$/.test(w) && !(bad && w === bad[0])) words.push(w);
    }
    if (!words.length) continue;
    const key = `${where}|${words.join(" ")}`;
    if (seenEnglish.has(key)) continue;
    seenEnglish.add(key);
    out.english.push(`${words.join(" ")} in ${describe(e)}${where === "text" ? "" : ` (${where})`}`);
  }

  for (const [kind, values] of decimals)
    out.format.push(`${kind} shows numbers with a decimal point: «${values.slice(0, 3).join("», «")}»` +
      (values.length > 3 ? ` and ${values.length - 3} more` : ""));

  // label: the accessible name, as a screen reader would find it (a placeholder is not one).
  const name = (e) => {
    const by = e.getAttribute("aria-labelledby");
    if (by) {
      const s = by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ").trim();
      if (s) return s;
    }
    if (e.getAttribute("aria-label")?.trim()) return e.getAttribute("aria-label");
    const labels = [...(e.labels ?? [])].map((l) => l.textContent).join(" ").trim();
    if (labels) return labels;
    if (e.tagName === "BUTTON") {
      const s = (e.textContent + [...e.querySelectorAll("img[alt]")].map((i) => i.alt).join(" ")).trim();
      if (s) return s;
    }
    if (e.tagName === "INPUT" && /^(submit|button|reset)$/.test(e.type) && e.value.trim()) return e.value;
    if (e.tagName === "INPUT" && e.type === "image" && e.alt.trim()) return e.alt;
    return e.getAttribute("title")?.trim() ?? "";
  };
  for (const e of document.body.querySelectorAll("input:not([type=hidden]), select, textarea, button")) {
    if (!visible(e)) continue;
    if (!name(e)) out.label.push(`${describe(e)}${e.name ? ` name=${e.name}` : ""}${e.type ? ` type=${e.type}` : ""} has no label`);
  }

  // error: an error line with text as the page comes up.
  for (const e of document.querySelectorAll("main .error, main [role=alert]"))
    if (shown(e) && e.textContent.trim()) out.error.push(`shows «${e.textContent.trim().slice(0, 80)}»`);
  return out;
}

// The route patterns of the shell's pages (app.js `pages`), from the running page itself.
async function pagePatterns(page) {
  return page.evaluate(async () => (await import("/static/app.js")).pages
    .map((p) => ({ source: p.path.source, public: !!p.public, open: !!p.open })));
}

// The same-origin links of the page that lead to a page of the shell, in document order: for a
// logged-in person, the pages that need a login or none; for anyone, those that need none.
async function pageLinks(page, patterns, loggedIn) {
  return page.evaluate(([pats, loggedIn]) => {
    const res = pats.filter((p) => (loggedIn ? !p.public : p.public || p.open)).map((p) => new RegExp(p.source));
    const out = [];
    for (const a of document.querySelectorAll("a[href]")) {
      const u = new URL(a.getAttribute("href"), location.href);
      if (u.origin !== location.origin || a.hasAttribute("download")) continue;
      if (!res.some((re) => re.test(u.pathname))) continue;
      const href = u.pathname + u.search;
      if (!out.includes(href)) out.push(href);
    }
    return out;
  }, [patterns, loggedIn]);
}

// One pattern per route: ids become N, query values are dropped.
function patternOf(href) {
  const u = new URL(href, "http://x");
  return u.pathname.replace(/\/\d+(?=\/|$)/g, "/N") + [...u.searchParams.keys()].sort().map((k) => `?${k}`).join("");
}

function slug(href) {
  const u = new URL(href, "http://x");
  const s = (u.pathname + (u.search ? "-" + [...u.searchParams].filter(([k]) => k !== "s").flat().join("-") : ""))
    .replace(/^\/+/, "").replace(/[^A-Za-z0-9]+/g, "-").replace(/-+$/, "");
  return s || "root";
}

// ---- Driving the browser -------------------------------------------------------------------

// Waits until the page is done drawing: no request in flight and no change to the DOM for
// `quiet` ms (a view fetches, draws, and may fetch again: a select's options after the form);
// playwright's "networkidle" alone would wait 500 ms on every page and miss the drawing.
function tracker(page) {
  let inflight = 0, last = Date.now();
  const up = () => { inflight++; last = Date.now(); };
  const down = () => { inflight = Math.max(0, inflight - 1); last = Date.now(); };
  page.on("request", up);
  page.on("requestfinished", down);
  page.on("requestfailed", down);
  const network = async (quiet, deadline) => {
    while (Date.now() < deadline) {
      if (inflight === 0 && Date.now() - last >= quiet) return;
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  // Resolves once the DOM has not changed for `quiet` ms; true when it changed meanwhile.
  const dom = (quiet, timeout) => page.evaluate(([quiet, timeout]) => new Promise((resolve) => {
    let changed = false;
    const done = () => { obs.disconnect(); clearTimeout(timer); clearTimeout(stop); resolve(changed); };
    let timer = setTimeout(done, quiet);
    const obs = new MutationObserver(() => { changed = true; clearTimeout(timer); timer = setTimeout(done, quiet); });
    obs.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
    const stop = setTimeout(done, timeout);
  }), [quiet, timeout]);
  return {
    reset() { inflight = 0; last = Date.now(); },
    async settle(quiet = 150, timeout = 15000) {
      const deadline = Date.now() + timeout;
      for (let i = 0; i < 5 && Date.now() < deadline; i++) {
        await network(quiet, deadline);
        const changed = await dom(quiet, Math.max(quiet, deadline - Date.now())).catch(() => true);
        if (!changed && inflight === 0) return;
      }
    },
  };
}

let axeSource = null;

// Runs axe-core in the page. The shell's CSP refuses inline scripts, so page.addScriptTag
// cannot load it; the DevTools protocol's Runtime.evaluate is not subject to the CSP.
async function runAxe(page, cdp) {
  axeSource ??= readFileSync(AXE, "utf8");
  const loaded = await cdp.send("Runtime.evaluate", { expression: axeSource + "\n;typeof axe" });
  if (loaded.exceptionDetails || loaded.result.value !== "object")
    return [`axe-core did not load: ${JSON.stringify(loaded.exceptionDetails ?? loaded.result)}`];
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.targets.slice(0, 4).join(", ")}` +
    (v.targets.length > 4 ? ` and ${v.targets.length - 4} more` : ""));
}

// A role's browser context: its page, console errors, network tracking and a DevTools session.
async function openRole(browser, size) {
  const context = await browser.newContext({ viewport: size, locale: "ru-RU" });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`console: ${m.text()}${m.location()?.url ? ` (${m.location().url})` : ""}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}`));
  const cdp = await context.newCDPSession(page);
  return { context, page, cdp, consoleErrors, net: tracker(page) };
}

// Visits href at one size, runs every check, saves the screenshot; returns the findings as
// [check, detail] pairs.
async function visit(s, base, role, href, size, shots = SHOTS) {
  const { page, cdp, consoleErrors, net } = s;
  const found = [];
  consoleErrors.length = 0;
  net.reset();
  try {
    await page.goto(base + href, { waitUntil: "load", timeout: 30000 });
  } catch (e) {
    return [["load", e.message.split("\n")[0]]];
  }
  await net.settle();
  const at = new URL(page.url());
  // A page may write its choices into its own query (the planner's subject and period); only
  // another path is a redirect.
  if (at.pathname !== new URL(href, base).pathname)
    found.push(["redirect", `the page went to ${at.pathname + at.search}`]);
  const r = await page.evaluate(inspect, [...LATIN_TERMS].map((w) => w.toLowerCase()));
  for (const check of ["overflow", "empty", "english", "format", "label", "error"])
    for (const d of r[check]) found.push([check, d]);
  if (BROWSER_CHECKS) {
    try {
      for (const d of await runAxe(page, cdp)) found.push(["axe", d]);
    } catch (e) {
      found.push(["axe", `axe-core failed: ${e.message.split("\n")[0]}`]);
    }
  }
  for (const d of consoleErrors) found.push(["console", d.replaceAll(base, "")]);
  if (BROWSER_CHECKS) {
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${role}-${slug(href)}-${size.width}.png`), fullPage: true });
  }
  return found;
}

// Logs in through the API in the browser's context (the login page itself is swept apart).
async function logIn(s, base, user, password) {
  const r = await s.context.request.post(`${base}/api/v1/auth/login`, { data: { login: user, password } });
  if (r.status() !== 200) throw new Error(`login of ${user}: ${r.status()}`);
}

// Shortens a certificate's signature (?s=...) for the findings.
const display = (href) => href.replace(/([?&]s=)[^&]{8}[^&]+/, "$1…");

// Sweeps the pages of one role: the navigation, /account, and what they link to, then the
// `extra` pages; each page at both sizes at once, in a browser context per size. Returns the
// pages visited and the findings as lines "PAGE WIDTH check: detail".
async function sweepRole(browser, base, role, { user = role, password = "demo", extra = [], start = [] } = {}) {
  const sessions = [];
  const findings = [];
  try {
    for (const size of SIZES) {
      const s = await openRole(browser, size);
      sessions.push(s);
      if (user) await logIn(s, base, user, password);
    }
    let queue = [...start];
    if (user) {
      const { page, net } = sessions[0];
      await page.goto(base + "/home");
      await net.settle();
      const nav = await page.$$eval("#nav a[href]", (as) => as.map((a) => a.getAttribute("href")));
      if (!nav.length) findings.push("/home * nav: no navigation links after login");
      queue = [...nav, "/account", ...queue];
    }
    if (!user) {
      await sessions[0].page.goto(base + "/");
      await sessions[0].net.settle();
    }
    const patterns = await pagePatterns(sessions[0].page);
    const seen = new Set();
    const visited = [];
    const check = async (href) => {
      visited.push(href);
      const results = await Promise.all(SIZES.map((size, i) => visit(sessions[i], base, role, href, size)));
      SIZES.forEach((size, i) => {
        for (const [what, detail] of results[i]) findings.push(`${display(href)} ${size.width} ${what}: ${detail}`);
      });
    };
    // The navigation's pages and their links, breadth first, one page per route pattern.
    const todo = queue.map((h) => [h, 0]);
    while (todo.length && visited.length < MAX_PAGES) {
      const [href, depth] = todo.shift();
      if (seen.has(patternOf(href))) continue;
      seen.add(patternOf(href));
      await check(href);
      if (depth < DEPTH)
        for (const l of await pageLinks(sessions[0].page, patterns, !!user)) if (!seen.has(patternOf(l))) todo.push([l, depth + 1]);
    }
    if (todo.some(([h]) => !seen.has(patternOf(h))))
      findings.push(`* * sweep: more than ${MAX_PAGES} pages; raise MAX_PAGES`);
    // Detail pages the first of their pattern does not show (a test, a draft, a thread).
    for (const href of extra) if (!visited.includes(href)) await check(href);
    return { visited: visited.map(display), findings };
  } finally {
    for (const s of sessions) await s.context.close();
  }
}

// ---- Data the demo lacks, and the report --------------------------------------------------

async function apiAs(base, user) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: "POST", body: JSON.stringify({ login: user, password: "demo" }) });
  const { token, user: me } = await r.json();
  const call = async (method, path, body) => {
    const a = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const data = await a.json().catch(() => null);
    if (a.status >= 300) throw new Error(`${user}: ${method} ${path}: ${a.status} ${JSON.stringify(data)}`);
    return data;
  };
  return { me, call };
}

// A thread from the parent to the teacher about Артём, one from the teacher to Артём, a
// certificate of study; the ids of a test, the teacher's draft and an item under review; today's
// menu (a weekend has none of the demo's); the demo's last school day, whose sales the canteen's
// day shows.
async function prepare(base) {
  const parent = await apiAs(base, "parent");
  const teacher = await apiAs(base, "teacher");
  const methodologist = await apiAs(base, "methodologist");
  const me = await parent.call("GET", "/api/v1/me");
  const artem = me.children.find((c) => c.name.startsWith("Иванов Артём"));
  const tme = await teacher.call("GET", "/api/v1/me");
  const family = await parent.call("POST", "/api/v1/threads", { student_id: artem.id, with_id: tme.person_id,
    title: "Олимпиада", text: "Можно ли Артёму участвовать в олимпиаде?" });
  await teacher.call("POST", `/api/v1/threads/${family.id}/messages`, { text: "Да, запись до пятницы." });
  const pupil = await teacher.call("POST", "/api/v1/threads", { student_id: artem.id, with_id: artem.id,
    title: "Доклад", text: "Артём, принеси доклад в понедельник." });
  const cert = await parent.call("POST", `/api/v1/students/${artem.id}/certificates`, { purpose: "по месту требования" });
  const test = (await parent.call("GET", "/api/v1/library/items?type=test&limit=1")).items[0];
  const draft = (await teacher.call("GET", "/api/v1/library/items?mine=1&status=draft&limit=1")).items[0];
  const review = (await methodologist.call("GET", "/api/v1/library/items?status=submitted&limit=1")).items[0];
  assert(test && draft && review, `the demo lacks a test (${test?.id}), the teacher's draft (${draft?.id}) ` +
    `or an item under review (${review?.id})`);
  const item = (i) => `/library/items/${i.id}`;
  const passage = await passageScene(base, artem);
  // Today's complexes at Школа № 1 (the demo's «Москвёнок» showcase has a buffet and the
  // complexes of every Monday to Friday of this week and the next), and the last day before
  // today with sales there: the showcase's school day.
  const admin = await apiAs(base, "admin");
  const canteen = await apiAs(base, "canteen");
  const school = tme.institutions.find((i) => i.name === "Школа № 1");
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  await admin.call("PUT", `/api/v1/institutions/${school.id}/menu`, { date: iso(new Date()), complexes: [
    { kind: "breakfast", price: 8550, dishes: ["Каша пшённая", "Чай"] }, { kind: "lunch", price: 15000, dishes: ["Борщ", "Гуляш"] }] });
  const day = new Date();
  let sold = null;
  for (let i = 0; i < 120 && !sold; i++) {
    day.setDate(day.getDate() - 1);
    const sales = await canteen.call("GET", `/api/v1/institutions/${school.id}/meals/sales?date=${iso(day)}`);
    if (sales.items.length) sold = iso(day);
  }
  // (None on the school year's first day: the showcase has no day yet.)
  const soldDay = sold ? [`/canteen?school=${school.id}&date=${sold}`, `/school/reconciliation?school=${school.id}&date=${sold}`] : [];
  return {
    parent: [`/messages/${family.id}`, cert.url, item(test), `/students/${artem.id}/account`,
      `/students/${artem.id}/meals`, `/students/${artem.id}/menu`, ...passage.family],
    student: [`/messages/${pupil.id}`, item(test), `/students/${artem.id}/account`, ...passage.family],
    canteen: ["/canteen", "/school/reconciliation", "/canteen/menu", "/canteen/order", ...soldDay],
    teacher: [`/messages/${family.id}`, item(draft)],
    classteacher: passage.classteacher,
    schooladmin: ["/school/reconciliation", "/canteen", `/students/${artem.id}/meals`, ...passage.schooladmin],
    admin: passage.admin,
    methodologist: [item(review)],
    anonymous: [cert.url],
  };
}

// «Москвёнок»: carriers for Артём and a classmate (one blocked), a turnstile's morning today and
// on a day of last week, an unknown card denied; the pages of the family, the class teacher and
// the school admin that show them.
async function passageScene(base, artem) {
  const sa = await apiAs(base, "schooladmin");
  const school = sa.me.grants.find((g) => g.role === "school_admin").institution_id;
  const mate = (await sa.call("GET", `/api/v1/classes/${artem.class.id}/students`)).items.find((s) => s.id !== artem.id);
  const a = await sa.call("POST", `/api/v1/students/${artem.id}/cards`, { card: "SWEEP0001" });
  const m = await sa.call("POST", `/api/v1/students/${mate.id}/cards`, { card: "04:A2:19:FF", kind: "bracelet" });
  await sa.call("POST", `/api/v1/cards/${m.id}/replace`, { card: "04:A2:19:FE" });
  const dev = await sa.call("POST", "/api/v1/devices", { name: "Турникет у входа", scopes: ["passage"], institution_id: school });
  const pad = (n) => String(n).padStart(2, "0");
  const d = new Date();
  const today = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  d.setDate(d.getDate() - 7);
  const past = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const at = (day, hh, mm) => new Date(`${day}T${pad(hh)}:${pad(mm)}:00`).toISOString();
  const events = [[a.card, "in", at(past, 8, 12)], [a.card, "out", at(past, 14, 5)], ["04:A2:19:FE", "in", at(past, 8, 20)],
    [a.card, "in", at(today, 0, 1)], ["04:A2:19:FF", "in", at(today, 0, 2)], ["UNKNOWN01", "in", at(today, 0, 3)]]
    .map(([card, direction, when], i) => ({ key: `sweep-${i + 1}`, seq: i + 1, card, direction, at: when, turnstile: "Вход 1" }));
  const r = await fetch(`${base}/api/v1/passage/events`, { method: "POST", headers: { Authorization: `Bearer ${dev.token}` },
    body: JSON.stringify({ events }) });
  assert(r.status === 200, `passage events: ${r.status}`);
  return {
    family: [`/students/${artem.id}/passage`, `/students/${artem.id}/passage?week=${past}`],
    classteacher: [`/classes/${artem.class.id}/presence`, `/classes/${artem.class.id}/presence?date=${past}`],
    schooladmin: [`/school/cards?school=${school}&class=${artem.class.id}`, `/school/passage?school=${school}`,
      `/classes/${artem.class.id}/presence?date=${past}`],
    admin: ["/school/cards", `/school/passage?school=${school}`],
  };
}

let shared = null;

// One fresh demo node for every role's sweep, its data prepared once; stopped when the process
// ends. The findings file starts empty with it.
async function demo() {
  if (!shared) {
    shared = (async () => {
      const node = await startNode();
      process.on("exit", () => { node.proc.kill("SIGTERM"); rmSync(node.dir, { recursive: true, force: true }); });
      mkdirSync(SHOTS, { recursive: true });
      for (const f of readdirSync(SHOTS)) if (/\.png$|^findings\.md$/.test(f)) rmSync(join(SHOTS, f));
      writeFileSync(join(SHOTS, "findings.md"), "# Findings of the sweep (tests/browser/sweep.test.mjs)\n\n" +
        "One line per finding: the page, the width, the check and what it found.\n");
      return { base: node.base, extra: await prepare(node.base) };
    })();
  }
  return shared;
}

// Records a role's findings in findings.md and fails with them, grouped by what was found.
function report(role, { visited, findings }) {
  appendFileSync(join(SHOTS, "findings.md"), `\n## ${role} (${visited.length} pages: ${visited.join(" ")})\n\n` +
    (findings.length ? findings.map((f) => `- ${f}\n`).join("") : "nothing found\n"));
  if (!findings.length) return;
  // "PAGE WIDTH check: detail": the same check and detail on several pages makes one line.
  const groups = new Map();
  for (const f of findings) {
    const m = /^(\S+) (\S+) ([^:]+): (.*)$/.exec(f);
    const key = `${m[3]}: ${m[4]}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(`${m[1]}@${m[2]}`);
  }
  const lines = [...groups].map(([k, at]) => `  ${k}\n      at ${at.join(" ")}`);
  throw new Error(`${findings.length} findings on ${role}'s pages (${join(SHOTS, "findings.md")}):\n${lines.join("\n")}`);
}

const roles = ["parent", "student", "teacher", "classteacher", "medic", "canteen", "schooladmin", "admin", "methodologist"];

// A page made to fail every check, beside what each check must let pass.
const BAD_PAGE = `<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>проба</title></head><body>
<main id="main">
<h1>Проба</h1>
<div id="wide" style="width:2000px;height:10px"></div>
<div style="overflow-x:auto"><div id="boxed" style="width:2000px;height:10px"></div></div>
<p id="nul">Оценка: null</p>
<p id="eng">Save changes</p>
<p>Войти через QR-код, выгрузка CSV (.zip), почта ivanova@example.ru, сайт https://mos.ru/x,
  файл отчёт.pdf, логин ivanova.e, II четверть</p>
<p><code>teacher</code> <span translate="no">admin</span> <span data-verbatim>schooladmin</span>
  <span lang="en">English Grammar</span></p>
<p id="iso">Дата: 2026-12-05, балл 3.8999999</p>
<p>Выдана 05.12.2026 в 16:18, zip-архив, версия 1.2</p>
<table><tr><td id="avg">4.00</td><td>05.12</td><td>4,5</td></tr></table>
<input id="nolabel"> <label for="ok">Имя</label><input id="ok"> <input aria-label="Поиск">
<button id="empty"></button> <button>Сохранить</button>
<select id="pick"><option>один</option></select>
<p class="error">Ошибка загрузки</p>
</main>
<script>console.error("boom"); setTimeout(() => { throw new Error("bang"); });</script>
</body></html>`;

export const tests = {
  async "sweep: the checks find what they look for on a page made to fail"(ctx) {
    const s = await openRole(ctx.browser, SIZES[1]);
    const shots = mkdtempSync(join(tmpdir(), "sweep-"));
    try {
      await s.context.route("http://sweep.test/**", (r) => r.fulfill({ contentType: "text/html", body: BAD_PAGE }));
      const found = (await visit(s, "http://sweep.test", "probe", "/page", SIZES[1], shots))
        .map(([check, detail]) => `${check}: ${detail}`);
      const has = (re) => found.some((f) => re.test(f));
      const expected = [/^overflow: the page scrolls sideways/, /^overflow: div#wide spans/, /^empty: p#nul .*«null»/,
        /^english: Save changes in p#eng/, /^format: p#iso .*«2026-12-05», «3\.8999999»/,
        /^format: td#avg shows numbers with a decimal point: «4\.00»$/, /^label: input#nolabel/, /^label: button#empty/, /^label: select#pick/, /^error: shows «Ошибка загрузки»/,
        /^console: console: boom/, /^console: uncaught: bang/, /^axe: label \(critical\): #nolabel/,
        /^axe: button-name \(critical\): #empty/, /^axe: select-name \(critical\): #pick/]
        .filter((re) => BROWSER_CHECKS || !re.source.startsWith("^axe"));
      const missed = expected.filter((re) => !has(re));
      assert(!missed.length, `missed ${missed.join(", ")} in:\n${found.join("\n")}`);
      const wrong = [/boxed/, /input#ok/, /Поиск/, /Сохранить/, /2026»|\.2026|1\.2|05\.12»|4,5/,
        /english: .*\b(QR|CSV|zip|ivanova|example|mos|pdf|teacher|admin|schooladmin|English|Grammar|II)\b/];
      const flagged = wrong.filter(has);
      assert(!flagged.length, `flagged ${flagged.join(", ")} in:\n${found.join("\n")}`);
      assert(existsSync(join(shots, "probe-page-390.png")) === BROWSER_CHECKS, "screenshot: " + BROWSER_CHECKS);
    } finally {
      await s.context.close();
      rmSync(shots, { recursive: true, force: true });
    }
  },
  async "sweep: the pages anyone may open (login, activation, a certificate)"(ctx) {
    const { base, extra } = await demo();
    report("anonymous", await sweepRole(ctx.browser, base, "anonymous",
      { user: null, start: ["/login", "/activate"], extra: extra.anonymous }));
  },
  ...Object.fromEntries(roles.map((role) => [`sweep: every page of ${role}`, async (ctx) => {
    const { base, extra } = await demo();
    report(role, await sweepRole(ctx.browser, base, role, { extra: extra[role] ?? [] }));
  }])),
  async "sweep: every page of the Ministry on a hub"(ctx) {
    await demo(); // the screenshots' folder and findings.md
    const hub = await startHubWithReport();
    try {
      report("ministry", await sweepRole(ctx.browser, hub.base, "ministry", { user: "ministry1", password: "ministry-pass-1" }));
    } finally {
      hub.stop();
    }
  },
};
