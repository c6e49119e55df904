// The library: search and browse, an item's page (cover, files, text, a test to take, the
// favourite star), the author's own items with a form for new ones, and the methodologist's
// review queue. Attaching an item to a lesson is in the journal's lesson dialog (journal.js
// uses librarySearchBox from here).
import { api, el, go, navigation, pages, show, t, upload } from "./app.js";

navigation.push(
  { key: "nav.library", href: "/library", roles: ["teacher", "class_teacher", "student", "parent", "methodologist", "school_admin", "admin"] },
  { key: "nav.library_favourites", href: "/library/favourites", roles: ["teacher", "class_teacher", "student", "parent", "methodologist", "school_admin", "admin"] },
  { key: "nav.library_mine", href: "/library/mine", roles: ["teacher", "methodologist"] },
  { key: "nav.library_review", href: "/library/review", roles: ["methodologist"] },
);

pages.push(
  { path: /^\/library$/, view: searchView },
  { path: /^\/library\/items\/(\d+)$/, view: itemView },
  { path: /^\/library\/mine$/, view: mineView },
  { path: /^\/library\/favourites$/, view: favouritesView },
  { path: /^\/library\/review$/, view: reviewView },
);

// The item types as the node lists them (GET /api/v1/library/types, the one list), asked for
// once; a failed answer is asked again next time.
let types = null;
function itemTypes() {
  types ??= api("GET", "/api/v1/library/types").then((r) => {
    if (r.status === 200) return r.data.types;
    types = null;
    return [];
  });
  return types;
}

function typeOption(x) {
  return el("option", { value: x, text: t(`library.type.${x}`) });
}

function itemCard(i, extra) {
  return el("li", { class: "item", "data-item": String(i.id) },
    i.cover ? el("img", { class: "cover", src: i.cover, alt: "", width: 48, height: 48 }) : null,
    el("div", {},
      el("a", { href: `/library/items/${i.id}`, "data-link": "", class: "item-title", text: i.title }),
      el("div", { class: "muted small", text: [t(`library.type.${i.type}`), i.subject?.name,
        t("library.grades", { min: i.grades.min, max: i.grades.max }), t(`library.origin.${i.origin}`),
        i.status !== "approved" ? t(`library.status.${i.status}`) : null].filter(Boolean).join(" · ") }),
      i.description ? el("div", { class: "small", text: i.description }) : null,
      extra ?? null));
}

// A search box with results; `onPick` (optional) adds a button to each result.
export function librarySearchBox(onPick) {
  const q = el("input", { type: "search", name: "q", placeholder: t("library.search_placeholder") });
  const type = el("select", { name: "type" }, el("option", { value: "", text: t("library.all_types") }));
  itemTypes().then((list) => type.append(...list.map(typeOption)));
  const grade = el("select", { name: "grade" }, el("option", { value: "", text: t("library.all_grades") }),
    Array.from({ length: 11 }, (_, k) => el("option", { value: String(k + 1), text: String(k + 1) })));
  const out = el("div", { class: "results" });
  const run = async (ev) => {
    ev?.preventDefault();
    const p = new URLSearchParams();
    if (q.value) p.set("q", q.value);
    if (type.value) p.set("type", type.value);
    if (grade.value) p.set("grade", grade.value);
    const r = await api("GET", `/api/v1/library/items?${p}`);
    if (r.status !== 200) { out.replaceChildren(el("p", { class: "error", text: t("app.error") })); return; }
    out.replaceChildren(
      el("p", { class: "muted", id: "library-total", text: t("library.found", { total: r.data.total }) }),
      el("ul", { class: "items" }, r.data.items.map((i) => itemCard(i, onPick
        ? el("button", { type: "button", class: "pick", "data-item": String(i.id), onclick: () => onPick(i), text: t("library.attach") })
        : null))));
  };
  const form = el("form", { class: "library-search", onsubmit: run }, q, type, grade,
    el("button", { type: "submit", text: t("library.search") }));
  run();
  return el("div", {}, form, out);
}

function searchView() {
  show(el("h1", { text: t("library.title") }), librarySearchBox());
}

async function itemView(id) {
  const r = await api("GET", `/api/v1/library/items/${id}`);
  if (r.status !== 200) { show(el("p", { class: "error", text: t(r.status === 404 ? "app.not_found" : "app.error") })); return; }
  const i = r.data;
  const star = el("button", { type: "button", id: "favourite", class: "secondary",
    text: t(i.favourite ? "library.unstar" : "library.star") });
  star.addEventListener("click", async () => {
    const s = await api(i.favourite ? "DELETE" : "PUT", `/api/v1/library/items/${id}/favourite`);
    if (s.status === 200) itemView(id);
  });
  const parts = [
    el("a", { href: "/library", "data-link": "", text: t("library.back") }),
    el("article", { class: "card library-item" },
      i.cover ? el("img", { class: "cover-large", src: i.cover, alt: t("library.cover") }) : null,
      el("h1", { text: i.title }),
      el("p", { class: "muted", text: [t(`library.type.${i.type}`), i.subject?.name,
        t("library.grades", { min: i.grades.min, max: i.grades.max }), i.authors, i.licence,
        t(`library.origin.${i.origin}`), t(`library.status.${i.status}`)].filter(Boolean).join(" · ") }),
      i.description ? el("p", { text: i.description }) : null,
      i.body ? el("div", { class: "body", text: i.body }) : null,
      i.review_comment ? el("p", { class: "comment", id: "review-comment", text: `${t("library.review_comment")}: ${i.review_comment}` }) : null,
      i.files.length ? el("ul", { class: "files" }, i.files.map((f) => el("li", {},
        el("a", { href: `/api/v1/library/files/${f.id}`, target: "_blank", rel: "noopener", class: "file", text: f.name })))) : null,
      i.status === "approved" ? star : null,
      el("a", { href: packageHref([i.id]), download: "", id: "download-package", class: "button secondary",
        text: t("library.download") })),
  ];
  if (i.mine) parts.push(authorTools(i));
  if (i.questions) parts.push(testForm(i));
  show(...parts);
}

// Proposing an approved item of the region for the shared library, and the hub's verdict.
function contributionTools(i, fail) {
  const box = el("span", { id: "contribution" });
  (async () => {
    const r = await api("GET", `/api/v1/library/items/${i.id}/contributions`);
    const last = r.data?.items?.[0];
    const propose = async () => {
      const p = await api("POST", `/api/v1/library/items/${i.id}/contribute`);
      if (p.status === 201) itemView(i.id); else fail(p);
    };
    const button = el("button", { type: "button", class: "secondary", id: "contribute", onclick: propose, text: t("library.contribute") });
    if (!last) { box.replaceChildren(button); return; }
    box.replaceChildren(el("span", { class: "muted", id: "contribution-status",
      text: t(`library.contribution.${last.status}`) + (last.comment ? ` — ${last.comment}` : "") }),
    last.status === "rejected" ? button : "");
  })();
  return box;
}

// The author's tools on their item's page: edit and add files while it is a draft (or was
// returned), send it for review; for an approved item, open a new version, which replaces
// it once a methodologist approves it.
function authorTools(i) {
  const error = el("p", { class: "error" });
  const fail = (r) => { error.textContent = r.data?.error?.message ?? t("app.error"); };
  if (i.status === "approved") {
    if (i.origin === "hub") return el("div");
    if (i.revision) return el("p", { class: "card" }, el("a", { href: `/library/items/${i.revision}`, "data-link": "",
      id: "open-revision", text: t("library.open_revision") }));
    const revise = async () => {
      const r = await api("POST", `/api/v1/library/items/${i.id}/revisions`);
      if (r.status === 201) go(`/library/items/${r.data.id}`); else fail(r);
    };
    return el("div", { class: "card" }, el("button", { type: "button", id: "revise", onclick: revise,
      text: t("library.revise") }), " ", contributionTools(i, fail), error);
  }
  if (i.status !== "draft" && i.status !== "rejected") return el("div");
  const title = el("input", { name: "title", value: i.title });
  const description = el("textarea", { name: "description", rows: "2" }, i.description);
  const body = el("textarea", { name: "body", rows: "8" }, i.body);
  const file = el("input", { type: "file", name: "file" });
  const save = async (ev) => {
    ev.preventDefault();
    const r = await api("PATCH", `/api/v1/library/items/${i.id}`, { title: title.value,
      description: description.value, body: body.value });
    if (r.status !== 200) { fail(r); return; }
    if (file.files[0]) {
      const u = await upload(`/api/v1/library/items/${i.id}/files`, file.files[0]);
      if (u.status !== 201) { fail(u); return; }
    }
    itemView(i.id);
  };
  const submit = async () => {
    const r = await api("POST", `/api/v1/library/items/${i.id}/submit`);
    if (r.status === 200) itemView(i.id); else fail(r);
  };
  return el("form", { class: "card edit-item", id: "edit-item", onsubmit: save },
    el("h2", { text: i.revision_of ? t("library.edit_revision", { version: i.version }) : t("library.edit") }),
    el("label", { text: t("library.new_title") }), title,
    el("label", { text: t("library.description") }), description,
    el("label", { text: t("library.body") }), body,
    el("label", { text: t("library.add_file") }), file,
    el("div", { class: "toolbar" }, el("button", { type: "submit", text: t("library.save") }),
      el("button", { type: "button", class: "secondary", id: "submit-item", onclick: submit, text: t("library.submit") })),
    error);
}

// The address of an offline package of these items: one signed file that `mesnode bundle open`
// checks and unpacks on a computer without a line.
function packageHref(ids) {
  return `/api/v1/library/package?items=${ids.join(",")}`;
}

// One's favourites, downloadable together as one offline package.
async function favouritesView() {
  const r = await api("GET", "/api/v1/library/favourites");
  if (r.status !== 200) { show(el("p", { class: "error", text: t("app.error") })); return; }
  const items = r.data.items;
  show(el("h1", { text: t("library.favourites") }),
    items.length ? el("p", {}, el("a", { href: packageHref(items.slice(0, 100).map((i) => i.id)), download: "",
      id: "download-favourites", class: "button", text: t("library.download_all") }),
      el("span", { class: "muted small", text: ` ${t("library.download_hint")}` })) : null,
    items.length ? el("ul", { class: "items" }, items.map((i) => itemCard(i)))
      : el("p", { class: "card", text: t("library.no_favourites") }));
}

// A test: the questions to answer; the server scores them and says which were right.
function testForm(i) {
  const result = el("p", { id: "test-result", class: "status" });
  const inputs = i.questions.map((q) => {
    if (q.kind === "text") return { q, input: el("input", { name: `q${q.id}` }) };
    const type = q.kind === "single" ? "radio" : "checkbox";
    return { q, boxes: q.options.map((o, k) => el("label", { class: "option" },
      el("input", { type, name: `q${q.id}`, value: String(k) }), ` ${o}`)) };
  });
  const submit = async (ev) => {
    ev.preventDefault();
    const answers = inputs.map(({ q, input, boxes }) => ({ question_id: q.id, answer: input ? input.value
      : q.kind === "single" ? Number(boxes.find((b) => b.querySelector("input").checked)?.querySelector("input").value ?? -1)
        : boxes.filter((b) => b.querySelector("input").checked).map((b) => Number(b.querySelector("input").value)) }));
    const r = await api("POST", `/api/v1/library/items/${i.id}/attempts`, { answers });
    if (r.status !== 201) { result.textContent = t("app.error"); return; }
    result.textContent = t("library.score", { score: r.data.score, max: r.data.max_score });
    for (const x of r.data.results)
      document.querySelector(`[data-question='${x.question_id}']`)?.classList.toggle("wrong", !x.correct);
  };
  return el("form", { class: "card test", id: "test-form", onsubmit: submit },
    el("h2", { text: t("library.take_test") }),
    inputs.map(({ q, input, boxes }, n) => el("fieldset", { "data-question": String(q.id) },
      el("legend", { text: `${n + 1}. ${q.prompt}` }), input ?? boxes)),
    el("button", { type: "submit", text: t("library.check") }), result);
}

// The author's items: every state, with the verdicts; a form for a new one.
async function mineView() {
  const r = await api("GET", "/api/v1/library/items?mine=1&limit=100");
  const subjects = (await api("GET", "/api/v1/subjects")).data?.items ?? [];
  const title = el("input", { name: "title", placeholder: t("library.new_title") });
  const type = el("select", { name: "type" }, (await itemTypes()).map(typeOption));
  const subject = el("select", { name: "subject" }, el("option", { value: "", text: "—" }),
    subjects.map((s) => el("option", { value: String(s.id), text: s.name })));
  const gmin = el("input", { type: "number", name: "grade_min", min: "1", max: "11", value: "5" });
  const gmax = el("input", { type: "number", name: "grade_max", min: "1", max: "11", value: "5" });
  const description = el("textarea", { name: "description", rows: "2", placeholder: t("library.description") });
  const error = el("p", { class: "error" });
  const create = async (ev) => {
    ev.preventDefault();
    const c = await api("POST", "/api/v1/library/items", { type: type.value, title: title.value, description: description.value,
      subject_id: subject.value ? Number(subject.value) : null, grade_min: Number(gmin.value), grade_max: Number(gmax.value) });
    if (c.status === 201) mineView(); else error.textContent = c.data?.error?.message ?? t("app.error");
  };
  const submit = async (i) => {
    const s = await api("POST", `/api/v1/library/items/${i.id}/submit`);
    if (s.status === 200) mineView(); else error.textContent = s.data?.error?.message ?? t("app.error");
  };
  show(
    el("h1", { text: t("library.mine") }),
    el("form", { class: "card new-item", onsubmit: create },
      el("h2", { text: t("library.new") }), title, type, subject,
      el("label", { text: t("library.grades_label") }), gmin, gmax, description,
      el("button", { type: "submit", text: t("library.create") }), error),
    r.status === 200 ? el("ul", { class: "items" }, r.data.items.map((i) => itemCard(i,
      i.status === "draft" || i.status === "rejected"
        ? el("button", { type: "button", class: "submit-item", onclick: () => submit(i), text: t("library.submit") }) : null)))
      : el("p", { class: "error", text: t("app.error") }));
}

// The methodologist's queue: approve, or reject with a comment for the author.
async function reviewView() {
  const r = await api("GET", "/api/v1/library/items?status=submitted&limit=100");
  if (r.status !== 200) { show(el("p", { class: "error", text: t("app.forbidden") })); return; }
  const verdict = async (i, v, comment) => {
    const s = await api("POST", `/api/v1/library/items/${i.id}/review`, { verdict: v, comment });
    if (s.status === 200) reviewView(); else alert(s.data?.error?.message ?? t("app.error"));
  };
  show(el("h1", { text: t("library.review") }),
    r.data.items.length ? el("ul", { class: "items" }, r.data.items.map((i) => {
      const comment = el("input", { name: "comment", placeholder: t("library.comment") });
      return itemCard(i, el("div", { class: "review" }, comment,
        el("button", { type: "button", class: "approve", onclick: () => verdict(i, "approve", comment.value), text: t("library.approve") }),
        el("button", { type: "button", class: "secondary reject", onclick: () => verdict(i, "reject", comment.value), text: t("library.reject") })));
    })) : el("p", { class: "card", text: t("library.queue_empty") }));
}
