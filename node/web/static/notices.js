// Absence notices: a parent tells the school about an absence, the school's medic records a
// medical note (both justify the absences in their dates), and the class teacher sees the
// notices of the class. The medic finds students through the school's classes.
import { api, el, field, fmt, navigation, pages, section, show, showError, state, t, today } from "./app.js";
import { childHead } from "./family.js";

navigation.push(
  { key: "nav.notices", href: "/notices", roles: ["class_teacher"] },
  { key: "nav.medic", href: "/medic", roles: ["medic"] },
);

pages.push(
  { path: /^\/notices$/, view: classNoticesView },
  { path: /^\/students\/(\d+)\/notices$/, view: studentNoticesView },
  { path: /^\/medic$/, view: medicView },
  { path: /^\/medic\/classes\/(\d+)$/, view: medicClassView },
);

function noticeList(items) {
  if (!items.length) return el("p", { class: "muted", text: t("notices.none") });
  return el("ul", { class: "notices" }, items.map((n) => el("li", { class: `notice ${n.kind}`, "data-kind": n.kind },
    el("strong", { text: n.student.name }),
    ` · ${n.from === n.to ? fmt.date(n.from) : `${fmt.dayMonth(n.from)} – ${fmt.date(n.to)}`} · `,
    el("span", { class: "kind", text: t(`notices.kind.${n.kind}`) }),
    el("div", { text: n.reason }),
    el("div", { class: "muted small", text: `${t("notices.by")}: ${n.by.name}` }))));
}

async function classNoticesView() {
  const classes = state.me.classes ?? [];
  const parts = [el("h1", { text: t("notices.title") })];
  for (const c of classes) {
    const r = await api("GET", `/api/v1/classes/${c.id}/absence-notices`);
    parts.push(section(null, el("h2", { text: c.name }),
      r.status === 200 ? noticeList(r.data.items) : el("p", { class: "error", text: t("app.error") })));
  }
  show(...parts);
}

// A student's notices, with the form their parent (an absence) or the school's medic (a
// medical note) fills in.
async function studentNoticesView(id) {
  const [r, head] = await Promise.all([api("GET", `/api/v1/students/${id}/absence-notices`),
    childHead(state.me.roles.includes("medic") ? "notices.medical_title" : "notices.student_title", id, (c) => `/students/${c}/notices`)]);
  if (r.status !== 200) { show(el("p", { class: "error", text: t(r.status === 403 ? "app.forbidden" : "app.error") })); return; }
  const medic = state.me.roles.includes("medic");
  const parent = (state.me.children ?? []).some((c) => c.id === Number(id));
  const from = el("input", { type: "date", name: "from", value: today(), required: "" });
  const to = el("input", { type: "date", name: "to", value: today(), required: "" });
  const reason = el("input", { name: "reason", maxlength: "1000", required: "" });
  const status = el("p", { class: "status error", role: "alert" });
  const send = async (ev) => {
    ev.preventDefault();
    const path = medic ? "medical-notes" : "absence-notices";
    const s = await api("POST", `/api/v1/students/${id}/${path}`, { from: from.value, to: to.value, reason: reason.value });
    if (s.status === 201) studentNoticesView(id);
    else showError(s, ev.target, status);
  };
  show(
    el("a", { href: medic ? "/medic" : "/home", "data-link": "", text: t("student.back") }),
    ...head,
    medic || parent ? el("form", { class: "card notice-form", onsubmit: send, novalidate: "" },
      el("div", { class: "dates" }, field("notices.from", from), field("notices.to", to)),
      field(medic ? "notices.diagnosis" : "notices.reason", reason),
      el("button", { type: "submit", text: t(medic ? "notices.record" : "notices.send") }), status) : null,
    noticeList(r.data.items));
}

async function medicView() {
  const parts = [el("h1", { text: t("medic.title") })];
  for (const i of state.me.institutions ?? []) {
    const r = await api("GET", `/api/v1/institutions/${i.id}/classes`);
    parts.push(section(null, el("h2", { text: i.name }), r.status === 200
      ? el("ul", { class: "classes" }, r.data.items.map((c) => el("li", {},
          el("a", { href: `/medic/classes/${c.id}`, "data-link": "", class: "class-link", text: c.name }))))
      : el("p", { class: "error", text: t("app.error") })));
  }
  show(...parts);
}

async function medicClassView(id) {
  const r = await api("GET", `/api/v1/classes/${id}/students`);
  if (r.status !== 200) { show(el("p", { class: "error", text: t("app.forbidden") })); return; }
  show(
    el("a", { href: "/medic", "data-link": "", text: t("student.back") }),
    el("h1", { text: t("medic.students") }),
    el("ul", { class: "students" }, r.data.items.map((s) => el("li", {},
      el("a", { href: `/students/${s.id}/notices`, "data-link": "", class: "student-link", text: s.name })))));
}
