// The teacher's journal grid (/journal): one class, subject and period as a spreadsheet.
//
// Rows are the class's students; columns the lessons (date and weekday, cancelled ones struck
// out, future ones shaded), then the weighted average, the period mark and, in the year's
// last period, the final mark. A click or the arrows select a cell (one cell is in the tab
// order: a roving tabindex). On a lesson's cell a digit (or the scale's «зачёт» / «незачёт»
// keys) puts the mark of the control form chosen once in the toolbar; another digit on the
// same cell corrects that mark (PATCH), so 4 over 5 gives 4, never «54». A second mark in one
// cell comes only explicitly: with another control form chosen, or from the cell's details.
// Delete removes the cell's mark, «н» «о» «б» set absent, late, ill (again: present), Enter
// opens the details (every mark with its form, weight and comment; a further mark;
// attendance), Escape closes them. The period and final cells take digits and Delete as well,
// and show the value suggested by the weighted average until one is set. Buttons above the
// grid do the same for a mouse or a finger.
//
// Writes go to the server one at a time (a queue), so fast typing never races itself; each
// answer updates the page's copy of the grid, and the row's average and suggestions are
// computed again at once, as the server computes them, without a reload. The server decides
// what is allowed (no marks on future or cancelled lessons): its refusals are shown in Russian
// from the catalog. A lesson's column head opens the lesson: topic, homework with files,
// library items.
import { api, el, errorText, field, fmt, go, navigation, pages, show, showError, state, t, today, upload, yearPeriods } from "./app.js";
import { fileLinks, itemLinks } from "./journal.js";
import { librarySearchBox } from "./library.js";

navigation.push({ key: "nav.journal", href: "/journal", roles: ["teacher", "class_teacher", "school_admin"] });
pages.push({ path: /^\/journal$/, view: journalView });

// The control form chosen in the toolbar, remembered across visits.
const FORM_KEY = "mes.grid.form";
// The selected cell of the last grid drawn, kept across its reloads (after a lesson's change).
let lastSelection = null;

// The weighted average as the server computes it (journal.c, average_add and average_value):
// Σ(value × weight) / Σ(weight) over the numeric marks, rounded to two decimals; null
// without a numeric mark («зачёт» and «незачёт» do not count).
export function weightedAverage(marks) {
  let sum = 0;
  let weights = 0;
  for (const m of marks) {
    if (!/^[0-9]/.test(m.value)) continue;
    sum += Number.parseFloat(m.value) * m.weight;
    weights += m.weight;
  }
  return weights ? Math.round((sum / weights) * 100) / 100 : null;
}

// The mark a number rounds to on the scale (4,5 gives 5), as a string; null for null.
function roundToScale(x, scale) {
  if (x == null) return null;
  return String(Math.min(scale.max, Math.max(scale.min, Math.round(x))));
}

function markText(v) {
  return v === "pass" ? t("mark.pass") : v === "fail" ? t("mark.fail") : v;
}

// «Иванов Артём» of «Иванов Артём Сергеевич».
const shortName = (name) => name.split(" ").slice(0, 2).join(" ");

const classes = (...names) => names.filter(Boolean).join(" ");

// node.replaceChildren(...) without the absent parts (null, undefined), arrays flattened.
const fill = (node, ...children) => node.replaceChildren(...children.flat().filter((c) => c != null));


async function journalView() {
  const params = new URLSearchParams(location.search);
  const assignments = state.me.assignments ?? [];
  const { all, current } = await yearPeriods();
  const chosen = assignments.find((a) => `${a.class.id}` === params.get("class")
    && `${a.subject.id}` === params.get("subject")) ?? assignments[0];
  const period = all.find((p) => `${p.id}` === params.get("period")) ?? current;
  if (!chosen || !period) {
    show(el("h1", { text: t("journal.title") }), el("p", { class: "card", text: t("journal.none") }));
    return;
  }
  const [r, f] = await Promise.all([
    api("GET", `/api/v1/journal?class=${chosen.class.id}&subject=${chosen.subject.id}&period=${period.id}`),
    api("GET", "/api/v1/control-forms"),
  ]);
  if (r.status !== 200 || f.status !== 200) {
    show(el("h1", { text: t("journal.title") }), el("p", { class: "error", text: errorText(r.status !== 200 ? r : f) }));
    return;
  }

  const pick = el("select", { id: "journal-pick" }, assignments.map((a, i) =>
    el("option", { value: String(i), text: `${a.class.name} · ${a.subject.name}` })));
  pick.value = String(assignments.indexOf(chosen));
  const per = el("select", { id: "journal-period" }, all.map((p) =>
    el("option", { value: String(p.id), text: p.name })));
  per.value = String(period.id);
  const open = () => {
    const a = assignments[Number(pick.value)];
    go(`/journal?class=${a.class.id}&subject=${a.subject.id}&period=${per.value}`, true);
  };
  pick.addEventListener("change", open);
  per.addEventListener("change", open);

  const forms = f.data.items;
  const form = el("select", { id: "grid-form" }, forms.map((x) =>
    el("option", { value: x.code, text: t("grid.form_option", { name: x.name, weight: x.weight }) })));
  const remembered = localStorage.getItem(FORM_KEY);
  form.value = forms.some((x) => x.code === remembered) ? remembered
    : forms.some((x) => x.code === "oral") ? "oral" : forms[0]?.code ?? "";

  const grid = journalGrid(r.data, forms, f.data.scale, form);
  form.addEventListener("change", () => {
    localStorage.setItem(FORM_KEY, form.value);
    grid.repaint();
  });
  show(
    el("h1", { text: t("grid.title", { class: r.data.class.name, subject: r.data.subject.name }) }),
    el("div", { class: "toolbar grid-toolbar" },
      field("grid.assignment", pick, "assignment"),
      field("grid.period", per, "period"),
      field("grid.form", form, "control_form")),
    grid.keys,
    grid.status,
    grid.error,
    grid.wrap,
    el("p", { class: "muted grid-hint", text: t("grid.hint") }));
  grid.start();
}

// The grid of one answer of GET /api/v1/journal, its keys, status and error lines; `form` is
// the toolbar's control form select. Returns the parts to show and start() (select the cell).
function journalGrid(data, forms, scale, form) {
  const lessons = data.lessons;
  const rows = data.students;
  const cols = [...lessons.map((lesson) => ({ kind: "lesson", lesson })), { kind: "period" },
    ...(data.period.last ? [{ kind: "final" }] : [])];
  const now = today();
  const values = [];
  for (let v = scale.max; v >= scale.min; v--) values.push(String(v));
  if (scale.pass_fail) values.push("pass", "fail");
  const heads = {};
  const here = location.pathname + location.search;

  const status = el("p", { class: "grid-status", id: "grid-status", role: "status" });
  const error = el("p", { class: "error grid-error", id: "grid-error", role: "alert" });

  // ---- the model ----
  const marksAt = (s, lesson) => s.marks.filter((m) => m.lesson_id === lesson.id);
  const attendanceAt = (s, lesson) => s.attendance.find((a) => a.lesson_id === lesson.id);
  const average = (s) => weightedAverage(s.marks);
  const periodSuggestion = (s) => roundToScale(average(s), scale);
  function finalSuggestion(s) {
    const byPeriod = new Map(s.period_marks.map((p) => [p.period_id, p.value]));
    if (s.period_mark) byPeriod.set(data.period.id, s.period_mark);
    else byPeriod.delete(data.period.id);
    const nums = [...byPeriod.values()].filter((v) => /^[0-9]/.test(v)).map(Number);
    return nums.length ? roundToScale(nums.reduce((a, b) => a + b, 0) / nums.length, scale) : null;
  }
  function describe(ri, ci) {
    const s = rows[ri];
    const c = cols[ci];
    if (c.kind !== "lesson") {
      const value = c.kind === "period" ? s.period_mark : s.final_mark;
      const suggestion = c.kind === "period" ? periodSuggestion(s) : finalSuggestion(s);
      let hint = t("grid.empty");
      if (value) hint = markText(value);
      else if (suggestion) hint = t("grid.suggested", { value: markText(suggestion) });
      return `${shortName(s.name)}, ${t(c.kind === "period" ? "grid.period_cell" : "grid.final_cell")}: ${hint}`;
    }
    const parts = marksAt(s, c.lesson).map((m) => `${markText(m.value)} (${m.control_form.name})`);
    const a = attendanceAt(s, c.lesson);
    if (a) parts.push(t(`attendance.${a.status}`));
    if (c.lesson.cancelled) parts.push(t("grid.cancelled"));
    return `${shortName(s.name)}, ${fmt.short(c.lesson.date)}: ${parts.length ? parts.join(", ") : t("grid.empty")}`;
  }

  // ---- the table ----
  const cells = [];
  const averages = [];
  function cell(ri, ci) {
    const s = rows[ri];
    const c = cols[ci];
    const td = el("td", {
      role: "gridcell", tabindex: "-1", "aria-selected": "false", "data-student": String(s.id),
      class: c.kind === "lesson"
        ? classes("cell", c.lesson.cancelled && "cancelled", c.lesson.date > now && "future")
        : `pcell ${c.kind}`,
      "data-kind": c.kind,
    });
    if (c.kind === "lesson") td.dataset.lesson = String(c.lesson.id);
    td.addEventListener("click", () => select(ri, ci));
    td.addEventListener("dblclick", () => { select(ri, ci); details(); });
    return td;
  }
  const head = el("tr", {},
    el("th", { scope: "col", class: "grid-corner", text: t("journal.student") }),
    lessons.map((l) => {
      const b = el("button", { type: "button", class: "grid-date" },
        el("span", { class: "grid-day", text: fmt.short(l.date) }),
        el("span", { class: "grid-weekday", text: fmt.weekdayShort(l.date) }),
        el("span", { class: "sr-only", text: t(l.cancelled ? "grid.lesson_cancelled_label" : "grid.lesson_label", { date: fmt.weekday(l.date) }) }));
      b.addEventListener("click", () => lessonDialog(l, () => paintHead(l)));
      heads[l.id] = el("th", {
        scope: "col", "data-lesson": String(l.id), "data-date": l.date, title: l.topic || "",
        class: classes("grid-head", l.cancelled && "cancelled", l.homework.length && "has-homework", l.date > now && "future"),
      }, b);
      return heads[l.id];
    }),
    el("th", { scope: "col", class: "grid-avg-head", text: t("grid.average") }),
    el("th", { scope: "col", class: "grid-period-head", title: data.period.name, text: t("grid.period_mark") }),
    data.period.last ? el("th", { scope: "col", class: "grid-final-head", text: t("grid.final_mark") }) : null);
  const body = rows.map((s, ri) => {
    cells[ri] = cols.map((_, ci) => cell(ri, ci));
    averages[ri] = el("td", { class: "avg", "data-student": String(s.id) });
    const nLessons = lessons.length;
    return el("tr", { "data-student": String(s.id) },
      el("th", { scope: "row", class: "grid-student", title: s.name, text: shortName(s.name) }),
      cells[ri].slice(0, nLessons), averages[ri], cells[ri].slice(nLessons));
  });
  const table = el("table", { class: "journal-grid", id: "journal-grid", role: "grid", "data-class": String(data.class.id),
    "data-subject": String(data.subject.id), "data-period": String(data.period.id),
    "aria-label": t("grid.table_label", { class: data.class.name, subject: data.subject.name, period: data.period.name }) },
  el("thead", {}, head), el("tbody", {}, body));
  const wrap = el("div", { class: "journal-grid-wrap", id: "journal-grid-wrap" }, table);

  function paint(ri, ci) {
    const td = cells[ri][ci];
    const s = rows[ri];
    const c = cols[ci];
    if (c.kind === "lesson") {
      const a = attendanceAt(s, c.lesson);
      const marks = marksAt(s, c.lesson).map((m) => el("span", {
          class: classes("mark", `w${m.weight}`, m.control_form.code === form.value && "chosen"),
          title: `${m.control_form.name} · ${t("journal.weight")} ${m.weight}${m.comment ? ` · ${m.comment}` : ""}`,
          text: markText(m.value) }));
      if (a) marks.push(el("span", { class: "absent", title: t(`attendance.${a.status}`), text: t(`attendance.short.${a.status}`) }));
      td.replaceChildren(...marks);
    } else {
      const value = c.kind === "period" ? s.period_mark : s.final_mark;
      const suggestion = c.kind === "period" ? periodSuggestion(s) : finalSuggestion(s);
      if (value) td.replaceChildren(el("strong", { class: "set", text: markText(value) }));
      else if (suggestion) td.replaceChildren(el("span", { class: "suggested", title: t("grid.suggested", { value: markText(suggestion) }), text: markText(suggestion) }));
      else td.replaceChildren();
    }
    // The cell's name says what it holds in words and keeps the text it shows ("5н") in it, so
    // that the name a screen reader speaks contains what a sighted user reads (WCAG's label in
    // name; a parenthesis would not do: checkers read past parentheticals).
    const said = describe(ri, ci);
    const shown = td.textContent;
    const words = said.split(/[^\p{L}\p{N}]+/u);
    td.setAttribute("aria-label", shown && !words.includes(shown) ? `${said} · ${shown}` : said);
  }
  // A lesson's head after its dialog changed it: topic (its title), homework.
  function paintHead(l) {
    heads[l.id].title = l.topic || "";
    heads[l.id].classList.toggle("has-homework", l.homework.length > 0);
  }
  function paintRow(ri) {
    cols.forEach((_, ci) => paint(ri, ci));
    const avg = average(rows[ri]);
    averages[ri].textContent = fmt.number(avg, 2);
    averages[ri].dataset.value = avg == null ? "" : String(avg);
    if (sel.r === ri) status.textContent = describe(sel.r, sel.c);
  }

  // ---- selection ----
  const saved = lastSelection?.url === here ? lastSelection : null;
  const lastTaken = lessons.map((l) => !l.cancelled && l.date <= now).lastIndexOf(true);
  let sel = { r: saved?.r ?? 0, c: saved?.c ?? Math.max(0, lastTaken) };
  function select(ri, ci, focus = true) {
    if (!rows.length) return;
    ri = Math.max(0, Math.min(rows.length - 1, ri));
    ci = Math.max(0, Math.min(cols.length - 1, ci));
    const old = cells[sel.r]?.[sel.c];
    if (old) {
      old.tabIndex = -1;
      old.classList.remove("selected");
      old.setAttribute("aria-selected", "false");
    }
    sel = { r: ri, c: ci };
    lastSelection = { url: here, r: ri, c: ci };
    const td = cells[ri][ci];
    td.tabIndex = 0;
    td.classList.add("selected");
    td.setAttribute("aria-selected", "true");
    if (focus) td.focus();
    status.textContent = describe(ri, ci);
    const lessonCell = cols[ci].kind === "lesson";
    for (const b of keys.querySelectorAll("button.attendance")) b.disabled = !lessonCell;
  }
  const focusSelected = () => cells[sel.r]?.[sel.c]?.focus({ preventScroll: true });

  // ---- writes, one at a time ----
  let queue = Promise.resolve();
  const enqueue = (fn) => {
    queue = queue.then(fn).catch(() => { // the network, not the server: nothing was confirmed
      error.textContent = t("app.error");
      for (const td of table.querySelectorAll("td.saving")) td.classList.remove("saving");
    });
    return queue;
  };
  function busy(at, on) { cells[at.r][at.c].classList.toggle("saving", on); }
  function failed(at, r) {
    error.textContent = `${describeShort(at)}: ${errorText(r)}`;
    cells[at.r][at.c].classList.add("failed");
  }
  function succeeded(at) {
    error.textContent = "";
    cells[at.r][at.c].classList.remove("failed");
    paintRow(at.r);
  }
  function describeShort(at) {
    const c = cols[at.c];
    const what = c.kind === "lesson" ? fmt.short(c.lesson.date) : t(c.kind === "period" ? "grid.period_cell" : "grid.final_cell");
    return `${shortName(rows[at.r].name)}, ${what}`;
  }

  // The mark `value` on the cell `at`: the mark of the chosen control form is put or corrected.
  async function putMark(at, value, code = form.value) {
    const s = rows[at.r];
    const lesson = cols[at.c].lesson;
    const mine = marksAt(s, lesson).find((m) => m.control_form.code === code);
    if (mine && mine.value === value) return;
    busy(at, true);
    const r = mine
      ? await api("PATCH", `/api/v1/marks/${mine.id}`, { value })
      : await api("POST", `/api/v1/lessons/${lesson.id}/marks`, { student_id: s.id, value, control_form: code });
    busy(at, false);
    if (r.status !== 200 && r.status !== 201) return failed(at, r);
    keepMark(s, r.data);
    succeeded(at);
  }
  function keepMark(s, m) {
    const i = s.marks.findIndex((x) => x.id === m.id);
    if (i >= 0) s.marks[i] = m;
    else s.marks.push(m);
  }
  async function deleteMark(at, m) {
    busy(at, true);
    const r = await api("DELETE", `/api/v1/marks/${m.id}`);
    busy(at, false);
    if (r.status !== 200) {
      failed(at, r);
      return r;
    }
    const s = rows[at.r];
    s.marks = s.marks.filter((x) => x.id !== m.id);
    succeeded(at);
    return r;
  }
  async function setAttendance(at, status) {
    const s = rows[at.r];
    const lesson = cols[at.c].lesson;
    busy(at, true);
    const r = await api("PUT", `/api/v1/lessons/${lesson.id}/attendance`, { student_id: s.id, status });
    busy(at, false);
    if (r.status !== 200) {
      failed(at, r);
      return r;
    }
    s.attendance = s.attendance.filter((a) => a.lesson_id !== lesson.id);
    if (status) s.attendance.push({ lesson_id: lesson.id, status, justified: r.data.justified });
    succeeded(at);
    return r;
  }
  async function putPeriod(at, value) {
    const s = rows[at.r];
    const kind = cols[at.c].kind;
    busy(at, true);
    const r = await api("PUT", "/api/v1/period-marks", { student_id: s.id, subject_id: data.subject.id,
      period_id: kind === "period" ? data.period.id : null, value });
    busy(at, false);
    if (r.status !== 200) {
      failed(at, r);
      return r;
    }
    if (kind === "final") s.final_mark = value;
    else {
      s.period_mark = value;
      s.period_marks = s.period_marks.filter((p) => p.period_id !== data.period.id);
      if (value) s.period_marks.push({ period_id: data.period.id, value });
    }
    succeeded(at);
    return r;
  }

  // ---- what keys and buttons do to the selected cell ----
  function enter(value, advance) {
    const at = { ...sel };
    enqueue(() => (cols[at.c].kind === "lesson" ? putMark(at, value) : putPeriod(at, value)));
    if (advance && at.r + 1 < rows.length) select(at.r + 1, at.c);
  }
  function erase() {
    const at = { ...sel };
    enqueue(async () => {
      const c = cols[at.c];
      const s = rows[at.r];
      if (c.kind !== "lesson") {
        if ((c.kind === "period" ? s.period_mark : s.final_mark) != null) await putPeriod(at, null);
        return;
      }
      const marks = marksAt(s, c.lesson);
      const target = marks.find((m) => m.control_form.code === form.value) ?? (marks.length === 1 ? marks[0] : null);
      if (target) await deleteMark(at, target);
      else if (marks.length > 1) error.textContent = `${describeShort(at)}: ${t("grid.erase_which")}`;
      else if (attendanceAt(s, c.lesson)) await setAttendance(at, null);
    });
  }
  function attend(status, advance) {
    const at = { ...sel };
    if (cols[at.c].kind !== "lesson") return;
    enqueue(() => {
      const a = attendanceAt(rows[at.r], cols[at.c].lesson);
      return setAttendance(at, a?.status === status ? null : status);
    });
    if (advance && at.r + 1 < rows.length) select(at.r + 1, at.c);
  }

  // Keys: the catalog's letters (grid.key.*) and the same physical keys on a Latin layout.
  const letter = (ev, name, code) => ev.key.toLowerCase() === t(`grid.key.${name}`) || ev.code === code;
  let digits = "";
  let digitTimer = null;
  function digit(d) {
    // Scales beyond 9 take the digits typed within a moment as one number.
    if (scale.max < 10) {
      if (values.includes(d)) enter(d, true);
      else error.textContent = t("error.bad_request.value");
      return;
    }
    digits += d;
    clearTimeout(digitTimer);
    const commit = () => {
      const v = String(Number(digits));
      digits = "";
      if (values.includes(v)) enter(v, true);
      else error.textContent = t("error.bad_request.value");
    };
    if (Number(digits) * 10 > scale.max) commit();
    else digitTimer = setTimeout(commit, 700);
  }
  table.addEventListener("keydown", (ev) => {
    if (!ev.target.closest("td[role=gridcell]") || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    let handled = true;
    if (moves[ev.key]) select(sel.r + moves[ev.key][0], sel.c + moves[ev.key][1]);
    else if (ev.key === "Home") select(sel.r, 0);
    else if (ev.key === "End") select(sel.r, cols.length - 1);
    else if (ev.key === "Enter" || ev.key === "F2") details();
    else if (ev.key === "Delete" || ev.key === "Backspace") erase();
    else if (/^[0-9]$/.test(ev.key)) digit(ev.key);
    else if (scale.pass_fail && (ev.key === "+" || letter(ev, "pass", "KeyP"))) enter("pass", true);
    else if (scale.pass_fail && ev.key === "-") enter("fail", true);
    else if (letter(ev, "absent", "KeyY")) attend("absent", true);
    else if (letter(ev, "late", "KeyJ")) attend("late", true);
    else if (letter(ev, "ill", "Comma")) attend("ill", true);
    else handled = false;
    if (handled) ev.preventDefault();
  });

  const button = (text, onclick, attrs = {}) => el("button", { type: "button", ...attrs, onclick: () => {
    onclick();
    focusSelected();
  }, text });
  const keys = el("div", { class: "grid-keys", role: "toolbar", "aria-label": t("grid.keys"), "aria-controls": "journal-grid" },
    values.map((v) => button(markText(v), () => enter(v, false), { class: "value", "data-value": v,
      "aria-label": t("grid.put", { value: markText(v) }) })),
    ["absent", "late", "ill"].map((st) => {
      const b = button(t(`attendance.short.${st}`), () => attend(st, false),
        { class: "secondary attendance", "data-status": st, title: t(`attendance.${st}`) });
      b.append(el("span", { class: "sr-only", text: ` (${t(`attendance.${st}`)})` }));
      return b;
    }),
    button(t("grid.erase"), erase, { class: "secondary erase" }),
    button(t("grid.details"), () => details(), { class: "secondary details" }));

  // ---- the details of the selected cell ----
  function details() {
    const at = { ...sel };
    if (!rows.length) return;
    if (cols[at.c].kind !== "lesson") return periodDialog(at);
    const s = rows[at.r];
    const lesson = cols[at.c].lesson;
    const dialog = el("dialog", { class: "grid-dialog cell-dialog", "aria-labelledby": "cell-dialog-title" });
    const general = el("p", { class: "error", role: "alert" });
    const valueSelect = (v) => {
      const x = el("select", { name: "value", required: "" }, el("option", { value: "", text: "—" }),
        values.map((k) => el("option", { value: k, text: markText(k) })));
      x.value = v ?? "";
      return x;
    };
    const formSelect = (code) => {
      const x = el("select", { name: "control_form" }, forms.map((k) => el("option", { value: k.code, text: k.name })));
      x.value = code;
      return x;
    };
    function markForm(m, n) {
      const value = valueSelect(m?.value);
      const control = formSelect(m?.control_form.code ?? form.value);
      const weight = el("input", { type: "number", name: "weight", min: "1", max: "10", inputmode: "numeric",
        value: String(m?.weight ?? forms.find((k) => k.code === control.value)?.weight ?? 1) });
      if (!m) control.addEventListener("change", () => { weight.value = String(forms.find((k) => k.code === control.value)?.weight ?? 1); });
      const comment = el("input", { name: "comment", maxlength: "1000", value: m?.comment ?? "" });
      const line = el("p", { class: "error", role: "alert" });
      const box = el("form", { class: classes("grid-mark", m ? "existing" : "new"), "data-mark": m ? String(m.id) : "" });
      box.addEventListener("submit", (ev) => {
        ev.preventDefault();
        enqueue(async () => {
          const body = { value: value.value, control_form: control.value, weight: Number(weight.value), comment: comment.value };
          busy(at, true);
          const r = m ? await api("PATCH", `/api/v1/marks/${m.id}`, body)
            : await api("POST", `/api/v1/lessons/${lesson.id}/marks`, { student_id: s.id, ...body });
          busy(at, false);
          if (r.status !== 200 && r.status !== 201) return showError(r, box, line);
          keepMark(s, r.data);
          succeeded(at);
          draw();
        });
      });
      box.append(el("fieldset", {},
        el("legend", { text: m ? t("grid.mark_n", { n }) : t(marksAt(s, lesson).length ? "grid.add_mark" : "grid.new_mark") }),
        el("div", { class: "grid-mark-fields" },
          field("grid.value", value), field("journal.form", control), field("grid.weight", weight)),
        field("journal.comment", comment),
        line,
        el("div", { class: "grid-dialog-actions" },
          el("button", { type: "submit", class: m ? "save" : "add", text: t(m ? "journal.save" : "grid.add") }),
          m ? el("button", { type: "button", class: "secondary delete", text: t("grid.delete"), onclick: () => enqueue(async () => {
            const r = await deleteMark(at, m);
            if (r.status === 200) draw(); else showError(r, box, line);
          }) }) : null)));
      return box;
    }
    function attendanceBox() {
      const current = attendanceAt(s, lesson)?.status ?? "";
      const name = `attendance-${s.id}-${lesson.id}`;
      const line = el("p", { class: "error", role: "alert" });
      const box = el("fieldset", { class: "grid-attendance" }, el("legend", { text: t("journal.attendance") }),
        ["", "absent", "late", "ill"].map((st) => {
          const radio = el("input", { type: "radio", name, value: st, id: `${name}-${st || "present"}` });
          radio.checked = st === current;
          radio.addEventListener("change", () => enqueue(async () => {
            const r = await setAttendance(at, st || null);
            if (r.status === 200) draw(); else showError(r, box, line);
          }));
          return el("div", { class: "check" }, radio,
            el("label", { for: radio.id, text: st ? t(`grid.attendance.${st}`) : t("journal.present") }));
        }), line);
      return box;
    }
    function draw() {
      const marks = marksAt(s, lesson);
      fill(dialog,
        el("h2", { id: "cell-dialog-title", text: `${s.name} · ${fmt.weekday(lesson.date)}` }),
        lesson.cancelled ? el("p", { class: "error", text: t("grid.cancelled") }) : null,
        marks.length ? marks.map((m, i) => markForm(m, i + 1)) : el("p", { class: "muted", text: t("grid.no_marks") }),
        markForm(null),
        attendanceBox(),
        general,
        el("button", { type: "button", class: "secondary close", text: t("journal.close"), onclick: () => dialog.close() }));
    }
    draw();
    openDialog(dialog, focusSelected);
  }

  function periodDialog(at) {
    const s = rows[at.r];
    const kind = cols[at.c].kind;
    const value = kind === "period" ? s.period_mark : s.final_mark;
    const suggestion = kind === "period" ? periodSuggestion(s) : finalSuggestion(s);
    const avg = average(s);
    const line = el("p", { class: "error", role: "alert" });
    const dialog = el("dialog", { class: "grid-dialog period-dialog", "aria-labelledby": "period-dialog-title" });
    const put = (v) => enqueue(async () => {
      const r = await putPeriod(at, v);
      if (r.status === 200) dialog.close(); else showError(r, dialog, line);
    });
    fill(dialog,
      el("h2", { id: "period-dialog-title", text: `${s.name} · ${kind === "period"
        ? t("grid.period_mark_of", { period: data.period.name }) : t("grid.final_mark_of_year")}` }),
      el("p", { text: kind === "period"
        ? (avg == null ? t("grid.no_average") : t("grid.average_is", { avg: fmt.number(avg, 2) }))
        : t("grid.final_from_periods") }),
      suggestion ? el("p", { class: "suggestion", text: t("grid.suggestion", { value: markText(suggestion) }) }) : null,
      el("div", { class: "grid-dialog-values", role: "group", "aria-label": t("grid.value") },
        values.map((v) => el("button", { type: "button", "data-value": v,
          class: classes("value", v !== value && "secondary", v === suggestion && "suggested"),
          "aria-pressed": String(v === value), onclick: () => put(v), text: markText(v) }))),
      line,
      el("div", { class: "grid-dialog-actions" },
        value ? el("button", { type: "button", class: "secondary delete", text: t("grid.delete"), onclick: () => put(null) }) : null,
        el("button", { type: "button", class: "secondary close", text: t("journal.close"), onclick: () => dialog.close() })));
    openDialog(dialog, focusSelected);
  }

  return {
    keys, status, error, wrap,
    repaint: () => rows.forEach((_, ri) => paintRow(ri)),
    start() {
      rows.forEach((_, ri) => paintRow(ri));
      if (!rows.length) { status.textContent = t("grid.no_students"); return; }
      select(sel.r, sel.c, false);
      // The selected column in view (the student column stays in place beside it), and the
      // keys going to the grid at once.
      const td = cells[sel.r][sel.c];
      wrap.scrollLeft = Math.max(0, td.offsetLeft - wrap.clientWidth / 2);
      focusSelected();
    },
  };
}

// Shows a modal <dialog> (Escape closes it); it is removed when closed and `after` runs.
function openDialog(dialog, after) {
  document.querySelector("dialog.grid-dialog[open]")?.close();
  dialog.addEventListener("close", () => { dialog.remove(); after?.(); });
  document.getElementById("main").append(dialog);
  dialog.showModal();
}

// A lesson's column head: its topic, its homework with their files and library items, a form
// for new homework with an optional file, and library items to attach. What is saved goes
// into `lesson` too, and done() runs when the dialog closes after a change.
function lessonDialog(lesson, done) {
  const general = el("p", { class: "error", role: "alert" });
  const topic = el("input", { name: "topic", value: lesson.topic ?? "", maxlength: "500" });
  const text = el("textarea", { name: "homework", rows: "3", placeholder: t("journal.homework_text") });
  const due = el("input", { type: "date", name: "due_date", value: lesson.date });
  const file = el("input", { type: "file", name: "file" });
  let changed = false;
  const dialog = el("dialog", { class: "grid-dialog lesson-dialog", "aria-labelledby": "lesson-dialog-title" });
  const topicForm = el("form", { class: "lesson-topic" });
  topicForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await api("PATCH", `/api/v1/lessons/${lesson.id}`, { topic: topic.value });
    if (r.status !== 200) return showError(r, topicForm, general);
    lesson.topic = topic.value;
    changed = true;
    dialog.close();
  });
  topicForm.append(field("diary.topic", topic),
    el("button", { type: "submit", class: "save-topic", text: t("journal.save") }));
  const homeworkForm = el("form", { class: "lesson-homework" });
  homeworkForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await api("POST", `/api/v1/lessons/${lesson.id}/homework`, { text: text.value, due_date: due.value });
    if (r.status !== 201) return showError(r, homeworkForm, general);
    const homework = { ...r.data, files: [], items: [] };
    lesson.homework.push(homework);
    changed = true;
    if (file.files.length) {
      const f = await upload(`/api/v1/homework/${r.data.id}/files`, file.files[0]);
      if (f.status !== 201) return showError(f, homeworkForm, general);
      homework.files.push(f.data);
    }
    dialog.close();
  });
  homeworkForm.append(
    el("h3", { text: t("journal.add_homework") }),
    field("journal.homework_text", text, "text"),
    field("journal.due", due),
    field("journal.file", file),
    el("button", { type: "submit", class: "add-homework", text: t("journal.add") }));
  fill(dialog,
    el("h2", { id: "lesson-dialog-title", text: `${fmt.weekday(lesson.date)} · ${t("journal.lesson")} ${lesson.number}` }),
    lesson.cancelled ? el("p", { class: "error", text: t("grid.cancelled") }) : null,
    topicForm,
    lesson.homework.map((h) => el("div", { class: "homework" },
      `${t("diary.homework")}: ${h.text}`, h.due_date ? el("span", { class: "muted", text: ` (${t("journal.due")}: ${fmt.dayMonth(h.due_date)})` }) : null,
      fileLinks(h.files), itemLinks(h.items),
      el("a", { href: `/homework/${h.id}/submissions`, "data-link": "", class: "handins-link",
        onclick: () => dialog.close(), text: t("grid.handins") }))),
    el("h3", { text: t("journal.materials") }),
    itemLinks(lesson.items),
    el("details", { class: "attach-library" }, el("summary", { text: t("journal.attach_from_library") }),
      librarySearchBox(async (item) => {
        const r = await api("POST", `/api/v1/lessons/${lesson.id}/items`, { item_id: item.id });
        if (r.status !== 201) { general.textContent = errorText(r); return; }
        lesson.items = [...(lesson.items ?? []), item];
        changed = true;
        dialog.close();
      })),
    homeworkForm,
    general,
    el("button", { type: "button", class: "secondary close", onclick: () => dialog.close(), text: t("journal.close") }));
  openDialog(dialog, () => { if (changed) done(); });
}
