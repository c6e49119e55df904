// Messages: the list of one's threads, a thread with its messages and a reply box, and a new
// thread: to one of a child's teachers (parents), to one's own teachers (students), or from a
// teacher to a student of their classes or that student's parents.
import { api, el, field, fmt, go, navigation, pages, refreshUnread, show, showError, state, t } from "./app.js";

navigation.push({ key: "nav.messages", href: "/messages", roles: ["parent", "teacher", "class_teacher", "student"], unread: "messages" });
pages.push(
  { path: /^\/messages$/, view: threadsView },
  { path: /^\/messages\/(\d+)$/, view: threadView },
);

const when = (s) => fmt.when(s);

// The children (or oneself) a new thread can be about.
function subjectsOfThreads() {
  const me = state.me;
  if (me.roles.includes("parent")) return (me.children ?? []).map((c) => ({ id: c.id, name: c.name }));
  if (me.roles.includes("student") && me.student) return [{ id: me.student.id, name: me.name }];
  return [];
}

// The form that sends the first message of a new thread; a refused one shows the catalog's
// text beside the field the server names (title, text), else under the form.
function threadForm(fields, target) {
  const title = el("input", { id: "thread-title", name: "title", maxlength: "200", placeholder: t("messages.title_placeholder") });
  const text = el("textarea", { id: "thread-text", name: "text", rows: "4", placeholder: t("messages.text_placeholder") });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "card thread-new", onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await api("POST", "/api/v1/threads", { ...target(), title: title.value, text: text.value });
    if (r.status === 201) go(`/messages/${r.data.id}`);
    else showError(r, form, error);
  } },
    el("h2", { text: t("messages.new") }),
    ...fields,
    field("messages.subject", title), field("shell.message_text", text),
    error,
    el("button", { type: "submit", text: t("messages.send") }));
  return form;
}

// A teacher writes to a student of their classes or to that student's parents.
async function teacherThreadForm() {
  const me = state.me;
  const classes = new Map();
  for (const a of me.assignments ?? []) classes.set(a.class.id, a.class.name);
  for (const c of me.classes ?? []) classes.set(c.id, c.name);
  if (!classes.size) return null;
  const cls = el("select", { id: "thread-class" }, [...classes].map(([id, name]) => el("option", { value: String(id), text: name })));
  const student = el("select", { id: "thread-student" });
  const whom = el("select", { id: "thread-with" });
  const fillWhom = async () => {
    const chosen = student.value;
    const r = await api("GET", `/api/v1/students/${chosen}`);
    if (student.value !== chosen) return; /* another student was picked meanwhile */
    const s = r.data;
    whom.replaceChildren(...(s ? [el("option", { value: String(s.id), text: `${s.name} (${t("messages.the_student")})` }),
      ...s.guardians.map((g) => el("option", { value: String(g.id), text: `${g.name} (${t(`relation.${g.relation}`)})` }))] : []));
  };
  const fillStudents = async () => {
    const chosen = cls.value;
    const r = await api("GET", `/api/v1/classes/${chosen}/students`);
    if (cls.value !== chosen) return; /* another class was picked meanwhile */
    /* A student picked while the list was loading stays picked if the class has them. */
    const kept = student.value;
    student.replaceChildren(...(r.data?.items ?? []).map((s) => el("option", { value: String(s.id), text: s.name })));
    if ([...student.options].some((o) => o.value === kept)) student.value = kept;
    await fillWhom();
  };
  cls.addEventListener("change", fillStudents);
  student.addEventListener("change", fillWhom);
  await fillStudents();
  return threadForm([field("messages.class", cls, "class_id"), field("messages.about", student, "student_id"),
    field("messages.to", whom, "with_id")],
  () => ({ student_id: Number(student.value), with_id: Number(whom.value) }));
}

async function newThreadForm() {
  if (state.me.roles.includes("teacher") || state.me.roles.includes("class_teacher")) return teacherThreadForm();
  const kids = subjectsOfThreads();
  if (!kids.length) return null;
  const child = el("select", { id: "thread-student" }, kids.map((k) => el("option", { value: String(k.id), text: k.name })));
  const teacher = el("select", { id: "thread-with" });
  const fill = async () => {
    const chosen = child.value;
    const r = await api("GET", `/api/v1/students/${chosen}/teachers`);
    if (child.value !== chosen) return; /* another child was picked meanwhile */
    /* A teacher picked while the list was loading stays picked if they teach this child. */
    const kept = teacher.value;
    teacher.replaceChildren(...(r.data?.items ?? []).map((x) => el("option", { value: String(x.id),
      text: `${x.name}${x.subjects ? " — " + x.subjects : ""}${x.class_teacher ? " (" + t("messages.class_teacher") + ")" : ""}` })));
    if ([...teacher.options].some((o) => o.value === kept)) teacher.value = kept;
  };
  child.addEventListener("change", fill);
  await fill();
  return threadForm([field("messages.about", child, "student_id"), field("messages.to", teacher, "with_id")],
    () => ({ student_id: Number(child.value), with_id: Number(teacher.value) }));
}

async function threadsView() {
  const r = await api("GET", "/api/v1/threads");
  if (r.status !== 200) { show(el("p", { class: "error", text: t("app.error") })); return; }
  const list = r.data.items.length
    ? el("ul", { class: "card feed threads" }, r.data.items.map((x) => el("li", { class: x.unread ? "unread" : "read" },
        el("a", { href: `/messages/${x.id}`, "data-link": "", class: "thread", text: x.title }),
        el("span", { class: "when", text: `${x.with.name} · ${x.student.name} · ${when(x.last_at)}${x.unread ? " · " + fmt.plural("shell.new_messages", x.unread) : ""}` }))))
    : el("p", { class: "card", text: t("messages.empty") });
  show(el("h1", { text: t("messages.heading") }), list, await newThreadForm());
}

async function threadView(id) {
  const r = await api("GET", `/api/v1/threads/${id}`);
  if (r.status !== 200) { show(el("p", { class: "error", text: t(r.status === 404 ? "app.not_found" : "app.error") })); return; }
  await api("POST", `/api/v1/threads/${id}/read`, {});
  refreshUnread();
  const text = el("textarea", { id: "reply-text", name: "text", rows: "3" });
  const error = el("p", { class: "error", role: "alert" });
  show(
    el("a", { href: "/messages", "data-link": "", text: t("messages.back") }),
    el("ul", { class: "card feed messages" }, r.data.messages.map((m) => el("li", { class: m.author.id === state.me.person_id ? "mine" : "" },
      el("span", { class: "when", text: `${m.author.name} · ${when(m.created_at)}` }),
      el("span", { class: "message-text", text: m.text })))),
    el("form", { class: "card reply", onsubmit: async (ev) => {
      ev.preventDefault();
      const p = await api("POST", `/api/v1/threads/${id}/messages`, { text: text.value });
      if (p.status === 201) threadView(id); else showError(p, ev.target, error);
    } }, field("shell.reply", text), error, el("button", { type: "submit", text: t("messages.send") })));
}
