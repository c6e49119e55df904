// One school's administration, for its school admin and the region admin: classes (a class's
// students, groups, enrolments, transfers and leavers), staff and their roles, teaching
// assignments, bells, weekly timetables and replacements. Every page first asks for the
// school's staff list, which only those two may read: anyone else sees the denial.
import { api, clearErrors, el, errorText, field as shellField, fmt, pages, section, show as showAll, showError, t, table, today } from "./app.js";

// The shell's show, leaving out the parts a page does not have (null).
const show = (...nodes) => showAll(...nodes.flat().filter((n) => n != null));

pages.push(
  { path: /^\/admin\/schools\/(\d+)\/classes$/, view: classesView },
  { path: /^\/admin\/classes\/(\d+)$/, view: classView },
  { path: /^\/admin\/schools\/(\d+)\/staff$/, view: staffView },
  { path: /^\/admin\/schools\/(\d+)\/assignments$/, view: assignmentsView },
  { path: /^\/admin\/schools\/(\d+)\/timetable$/, view: timetableView },
);

const STAFF_ROLES = ["teacher", "class_teacher", "school_admin", "medic"];

// ---- shared -----------------------------------------------------------------------------------

const date = (iso) => fmt.date(iso);

// "25 учеников": the catalog's forms (schooladmin.students.one/few/many, with {n}).
const count = (n, key) => fmt.plural(key, n);

// A server error in Russian: the shell's text, with this page's own for some codes
// ("schooladmin.error.CODE").
const errText = (r) => errorText(r, "schooladmin.error");

function denied() {
  show(el("h1", { text: t("schooladmin.title") }),
    el("p", { class: "card error", id: "schooladmin-denied", role: "alert", text: t("schooladmin.denied") }));
}

function status() { return el("p", { class: "status error", role: "status" }); }

// Runs a write; on success calls then(), else shows the error beside the field of `form` the
// server names (when the write comes from a form), or in `out`.
async function write(out, method, path, body, then, form) {
  clearErrors(form, out);
  const r = await api(method, path, body);
  if (r.status >= 200 && r.status < 300) { if (then) await then(r); return r; }
  if (form) showError(r, form, out, "schooladmin.error");
  else out.textContent = errText(r);
  return null;
}

function options(list, selected, emptyKey) {
  const o = [];
  if (emptyKey) o.push(el("option", { value: "", text: t(emptyKey) }));
  for (const x of list) {
    const opt = el("option", { value: String(x.id), text: x.name });
    if (selected != null && String(selected) === String(x.id)) opt.selected = true;
    o.push(opt);
  }
  return o;
}

// A labelled control (the shell's field()), laid out in a form's row.
function field(labelKey, input) {
  const f = shellField(labelKey, input);
  f.classList.add("sa-field");
  return f;
}

function tabs(id, active) {
  const links = [["classes", "schooladmin.nav.classes"], ["staff", "schooladmin.nav.staff"],
    ["assignments", "schooladmin.nav.assignments"], ["timetable", "schooladmin.nav.timetable"]];
  return el("nav", { class: "sa-tabs" },
    el("a", { href: "/admin", "data-link": "", text: t("schooladmin.nav.hub") }),
    links.map(([p, k]) => el("a", { href: `/admin/schools/${id}/${p}`, "data-link": "",
      class: p === active ? "active" : "", text: t(k) })),
    el("a", { href: `/admin/audit?institution=${id}`, "data-link": "", text: t("schooladmin.nav.audit") }));
}

// The school, its staff (the gate) and the current year; null after showing the denial.
async function school(id) {
  show(el("p", { text: t("app.loading") }));
  const staff = await api("GET", `/api/v1/institutions/${id}/staff`);
  if (staff.status !== 200) {
    if (staff.status === 403) denied();
    else show(el("p", { class: "error", text: errText(staff) }));
    return null;
  }
  const inst = await api("GET", `/api/v1/institutions/${id}`);
  const years = (await api("GET", "/api/v1/academic-years")).data?.items ?? [];
  const now = today();
  const year = years.find((y) => y.starts_on <= now && now <= y.ends_on) ?? years[years.length - 1];
  return { id: Number(id), name: inst.data?.short_name ?? "", staff: staff.data.items, year };
}

async function classesOf(s) {
  const r = await api("GET", `/api/v1/institutions/${s.id}/classes`);
  return (r.data?.items ?? []).filter((c) => !s.year || c.year_id === s.year.id);
}

// ---- classes ----------------------------------------------------------------------------------

async function classesView(id) {
  const s = await school(id);
  if (!s) return;
  const classes = await classesOf(s);
  const teachers = s.staff.filter((m) => m.roles.includes("teacher") || m.roles.includes("class_teacher"));
  const out = status();
  const rows = classes.map((c) => {
    const pick = el("select", { "aria-label": t("schooladmin.class_teacher"), "data-class": String(c.id) },
      options(teachers, c.class_teacher?.id, "schooladmin.none"));
    pick.addEventListener("change", () => write(out, "PATCH", `/api/v1/classes/${c.id}`,
      { class_teacher_id: pick.value ? Number(pick.value) : null }));
    return [el("a", { href: `/admin/classes/${c.id}`, "data-link": "", class: "class-link", text: c.name }),
      pick, count(c.students, "schooladmin.students")];
  });
  const grade = el("select", { name: "grade" },
    Array.from({ length: 11 }, (_, i) => el("option", { value: String(i + 1), text: String(i + 1) })));
  const letter = el("input", { name: "letter", maxlength: "2", required: "", value: "" });
  const teacher = el("select", { name: "class_teacher" }, options(teachers, null, "schooladmin.none"));
  const add = el("form", { class: "card sa-form", id: "add-class", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    const body = { year_id: s.year.id, grade: Number(grade.value), letter: letter.value.trim() };
    if (teacher.value) body.class_teacher_id = Number(teacher.value);
    await write(out, "POST", `/api/v1/institutions/${s.id}/classes`, body, () => classesView(id), ev.target);
  } },
  el("h2", { text: t("schooladmin.add_class") }),
  field("schooladmin.grade", grade), field("schooladmin.letter", letter),
  field("schooladmin.class_teacher", teacher),
  el("button", { type: "submit", text: t("schooladmin.add") }));
  show(tabs(id, "classes"),
    el("h1", { text: t("schooladmin.classes_title", { school: s.name }) }),
    s.year ? el("p", { class: "muted", text: t("schooladmin.year", { year: s.year.name }) }) : null,
    out,
    section(null, classes.length
      ? el("div", { class: "sa-scroll" }, table(["schooladmin.col.class", "schooladmin.class_teacher", "schooladmin.col.students"], rows))
      : el("p", { class: "muted", text: t("schooladmin.no_classes") })),
    add);
}

// ---- one class --------------------------------------------------------------------------------

async function classView(id) {
  show(el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/classes/${id}`);
  if (r.status !== 200) { if (r.status === 403) denied(); else show(el("p", { class: "error", text: errText(r) })); return; }
  const c = r.data;
  const s = await school(c.institution_id);
  if (!s) return;
  const [enr, groups, classes] = await Promise.all([
    api("GET", `/api/v1/classes/${id}/enrollments`), api("GET", `/api/v1/classes/${id}/groups`), classesOf(s)]);
  const current = enr.data.items.filter((e) => !e.left_on);
  const past = enr.data.items.filter((e) => e.left_on);
  const others = classes.filter((x) => x.id !== c.id);
  const out = status();
  const again = () => classView(id);

  const studentRows = current.map((e) => {
    const to = el("select", { name: "to", "aria-label": t("schooladmin.transfer_to") }, options(others, null, null));
    const on = el("input", { type: "date", name: "on", value: today(), "aria-label": t("schooladmin.date") });
    const transfer = el("button", { type: "button", class: "transfer", "data-student": String(e.student.id),
      text: t("schooladmin.transfer"), onclick: () => write(out, "POST", "/api/v1/enrollments",
        { student_id: e.student.id, class_id: Number(to.value), enrolled_on: on.value }, again) });
    const leave = el("button", { type: "button", class: "leave secondary", "data-enrollment": String(e.id),
      text: t("schooladmin.leave"), onclick: () => write(out, "POST", `/api/v1/enrollments/${e.id}/leave`,
        { left_on: on.value }, again) });
    return [el("a", { href: `/students/${e.student.id}`, "data-link": "", class: "student-link", text: e.student.name }),
      date(e.enrolled_on),
      el("details", { class: "sa-actions" }, el("summary", { text: t("schooladmin.actions") }),
        on, others.length ? el("span", { class: "sa-row" }, to, transfer) : null, leave)];
  });

  // Enrol: an existing person of the school, or a new one.
  const q = el("input", { name: "q", placeholder: t("schooladmin.search_hint") });
  const since = el("input", { type: "date", name: "enrolled_on", value: today() });
  const found = el("ul", { class: "sa-found" });
  const enrol = (person) => write(out, "POST", "/api/v1/enrollments",
    { student_id: person, class_id: c.id, enrolled_on: since.value }, again);
  const search = el("form", { class: "sa-form", id: "enrol-search", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = await api("GET", `/api/v1/institutions/${s.id}/persons?q=${encodeURIComponent(q.value.trim())}`);
    if (f.status !== 200) { out.textContent = errText(f); return; }
    found.replaceChildren(...(f.data.items.length ? f.data.items.map((p) => el("li", {},
      `${p.name}${p.birth_date ? `, ${date(p.birth_date)}` : ""}${p.class ? ` · ${p.class.name}` : ""} `,
      el("button", { type: "button", class: "enrol", "data-person": String(p.id), text: t("schooladmin.enrol"),
        onclick: () => enrol(p.id) }))) : [el("li", { class: "muted", text: t("schooladmin.nobody_found") })]));
  } }, field("schooladmin.search", q), el("button", { type: "submit", text: t("schooladmin.find") }));
  const last = el("input", { name: "last_name", required: "" });
  const first = el("input", { name: "first_name", required: "" });
  const middle = el("input", { name: "middle_name" });
  const birth = el("input", { type: "date", name: "birth_date" });
  const fresh = el("form", { class: "sa-form", id: "enrol-new", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    const body = { last_name: last.value.trim(), first_name: first.value.trim(), middle_name: middle.value.trim(),
      account: { roles: [{ role: "student" }] } };
    if (birth.value) body.birth_date = birth.value;
    const p = await write(out, "POST", "/api/v1/persons", body, null, ev.target);
    if (p) await enrol(p.data.id);
  } },
  el("h3", { text: t("schooladmin.new_student") }),
  field("schooladmin.last_name", last), field("schooladmin.first_name", first),
  field("schooladmin.middle_name", middle), field("schooladmin.birth_date", birth),
  el("button", { type: "submit", text: t("schooladmin.create_enrol") }));

  // Groups and their members.
  const groupCards = groups.data.items.map((g) => {
    const inGroup = new Set(g.members.map((m) => m.id));
    const pick = el("select", { "aria-label": t("schooladmin.add_member") },
      options(current.filter((e) => !inGroup.has(e.student.id)).map((e) => e.student), null, null));
    return el("div", { class: "sa-group", "data-group": String(g.id) },
      el("h3", { text: g.name }),
      el("ul", {}, g.members.map((m) => el("li", {}, m.name, " ",
        el("button", { type: "button", class: "link remove-member", "aria-label": t("schooladmin.remove"),
          text: "×", onclick: () => write(out, "DELETE", `/api/v1/groups/${g.id}/members/${m.id}`, undefined, again) })))),
      pick.options.length ? el("span", { class: "sa-row" }, pick, el("button", { type: "button", class: "add-member",
        text: t("schooladmin.add"), onclick: () => write(out, "POST", `/api/v1/groups/${g.id}/members`,
          { student_id: Number(pick.value) }, again) })) : null);
  });
  const gname = el("input", { name: "group", required: "", maxlength: "100" });
  const newGroup = el("form", { class: "sa-form", id: "add-group", onsubmit: (ev) => {
    ev.preventDefault();
    write(out, "POST", `/api/v1/classes/${id}/groups`, { name: gname.value.trim(), student_ids: [] }, again);
  } }, field("schooladmin.group_name", gname), el("button", { type: "submit", text: t("schooladmin.add_group") }));

  show(tabs(s.id, "classes"),
    el("h1", { text: t("schooladmin.class_title", { name: c.name }) }),
    el("p", { class: "sa-links" },
      el("span", { text: `${t("schooladmin.class_teacher")}: ${c.class_teacher?.name ?? t("schooladmin.none")}` }),
      el("a", { href: `/admin/classes/${id}/letters`, "data-link": "", id: "letters-link", text: t("schooladmin.letters") }),
      el("a", { href: `/admin/accounts?class=${id}`, "data-link": "", id: "accounts-link", text: t("schooladmin.accounts") })),
    out,
    section(null, el("h2", { text: `${t("schooladmin.students_title")} (${count(current.length, "schooladmin.students")})` }),
      current.length ? el("div", { class: "sa-scroll" }, table(["schooladmin.col.student", "schooladmin.col.since", "schooladmin.col.actions"], studentRows))
        : el("p", { class: "muted", text: t("schooladmin.no_students") })),
    section("schooladmin.enrol_title", field("schooladmin.enrolled_on", since), search, found, fresh),
    section("schooladmin.groups_title", groupCards.length ? groupCards : el("p", { class: "muted", text: t("schooladmin.no_groups") }), newGroup),
    past.length ? section("schooladmin.past_title", el("ul", { id: "past" }, past.map((e) => el("li", {},
      `${e.student.name}: ${date(e.enrolled_on)} – ${date(e.left_on)} · `,
      e.to_class ? t("schooladmin.moved_to", { name: e.to_class.name }) : t("schooladmin.left"))))) : null);
}

// ---- staff ------------------------------------------------------------------------------------

async function staffView(id) {
  const s = await school(id);
  if (!s) return;
  const out = status();
  const again = () => staffView(id);
  const roleBoxes = (held, prefix) => STAFF_ROLES.map((role) => {
    const box = el("input", { type: "checkbox", value: role, name: `${prefix}-${role}` });
    box.checked = held.includes(role);
    return el("label", { class: "sa-check" }, box, ` ${t(`role.${role}`)}`);
  });
  const checked = (root) => [...root.querySelectorAll("input[type=checkbox]:checked")].map((b) => b.value);
  const rows = s.staff.map((m) => {
    const boxes = el("span", { class: "sa-roles", "data-person": String(m.id) }, roleBoxes(m.roles, `p${m.id}`));
    const on = el("input", { type: "date", value: today(), "aria-label": t("schooladmin.date") });
    return [el("span", {}, el("strong", { text: m.name }), el("br"), el("span", { class: "muted", text: m.position })),
      el("span", {}, boxes, el("button", { type: "button", class: "save-roles", text: t("schooladmin.save"),
        onclick: () => write(out, "PUT", `/api/v1/institutions/${id}/staff/${m.id}/roles`, { roles: checked(boxes) }, again) })),
      el("span", { class: m.active ? "" : "muted" },
        m.login ? el("code", { class: "login", text: m.login }) : "—",
        m.login && !m.active ? ` (${t("schooladmin.inactive")})` : null),
      el("details", { class: "sa-actions" }, el("summary", { text: t("schooladmin.actions") }), on,
        el("button", { type: "button", class: "staff-leave secondary", text: t("schooladmin.staff_leave"),
          onclick: () => write(out, "POST", `/api/v1/institutions/${id}/staff/${m.id}/leave`, { left_on: on.value }, again) }))];
  });
  const last = el("input", { name: "last_name", required: "" });
  const first = el("input", { name: "first_name", required: "" });
  const middle = el("input", { name: "middle_name" });
  const position = el("input", { name: "position", required: "", placeholder: t("schooladmin.position_hint") });
  const boxes = el("span", { class: "sa-roles" }, roleBoxes(["teacher"], "new"));
  const add = el("form", { class: "card sa-form", id: "add-staff", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    const roles = checked(boxes).map((role) => ({ role, institution_id: s.id }));
    const p = await write(out, "POST", "/api/v1/persons", { last_name: last.value.trim(), first_name: first.value.trim(),
      middle_name: middle.value.trim(), account: { roles } }, null, ev.target);
    if (p) await write(out, "POST", `/api/v1/institutions/${id}/staff`, { person_id: p.data.id, position: position.value.trim() }, again, ev.target);
  } },
  el("h2", { text: t("schooladmin.add_staff") }),
  field("schooladmin.last_name", last), field("schooladmin.first_name", first), field("schooladmin.middle_name", middle),
  field("schooladmin.position", position), el("div", {}, el("span", { class: "muted", text: `${t("schooladmin.roles")}: ` }), boxes),
  el("p", { class: "muted", text: t("schooladmin.inactive_hint") }),
  el("button", { type: "submit", text: t("schooladmin.add") }));
  show(tabs(id, "staff"), el("h1", { text: t("schooladmin.staff_title", { school: s.name }) }), out,
    section(null, el("div", { class: "sa-scroll" }, table(["schooladmin.col.person", "schooladmin.roles", "schooladmin.col.login", "schooladmin.col.actions"], rows))),
    add);
}

// ---- assignments ------------------------------------------------------------------------------

async function assignmentsView(id) {
  const s = await school(id);
  if (!s) return;
  const [list, classes, subjects] = await Promise.all([api("GET", `/api/v1/institutions/${id}/assignments`),
    classesOf(s), api("GET", "/api/v1/subjects")]);
  const out = status();
  const again = () => assignmentsView(id);
  const mine = new Set(classes.map((c) => c.id));
  const items = list.data.items.filter((a) => mine.has(a.class.id));
  const rows = items.map((a) => [a.class.name, a.group ? `${a.subject.name} (${a.group.name})` : a.subject.name, a.teacher.name,
    el("button", { type: "button", class: "secondary remove-assignment", "data-assignment": String(a.id), text: t("schooladmin.remove"),
      onclick: () => write(out, "DELETE", `/api/v1/assignments/${a.id}`, undefined, again) })]);
  const teacher = el("select", { name: "teacher" }, options(s.staff.filter((m) => m.roles.includes("teacher")), null, null));
  const cls = el("select", { name: "class" }, options(classes, null, null));
  const group = el("select", { name: "group" }, options([], null, "schooladmin.whole_class"));
  const subject = el("select", { name: "subject" }, options(subjects.data?.items ?? [], null, null));
  const loadGroups = async () => {
    const g = cls.value ? await api("GET", `/api/v1/classes/${cls.value}/groups`) : null;
    group.replaceChildren(...options(g?.data?.items ?? [], null, "schooladmin.whole_class"));
  };
  cls.addEventListener("change", loadGroups);
  const add = el("form", { class: "card sa-form", id: "add-assignment", onsubmit: (ev) => {
    ev.preventDefault();
    const body = { teacher_id: Number(teacher.value), class_id: Number(cls.value), subject_id: Number(subject.value) };
    if (group.value) body.group_id = Number(group.value);
    write(out, "POST", "/api/v1/assignments", body, again);
  } },
  el("h2", { text: t("schooladmin.add_assignment") }),
  field("schooladmin.teacher", teacher), field("schooladmin.col.class", cls), field("schooladmin.group", group),
  field("schooladmin.subject", subject), el("button", { type: "submit", text: t("schooladmin.add") }));
  show(tabs(id, "assignments"), el("h1", { text: t("schooladmin.assignments_title", { school: s.name }) }), out,
    section(null, items.length ? el("div", { class: "sa-scroll", id: "assignments" },
      table(["schooladmin.col.class", "schooladmin.subject", "schooladmin.teacher", ""], rows))
      : el("p", { class: "muted", text: t("schooladmin.no_assignments") })),
    add);
  await loadGroups();
}

// ---- bells, timetable, replacements -------------------------------------------------------------

async function timetableView(id, classId) {
  const s = await school(id);
  if (!s) return;
  const [bells, classes, subjects] = await Promise.all([api("GET", `/api/v1/institutions/${id}/bells`),
    classesOf(s), api("GET", "/api/v1/subjects")]);
  const out = status();
  const teachers = s.staff.filter((m) => m.roles.includes("teacher"));

  // Bells: one row per lesson number, edited in place and saved at once.
  const bellRows = el("tbody");
  const bellRow = (b) => el("tr", { class: "bell" },
    el("td", {}, el("input", { type: "number", min: "0", max: "12", name: "number", value: String(b.number), "aria-label": t("schooladmin.lesson_no") })),
    el("td", {}, el("input", { type: "time", name: "starts_at", value: b.starts_at, "aria-label": t("schooladmin.starts") })),
    el("td", {}, el("input", { type: "time", name: "ends_at", value: b.ends_at, "aria-label": t("schooladmin.ends") })));
  bellRows.append(...(bells.data?.bells ?? []).map(bellRow));
  const bellForm = el("form", { id: "bells", onsubmit: (ev) => {
    ev.preventDefault();
    const list = [...bellRows.querySelectorAll("tr")].map((tr) => ({ number: Number(tr.querySelector("[name=number]").value),
      starts_at: tr.querySelector("[name=starts_at]").value, ends_at: tr.querySelector("[name=ends_at]").value }))
      .filter((b) => b.starts_at && b.ends_at);
    write(out, "PUT", `/api/v1/institutions/${id}/bells`, { bells: list }, () => { out.textContent = t("schooladmin.saved"); });
  } },
  el("div", { class: "sa-scroll" }, el("table", { class: "sa-bells" }, el("thead", {}, el("tr", {}, ["schooladmin.lesson_no", "schooladmin.starts", "schooladmin.ends"]
    .map((k) => el("th", { text: t(k) })))), bellRows)),
  el("p", { class: "sa-row" },
    el("button", { type: "button", class: "secondary", text: t("schooladmin.add_bell"), onclick: () => {
      const n = bellRows.querySelectorAll("tr").length + 1;
      bellRows.append(bellRow({ number: n, starts_at: "", ends_at: "" }));
    } }),
    el("button", { type: "submit", text: t("schooladmin.save") })));

  // A class's week.
  const pick = el("select", { id: "tt-class", "aria-label": t("schooladmin.col.class") }, options(classes, classId, null));
  pick.addEventListener("change", () => timetableView(id, pick.value));
  const cid = pick.value;
  const week = cid ? await api("GET", `/api/v1/classes/${cid}/timetable`) : { data: { entries: [] } };
  const entries = week.data.entries.map((e) => ({ weekday: e.weekday, number: e.number, subject_id: e.subject.id,
    subject: e.subject.name, teacher_id: e.teacher.id, teacher: e.teacher.name, room: e.room, group_id: e.group_id }));
  const body = el("tbody");
  const days = [1, 2, 3, 4, 5, 6].map((d) => ({ id: d, name: t(`schooladmin.weekday.${d}`) }));
  const drawWeek = () => body.replaceChildren(...entries
    .sort((a, b) => a.weekday - b.weekday || a.number - b.number)
    .map((e, i) => el("tr", { class: "tt-entry" },
      el("td", { text: t(`schooladmin.weekday.${e.weekday}`) }), el("td", { text: String(e.number) }),
      el("td", { text: e.subject }), el("td", { text: e.teacher }), el("td", { text: e.room ?? "" }),
      el("td", {}, el("button", { type: "button", class: "link", "aria-label": t("schooladmin.remove"), text: "×",
        onclick: () => { entries.splice(i, 1); drawWeek(); } })))));
  drawWeek();
  const wd = el("select", { name: "weekday" }, options(days, 1, null));
  const num = el("input", { type: "number", name: "number", min: "0", max: "12", value: "1" });
  const subj = el("select", { name: "subject" }, options(subjects.data?.items ?? [], null, null));
  const teach = el("select", { name: "teacher" }, options(teachers, null, null));
  const room = el("input", { name: "room", maxlength: "20" });
  const addEntry = el("form", { class: "sa-form", id: "add-entry", onsubmit: (ev) => {
    ev.preventDefault();
    entries.push({ weekday: Number(wd.value), number: Number(num.value), subject_id: Number(subj.value),
      subject: subj.selectedOptions[0]?.textContent ?? "", teacher_id: Number(teach.value),
      teacher: teach.selectedOptions[0]?.textContent ?? "", room: room.value.trim() });
    drawWeek();
  } }, field("schooladmin.weekday", wd), field("schooladmin.lesson_no", num), field("schooladmin.subject", subj),
  field("schooladmin.teacher", teach), field("schooladmin.room", room),
  el("button", { type: "submit", class: "secondary", text: t("schooladmin.add_entry") }));
  const saveWeek = el("button", { type: "button", id: "save-timetable", text: t("schooladmin.save_timetable"), onclick: () =>
    write(out, "PUT", `/api/v1/classes/${cid}/timetable`, { entries: entries.map((e) => {
      const x = { weekday: e.weekday, number: e.number, subject_id: e.subject_id, teacher_id: e.teacher_id, room: e.room ?? "" };
      if (e.group_id) x.group_id = e.group_id;
      return x;
    }) }, () => { out.textContent = t("schooladmin.saved"); }) });
  const period = el("select", { name: "period", "aria-label": t("schooladmin.generate_title") }, options(s.year?.periods ?? [], null, null));
  const generate = el("span", { class: "sa-row" }, period, el("button", { type: "button", id: "generate", class: "secondary",
    text: t("schooladmin.generate"), onclick: () => write(out, "POST", `/api/v1/classes/${cid}/lessons`,
      { period_id: Number(period.value) }, (r) => { out.textContent = t("schooladmin.generated", { n: r.data.created }); }) }));

  // Replacements: the class's lessons of a date, each with its teacher or a replacement.
  const day = el("input", { type: "date", id: "repl-date", value: today(), "aria-label": t("schooladmin.date") });
  const lessons = el("ul", { id: "day-lessons", class: "sa-lessons" });
  // A date changed again before its answer came: only the latest request's answer is drawn.
  let daySeq = 0;
  const loadDay = async () => {
    const seq = ++daySeq;
    const r = await api("GET", `/api/v1/classes/${cid}/lessons?date=${day.value}`);
    if (seq !== daySeq) return;
    if (r.status !== 200) { out.textContent = errText(r); return; }
    lessons.replaceChildren(...(r.data.items.length ? r.data.items.map((l) => {
      const who = el("select", { "aria-label": t("schooladmin.replacement") },
        options(teachers.filter((m) => m.id !== l.teacher.id), l.replacement?.id, "schooladmin.no_replacement"));
      return el("li", { "data-lesson": String(l.id) },
        el("strong", { text: `${l.number}. ${l.subject.name}` }), ` · ${l.teacher.name}`,
        l.replacement ? el("span", { class: "sa-repl", text: ` → ${l.replacement.name}` }) : null,
        el("span", { class: "sa-row" }, who, el("button", { type: "button", class: "set-replacement", text: t("schooladmin.replace"),
          onclick: () => write(out, "PATCH", `/api/v1/lessons/${l.id}`, { replacement_id: who.value ? Number(who.value) : null }, loadDay) })));
    }) : [el("li", { class: "muted", text: t("schooladmin.no_lessons") })]));
  };
  day.addEventListener("change", loadDay);

  show(tabs(id, "timetable"), el("h1", { text: t("schooladmin.timetable_title", { school: s.name }) }), out,
    section("schooladmin.bells_title", bellForm),
    section("schooladmin.week_title", field("schooladmin.col.class", pick),
      cid ? [el("div", { class: "sa-scroll" }, el("table", { id: "timetable" },
        el("thead", {}, el("tr", {}, ["schooladmin.weekday", "schooladmin.lesson_no", "schooladmin.subject", "schooladmin.teacher", "schooladmin.room", ""]
          .map((k) => el("th", { text: k ? t(k) : "" })))), body)),
      addEntry, el("p", {}, saveWeek), el("h3", { text: t("schooladmin.generate_title") }), generate] : null),
    cid ? section("schooladmin.replacements_title", field("schooladmin.date", day), lessons) : null);
  if (cid) await loadDay();
}

