// The family's pages and what the child pages share: a parent's child switcher and a title
// naming the child on every page of one child (diary, marks, homework, notices, the student's
// page); the planner «какая оценка нужна» (/plan/{student}); and the teacher's page of a
// homework's hand-ins (/homework/{id}/submissions: answers, files, feedback and a mark; what it
// shows is marked seen, after which the student can no longer withdraw the hand-in).
import { api, el, errorText, field, fmt, go, hooks, pages, section, show, showError, state, t, today, yearPeriods } from "./app.js";

pages.push(
  { path: /^\/plan\/(\d+)$/, view: planView },
  { path: /^\/homework\/(\d+)\/submissions$/, view: submissionsView },
);

// «Иванов Артём» of «Иванов Артём Сергеевич»: the last and first names.
export function shortName(full) {
  return String(full ?? "").split(/\s+/).slice(0, 2).join(" ");
}

// The full name of student `id` as the logged-in person may know it: their child, themself, or
// the student's record; null when it cannot be read.
async function childName(id) {
  const n = Number(id);
  const kid = (state.me.children ?? []).find((c) => c.id === n);
  if (kid) return kid.name;
  if (state.me.student?.id === n || (state.me.roles.includes("student") && state.me.person_id === n)) return state.me.name;
  const r = await api("GET", `/api/v1/students/${n}`);
  return r.status === 200 ? r.data.name : null;
}

// A parent's children as tabs (a labelled select on a phone), the one shown marked; `hrefOf`
// gives the same page of another child. Nothing for one child or for anyone but a parent.
export function childSwitcher(id, hrefOf) {
  const kids = state.me.roles.includes("parent") ? state.me.children ?? [] : [];
  if (kids.length < 2) return null;
  const current = Number(id);
  const tabs = el("nav", { class: "child-tabs", "aria-label": t("family.children") },
    kids.map((c) => {
      const attrs = { href: hrefOf(c.id), "data-link": "", class: "child-tab", "data-child": String(c.id) };
      if (c.id === current) attrs["aria-current"] = "page";
      return el("a", attrs, el("span", { class: "child-tab-name", text: shortName(c.name) }),
        c.class ? el("span", { class: "child-tab-class", text: c.class.name }) : null);
    }));
  const pick = el("select", { class: "child-pick" }, kids.map((c) => {
    const o = el("option", { value: String(c.id), text: c.class ? `${shortName(c.name)}, ${c.class.name}` : shortName(c.name) });
    if (c.id === current) o.selected = true;
    return o;
  }));
  pick.addEventListener("change", () => go(hrefOf(Number(pick.value))));
  return el("div", { class: "child-switch" }, tabs, el("div", { class: "child-pick-field" }, field("family.child", pick, "child")));
}

// The head of a page about one child: the switcher (for a parent of several) and the title
// «Дневник: Иванов Артём», also the document's title.
export async function childHead(titleKey, id, hrefOf) {
  const name = await childName(id);
  const title = name ? t("family.title_of", { page: t(titleKey), name: shortName(name) }) : t(titleKey);
  document.title = `${title} — ${t("app.title")}`;
  return [childSwitcher(id, hrefOf), el("h1", { text: title })].filter(Boolean);
}
hooks.childHead = childHead;

// The same page (path with the child's id replaced) for another child, keeping the query (the
// week, the period, the subject).
export const samePage = (make) => (child) => `${make(child)}${location.search}`;


// Empties a form's error lines (its fields' and the general one).
function clearErrors(scope, general) {
  for (const e of scope.querySelectorAll("[data-error-for]")) e.textContent = "";
  general.textContent = "";
}

// ---- the planner ------------------------------------------------------------------------

// What marks would bring a subject's period mark to 5, 4 or 3: the period mark is the
// weighted average rounded (4,5 and above give 5), so the target average is the mark less
// one half; the node answers how many marks of each value, at the chosen control form's
// weight, reach it.
async function planView(id) {
  const params = new URLSearchParams(location.search);
  const { all, current } = await yearPeriods();
  const period = all.find((p) => `${p.id}` === params.get("period")) ?? current;
  if (!period) { show(el("p", { class: "error", text: t("app.not_found") })); return; }
  const [marks, forms] = await Promise.all([
    api("GET", `/api/v1/students/${id}/marks?period=${period.id}`),
    api("GET", "/api/v1/control-forms"),
  ]);
  if (marks.status !== 200) { show(el("p", { class: "error", text: errorText(marks) })); return; }
  const subjects = marks.data.subjects;
  const scale = forms.data?.scale ?? { min: 2, max: 5 };
  const head = await childHead("family.plan.title", id, samePage((c) => `/plan/${c}`));

  const subject = el("select", { name: "subject" }, subjects.map((s) => el("option", { value: String(s.subject.id), text: s.subject.name })));
  if (subjects.some((s) => `${s.subject.id}` === params.get("subject"))) subject.value = params.get("subject");
  const per = el("select", { name: "period" }, all.map((p) => el("option", { value: String(p.id), text: p.name })));
  per.value = String(period.id);
  const target = el("select", { name: "target" });
  for (let v = scale.max; v > scale.min; v--) target.append(el("option", { value: String(v), text: String(v) }));
  target.value = params.get("target") ?? String(scale.max);
  const form = el("select", { name: "form" }, (forms.data?.items ?? []).map((f) =>
    el("option", { value: f.code, text: t("family.plan.form_option", { name: f.name, weight: f.weight }) })));
  form.value = params.get("form") ?? "oral";
  const result = el("div", { class: "plan-result", "aria-live": "polite" });
  const general = el("p", { class: "error", role: "alert" });
  const controls = el("form", { class: "card plan-form", onsubmit: (ev) => ev.preventDefault() },
    field("family.plan.subject", subject), field("family.plan.period", per),
    field("family.plan.target", target), field("family.plan.form", form), general);

  const update = async () => {
    const q = new URLSearchParams({ subject: subject.value, period: per.value, target: target.value, form: form.value });
    history.replaceState(null, "", `/plan/${id}?${q}`);
    if (per.value !== String(period.id)) { planView(id); return; }
    const s = subjects.find((x) => `${x.subject.id}` === subject.value);
    const mark = Number(target.value);
    const goal = mark - 0.5;
    const r = await api("GET", `/api/v1/students/${id}/plan?period=${per.value}&subject=${subject.value}&target=${goal}&form=${encodeURIComponent(form.value)}`);
    clearErrors(controls, general);
    if (r.status !== 200) { showError(r, controls, general); result.replaceChildren(); return; }
    const p = r.data;
    const lines = [
      el("p", { class: "plan-now", text: p.current == null ? t("family.plan.no_marks")
        : t("family.plan.current", { average: fmt.number(p.current, 2) }) }),
      el("p", { class: "muted", text: t("family.plan.rule", { mark, average: fmt.number(goal, 1) }) }),
    ];
    if (p.current != null && p.current >= goal - 1e-9) {
      lines.push(el("p", { class: "plan-reached", text: t("family.plan.reached", { mark }) }));
    } else {
      const options = p.options.filter((o) => o.count > 0);
      lines.push(el("p", { text: t(options.length > 1 ? "family.plan.any_of" : "family.plan.one_way", { form: formName(forms.data, p.control_form) }) }));
      lines.push(el("ul", { class: "plan-options" }, options.map((o) =>
        el("li", { "data-value": o.value, "data-count": String(o.count), text: needText(o.value, o.count) }))));
    }
    if (s?.marks?.length)
      lines.push(el("p", { class: "muted plan-marks" }, `${t("family.plan.marks_now")}: `,
        s.marks.map((m) => el("span", { class: `mark w${m.weight}`, text: m.value === "pass" ? t("mark.pass") : m.value === "fail" ? t("mark.fail") : m.value }))));
    result.replaceChildren(section(null, el("h2", { text: s ? s.subject.name : "" }), ...lines));
  };
  for (const c of [subject, per, target, form]) c.addEventListener("change", update);
  show(...head,
    el("div", { class: "toolbar" }, el("a", { href: `/marks/${id}?period=${period.id}`, "data-link": "", text: t("family.plan.back") })),
    subjects.length ? controls : el("p", { class: "card", text: t("family.plan.no_subjects") }),
    result);
  if (subjects.length) await update();
}

function formName(forms, code) {
  return forms?.items?.find((f) => f.code === code)?.name ?? code;
}

// «нужно получить 2 пятёрки»: the catalog has the words for 5, 4 and 3; any other value of a
// region's scale is said as «оценки «N»».
function needText(value, count) {
  const key = state.msg[`family.plan.need.${value}.many`] !== undefined ? `family.plan.need.${value}` : "family.plan.need.other";
  return fmt.plural(key, count, { value });
}

// ---- a homework's hand-ins, for its teacher ----------------------------------------------

async function submissionsView(id) {
  show(el("p", { text: t("app.loading") }));
  const [r, forms] = await Promise.all([api("GET", `/api/v1/homework/${id}/submissions`), api("GET", "/api/v1/control-forms")]);
  if (r.status !== 200) {
    show(el("h1", { text: t("handin.title") }), el("p", { class: "error", text: errorText(r) }));
    return;
  }
  const { homework: hw, items, missing } = r.data;
  const lesson = hw.lesson;
  const title = t("handin.title_of", { class: lesson.class.name, subject: lesson.subject.name });
  document.title = `${title} — ${t("app.title")}`;
  const scale = forms.data?.scale ?? { min: 2, max: 5 };
  const values = [];
  for (let v = scale.max; v >= scale.min; v--) values.push(String(v));
  if (scale.pass_fail) values.push("pass", "fail");
  const markText = (v) => (v === "pass" ? t("mark.pass") : v === "fail" ? t("mark.fail") : v);

  const card = (s) => {
    const feedback = el("textarea", { rows: "3", maxlength: "5000" });
    feedback.value = s.feedback;
    const value = el("select", {}, el("option", { value: "", text: t("handin.no_mark") }),
      values.map((v) => el("option", { value: v, text: markText(v) })));
    const kind = el("select", {}, (forms.data?.items ?? []).map((f) =>
      el("option", { value: f.code, text: `${f.name} (${t("journal.weight")} ${f.weight})` })));
    kind.value = (forms.data?.items ?? []).some((f) => f.code === "homework") ? "homework" : kind.value;
    const general = el("p", { class: "error", role: "alert" });
    const save = el("button", { type: "submit", class: "handin-save", text: t("handin.save") });
    const box = el("form", { class: "handin-form", onsubmit: async (ev) => {
      ev.preventDefault();
      clearErrors(box, general);
      const text = feedback.value.trim();
      if (!text && !value.value) { general.textContent = t("handin.nothing"); return; }
      save.disabled = true;
      try {
        if (text && text !== s.feedback) {
          const f = await api("PUT", `/api/v1/homework/${hw.id}/submissions/${s.student.id}`, { feedback: text });
          if (f.status !== 200) { showError(f, box, general); return; }
        }
        if (value.value) {
          // The mark of this control form on the lesson is changed, never doubled.
          const same = s.marks.find((m) => m.control_form.code === kind.value);
          const m = same
            ? await api("PATCH", `/api/v1/marks/${same.id}`, { value: value.value })
            : await api("POST", `/api/v1/lessons/${lesson.id}/marks`, { student_id: s.student.id, value: value.value, control_form: kind.value });
          if (m.status !== 200 && m.status !== 201) { showError(m, box, general); return; }
        }
        submissionsView(id);
      } finally {
        save.disabled = false;
      }
    } },
      field("handin.feedback", feedback, "feedback"),
      el("div", { class: "handin-mark" }, field("handin.mark", value, "value"), field("handin.control_form", kind, "control_form")),
      general, save);
    return el("li", { class: "card handin", "data-student": String(s.student.id) },
      el("div", { class: "handin-head" },
        el("strong", { text: s.student.name }),
        s.new ? el("span", { class: "badge new", text: t(s.seen_at ? "handin.changed" : "handin.new") }) : null,
        el("span", { class: "muted", text: s.done ? t("handin.done") : t("handin.not_done") }),
        el("span", { class: "muted small-text", text: t("handin.updated", { when: fmt.when(s.updated_at) }) })),
      s.text ? el("div", { class: "handin-answer" }, el("span", { class: "muted", text: `${t("handin.answer")}: ` }), el("span", { class: "answer-text", text: s.text })) : null,
      s.files.length ? el("ul", { class: "files" }, s.files.map((f) => el("li", {},
        el("a", { href: `/api/v1/homework-files/${f.id}`, target: "_blank", rel: "noopener", class: "file", text: f.name })))) : null,
      s.marks.length ? el("p", { class: "handin-marks" }, `${t("handin.marks")}: `, s.marks.map((m) =>
        el("span", { class: `mark w${m.weight}`, title: m.control_form.name, text: markText(m.value) }))) : null,
      s.feedback_at ? el("p", { class: "muted small-text", text: t("handin.feedback_at", { when: fmt.when(s.feedback_at) }) }) : null,
      box);
  };

  show(
    el("div", { class: "toolbar" }, el("a", { href: `/journal?class=${lesson.class.id}&subject=${lesson.subject.id}`, "data-link": "", text: t("handin.back") })),
    el("h1", { text: title }),
    el("section", { class: "card handin-task" },
      el("p", { class: "muted", text: t("handin.lesson", { date: fmt.date(lesson.date), due: fmt.date(hw.due_date) }) }),
      el("p", { class: "handin-text", text: hw.text }),
      el("p", { class: "muted", text: `${fmt.plural("handin.count", items.length)} · ${fmt.plural("handin.missing_count", missing.length)}` })),
    items.length ? el("ul", { class: "handins" }, items.map(card)) : el("p", { class: "card", text: t("handin.none") }),
    missing.length ? section("handin.missing", el("p", { class: "handin-missing", text: missing.map((m) => m.name).join(", ") })) : null);

  // What the teacher has now before their eyes is seen: those students can no longer withdraw it.
  const fresh = items.filter((s) => s.new).map((s) => s.student.id);
  if (fresh.length) await api("POST", `/api/v1/homework/${hw.id}/submissions/seen`, { students: fresh });
}
