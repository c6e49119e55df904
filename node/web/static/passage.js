// «Москвёнок»: carriers and passage. The family's /students/{id}/passage (entries and exits,
// week by week; a link beside each child on a parent's home page and a card on the student's),
// the class teacher's /classes/{id}/presence (who is in school now, the day's first entry and
// last exit, the journal's attendance and the flags where the two disagree; a home card when
// today's class has flags, a link beside each class of the home page), and the school admin's
// /school/cards (find a student, issue, block and replace a carrier) and /school/passage (a
// day's counts, per class, and the turnstiles' denials), both in the /admin hub. The day's pages
// opened without ?date= show today, or the latest day with passage when today has none yet (a
// weekend, a holiday, the early morning: the server's date=latest), and say so.
import {
  api, childLinks, classLinks, clearErrors, dayShown, el, errorText, field, fmt, go, homeCards, pages,
  schoolSections, section, show, showError, state, t, today,
} from "./app.js";
import { childHead, samePage, shortName } from "./family.js";

pages.push(
  { path: /^\/students\/(\d+)\/passage$/, view: passageView },
  { path: /^\/classes\/(\d+)\/presence$/, view: presenceView },
  { path: /^\/school\/cards$/, view: cardsView },
  { path: /^\/school\/passage$/, view: schoolPassageView },
);
childLinks.push({ key: "passage.link", href: (id) => `/students/${id}/passage`, class: "passage-link" });
classLinks.push({ key: "passage.presence.link", href: (id) => `/classes/${id}/presence`, class: "presence-link" });
schoolSections.push(
  { key: "cards.title", href: (id) => `/school/cards?school=${id}` },
  { key: "passage.school.title", href: (id) => `/school/passage?school=${id}` },
);

// ---- dates ------------------------------------------------------------------------------------

const iso = (d) => d.toISOString().slice(0, 10);
function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return iso(d);
}
function mondayOf(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return addDays(day, -((d.getUTCDay() + 6) % 7));
}
function dayTitle(day) {
  const s = fmt.weekday(day);
  return s.charAt(0).toUpperCase() + s.slice(1);
}
const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s ?? "");

// «вход» or «выход» with its time and gate: one line of a log.
function eventLine(e) {
  return el("li", { class: `passage-event ${e.direction}`, "data-day": e.day },
    el("span", { class: "time", text: e.time }), " ",
    el("span", { class: "direction", text: t(`passage.direction.${e.direction}`) }),
    e.turnstile ? el("span", { class: "muted", text: ` · ${e.turnstile}` }) : null);
}

// ---- the family's log -------------------------------------------------------------------------

async function passageView(id) {
  const params = new URLSearchParams(location.search);
  const monday = mondayOf(isDate(params.get("week")) ? params.get("week") : today());
  const sunday = addDays(monday, 6);
  const [r, head] = await Promise.all([
    api("GET", `/api/v1/students/${id}/passage?from=${monday}&to=${sunday}`),
    childHead("passage.title", id, samePage((c) => `/students/${c}/passage`)),
  ]);
  if (r.status !== 200) { show(...head, el("p", { class: "error", role: "alert", text: errorText(r) })); return; }
  const byDay = new Map();
  for (const e of r.data.items) byDay.set(e.day, [...(byDay.get(e.day) ?? []), e]);
  const now = today();
  const days = [];
  for (let i = 0; i < 7; i++) {
    const day = addDays(monday, i);
    const items = byDay.get(day) ?? [];
    if (day > now && !items.length) break;
    if (i >= 5 && !items.length) continue; // a weekend without passage
    days.push(el("div", { class: items.length ? "passage-day" : "passage-day empty" },
      el("h2", { text: dayTitle(day) }),
      items.length ? el("ul", { class: "passage-log", "data-day": day }, items.map(eventLine))
        : el("p", { class: "muted", text: t("passage.none_day") })));
  }
  const week = (n) => go(`/students/${id}/passage?week=${addDays(monday, n)}`);
  show(...head,
    el("div", { class: "toolbar" },
      el("button", { type: "button", class: "secondary", onclick: () => week(-7), text: t("diary.prev") }),
      el("span", { class: "week", text: `${fmt.dayMonth(monday)} – ${fmt.dayMonth(sunday)}` }),
      monday < mondayOf(now) ? el("button", { type: "button", class: "secondary", onclick: () => week(7), text: t("diary.next") }) : null,
      el("a", { href: `/diary/${id}?week=${monday}`, "data-link": "", text: t("nav.diary") })),
    days.length ? el("section", { class: "card passage-week" }, days) : el("p", { class: "card", text: t("passage.none_week") }));
}

// The student's home: today's first entry and last exit, and the log.
homeCards.push((me) => {
  if (!me.roles.includes("student")) return null;
  const id = me.student?.id ?? me.person_id;
  const body = el("p", { class: "muted", text: t("app.loading") });
  api("GET", `/api/v1/students/${id}/passage?from=${today()}&to=${today()}`).then((r) => {
    if (r.status !== 200) { body.textContent = errorText(r); return; }
    const first = r.data.items.find((e) => e.direction === "in");
    const last = r.data.items.filter((e) => e.direction === "out").pop();
    body.className = "home-passage-today";
    body.textContent = first || last
      ? t("passage.home.today", { text: [first ? t("passage.diary.in", { time: first.time }) : null,
        last ? t("passage.diary.out", { time: last.time }) : null].filter(Boolean).join(" · ") })
      : t("passage.home.none");
  });
  return el("section", { class: "card home-passage", id: "home-passage" },
    el("h2", { text: t("passage.home.title") }), body,
    el("p", {}, el("a", { href: `/students/${id}/passage`, "data-link": "", class: "passage-link", text: t("passage.home.open") })));
});

// ---- the class teacher's presence -----------------------------------------------------------

// The class teacher's home: a card when today's presence of their class has flags.
homeCards.push((me) => {
  if (!me.roles.includes("class_teacher") || !me.classes?.length) return null;
  const list = el("ul", { class: "home-presence-list" });
  const card = el("section", { class: "card home-presence", id: "home-presence", hidden: "" },
    el("h2", { text: t("passage.home.flags_title") }), list);
  Promise.all(me.classes.map((c) => api("GET", `/api/v1/classes/${c.id}/presence`))).then((answers) => {
    for (const r of answers) {
      if (r.status !== 200 || !r.data.counts.flags) continue;
      list.append(el("li", {},
        el("a", { href: `/classes/${r.data.class.id}/presence`, "data-link": "", class: "presence-link", text: r.data.class.name }),
        " ", fmt.plural("passage.presence.flags", r.data.counts.flags)));
    }
    card.hidden = !list.children.length;
  });
  return card;
});

async function presenceView(id) {
  const params = new URLSearchParams(location.search);
  const asked = isDate(params.get("date")) ? params.get("date") : null;
  show(el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/classes/${id}/presence?date=${asked ?? "latest"}`);
  if (r.status !== 200) {
    show(el("h1", { text: t("passage.presence.heading") }), el("p", { class: "error", role: "alert", text: errorText(r) }));
    return;
  }
  const p = r.data;
  const title = t("passage.presence.title", { class: p.class.name });
  document.title = `${title} — ${t("app.title")}`;
  const day = el("input", { type: "date", name: "date", value: p.date, max: today() });
  day.addEventListener("change", () => { if (isDate(day.value)) go(`/classes/${id}/presence?date=${day.value}`); });
  const classes = state.me.classes ?? [];
  let pick = null;
  if (classes.length > 1) {
    pick = el("select", { name: "class" }, classes.map((c) => el("option", { value: String(c.id), text: c.name })));
    pick.value = String(id);
    pick.addEventListener("change", () => go(`/classes/${pick.value}/presence${asked ? `?date=${asked}` : ""}`));
  }
  const n = p.counts.students;
  const entered = t("passage.presence.entered", { n: p.counts.entered, of: n });
  const none = () => el("span", { class: "muted", text: "—" });
  const lessons = (s) => (s.lessons.present + s.lessons.absent
    ? t("passage.presence.lessons_cell", { present: s.lessons.present, absent: s.lessons.absent }) : none());
  const rows = p.students.map((s) => el("tr", { class: s.flag ? "flagged" : "", "data-student": String(s.student.id) },
    el("th", { scope: "row", title: s.student.name, text: shortName(s.student.name) }),
    p.today ? el("td", { class: s.in_school ? "in-school" : "muted", text: t(s.in_school ? "passage.presence.here" : "passage.presence.away") }) : null,
    el("td", { class: "first-in" }, s.first_in?.time ?? none()),
    el("td", { class: "last-out" }, s.last_out?.time ?? none()),
    el("td", { class: "lessons" }, lessons(s)),
    el("td", { class: "flag" }, s.flag ? el("span", { class: "badge flag", text: t(`passage.flag.${s.flag}`) }) : null)));
  // The flags by kind, each with the names it holds.
  const flags = ["absent_with_entry", "present_no_entry"].map((f) => [f, p.students.filter((s) => s.flag === f)])
    .filter(([, list]) => list.length);
  show(
    el("h1", { text: title }),
    el("div", { class: "toolbar presence-toolbar" },
      field("passage.presence.date", day),
      pick ? field("passage.presence.class", pick) : null,
      el("a", { href: `/classes/${id}/summary`, "data-link": "", text: t("passage.presence.summary") })),
    dayShown({ date: p.date, isToday: p.today, chosen: !asked, noteKey: "passage.presence.latest",
      todayHref: `/classes/${id}/presence?date=${today()}` }),
    el("p", { class: "presence-counts", id: "presence-counts", text: p.today
      ? `${t("passage.presence.in_now", { n: p.counts.in_school, of: n })} · ${entered}`
      : entered.charAt(0).toUpperCase() + entered.slice(1) }),
    p.turnstiles ? null : el("p", { class: "card muted", id: "presence-no-turnstiles", text: t("passage.presence.no_turnstiles") }),
    flags.length ? section("passage.presence.flags_title", el("ul", { class: "presence-flags" }, flags.map(([f, list]) =>
      el("li", { "data-flag": f }, el("strong", { text: `${t(`passage.flag_long.${f}`)} (${fmt.number(list.length, 0)}): ` }),
        list.flatMap((s, i) => [i ? ", " : "", el("span", { "data-student": String(s.student.id), text: shortName(s.student.name) })]))))) : null,
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": title }, el("table", { class: "card presence" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: t("passage.presence.col.student") }),
        p.today ? el("th", { scope: "col", text: t("passage.presence.col.now") }) : null,
        el("th", { scope: "col", text: t("passage.presence.col.in") }),
        el("th", { scope: "col", text: t("passage.presence.col.out") }),
        el("th", { scope: "col", text: t("passage.presence.col.lessons") }),
        el("th", { scope: "col", text: t("passage.presence.col.flag") }))),
      el("tbody", {}, rows))),
    el("p", { class: "muted small-text", text: t("passage.presence.about") }));
}

// ---- the school admin's pages -----------------------------------------------------------------

// The school a school page is about: ?school=ID, else the first the caller administers. The
// region admin without one picks it from a list; anyone else is told the page is not theirs.
// Returns {id, name} or null once something else is shown.
async function pickSchool(titleKey, path) {
  const params = new URLSearchParams(location.search);
  const me = state.me;
  const mine = (me.grants ?? []).filter((g) => g.role === "school_admin" && g.institution_id).map((g) => g.institution_id);
  const admin = me.roles.includes("admin");
  let id = Number(params.get("school")) || mine[0] || 0;
  if (!admin && !mine.includes(id)) {
    show(el("h1", { text: t(titleKey) }), el("p", { class: "card error", role: "alert", id: "school-denied", text: t("passage.school.denied") }));
    return null;
  }
  if (!id) {
    const r = await api("GET", "/api/v1/institutions");
    const list = el("select", { name: "school" }, el("option", { value: "", text: t("passage.school.choose") }),
      (r.data?.items ?? []).map((s) => el("option", { value: String(s.id), text: s.short_name ?? s.name })));
    list.addEventListener("change", () => { if (list.value) go(`${path}?school=${list.value}`); });
    show(el("h1", { text: t(titleKey) }), el("div", { class: "card" }, field("passage.school.school", list)));
    return null;
  }
  const s = await api("GET", `/api/v1/institutions/${id}`);
  if (s.status !== 200) { show(el("h1", { text: t(titleKey) }), el("p", { class: "error", role: "alert", text: errorText(s) })); return null; }
  return { id, name: s.data.short_name ?? s.data.name };
}

const back = () => el("a", { href: "/admin", "data-link": "", class: "admin-back", text: t("admin.back") });
const kindOptions = (selected) => ["card", "bracelet", "fob"].map((k) => {
  const o = el("option", { value: k, text: t(`cards.kind.${k}`) });
  if (k === selected) o.selected = true;
  return o;
});

function cardState(c) {
  if (!c.blocked) return t("cards.state.active");
  return t(`cards.state.${c.blocked_reason ?? "other"}`, { date: fmt.day(c.blocked_at) });
}

async function cardsView() {
  const school = await pickSchool("cards.title", "/school/cards");
  if (!school) return;
  const params = new URLSearchParams(location.search);
  document.title = `${t("cards.title")} — ${t("app.title")}`;
  const classes = await api("GET", `/api/v1/institutions/${school.id}/classes`);
  const cls = el("select", { name: "class" }, el("option", { value: "", text: t("cards.any_class") }),
    (classes.data?.items ?? []).filter((c) => c.students > 0).map((c) => el("option", { value: String(c.id), text: c.name })));
  cls.value = params.get("class") ?? "";
  const q = el("input", { type: "search", name: "q", maxlength: "100", autocomplete: "off", value: params.get("q") ?? "" });
  const general = el("p", { class: "error", role: "alert" });
  const status = el("p", { class: "cards-status", role: "status", id: "cards-status" });
  const results = el("div", { id: "cards-results" });
  const search = el("form", { class: "card cards-search", onsubmit: (ev) => { ev.preventDefault(); status.textContent = ""; find(); } },
    el("div", { class: "cards-search-fields" }, field("cards.class", cls), field("cards.query", q)),
    el("button", { type: "submit", text: t("cards.find") }), general);

  async function find() {
    clearErrors(search, general);
    const query = new URLSearchParams({ school: String(school.id) });
    if (cls.value) query.set("class", cls.value);
    if (q.value.trim()) query.set("q", q.value.trim());
    history.replaceState(null, "", `/school/cards?${query}`);
    if (!cls.value && !q.value.trim()) {
      results.replaceChildren(el("p", { class: "muted", text: t("cards.hint") }));
      return;
    }
    query.delete("school");
    const r = await api("GET", `/api/v1/institutions/${school.id}/cards?${query}`);
    if (r.status !== 200) { showError(r, search, general); results.replaceChildren(); return; }
    results.replaceChildren(...[
      r.data.items.length ? el("ul", { class: "card-students" }, r.data.items.map(studentCard))
        : el("p", { class: "card muted", id: "cards-none", text: t("cards.none") }),
      r.data.more ? el("p", { class: "muted", text: t("cards.more") }) : null].filter(Boolean));
  }

  // Runs a write and, when it is done, says so and searches again. An identifier that cannot be
  // one is refused here, in the server's words (error.bad_card), without asking.
  async function write(form, general, method, path, body, done) {
    clearErrors(form, general);
    if (body.card !== undefined && !/^[0-9A-Za-z:-]{4,64}$/.test(body.card)) {
      form.querySelector("[data-error-for=card]").textContent = t("error.bad_card");
      form.querySelector("input[name=card]").focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const r = await api(method, path, body);
    button.disabled = false;
    if (r.status !== 200 && r.status !== 201) { showError(r, form, general); return; }
    status.textContent = done(r.data);
    await find();
  }

  function issueForm(s) {
    const card = el("input", { name: "card", maxlength: "64", autocomplete: "off", spellcheck: "false" });
    const kind = el("select", { name: "kind" }, kindOptions("card"));
    const err = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "cards-issue", onsubmit: (ev) => {
      ev.preventDefault();
      write(form, err, "POST", `/api/v1/students/${s.student.id}/cards`, { card: card.value.trim(), kind: kind.value },
        (c) => t("cards.issued", { card: c.card, name: s.student.name }));
    } }, field("cards.identifier", card), field("cards.kind_label", kind), el("button", { type: "submit", text: t("cards.issue") }), err);
    return el("details", { class: "cards-action" }, el("summary", { text: t("cards.issue_open") }), form);
  }

  function blockForm(s, c) {
    const reason = el("select", { name: "reason" },
      el("option", { value: "lost", text: t("cards.reason.lost") }), el("option", { value: "other", text: t("cards.reason.other") }));
    const err = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "cards-block", onsubmit: (ev) => {
      ev.preventDefault();
      write(form, err, "POST", `/api/v1/cards/${c.id}/block`, { reason: reason.value },
        () => t("cards.blocked", { card: c.card, name: s.student.name }));
    } }, field("cards.reason_label", reason), el("button", { type: "submit", class: "danger", text: t("cards.block") }), err);
    return el("details", { class: "cards-action" }, el("summary", { text: t("cards.block_open") }), form);
  }

  function replaceForm(s, c) {
    const card = el("input", { name: "card", maxlength: "64", autocomplete: "off", spellcheck: "false" });
    const kind = el("select", { name: "kind" }, kindOptions(c.kind));
    const err = el("p", { class: "error", role: "alert" });
    const form = el("form", { class: "cards-replace", onsubmit: (ev) => {
      ev.preventDefault();
      write(form, err, "POST", `/api/v1/cards/${c.id}/replace`, { card: card.value.trim(), kind: kind.value },
        (n) => t("cards.replaced", { old: c.card, card: n.card, name: s.student.name }));
    } }, field("cards.new_identifier", card), field("cards.kind_label", kind), el("button", { type: "submit", text: t("cards.replace") }), err);
    return el("details", { class: "cards-action" }, el("summary", { text: t("cards.replace_open") }), form);
  }

  function studentCard(s) {
    return el("li", { class: "card card-student", "data-student": String(s.student.id) },
      el("div", { class: "card-student-head" }, el("strong", { text: s.student.name }), el("span", { class: "muted", text: ` · ${s.class.name}` })),
      s.cards.length ? el("ul", { class: "carriers" }, s.cards.map((c) => el("li", { class: c.blocked ? "carrier blocked" : "carrier", "data-card": String(c.id), "data-identifier": c.card },
        el("div", { class: "carrier-head" },
          el("code", { class: "carrier-id", translate: "no", text: c.card }),
          el("span", { text: ` ${t(`cards.kind.${c.kind}`)}` }),
          el("span", { class: c.blocked ? "badge carrier-state blocked" : "badge carrier-state", text: cardState(c) }),
          el("span", { class: "muted small-text", text: ` ${t("cards.issued_on", { date: fmt.day(c.issued_at) })}` })),
        c.blocked ? null : el("div", { class: "carrier-actions" }, blockForm(s, c), replaceForm(s, c)))))
        : el("p", { class: "muted", text: t("cards.no_cards") }),
      issueForm(s));
  }

  show(back(), el("h1", { text: t("cards.title") }), el("p", { class: "muted", text: school.name }),
    search, status, results,
    el("p", {}, el("a", { href: `/school/passage?school=${school.id}`, "data-link": "", text: t("passage.school.title") })));
  await find();
}

async function schoolPassageView() {
  const school = await pickSchool("passage.school.title", "/school/passage");
  if (!school) return;
  const params = new URLSearchParams(location.search);
  const asked = isDate(params.get("date")) ? params.get("date") : null;
  document.title = `${t("passage.school.title")} — ${t("app.title")}`;
  const r = await api("GET", `/api/v1/institutions/${school.id}/passage?date=${asked ?? "latest"}`);
  if (r.status !== 200) { show(back(), el("h1", { text: t("passage.school.title") }), el("p", { class: "error", role: "alert", text: errorText(r) })); return; }
  const d = r.data;
  const day = el("input", { type: "date", name: "date", value: d.date, max: today() });
  day.addEventListener("change", () => { if (isDate(day.value)) go(`/school/passage?school=${school.id}&date=${day.value}`); });
  const facts = [
    ["passage.school.entries", d.entries], ["passage.school.exits", d.exits], ["passage.school.entered", d.entered],
    ...(d.today ? [["passage.school.in_now", d.in_school]] : []), ["passage.school.refused", d.denied]];
  show(back(), el("h1", { text: t("passage.school.title") }),
    el("p", { class: "muted", text: school.name }),
    el("div", { class: "toolbar" }, field("passage.presence.date", day),
      el("a", { href: `/school/cards?school=${school.id}`, "data-link": "", text: t("cards.title") })),
    dayShown({ date: d.date, isToday: d.today, chosen: !asked, noteKey: "passage.school.latest",
      todayHref: `/school/passage?school=${school.id}&date=${today()}` }),
    el("dl", { class: "card facts school-passage-facts", id: "school-passage-facts" },
      facts.flatMap(([k, v]) => [el("dt", { text: t(k) }), el("dd", { "data-fact": k.split(".").pop(), text: fmt.number(v, 0) })])),
    section("passage.school.classes", d.classes.length ? el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("passage.school.classes") }, el("table", { class: "school-passage-classes" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: t("passage.school.col.class") }),
        el("th", { scope: "col", text: t("passage.school.col.students") }),
        el("th", { scope: "col", text: t("passage.school.col.entered") }),
        d.today ? el("th", { scope: "col", text: t("passage.school.col.in_now") }) : null)),
      el("tbody", {}, d.classes.map((c) => el("tr", { "data-class": String(c.class.id) },
        el("th", { scope: "row" }, el("a", { href: `/classes/${c.class.id}/presence?date=${d.date}`, "data-link": "", text: c.class.name })),
        el("td", { text: fmt.number(c.students, 0) }), el("td", { text: fmt.number(c.entered, 0) }),
        d.today ? el("td", { text: fmt.number(c.in_school, 0) }) : null)))))
      : el("p", { class: "muted", text: t("passage.school.no_classes") })),
    section("passage.school.denials", d.denials.length ? el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("passage.school.denials") }, el("table", { class: "denials" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col", text: t("passage.school.col.time") }),
        el("th", { scope: "col", text: t("passage.school.col.card") }),
        el("th", { scope: "col", text: t("passage.school.col.reason") }),
        el("th", { scope: "col", text: t("passage.school.col.where") }))),
      el("tbody", {}, d.denials.map((x) => el("tr", { "data-reason": x.reason },
        el("td", { text: x.time }),
        el("td", {}, el("code", { translate: "no", text: x.card }), x.student ? el("div", { class: "small-text", text: x.student.name }) : null),
        el("td", { text: t(`passage.reason.${x.reason}`) }),
        el("td", { text: [t(`passage.direction.${x.direction}`), x.turnstile].filter(Boolean).join(" · ") }))))))
      : el("p", { class: "muted", id: "denials-none", text: t("passage.school.no_denials") })));
}
