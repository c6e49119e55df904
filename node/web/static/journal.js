// Journal pages of the family: the diary week of a student (homework files, hand-ins), a
// student's marks by subject with weighted averages, and the homework due. The teacher's grid
// is in grid.js (it uses itemLinks and fileLinks from here). The diary, marks and homework pages
// name their child and, for a parent of several, switch between them keeping the page and the
// week (family.js).
import { api, el, errorText, field, fmt, go, navigation, pages, section, show, state, t, upload, yearPeriods } from "./app.js";
import { childHead, samePage } from "./family.js";

navigation.push(
  { key: "nav.diary", href: (me) => `/diary/${me.student?.id ?? me.person_id}`, roles: ["student"] },
  { key: "nav.marks", href: (me) => `/marks/${me.student?.id ?? me.person_id}`, roles: ["student"] },
  { key: "nav.homework", href: (me) => `/homework/${me.student?.id ?? me.person_id}`, roles: ["student"] },
);

pages.push(
  { path: /^\/diary\/(\d+)$/, view: diaryView },
  { path: /^\/marks\/(\d+)$/, view: marksView },
  { path: /^\/homework\/(\d+)$/, view: homeworkView },
);

const iso = (d) => d.toISOString().slice(0, 10);

function mondayOf(dateStr) {
  const d = new Date(`${dateStr}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d;
}


function markText(v) {
  return v === "pass" ? t("mark.pass") : v === "fail" ? t("mark.fail") : v;
}

// Links to library items on a lesson or a homework.
export function itemLinks(items) {
  if (!items?.length) return null;
  return el("ul", { class: "lesson-items" }, items.map((i) => el("li", {},
    el("a", { href: `/library/items/${i.id}`, "data-link": "", class: "library-item", text: i.title }),
    el("span", { class: "muted", text: ` (${t(`library.type.${i.type}`)})` }))));
}

// Download links of homework files.
export function fileLinks(files) {
  if (!files?.length) return null;
  return el("ul", { class: "files" }, files.map((f) => el("li", {},
    el("a", { href: `/api/v1/homework-files/${f.id}`, target: "_blank", rel: "noopener", class: "file", text: f.name }),
    f.size ? el("span", { class: "muted", text: ` (${Math.max(1, Math.round(f.size / 1024))} ${t("file.kb")})` }) : null)));
}

// ---- the diary ----------------------------------------------------------------------------

// Whether the logged-in person is student `id` or one of their parents.
function family(id) {
  const n = Number(id);
  return state.me.student?.id === n || (state.me.roles.includes("student") && state.me.person_id === n)
    || (state.me.children ?? []).some((c) => c.id === n);
}

async function diaryView(id) {
  const params = new URLSearchParams(location.search);
  const monday = mondayOf(params.get("week") ?? iso(new Date()));
  const sunday = new Date(monday);
  sunday.setUTCDate(sunday.getUTCDate() + 6);
  const [r, head, passage] = await Promise.all([
    api("GET", `/api/v1/students/${id}/diary?from=${iso(monday)}&to=${iso(sunday)}`),
    childHead("diary.title", id, samePage((c) => `/diary/${c}`)),
    family(id) ? api("GET", `/api/v1/students/${id}/passage?from=${iso(monday)}&to=${iso(sunday)}`) : null,
  ]);
  if (r.status !== 200) { show(...head, el("p", { class: "error", text: errorText(r) })); return; }
  // The day's first entry and last exit through the school's turnstiles («Москвёнок»), for the
  // student and the parents (the diary's other readers are not asked).
  const gates = new Map();
  for (const e of passage?.status === 200 ? passage.data.items : []) {
    const g = gates.get(e.day) ?? {};
    if (e.direction === "in" && !g.in) g.in = e.time;
    if (e.direction === "out") g.out = e.time;
    gates.set(e.day, g);
  }
  const gateLine = (day) => {
    const g = gates.get(day);
    if (!g) return null;
    return el("p", { class: "muted diary-passage", "data-day": day },
      [g.in ? t("passage.diary.in", { time: g.in }) : null, g.out ? t("passage.diary.out", { time: g.out }) : null]
        .filter(Boolean).join(" · "));
  };
  const own = Number(id) === state.me.student?.id;
  const shift = (days) => {
    const d = new Date(monday);
    d.setUTCDate(d.getUTCDate() + days);
    go(`/diary/${id}?week=${iso(d)}`);
  };
  const days = r.data.days.map((d) => section(null, el("h2", { text: dayTitle(d.date) }), gateLine(d.date),
    el("ol", { class: "day" }, d.lessons.map((l) => el("li", { class: l.cancelled ? "lesson cancelled" : "lesson", "data-lesson": String(l.id) },
      el("div", { class: "lesson-head" },
        el("span", { class: "time", text: l.starts_at ? `${l.starts_at}–${l.ends_at}` : `${l.number}` }),
        el("strong", { text: l.subject.name }),
        l.marks.map((m) => el("span", { class: `mark w${m.weight}`, title: `${m.control_form} · ${t("journal.weight")} ${m.weight}`, text: markText(m.value) })),
        l.attendance ? el("span", { class: "absent", text: t(`attendance.${l.attendance.status}`) }) : null),
      l.topic ? el("div", { class: "muted", text: `${t("diary.topic")}: ${l.topic}` }) : null,
      itemLinks(l.items),
      l.homework.map((h) => homeworkLine(h, own)),
      l.marks.filter((m) => m.comment).map((m) => el("div", { class: "comment", text: `${t("diary.comment")}: ${m.comment}` })),
      l.cancelled ? el("div", { class: "error", text: t("diary.cancelled") }) : null)))));
  show(
    ...head,
    el("div", { class: "toolbar" },
      el("button", { type: "button", class: "secondary", onclick: () => shift(-7), text: t("diary.prev") }),
      el("span", { class: "week", text: `${fmt.dayMonth(iso(monday))} – ${fmt.dayMonth(iso(sunday))}` }),
      el("button", { type: "button", class: "secondary", onclick: () => shift(7), text: t("diary.next") }),
      el("a", { href: `/marks/${id}`, "data-link": "", text: t("nav.marks") }),
      el("a", { href: `/homework/${id}`, "data-link": "", id: "homework-link", text: t("nav.homework") })),
    ...(days.length ? days : [el("p", { class: "card", text: t("diary.empty") })]));
}

// Reloads the page in place (after a hand-in changed).
const reload = () => go(location.pathname + location.search, true);

// One homework in the diary: the task and its files, the student's "done" box and hand-in
// (answer and files; withdrawn while the teacher has not seen it), what was handed in, whether
// the teacher has seen it, and the teacher's feedback.
function homeworkLine(h, own) {
  const box = own ? el("input", { type: "checkbox", class: "hw-done", id: `hw-done-${h.id}`, "data-homework": String(h.id) }) : null;
  if (box) {
    box.checked = h.done;
    box.addEventListener("change", () => api("PUT", `/api/v1/homework/${h.id}/submission`, { done: box.checked }));
  }
  const handed = h.files.filter((f) => f.handed_in);
  return el("div", { class: "homework", "data-homework": String(h.id) },
    el("div", {}, `${t("diary.homework")}: ${h.text}`),
    box ? el("div", { class: "hw-check" }, box, el("label", { for: box.id, text: t("diary.done") })) : null,
    !own && h.done ? el("span", { class: "muted", text: ` (${t("diary.done")})` }) : null,
    fileLinks(h.files.filter((f) => !f.handed_in)),
    itemLinks(h.items),
    h.answer ? el("div", { class: "muted hw-answer", text: `${t("diary.answer")}: ${h.answer}` }) : null,
    handed.length ? el("div", { class: "muted", text: `${t("diary.handed_in")}:` }) : null,
    fileLinks(handed),
    h.handed_in ? el("div", { class: `hw-state-line` },
      el("span", { class: `hw-state${h.seen ? " seen" : ""}`, text: t(h.seen ? "handin.seen" : "handin.waiting") }),
      own && !h.seen ? withdrawButton(h) : null) : null,
    own ? handInForm(h) : null,
    h.feedback ? el("div", { class: "comment hw-feedback", text: `${t("diary.feedback")}: ${h.feedback}` }) : null);
}

// «Забрать работу»: the student takes back a hand-in the teacher has not seen (answer, done and
// files); the server refuses once the teacher has seen it.
function withdrawButton(h) {
  const error = el("span", { class: "error", role: "alert" });
  const withdraw = async () => {
    if (!confirm(t("handin.withdraw_confirm"))) return;
    const r = await api("DELETE", `/api/v1/homework/${h.id}/submission`);
    if (r.status === 200) reload(); else error.textContent = errorText(r);
  };
  return el("span", {}, el("button", { type: "button", class: "secondary hw-withdraw", "data-homework": String(h.id),
    onclick: withdraw, text: t("handin.withdraw") }), error);
}

// The student's hand-in: an answer and files, added to while the page reloads after each change.
function handInForm(h) {
  const answer = el("textarea", { rows: "2", maxlength: "20000", class: "hw-answer-input" });
  answer.value = h.answer;
  const file = el("input", { type: "file", class: "hand-in", "data-homework": String(h.id) });
  const general = el("p", { class: "error", role: "alert" });
  const failed = (r) => { general.textContent = errorText(r); };
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    const r = await upload(`/api/v1/homework/${h.id}/submission/files`, file.files[0]);
    if (r.status === 201) reload(); else failed(r);
  });
  const send = async (ev) => {
    ev.preventDefault();
    general.textContent = "";
    const r = await api("PUT", `/api/v1/homework/${h.id}/submission`, { text: answer.value });
    if (r.status === 200) reload(); else failed(r);
  };
  return el("details", { class: "hw-hand-in" },
    el("summary", { text: t(h.handed_in ? "handin.change" : "handin.open") }),
    el("form", { class: "hw-form", onsubmit: send },
      field("handin.your_answer", answer, "text"),
      el("button", { type: "submit", class: "hw-send", text: t("handin.send") }),
      field("diary.hand_in_file", file, "file"),
      general));
}

function dayTitle(date) {
  const s = fmt.weekday(date);
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// ---- marks by subject ---------------------------------------------------------------------

async function marksView(id) {
  const { all, current } = await yearPeriods();
  const params = new URLSearchParams(location.search);
  const period = all.find((p) => `${p.id}` === params.get("period")) ?? current;
  const [r, head] = await Promise.all([
    api("GET", `/api/v1/students/${id}/marks?period=${period.id}`),
    childHead("marks.title", id, samePage((c) => `/marks/${c}`)),
  ]);
  if (r.status !== 200) { show(...head, el("p", { class: "error", text: errorText(r) })); return; }
  const per = el("select", { id: "marks-period", "aria-label": t("family.period") }, all.map((p) => el("option", { value: String(p.id), text: p.name })));
  per.value = String(period.id);
  per.addEventListener("change", () => go(`/marks/${id}?period=${per.value}`, true));
  const absences = (a) => a && (a.absent + a.ill + a.late) ? t("marks.attendance_cell", a) : "—";
  const total = r.data.attendance;
  show(
    ...head,
    el("div", { class: "toolbar" }, per, el("a", { href: `/diary/${id}`, "data-link": "", text: t("nav.diary") }),
      el("a", { href: `/plan/${id}?period=${period.id}`, "data-link": "", class: "plan-link", text: t("family.plan.link") })),
    el("div", { class: "marks-wrap" }, el("table", { class: "card marks" },
      el("thead", {}, el("tr", {}, el("th", { text: t("col.subject") }), el("th", { text: t("marks.marks") }),
        el("th", { text: t("journal.average") }), el("th", { text: t("marks.final") }), el("th", { text: t("marks.attendance") }))),
      el("tbody", {}, r.data.subjects.map((s) => el("tr", { "data-subject": String(s.subject.id) },
        el("td", {}, el("div", { text: s.subject.name }),
          el("a", { href: `/plan/${id}?period=${period.id}&subject=${s.subject.id}`, "data-link": "", class: "plan-link small-text",
            "aria-label": t("family.plan.link_for", { subject: s.subject.name }), text: t("family.plan.link") })),
        el("td", {}, s.marks.map((m) => el("span", { class: `mark w${m.weight}`, title: `${fmt.dayMonth(m.date)} · ${m.control_form.name} · ${t("journal.weight")} ${m.weight}`, text: markText(m.value) }))),
        el("td", { class: "avg", text: fmt.number(s.average, 2) }),
        el("td", { class: "final", text: [s.period_mark, s.final_mark].filter(Boolean).map(markText).join(" / ") || "—" }),
        el("td", { class: "attendance", text: absences(s.attendance) })))))),
    el("p", { class: "muted", id: "attendance-total", text: t("marks.attendance_total", total) }));
}

// ---- homework due -------------------------------------------------------------------------

async function homeworkView(id) {
  const [r, head] = await Promise.all([
    api("GET", `/api/v1/students/${id}/homework`),
    childHead("homework.title", id, samePage((c) => `/homework/${c}`)),
  ]);
  if (r.status !== 200) { show(...head, el("p", { class: "error", text: errorText(r) })); return; }
  const own = Number(id) === state.me.student?.id;
  const byDay = new Map();
  for (const h of r.data.items) byDay.set(h.due_date, [...(byDay.get(h.due_date) ?? []), h]);
  show(
    ...head,
    el("div", { class: "toolbar" }, el("a", { href: `/diary/${id}`, "data-link": "", text: t("nav.diary") })),
    ...(byDay.size ? [...byDay].map(([day, items]) => section(null,
      el("h2", { text: `${t("homework.due")} ${dayTitle(day)}` }),
      el("ul", { class: "homework-list" }, items.map((h) => el("li", { "data-homework": String(h.id) },
        el("strong", { text: h.lesson.subject.name }), homeworkLine(h, own))))))
      : [el("p", { class: "card", text: t("homework.none") })]));
}
