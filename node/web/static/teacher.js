// The teacher's pages: the day (a date's lessons in bell order, with replacements and
// cancellations, each leading to its journal), the class teacher's summary of a class across
// all subjects (weighted averages, period marks, absences), and the calendar-thematic plan
// (КТП) editor whose topics fill the lessons. The home page's first card is the teacher's day;
// the class teacher's classes there lead to their summaries.
import { api, el, errorText, field, fmt, go, homeCards, navigation, pages, show, showError, state, t, today, yearPeriods } from "./app.js";

const TEACHERS = ["teacher", "class_teacher"];

// The day comes first in a teacher's menu; the class and the plans follow the journal.
navigation.unshift({ key: "teacher.nav.day", href: "/day", roles: TEACHERS });
navigation.push(
  { key: "teacher.nav.summary", href: (me) => (me.classes?.length ? `/classes/${me.classes[0].id}/summary` : "/home"), roles: ["class_teacher"] },
  { key: "teacher.nav.plans", href: "/plans", roles: ["teacher"] },
);

pages.push(
  { path: /^\/day$/, view: dayView },
  { path: /^\/classes\/(\d+)\/summary$/, view: summaryView },
  { path: /^\/plans$/, view: plansView },
);

const isTeacher = (me) => TEACHERS.some((r) => me.roles.includes(r));

// A calendar day `days` away from `iso` ("YYYY-MM-DD").
function shiftDay(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}


function failure(r) {
  show(el("p", { class: "error", role: "alert", text: errorText(r) }));
}

// ---- the teacher's day ----------------------------------------------------------------------

function journalHref(l) {
  return `/journal?class=${l.class.id}&subject=${l.subject.id}&period=${l.period_id}`;
}

// The status line of a lesson: marks and attendance entered.
function lessonStatus(l) {
  return el("p", { class: "day-status" },
    el("span", { class: l.marks ? "done" : "muted", text: l.marks ? fmt.plural("teacher.day.marks", l.marks) : t("teacher.day.no_marks") }),
    el("span", { class: l.attendance ? "done" : "muted", text: l.attendance ? fmt.plural("teacher.day.attendance", l.attendance) : t("teacher.day.no_attendance") }));
}

function lessonItem(l) {
  const when = l.starts_at ? `${l.starts_at}–${l.ends_at}` : "";
  const what = `${l.class.name} · ${l.subject.name}${l.group ? ` (${l.group.name})` : ""}`;
  const badges = [];
  if (l.cancelled) badges.push(el("span", { class: "badge cancelled", text: t("teacher.day.cancelled") }));
  if (l.role === "replacing") badges.push(el("span", { class: "badge replacing", text: t("teacher.day.replacing", { name: l.teacher.name }) }));
  if (l.role === "replaced") badges.push(el("span", { class: "badge replaced", text: t("teacher.day.replaced", { name: l.replacement.name }) }));
  // The journal of a class and subject is its own teachers': a replacement has none to open.
  const open = l.role !== "replacing"
    ? el("a", { href: journalHref(l), "data-link": "", class: "button secondary journal-link", text: t("teacher.day.open_journal") })
    : null;
  return el("li", { class: `day-lesson role-${l.role}${l.cancelled ? " cancelled" : ""}`, "data-lesson": String(l.id), "data-role": l.role },
    el("div", { class: "day-when" },
      el("span", { class: "day-number", text: t("teacher.day.number", { n: l.number }) }),
      when ? el("span", { class: "day-time", text: when }) : null),
    el("div", { class: "day-body" },
      el("h3", { class: "day-what", text: what }),
      badges.length ? el("p", { class: "badges" }, badges) : null,
      l.room ? el("p", { class: "muted day-room", text: t("teacher.day.room", { room: l.room }) }) : null,
      el("p", { class: "day-topic" }, l.topic
        ? `${t("teacher.day.topic")}: ${l.topic}`
        : el("span", { class: "muted", text: t("teacher.day.no_topic") })),
      l.homework.length
        ? el("ul", { class: "day-homework" }, l.homework.map((h) => el("li", {},
            `${t("teacher.day.homework")}: ${h.text} `,
            el("span", { class: "muted", text: t("teacher.day.due", { date: fmt.dayMonth(h.due_date) }) }))))
        : el("p", { class: "muted day-homework-none", text: t("teacher.day.no_homework") }),
      l.cancelled ? null : lessonStatus(l),
      open));
}

async function dayView() {
  const params = new URLSearchParams(location.search);
  const asked = params.get("date");
  const date = asked && /^\d{4}-\d{2}-\d{2}$/.test(asked) ? asked : today();
  show(el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/teachers/me/lessons?date=${date}`);
  if (r.status !== 200) return failure(r);
  const d = r.data;
  const prev = d.previous ?? shiftDay(date, -1);
  const next = d.next ?? shiftDay(date, 1);
  const pick = el("input", { type: "date", name: "date", value: date });
  pick.addEventListener("change", () => { if (pick.value) go(`/day?date=${pick.value}`); });
  const nav = el("nav", { class: "toolbar day-nav", "aria-label": t("teacher.day.nav_label") },
    el("a", { href: `/day?date=${prev}`, "data-link": "", id: "day-prev", class: "button secondary", rel: "prev",
      "aria-label": t("teacher.day.prev_label", { date: fmt.weekday(prev) }), text: `← ${fmt.weekday(prev)}` }),
    date !== today() ? el("a", { href: "/day", "data-link": "", id: "day-today", class: "button secondary", text: t("teacher.day.today") }) : null,
    el("a", { href: `/day?date=${next}`, "data-link": "", id: "day-next", class: "button secondary", rel: "next",
      "aria-label": t("teacher.day.next_label", { date: fmt.weekday(next) }), text: `${fmt.weekday(next)} →` }),
    field("teacher.day.date", pick));
  const title = date === today() ? t("teacher.day.today_title", { date: fmt.weekday(date) }) : fmt.weekday(date);
  const lessons = d.lessons;
  show(
    el("h1", { text: t("teacher.day.title") }),
    nav,
    el("h2", { id: "day-date", "data-date": date, text: title }),
    lessons.length
      ? el("ol", { class: "day-lessons", id: "day-lessons" }, lessons.map(lessonItem))
      : el("p", { class: "card", id: "day-empty", text: t("teacher.day.empty") }));
  document.title = `${t("teacher.day.title")} · ${t("app.title")}`;
}

// The home page's first card: today's lessons in short, and the way to the day.
homeCards.push((me) => {
  if (!isTeacher(me)) return null;
  const body = el("div", {}, el("p", { class: "muted", text: t("app.loading") }));
  const card = el("section", { class: "card home-day", id: "home-day" },
    el("h2", { text: t("teacher.home.today", { date: fmt.weekday(today()) }) }), body,
    el("p", {}, el("a", { href: "/day", "data-link": "", id: "home-day-link", class: "button", text: t("teacher.home.open_day") })));
  api("GET", "/api/v1/teachers/me/lessons").then((r) => {
    if (r.status !== 200) { body.replaceChildren(el("p", { class: "error", text: errorText(r) })); return; }
    const ls = r.data.lessons;
    body.replaceChildren(ls.length
      ? el("ol", { class: "home-day-list" }, ls.map((l) => el("li", { class: l.cancelled ? "cancelled" : "" },
          el("span", { class: "day-time", text: l.starts_at ?? t("teacher.day.number", { n: l.number }) }), " ",
          `${l.class.name} · ${l.subject.name}`,
          l.cancelled ? el("span", { class: "badge cancelled", text: t("teacher.day.cancelled") }) : null,
          l.role === "replacing" ? el("span", { class: "badge replacing", text: t("teacher.home.replacing") }) : null,
          l.role === "replaced" ? el("span", { class: "badge replaced", text: t("teacher.home.replaced") }) : null)))
      : el("p", { class: "muted", text: r.data.next
          ? t("teacher.home.none_next", { date: fmt.weekday(r.data.next) }) : t("teacher.day.empty") }));
  });
  return card;
});

// ---- the class teacher's summary --------------------------------------------------------------

async function summaryView(id) {
  const params = new URLSearchParams(location.search);
  show(el("p", { text: t("app.loading") }));
  const { all, current } = await yearPeriods();
  const period = all.find((p) => `${p.id}` === params.get("period")) ?? current;
  if (!period) { show(el("p", { class: "card", text: t("teacher.summary.no_period") })); return; }
  const r = await api("GET", `/api/v1/classes/${id}/summary?period=${period.id}`);
  if (r.status !== 200) return failure(r);
  const s = r.data;
  const per = el("select", { name: "period" }, all.map((p) => el("option", { value: String(p.id), text: p.name })));
  per.value = String(period.id);
  per.addEventListener("change", () => go(`/classes/${id}/summary?period=${per.value}`, true));
  const classes = state.me.classes ?? [];
  let classPick = null;
  if (classes.length > 1) {
    const sel = el("select", { name: "class" }, classes.map((c) => el("option", { value: String(c.id), text: c.name })));
    sel.value = String(id);
    sel.addEventListener("change", () => go(`/classes/${sel.value}/summary?period=${per.value}`));
    classPick = field("teacher.summary.class", sel);
  }
  const cell = (st, sub) => {
    const c = st.subjects.find((x) => x.subject_id === sub.id);
    if (!c) return el("td", { class: "num empty", text: "—" });
    const hint = [c.marks ? fmt.plural("teacher.summary.marks", c.marks) : t("teacher.summary.no_marks")];
    if (c.period_mark) hint.push(t("teacher.summary.period_mark", { mark: markText(c.period_mark) }));
    if (c.final_mark) hint.push(t("teacher.summary.final_mark", { mark: markText(c.final_mark) }));
    return el("td", { class: `num${c.average != null && c.average < 3 ? " low" : ""}`, "data-subject": String(sub.id), title: hint.join(", ") },
      el("span", { class: "summary-avg", text: fmt.number(c.average, 2) }),
      c.period_mark ? el("strong", { class: "period-mark", "aria-label": t("teacher.summary.period_mark", { mark: markText(c.period_mark) }), text: markText(c.period_mark) }) : null,
      c.final_mark ? el("strong", { class: "final-mark", "aria-label": t("teacher.summary.final_mark", { mark: markText(c.final_mark) }), text: markText(c.final_mark) }) : null);
  };
  const att = (a, k) => el("td", { class: `num att-${k}`, text: String(a[k]) });
  const head = el("tr", {},
    el("th", { scope: "col", class: "student", text: t("teacher.summary.student") }),
    s.subjects.map((sub) => el("th", { scope: "col", class: "subject", "data-subject": String(sub.id) }, el("span", { text: sub.name }))),
    ["total", "justified", "ill", "late"].map((k) => el("th", { scope: "col", class: `att att-${k}`, text: t(`teacher.summary.att_${k}`) })));
  const rows = s.students.map((st) => el("tr", { "data-student": String(st.id) },
    el("th", { scope: "row", class: "student" },
      el("a", { href: `/marks/${st.id}?period=${period.id}`, "data-link": "", class: "student-link", text: st.name })),
    s.subjects.map((sub) => cell(st, sub)),
    ["total", "justified", "ill", "late"].map((k) => att(st.attendance, k))));
  const foot = el("tr", { class: "class-average" },
    el("th", { scope: "row", class: "student", text: t("teacher.summary.class_average") }),
    s.subjects.map((sub) => el("td", { class: "num", text: fmt.number(sub.average, 2) })),
    el("td", { colspan: "4" }));
  const title = t("teacher.summary.title", { class: s.class.name });
  show(
    el("h1", { text: title }),
    el("div", { class: "toolbar" }, classPick, field("teacher.summary.period", per)),
    s.students.length
      ? el("div", { class: "summary-wrap", tabindex: "0", role: "region", "aria-label": title },
          el("table", { class: "summary", id: "class-summary" },
            el("caption", { text: t("teacher.summary.caption", { period: s.period.name, from: fmt.date(s.period.starts_on), to: fmt.date(s.period.ends_on) }) }),
            el("thead", {}, head), el("tbody", {}, rows), el("tfoot", {}, foot)))
      : el("p", { class: "card", text: t("teacher.summary.no_students") }),
    el("p", { class: "muted", text: t("teacher.summary.hint") }));
  document.title = `${title} · ${t("app.title")}`;
}

function markText(v) {
  return v === "pass" ? t("mark.pass") : v === "fail" ? t("mark.fail") : v;
}

// ---- the calendar-thematic plan ---------------------------------------------------------------

async function plansView() {
  const params = new URLSearchParams(location.search);
  const assignments = (state.me.assignments ?? []).filter((a, i, all) =>
    all.findIndex((b) => b.class.id === a.class.id && b.subject.id === a.subject.id) === i);
  const chosen = assignments.find((a) => `${a.class.id}` === params.get("class") && `${a.subject.id}` === params.get("subject"))
    ?? assignments[0];
  if (!chosen) { show(el("h1", { text: t("teacher.plan.title") }), el("p", { class: "card", text: t("teacher.plan.none") })); return; }
  show(el("p", { text: t("app.loading") }));
  const q = `class=${chosen.class.id}&subject=${chosen.subject.id}`;
  const r = await api("GET", `/api/v1/plans?${q}`);
  if (r.status !== 200) return failure(r);
  const pick = el("select", { name: "assignment" }, assignments.map((a, i) =>
    el("option", { value: String(i), text: `${a.class.name} · ${a.subject.name}` })));
  pick.value = String(assignments.indexOf(chosen));
  pick.addEventListener("change", () => {
    const a = assignments[Number(pick.value)];
    go(`/plans?class=${a.class.id}&subject=${a.subject.id}`);
  });

  // The plan being edited: saved topics carry the dates of their lessons until something moves.
  let rows = r.data.topics.map((x) => ({ title: x.title, hours: x.hours, dates: x.dates }));
  let dirty = false;
  const list = el("ol", { class: "plan-topics", id: "plan-topics" });
  const totals = el("p", { class: "plan-totals", id: "plan-totals" });
  const general = el("p", { class: "error", role: "alert", id: "plan-error" });
  const status = el("p", { class: "plan-status", role: "status", id: "plan-status" });
  const changed = () => {
    if (!dirty) { dirty = true; for (const x of rows) x.dates = null; }
    status.textContent = t("teacher.plan.unsaved");
    render();
  };
  const hoursTotal = () => rows.reduce((n, x) => n + (Number(x.hours) || 0), 0);
  const renderTotals = () => {
    const hours = hoursTotal();
    totals.replaceChildren(...[
      el("span", { text: fmt.plural("teacher.plan.hours_total", hours) }), " · ",
      el("span", { text: fmt.plural("teacher.plan.lessons_total", r.data.lessons_total) }),
      r.data.lessons_manual ? el("span", { text: ` · ${fmt.plural("teacher.plan.lessons_manual", r.data.lessons_manual)}` }) : null,
      hours > r.data.lessons_total ? el("span", { class: "warn", id: "plan-too-long", text: ` ${t("teacher.plan.too_long")}` }) : null,
    ].filter(Boolean));
  };
  const move = (i, by) => {
    const j = i + by;
    if (j < 0 || j >= rows.length) return;
    [rows[i], rows[j]] = [rows[j], rows[i]];
    changed();
    list.querySelectorAll(`li[data-index="${j}"] button.${by < 0 ? "up" : "down"}`)[0]?.focus();
  };
  const datesText = (x) => {
    if (dirty || x.dates == null) return null;
    if (!x.dates.length) return el("span", { class: "plan-dates muted", text: t("teacher.plan.no_dates") });
    return el("span", { class: "plan-dates", text: t("teacher.plan.dates", { dates: x.dates.map((d) => fmt.dayMonth(d)).join(", ") }) });
  };
  function render() {
    list.replaceChildren(...rows.map((x, i) => {
      const n = i + 1;
      const title = el("input", { name: "title", value: x.title, required: "", maxlength: "500", class: "plan-title",
        "aria-label": t("teacher.plan.topic_label", { n }) });
      title.addEventListener("input", () => { x.title = title.value; status.textContent = t("teacher.plan.unsaved"); });
      const hours = el("input", { name: "hours", type: "number", min: "1", max: "50", value: String(x.hours), class: "plan-hours",
        "aria-label": t("teacher.plan.hours_label", { n }) });
      hours.addEventListener("input", () => { x.hours = Number(hours.value); status.textContent = t("teacher.plan.unsaved"); renderTotals(); });
      return el("li", { class: "plan-topic", "data-index": String(i) },
        el("span", { class: "plan-number", "aria-hidden": "true", text: `${n}.` }),
        el("div", { class: "plan-fields" },
          title,
          el("p", { class: "error field-error", "data-error-for": "title" }),
          el("div", { class: "plan-line" },
            el("label", { class: "plan-hours-label" }, hours, ` ${t("teacher.plan.hours_unit")}`),
            datesText(x)),
          el("p", { class: "error field-error", "data-error-for": "hours" })),
        el("div", { class: "plan-buttons" },
          el("button", { type: "button", class: "secondary up", "aria-label": t("teacher.plan.up", { n }), title: t("teacher.plan.up", { n }), onclick: () => move(i, -1), text: "↑" }),
          el("button", { type: "button", class: "secondary down", "aria-label": t("teacher.plan.down", { n }), title: t("teacher.plan.down", { n }), onclick: () => move(i, 1), text: "↓" }),
          el("button", { type: "button", class: "secondary remove", "aria-label": t("teacher.plan.remove", { n }), title: t("teacher.plan.remove", { n }),
            onclick: () => { rows.splice(i, 1); changed(); }, text: "✕" })));
    }));
    if (!rows.length) list.append(el("li", { class: "muted plan-empty", text: t("teacher.plan.empty") }));
    renderTotals();
  }
  const add = () => {
    rows.push({ title: "", hours: 1, dates: null });
    changed();
    list.querySelector("li:last-child input.plan-title")?.focus();
  };
  const save = async (ev) => {
    ev.preventDefault();
    const body = { topics: rows.map((x) => ({ title: x.title.trim(), hours: Number(x.hours) || 0 })) };
    const s = await api("PUT", `/api/v1/plans?${q}`, body);
    if (s.status !== 200) {
      const i = s.data?.error?.index;
      const scope = i != null ? list.querySelector(`li[data-index="${i}"]`) : form;
      for (const e of form.querySelectorAll("[data-error-for]")) e.textContent = "";
      showError(s, scope, general);
      status.textContent = "";
      scope?.querySelector?.("input")?.focus();
      return;
    }
    await reload(t("teacher.plan.saved", { topics: fmt.plural("teacher.plan.topics", s.data.topics), lessons: fmt.plural("teacher.plan.lessons_changed", s.data.lessons) }));
  };
  const reload = async (message) => {
    const g = await api("GET", `/api/v1/plans?${q}`);
    if (g.status !== 200) { general.textContent = errorText(g); return; }
    r.data = g.data;
    rows = g.data.topics.map((x) => ({ title: x.title, hours: x.hours, dates: x.dates }));
    dirty = false;
    general.textContent = "";
    render();
    status.textContent = message;
  };
  const form = el("form", { class: "card plan-editor", id: "plan-editor", novalidate: "", onsubmit: save },
    totals, list, general,
    el("div", { class: "toolbar" },
      el("button", { type: "button", class: "secondary", id: "plan-add", onclick: add, text: t("teacher.plan.add") }),
      el("button", { type: "submit", id: "plan-save", text: t("teacher.plan.save") })),
    status);

  // Import from a CSV file: "title;hours" or "number;title;hours" lines.
  const file = el("input", { type: "file", name: "csv", accept: ".csv,text/csv,text/plain" });
  const csvError = el("p", { class: "error", role: "alert" });
  const importer = el("form", { class: "plan-import", id: "plan-import", onsubmit: async (ev) => {
    ev.preventDefault();
    if (!file.files.length) { csvError.textContent = t("teacher.plan.csv_choose"); return; }
    const text = await file.files[0].text();
    const s = await api("PUT", `/api/v1/plans?${q}`, { csv: text });
    if (s.status !== 200) { showError(s, importer, csvError); return; }
    file.value = "";
    importer.querySelector("[data-error-for=csv]").textContent = "";
    await reload(t("teacher.plan.imported", { topics: fmt.plural("teacher.plan.topics", s.data.topics) }));
  } },
    el("p", { class: "muted", text: t("teacher.plan.csv_hint") }),
    field("teacher.plan.csv_file", file),
    csvError,
    el("button", { type: "submit", class: "secondary", text: t("teacher.plan.csv_import") }));

  render();
  show(
    el("h1", { text: t("teacher.plan.title") }),
    el("div", { class: "toolbar plans-toolbar" }, field("teacher.plan.assignment", pick),
      el("a", { href: `/journal?class=${chosen.class.id}&subject=${chosen.subject.id}`, "data-link": "", class: "journal-link", text: t("teacher.plan.open_journal") })),
    el("p", { class: "muted", text: t("teacher.plan.hint") }),
    form,
    el("details", { class: "card" }, el("summary", { text: t("teacher.plan.csv_title") }), importer));
  document.title = `${t("teacher.plan.title")} · ${t("app.title")}`;
}
