// The MES web shell: login, a home page per role, a student profile.
//
// Every visible text comes from the message catalog /i18n/<lang>.json (node/web/i18n/ in the
// source). A region adds a language by putting <lang>.json beside ru.json, with every key,
// and listing <lang> in region.languages of its configuration; the first listed language is
// the default, and a missing catalog falls back to ru. When a region lists more than one
// language, the header offers a choice (kept in localStorage as "mes.lang").
//
// For example, a region with Tatar: node/web/i18n/tt.json holds the same keys as ru.json, and
// the region's file says `languages: [ru, tt]`; `make` compiles the new catalog in.
//
// Subsystems add their pages to `pages` (a path pattern and a view) and, when they have one,
// a line to `navigation` (the roles that see it). The DOM is built with el(): text always
// goes in as textContent, never as HTML.

const state = { me: null, csrf: sessionStorage.getItem("mes.csrf"), msg: {}, lang: "ru", languages: ["ru"] };

// href may be a function of the logged-in person (for links to one's own pages); `unread`
// names a count of GET /api/v1/unread ("messages", "notifications") shown beside the link.
export const navigation = [{ key: "nav.home", href: "/home", roles: null }];

export { state };

// Set by subsystems' scripts: childHead(titleKey, id, hrefOf) gives the head of a page about one
// child (family.js: a parent's child switcher and a title naming the child).
export const hooks = { childHead: null };
// Set by subsystems' scripts: more links beside each child on a parent's home page, each
// { key (catalog), href: (childId) => path, class }.
export const childLinks = [];
// Set by subsystems' scripts: more links beside each class in a class teacher's home list, each
// { key (catalog), href: (classId) => path, class }.
export const classLinks = [];
// Set by subsystems' scripts: more sections of a school in the administration hub (/admin) and
// on the school's card, each { key (catalog), href: (schoolId) => path }.
export const schoolSections = [];
// Cards a subsystem's script puts at the top of the home page, in order: (me) => an element, or
// null when the card is not for this person (the teacher's day, the class teacher's class).
export const homeCards = [];

export const pages = [
  { path: /^\/(login)?$/, view: loginView, public: true },
  { path: /^\/home$/, view: homeView },
  { path: /^\/students\/(\d+)$/, view: studentView },
];

export function t(key, params = {}) {
  let s = state.msg[key] ?? key;
  for (const [k, v] of Object.entries(params)) s = s.replace(`{${k}}`, String(v));
  return s;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick" || k === "onsubmit") e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c == null) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

// ---- Russian for people: dates, numbers, plurals, server errors ----------------------------
//
// Every page formats through these, never by hand: dates of the calendar ("2026-12-05") are
// read as such (no time zone can move them a day), instants are seconds since the epoch.

const LOCALE = () => (state.lang === "ru" ? "ru-RU" : state.lang);
const fmtCache = new Map();
function intl(kind, opts) {
  const key = `${state.lang}|${kind}|${JSON.stringify(opts)}`;
  if (!fmtCache.has(key))
    fmtCache.set(key, kind === "n" ? new Intl.NumberFormat(LOCALE(), opts)
      : kind === "p" ? new Intl.PluralRules(LOCALE()) : new Intl.DateTimeFormat(LOCALE(), opts));
  return fmtCache.get(key);
}
const calendarDay = (iso) => new Date(`${String(iso).slice(0, 10)}T00:00:00Z`);

export const fmt = {
  // «5 декабря 2026 г.»
  date: (iso) => (iso ? intl("d", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(calendarDay(iso)) : "—"),
  // «5 декабря»
  dayMonth: (iso) => intl("d", { day: "numeric", month: "long", timeZone: "UTC" }).format(calendarDay(iso)),
  // «пятница, 5 декабря 2026 г.»
  fullDate: (iso) => intl("d", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(calendarDay(iso)),
  // «пятница, 5 декабря»
  weekday: (iso) => intl("d", { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" }).format(calendarDay(iso)),
  // «пт» (a weekday's short name)
  weekdayShort: (iso) => intl("d", { weekday: "short", timeZone: "UTC" }).format(calendarDay(iso)),
  // «ноябрь 2026 г.»: a month ("2026-11")
  month: (ym) => (ym ? intl("d", { month: "long", year: "numeric", timeZone: "UTC" }).format(calendarDay(`${String(ym).slice(0, 7)}-01`)) : "—"),
  // «05.12»: a grid's column heads
  short: (iso) => intl("d", { day: "2-digit", month: "2-digit", timeZone: "UTC" }).format(calendarDay(iso)),
  // «5 декабря 2026 г.»: the calendar day of an instant (seconds since the epoch), here
  day: (seconds) => intl("d", { day: "numeric", month: "long", year: "numeric" }).format(new Date(seconds * 1000)),
  // «5 дек. 2026 г., 14:05»: an instant (seconds since the epoch)
  when: (seconds) => intl("d", { dateStyle: "medium", timeStyle: "short" }).format(new Date(seconds * 1000)),
  // «3,9»: at most `digits` decimals, the locale's separator
  number: (x, digits = 2) => (x == null || Number.isNaN(Number(x)) ? "—"
    : intl("n", { maximumFractionDigits: digits }).format(Number(x))),
  // «1 234,50 ₽»: an amount of money given in kopecks (integers everywhere but here)
  money: (kopecks) => (kopecks == null || Number.isNaN(Number(kopecks)) ? "—"
    : intl("n", { style: "currency", currency: "RUB" }).format(Number(kopecks) / 100)),
  // «3 урока»: the catalog holds KEY.one, KEY.few, KEY.many (and KEY.other when needed) with {n}
  plural: (key, n, params = {}) => {
    const cat = intl("p").select(Number(n));
    const k = state.msg[`${key}.${cat}`] !== undefined ? `${key}.${cat}` : `${key}.many`;
    return t(k, { ...params, n: intl("n", {}).format(Number(n)) });
  },
};
// The calendar day of today in the node's sense (the browser's local date), as "YYYY-MM-DD".
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// Which day a page of one day shows, in words: «Пятница, 5 декабря 2026 г.» («Сегодня, ...» when
// it is today), and a link to today's page (`todayHref`) when it is another day. A page opened
// without a day lets the server choose it (`date=latest`: today, or the latest day with
// something when today has nothing yet; `date=next`: the next school day); when that is not
// today (`chosen`), `noteKey` says why. `line: false` leaves the date's line to the page's own
// heading.
export function dayShown({ date, isToday, chosen, noteKey, todayHref, line = true }) {
  const full = fmt.fullDate(date);
  const words = isToday ? t("day.today", { date: full }) : full.charAt(0).toUpperCase() + full.slice(1);
  const note = chosen && !isToday ? t(noteKey) : null;
  const link = !isToday && todayHref ? el("a", { href: todayHref, "data-link": "", id: "day-shown-today", text: t("day.to_today") }) : null;
  if (!line && !note && !link) return null;
  return el("div", { class: "day-shown", id: "day-shown", "data-date": date },
    line ? el("p", { class: "day-shown-date" }, el("strong", { text: words })) : null,
    note || link ? el("p", { class: "day-shown-note" }, note ? el("span", { id: "day-shown-note", text: note }) : null, note && link ? " " : null, link) : null);
}

// The academic years' periods, and the one today falls in (or the last begun, or the first).
export async function yearPeriods() {
  const r = await api("GET", "/api/v1/academic-years");
  const all = (r.data?.items ?? []).flatMap((y) => y.periods);
  const now = today();
  const current = all.find((p) => p.starts_on <= now && now <= p.ends_on)
    ?? [...all].reverse().find((p) => p.starts_on <= now) ?? all[0];
  return { all, current };
}

// The catalog's text for a failed answer: "error.CODE.FIELD", then "error.CODE", then one by
// status. The server's English "message" never reaches a person. `context` is a key prefix of
// a page whose texts for some codes are its own (e.g. "admin.error": a conflict there is a
// duplicate): "CONTEXT.CODE.FIELD" and "CONTEXT.CODE" come first. The error's members (e.g.
// {min_length}) fill the text.
export function errorText(r, context) {
  const e = r?.data?.error;
  const has = (k) => state.msg[k] !== undefined;
  for (const prefix of context ? [context, "error"] : ["error"]) {
    if (e?.code && e.field && has(`${prefix}.${e.code}.${e.field}`)) return t(`${prefix}.${e.code}.${e.field}`, e);
    if (e?.code && has(`${prefix}.${e.code}`)) return t(`${prefix}.${e.code}`, e);
  }
  if (r?.status === 403) return t("app.forbidden");
  if (r?.status === 404) return t("app.not_found");
  if (r?.status === 409) return t("error.conflict");
  if (r?.status === 400) return t("error.bad_request");
  return t("app.error");
}

// Shows a failed answer's text beside the field it names (an element with data-error-for=FIELD
// inside `scope`), else in `general`. Clears the other error lines of the scope first.
// `context`: as for errorText.
export function showError(r, scope, general, context) {
  clearErrors(scope, general);
  const f = r?.data?.error?.field;
  const spot = f && scope?.querySelector?.(`[data-error-for="${CSS.escape(f)}"]`);
  (spot || general).textContent = errorText(r, context);
}

// Empties the error lines of `scope` (and `general`), e.g. before sending a form again.
export function clearErrors(scope, general) {
  for (const e of scope?.querySelectorAll?.("[data-error-for]") ?? []) e.textContent = "";
  if (general) general.textContent = "";
}

// A labelled form field: <label for=id>, the control, and its own error line. `control` is an
// element (input, select, textarea); its id and name are set here when missing.
let fieldSeq = 0;
export function field(labelKey, control, name = control.getAttribute("name")) {
  if (!control.id) control.id = `f${++fieldSeq}-${name ?? "field"}`;
  if (name && !control.getAttribute("name")) control.setAttribute("name", name);
  const error = el("p", { class: "error field-error", role: "alert", "data-error-for": name ?? "" });
  control.setAttribute("aria-describedby", error.id = `${control.id}-error`);
  return el("div", { class: "field" }, el("label", { for: control.id, text: t(labelKey) }), control, error);
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const asked = state.me; // logged in when asking (another answer may end the session first)
  const r = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  // The session ended (expired, or logged out elsewhere): back to the login page. The caller's
  // promise never settles, so the view that asked draws nothing over the login form (also
  // when another request, e.g. the unread counts, found the session ended first).
  if (r.status === 401 && asked && !path.startsWith("/api/v1/auth/")) {
    if (state.me) {
      forget();
      go("/login", true);
    }
    return new Promise(() => {});
  }
  return { status: r.status, data, headers: r.headers };
}

// Sends a file as the raw body of an upload route (?name= carries its name).
export async function upload(path, file) {
  const headers = { "Content-Type": file.type || "application/octet-stream" };
  if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const r = await fetch(`${path}?name=${encodeURIComponent(file.name)}`, {
    method: "POST", headers, credentials: "same-origin", body: file,
  });
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  return { status: r.status, data };
}

// Drops what the shell knows of the logged-in person.
function forget() {
  state.me = null;
  state.unread = null;
  state.csrf = null;
  sessionStorage.removeItem("mes.csrf");
}

export function go(path, replace = false) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

function main() { return document.getElementById("main"); }

// Shows `nodes` in the page's main part; null ones (an absent optional part) are left out,
// never written as the text «null».
export function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes.filter((n) => n != null));
}

// ---- the header: navigation, account links, the phone menu, unread counts -------------------
//
// On a phone (CSS, max-width 480px) the navigation and the account links fold into #menu,
// opened by the «Меню» button (#menu-toggle, aria-expanded/aria-controls); at desktop width the
// button is hidden and #menu lays its parts out in the header's row as before.

function setMenu(open) {
  const top = document.querySelector("header.top");
  const button = document.getElementById("menu-toggle");
  if (!top || !button) return;
  top.classList.toggle("open", open);
  button.setAttribute("aria-expanded", String(open));
}

let menuWired = false;
function wireMenu() {
  if (menuWired) return;
  menuWired = true;
  document.getElementById("menu-toggle")?.addEventListener("click", () =>
    setMenu(document.getElementById("menu-toggle").getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape" || !document.querySelector("header.top.open")) return;
    setMenu(false);
    document.getElementById("menu-toggle")?.focus();
  });
}

// The unread counts beside the navigation's links: asked on every page and after reading
// (refreshUnread), only the latest answer drawn. A count of 0 shows nothing.
let unreadSeq = 0;
export async function refreshUnread() {
  if (!state.me) return;
  const seq = ++unreadSeq;
  const r = await api("GET", "/api/v1/unread");
  if (seq !== unreadSeq || r.status !== 200 || !state.me) return;
  state.unread = r.data;
  drawUnread();
}

function drawUnread() {
  let total = 0;
  for (const a of document.querySelectorAll("#nav a[data-unread]")) {
    const n = Number(state.unread?.[a.dataset.unread] ?? 0);
    a.querySelector(".badge")?.remove();
    a.querySelector(".unread-text")?.remove();
    if (n > 0) {
      total += n;
      // The number is seen; a screen reader hears the words instead (the link's name keeps
      // its visible text first, as a spoken command would name it).
      a.append(el("span", { class: "badge", "aria-hidden": "true", text: fmt.number(n, 0) }),
        el("span", { class: "sr-only unread-text", text: t("shell.unread_suffix", { unread: fmt.plural("shell.unread", n) }) }));
    }
  }
  // The folded menu's button says that something inside is new (a dot: a new message is
  // also a notification, so a sum would count it twice).
  const dot = document.getElementById("menu-unread");
  if (dot) {
    dot.hidden = total === 0;
    const button = document.getElementById("menu-toggle");
    if (total) button.setAttribute("aria-label", t("shell.menu_unread"));
    else button.removeAttribute("aria-label");
  }
}

function header() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  wireMenu();
  setMenu(false);
  const toggle = document.getElementById("menu-toggle");
  if (toggle) {
    toggle.querySelector(".menu-label").textContent = t("shell.menu");
    toggle.hidden = !state.me;
  }
  document.querySelector("header.top")?.classList.toggle("has-menu", Boolean(state.me));
  nav.setAttribute("aria-label", t("shell.navigation"));
  nav.replaceChildren();
  who.replaceChildren();
  if (state.languages.length > 1) {
    // Each language is named in itself ("русский", "татарча"), by the browser, not the catalog.
    const pick = el("select", { id: "lang", "aria-label": t("app.language") },
      state.languages.map((l) => {
        let name = l;
        try { name = new Intl.DisplayNames([l], { type: "language" }).of(l) ?? l; } catch { /* keep the code */ }
        const o = el("option", { value: l, text: name });
        if (l === state.lang) o.selected = true;
        return o;
      }));
    pick.addEventListener("change", async () => {
      localStorage.setItem("mes.lang", pick.value);
      await loadCatalog(pick.value);
      render();
    });
    who.append(pick);
  }
  if (!state.me) return;
  for (const n of navigation) {
    if (n.roles && !n.roles.some((r) => state.me.roles.includes(r))) continue;
    const href = typeof n.href === "function" ? n.href(state.me) : n.href;
    const a = el("a", { href, "data-link": "", text: t(n.key) });
    if (href === location.pathname) a.setAttribute("aria-current", "page");
    if (n.unread) { a.dataset.unread = n.unread; a.dataset.name = t(n.key); }
    nav.append(a);
  }
  drawUnread();
  who.append(
    el("a", { href: "/account", "data-link": "", id: "account-link", class: "who-name", title: t("accounts.account_link"), text: state.me.name }),
    el("button", { id: "logout", type: "button", onclick: logout, text: t("logout") }),
  );
}

async function logout() {
  let r = await api("POST", "/api/v1/auth/logout", {});
  if (r.status === 403) {
    // A stale CSRF token (another tab logged in again): take the session's own and retry.
    const me = await api("GET", "/api/v1/me");
    if (me.status === 200 && me.data.csrf_token) {
      state.csrf = me.data.csrf_token;
      r = await api("POST", "/api/v1/auth/logout", {});
    }
  }
  forget();
  go("/login", true);
}

// "15 мин", "40 с": a wait in the catalog's units, rounded up to whole minutes past one.
function wait(seconds) {
  const s = Math.max(1, Number(seconds) || 60);
  return s >= 60 ? t("time.minutes", { n: Math.ceil(s / 60) }) : t("time.seconds", { n: s });
}

function loginView() {
  const login = el("input", { id: "login", name: "login", autocomplete: "username", required: "" });
  const password = el("input", { id: "password", name: "password", type: "password",
    autocomplete: "current-password", required: "" });
  const error = el("p", { id: "login-error", class: "error", role: "alert" });
  const submit = el("button", { type: "submit", text: t("login.submit") });
  const form = el("form", { class: "card login", onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    if (!login.value || !password.value) { error.textContent = t("login.error.empty"); return; }
    submit.disabled = true;
    const r = await api("POST", "/api/v1/auth/login", { login: login.value, password: password.value });
    submit.disabled = false;
    if (r.status === 200) {
      state.csrf = r.data.csrf_token;
      sessionStorage.setItem("mes.csrf", state.csrf);
      state.me = r.data.user;
      go("/home", true);
    } else if (r.status === 429) {
      error.textContent = t("login.error.throttled", { wait: wait(r.headers.get("Retry-After")) });
    } else if (r.status === 401 || r.status === 400) {
      error.textContent = t("login.error.invalid");
    } else {
      error.textContent = t("app.error");
    }
  } },
    el("h1", { text: t("login.title") }),
    el("label", { for: "login", text: t("login.login") }), login,
    el("label", { for: "password", text: t("login.password") }), password,
    error, submit);
  show(form);
  login.focus();
}

export function section(titleKey, ...content) {
  return el("section", { class: "card" }, titleKey ? el("h2", { text: t(titleKey) }) : null, ...content);
}

export function table(headKeys, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, headKeys.map((k) => el("th", { text: t(k) })))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))));
}

function homeView() {
  const me = state.me;
  const parts = [el("h1", { text: t("home.title", { name: me.name }) })];
  parts.push(...homeCards.map((card) => card(me)).filter(Boolean));
  parts.push(el("p", { class: "roles" }, `${t("home.roles")}: `,
    me.roles.map((r) => t(`role.${r}`)).join(", ")));
  if (me.institutions && me.institutions.length)
    parts.push(el("p", {}, `${t("home.institutions")}: `, me.institutions.map((i) => i.name).filter(Boolean).join(", ")));
  if (me.roles.includes("parent")) {
    const kids = me.children || [];
    parts.push(section("home.children", kids.length
      ? el("ul", { class: "children" }, kids.map((c) => el("li", {},
          el("a", { href: `/students/${c.id}`, "data-link": "", class: "child", text: c.name }),
          c.class ? el("span", { class: "muted where", text: [c.class.name, c.institution?.name].filter(Boolean).join(" · ") }) : null,
          el("span", { class: "links" },
            el("a", { href: `/diary/${c.id}`, "data-link": "", class: "diary-link", text: t("nav.diary") }),
            el("a", { href: `/marks/${c.id}`, "data-link": "", class: "marks-link", text: t("nav.marks") }),
            el("a", { href: `/homework/${c.id}`, "data-link": "", class: "homework-link", text: t("nav.homework") }),
            el("a", { href: `/students/${c.id}/notices`, "data-link": "", class: "notices-link", text: t("nav.notices") }),
            childLinks.map((l) => el("a", { href: l.href(c.id), "data-link": "", class: l.class, text: t(l.key) }))))))
      : el("p", { text: t("home.no_children") })));
  }
  if (me.roles.includes("student") && me.student && me.student.class)
    parts.push(section("home.my_class", el("p", {},
      el("strong", { text: me.student.class.name }), me.student.institution?.name ? ` · ${me.student.institution.name}` : null)));
  if (me.roles.includes("teacher")) {
    const a = me.assignments || [];
    parts.push(section("home.assignments", a.length
      ? table(["col.class", "col.subject"], a.map((x) => [x.class.name,
          x.group ? `${x.subject.name} (${x.group.name})` : x.subject.name]))
      : el("p", { text: t("home.no_assignments") })));
  }
  if (me.roles.includes("class_teacher") && me.classes)
    parts.push(section("home.homeroom", el("ul", { class: "homeroom" }, me.classes.map((c) => el("li", {},
      el("a", { href: `/classes/${c.id}/summary`, "data-link": "", class: "summary-link", text: c.name }),
      classLinks.length ? el("span", { class: "links" }, classLinks.map((l) =>
        el("a", { href: l.href(c.id), "data-link": "", class: l.class, text: t(l.key) }))) : null)))));
  for (const role of ["admin", "school_admin"])
    if (me.roles.includes(role))
      parts.push(el("p", { class: "card home-admin" }, `${t(`home.${role}`)} `,
        el("a", { href: "/admin", "data-link": "", class: "admin-link", id: `home-${role}`, text: t("admin.open") })));
  if (me.roles.includes("medic")) parts.push(el("p", { class: "card", text: t("home.medic") }));
  show(...parts);
}

async function studentView(id) {
  show(el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/students/${id}`);
  if (r.status !== 200) { show(el("p", { class: "error", text: errorText(r) })); return; }
  const s = r.data;
  // Certificates of study: the child's parents and the school's admin (certificates.js).
  const certificate = (state.me.roles.includes("parent") && (state.me.children ?? []).some((c) => c.id === s.id))
    || state.me.roles.includes("school_admin")
    ? el("p", {}, el("a", { href: `/students/${s.id}/certificates`, "data-link": "", id: "certificate",
        text: t("certificate.request") }))
    : null;
  const head = hooks.childHead ? await hooks.childHead("student.title", s.id, (c) => `/students/${c}`)
    : [el("h1", { text: s.name })];
  show(
    el("a", { href: "/home", "data-link": "", text: t("student.back") }),
    ...head,
    el("p", { class: "student-name", text: s.name }),
    el("dl", { class: "card facts" },
      el("dt", { text: t("student.class") }), el("dd", { text: s.class?.name ?? "—" }),
      el("dt", { text: t("student.school") }), el("dd", { text: s.institution?.name ?? "—" }),
      el("dt", { text: t("student.birth_date") }), el("dd", { text: s.birth_date ? fmt.date(s.birth_date) : "—" })),
    section("student.guardians", (s.guardians ?? []).length
      ? el("ul", {}, s.guardians.map((g) => el("li", { text: g.relation ? `${g.name} (${t(`relation.${g.relation}`)})` : g.name })))
      : el("p", { class: "muted", text: t("shell.no_guardians") })),
    el("p", {}, el("a", { href: `/students/${s.id}/notices`, "data-link": "", id: "notices-link",
      text: t(state.me.roles.includes("medic") ? "notices.medical_title" : "notices.student_title") })),
    certificate);
}

export async function render() {
  const path = location.pathname;
  document.title = t("app.title");
  header();
  refreshUnread();
  for (const p of pages) {
    const m = path.match(p.path);
    if (!m) continue;
    if (!p.public && !p.open && !state.me) { go("/login", true); return; }
    if (p.public && state.me) { go("/home", true); return; }
    await p.view(...m.slice(1));
    return;
  }
  show(el("p", { class: "error", text: t("app.not_found") }));
}

// Loads /i18n/<lang>.json, or ru.json when the region has no catalog for that language.
async function loadCatalog(lang) {
  for (const l of [lang, "ru"]) {
    const r = await fetch(`/i18n/${l}.json`);
    if (r.ok) {
      state.msg = await r.json();
      state.lang = lang;
      document.documentElement.lang = l;
      document.title = t("app.title");
      return;
    }
  }
}

export async function boot() {
  const ui = await api("GET", "/api/v1/ui");
  state.languages = ui.data?.languages?.length ? ui.data.languages : ["ru"];
  const chosen = localStorage.getItem("mes.lang");
  const lang = state.languages.includes(chosen) ? chosen : ui.data?.default_language ?? "ru";
  await loadCatalog(lang);
  document.getElementById("region").textContent = ui.data?.region?.name ?? "";
  // Only a request that came with a live session asks who it is (no 401 for a visitor).
  const me = ui.data?.signed_in === false ? { status: 401 } : await api("GET", "/api/v1/me");
  if (me.status === 200) {
    state.me = me.data;
    if (me.data.csrf_token) { state.csrf = me.data.csrf_token; sessionStorage.setItem("mes.csrf", state.csrf); }
  }
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-link]");
    if (!a || ev.ctrlKey || ev.metaKey) return;
    ev.preventDefault();
    go(a.getAttribute("href"));
  });
  window.addEventListener("popstate", render);
  await render();
}

