// The library: search and browse, an item's page (cover, files, text, a test to take, the
// favourite star), the author's own items with a form for new ones, and the methodologist's
// review queue. Attaching an item to a lesson is in the journal's lesson dialog (journal.js
// uses librarySearchBox from here).
import { api, el, errorText, field, fmt, go, navigation, pages, show, showError, t, upload } from "./app.js";

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
      el("a", { href: `/library/items/${i.id}`, "data-link": "", class: "item-title", "data-verbatim": "", text: i.title }),
      el("div", { class: "muted small", text: [t(`library.type.${i.type}`), i.subject?.name,
        t("library.grades", { min: i.grades.min, max: i.grades.max }), t(`library.origin.${i.origin}`),
        i.status !== "approved" ? t(`library.status.${i.status}`) : null].filter(Boolean).join(" · ") }),
      i.description ? el("div", { class: "small", "data-verbatim": "", text: i.description }) : null,
      extra ?? null));
}

// A search box with results; `onPick` (optional) adds a button to each result.
export function librarySearchBox(onPick) {
  const q = el("input", { type: "search", name: "q", placeholder: t("library.search_placeholder"),
    "aria-label": t("library.editor.search_label") });
  const type = el("select", { name: "type", "aria-label": t("library.editor.type_label") },
    el("option", { value: "", text: t("library.all_types") }));
  itemTypes().then((list) => type.append(...list.map(typeOption)));
  const grade = el("select", { name: "grade", "aria-label": t("library.editor.grade_label") },
    el("option", { value: "", text: t("library.all_grades") }),
    Array.from({ length: 11 }, (_, k) => el("option", { value: String(k + 1), text: String(k + 1) })));
  const out = el("div", { class: "results" });
  const run = async (ev) => {
    ev?.preventDefault();
    const p = new URLSearchParams();
    if (q.value) p.set("q", q.value);
    if (type.value) p.set("type", type.value);
    if (grade.value) p.set("grade", grade.value);
    const r = await api("GET", `/api/v1/library/items?${p}`);
    if (r.status !== 200) { out.replaceChildren(el("p", { class: "error", text: errorText(r) })); return; }
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
  if (r.status !== 200) { show(el("p", { class: "error", text: errorText(r) })); return; }
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
      el("h1", { "data-verbatim": "", text: i.title }),
      // What the catalog names, and what the item's authors wrote (names, its licence) as data.
      el("p", { class: "muted" }, [t(`library.type.${i.type}`), i.subject?.name,
        t("library.grades", { min: i.grades.min, max: i.grades.max }),
        i.authors ? el("span", { "data-verbatim": "", text: i.authors }) : null,
        i.licence ? el("span", { translate: "no", text: i.licence }) : null,
        t(`library.origin.${i.origin}`), t(`library.status.${i.status}`)].filter(Boolean)
        .flatMap((x, n) => (n ? [" · ", x] : [x]))),
      i.updated_at ? el("p", { class: "muted small", id: "item-updated", text: t("library.editor.updated", { when: fmt.when(i.updated_at) }) }) : null,
      i.description ? el("p", { "data-verbatim": "", text: i.description }) : null,
      i.body ? el("div", { class: "body", text: i.body }) : null,
      i.review_comment ? el("p", { class: "comment", id: "review-comment", text: `${t("library.review_comment")}: ${i.review_comment}` }) : null,
      i.files.length ? el("ul", { class: "files" }, i.files.map((f) => el("li", {},
        el("a", { href: `/api/v1/library/files/${f.id}`, target: "_blank", rel: "noopener", class: "file", text: f.name })))) : null,
      i.status === "approved" ? star : null,
      el("a", { href: packageHref([i.id]), download: "", id: "download-package", class: "button secondary",
        text: t("library.download") })),
  ];
  if (i.mine) parts.push(authorTools(i));
  if (i.mine && i.questions && (i.status === "draft" || i.status === "rejected")) parts.push(questionEditor(i));
  else if (i.questions && !i.mine && i.status === "submitted") parts.push(answerKey(i));
  else if (i.questions) parts.push(testForm(i));
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
  const error = el("p", { class: "error", role: "alert" });
  let form = null;
  const fail = (r) => showError(r, form, error);
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
  // A test goes to review with its questions: the editor below must have saved them.
  const hint = i.type === "test" ? el("p", { class: "muted q-hint", text: t("library.editor.submit_hint") }) : null;
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
  form = el("form", { class: "card edit-item", id: "edit-item", onsubmit: save },
    el("h2", { text: i.revision_of ? t("library.edit_revision", { version: i.version }) : t("library.edit") }),
    field("library.new_title", title), field("library.description", description),
    field("library.body", body), field("library.add_file", file),
    el("div", { class: "toolbar" }, el("button", { type: "submit", text: t("library.save") }),
      el("button", { type: "button", class: "secondary", id: "submit-item", onclick: submit, text: t("library.submit") })),
    hint, error, el("p", { class: "error", role: "alert", "data-error-for": "questions" }));
  return form;
}

// The address of an offline package of these items: one signed file that `mesnode bundle open`
// checks and unpacks on a computer without a line.
function packageHref(ids) {
  return `/api/v1/library/package?items=${ids.join(",")}`;
}

// One's favourites, downloadable together as one offline package.
async function favouritesView() {
  const r = await api("GET", "/api/v1/library/favourites");
  if (r.status !== 200) { show(el("p", { class: "error", text: errorText(r) })); return; }
  const items = r.data.items ?? [];
  // show() would write a left-out part as the text «null»: only what is there goes in.
  show(...[el("h1", { text: t("library.favourites") }),
    items.length ? el("p", {}, el("a", { href: packageHref(items.slice(0, 100).map((i) => i.id)), download: "",
      id: "download-favourites", class: "button", text: t("library.download_all") }),
      el("span", { class: "muted small", text: ` ${t("library.download_hint")}` })) : null,
    items.length ? el("ul", { class: "items" }, items.map((i) => itemCard(i)))
      : el("p", { class: "card", id: "no-favourites", text: t("library.no_favourites") })].filter(Boolean));
}

// A test: the questions to answer; the server scores them and says which were right. Each
// answer sits on its own line with its box, its label tied to it; a matching question has a
// labelled list of the right-hand items for each left-hand one.
let seq = 0;
function testForm(i) {
  const result = el("p", { id: "test-result", class: "status", role: "status" });
  const inputs = i.questions.map((q) => {
    const base = `q${q.id}-${++seq}`;
    if (q.kind === "text") {
      const input = el("input", { name: `q${q.id}`, id: `${base}-text`, autocomplete: "off" });
      return { q, input, parts: [el("div", { class: "field" }, el("label", { for: input.id, text: t("library.editor.your_answer") }), input)] };
    }
    if (q.kind === "matching") {
      const selects = q.options.map((left, k) => el("select", { id: `${base}-${k}`, name: `q${q.id}-${k}` },
        el("option", { value: "", text: t("library.editor.choose") }),
        (q.matches ?? []).map((m) => el("option", { value: m, text: m }))));
      return { q, selects, parts: [el("div", { class: "matching" }, q.options.map((left, k) =>
        el("div", { class: "pair" }, el("label", { for: selects[k].id, text: left }), selects[k])))] };
    }
    const type = q.kind === "single" ? "radio" : "checkbox";
    const boxes = q.options.map((o, k) => el("input", { type, name: `q${q.id}`, value: String(k), id: `${base}-${k}` }));
    return { q, boxes, parts: q.options.map((o, k) => el("div", { class: "option" }, boxes[k],
      el("label", { for: boxes[k].id, text: o }))) };
  });
  const answerOf = ({ q, input, boxes, selects }) => {
    if (input) return input.value;
    if (selects) return selects.map((x) => x.value);
    const picked = boxes.filter((b) => b.checked).map((b) => Number(b.value));
    return q.kind === "single" ? (picked[0] ?? -1) : picked;
  };
  const submit = async (ev) => {
    ev.preventDefault();
    const answers = inputs.map((x) => ({ question_id: x.q.id, answer: answerOf(x) }));
    const r = await api("POST", `/api/v1/library/items/${i.id}/attempts`, { answers });
    if (r.status !== 201) { result.textContent = errorText(r); return; }
    result.textContent = t("library.score", { score: r.data.score, max: r.data.max_score });
    for (const x of r.data.results)
      document.querySelector(`[data-question='${x.question_id}']`)?.classList.toggle("wrong", !x.correct);
  };
  return el("form", { class: "card test", id: "test-form", onsubmit: submit },
    el("h2", { text: t("library.take_test") }),
    inputs.map(({ q, parts }, n) => el("fieldset", { "data-question": String(q.id), "data-kind": q.kind },
      el("legend", { text: `${n + 1}. ${q.prompt}` }), parts)),
    el("button", { type: "submit", text: t("library.check") }), result);
}

// A submitted test as its reviewer reads it: each question with its right answers.
function answerKey(i) {
  const box = el("section", { class: "card q-key", id: "answer-key" }, el("h2", { text: t("library.editor.key_title") }));
  (async () => {
    const r = await api("GET", `/api/v1/library/items/${i.id}/questions`);
    if (r.status !== 200) { box.append(el("p", { class: "error", text: errorText(r) })); return; }
    box.append(el("ol", {}, r.data.questions.map((q) => el("li", { "data-kind": q.kind },
      el("p", {}, el("strong", { text: q.prompt }), ` (${t(`library.editor.kind.${q.kind}`)}, ${fmt.plural("library.editor.points_n", q.points)})`),
      q.kind === "text" ? el("p", { text: `${t("library.editor.accepted_list")}: ${q.answer.join("; ")}` })
        : q.kind === "matching" ? el("ul", {}, q.options.map((l, k) => el("li", { text: `${l} → ${q.answer[k]}` })))
          : el("ul", {}, q.options.map((o, k) => el("li", { class: q.answer.includes(k) ? "right" : "" },
            q.answer.includes(k) ? `✓ ${o} — ${t("library.editor.right_mark")}` : o)))))));
  })();
  return box;
}

// ---- The question editor: the author of a test, while it is a draft or was returned ----
//
// The questions live in `qs` (the form PUT takes, with the key in each); every change of a
// control writes into it at once, and adding, removing or moving redraws the list. Saving sends
// them all; a refused question's error shows beside its field (questions[N].FIELD).

const KINDS = ["single", "multiple", "text", "matching"];

function blankQuestion(kind) {
  if (kind === "text") return { kind, prompt: "", points: 1, options: [], answer: [""] };
  if (kind === "matching") return { kind, prompt: "", points: 1, options: ["", ""], answer: ["", ""] };
  return { kind, prompt: "", points: 1, options: ["", ""], answer: [] };
}

// Changes question `q` to another kind, keeping what still fits.
function rekind(q, kind) {
  const fresh = blankQuestion(kind);
  fresh.prompt = q.prompt;
  fresh.points = q.points;
  if ((kind === "single" || kind === "multiple") && (q.kind === "single" || q.kind === "multiple")) {
    fresh.options = q.options;
    fresh.answer = kind === "single" ? q.answer.slice(0, 1) : q.answer;
  }
  return fresh;
}

function input(attrs, value, onChange) {
  const x = el("input", { ...attrs });
  x.value = value ?? "";
  x.addEventListener("input", () => onChange(x.value));
  return x;
}

function errorLine(name) {
  return el("p", { class: "error field-error", role: "alert", "data-error-for": name });
}

function questionEditor(item) {
  const box = el("section", { class: "card q-editor", id: "question-editor" },
    el("h2", { text: t("library.editor.title") }), el("p", { text: t("app.loading") }));
  (async () => {
    const r = await api("GET", `/api/v1/library/items/${item.id}/questions`);
    if (r.status !== 200) { box.replaceChildren(el("p", { class: "error", text: errorText(r) })); return; }
    const qs = r.data.questions.map(({ kind, prompt, options, answer, points }) => ({ kind, prompt, options, answer, points }));
    drawEditor(box, item, qs);
  })();
  return box;
}

function drawEditor(box, item, qs) {
  const general = el("p", { class: "error", role: "alert", id: "editor-error" });
  const status = el("p", { class: "status", role: "status", id: "editor-status" });
  const redraw = () => drawEditor(box, item, qs);
  const list = el("ol", { class: "q-list" }, qs.map((q, n) => questionCard(q, n, qs, redraw)));
  const kind = el("select", { name: "new-kind", id: `new-kind-${item.id}` },
    KINDS.map((k) => el("option", { value: k, text: t(`library.editor.kind.${k}`) })));
  const add = el("button", { type: "button", class: "secondary", id: "add-question", text: t("library.editor.add"),
    onclick: () => { qs.push(blankQuestion(kind.value)); redraw(); box.querySelector(".q-list > li:last-child textarea")?.focus(); } });
  const save = async (ev) => {
    ev.preventDefault();
    status.textContent = "";
    const r = await api("PUT", `/api/v1/library/items/${item.id}/questions`, { questions: qs });
    if (r.status === 200) {
      for (const e of box.querySelectorAll("[data-error-for]")) e.textContent = "";
      general.textContent = "";
      status.textContent = fmt.plural("library.editor.saved", qs.length);
    }
    else showError(r, box, general);
  };
  box.replaceChildren(el("form", { onsubmit: save },
    el("h2", { text: t("library.editor.title") }),
    qs.length ? list : el("p", { class: "muted", id: "no-questions", text: t("library.editor.empty") }),
    errorLine("questions"),
    el("div", { class: "toolbar q-add" },
      el("label", { for: kind.id, text: t("library.editor.new_kind") }), kind, add),
    el("div", { class: "toolbar" }, el("button", { type: "submit", id: "save-questions", text: t("library.editor.save") })),
    general, status));
}

function questionCard(q, n, qs, redraw) {
  const id = (part) => `q-${n}-${part}`;
  const name = (f) => `questions[${n}].${f}`;
  const kind = el("select", { id: id("kind") }, KINDS.map((k) => {
    const o = el("option", { value: k, text: t(`library.editor.kind.${k}`) });
    if (k === q.kind) o.selected = true;
    return o;
  }));
  kind.addEventListener("change", () => { qs[n] = rekind(q, kind.value); redraw(); });
  const prompt = el("textarea", { id: id("prompt"), rows: "2" });
  prompt.value = q.prompt;
  prompt.addEventListener("input", () => { q.prompt = prompt.value; });
  const points = input({ id: id("points"), type: "number", min: "1", max: "100", class: "q-points" }, String(q.points),
    (v) => { q.points = Number(v); });
  const move = (to) => { const [x] = qs.splice(n, 1); qs.splice(to, 0, x); redraw(); };
  const tools = el("div", { class: "q-tools" },
    el("button", { type: "button", class: "secondary q-up", "aria-label": t("library.editor.up_label", { n: n + 1 }),
      text: "↑", onclick: () => move(n - 1) }),
    el("button", { type: "button", class: "secondary q-down", "aria-label": t("library.editor.down_label", { n: n + 1 }),
      text: "↓", onclick: () => move(n + 1) }),
    el("button", { type: "button", class: "secondary q-delete", text: t("library.editor.delete"),
      "aria-label": t("library.editor.delete_label", { n: n + 1 }), onclick: () => { qs.splice(n, 1); redraw(); } }));
  tools.querySelector(".q-up").disabled = n === 0;
  tools.querySelector(".q-down").disabled = n === qs.length - 1;
  return el("li", { class: "q-card", "data-kind": q.kind },
    el("div", { class: "q-head" }, el("strong", { text: t("library.editor.number", { n: n + 1 }) }), tools),
    el("div", { class: "q-row" },
      el("div", { class: "field" }, el("label", { for: kind.id, text: t("library.editor.kind_label") }), kind, errorLine(name("kind"))),
      el("div", { class: "field" }, el("label", { for: points.id, text: t("library.editor.points") }), points, errorLine(name("points")))),
    el("div", { class: "field" }, el("label", { for: prompt.id, text: t("library.editor.prompt") }), prompt, errorLine(name("prompt"))),
    q.kind === "text" ? textAnswers(q, n, redraw) : q.kind === "matching" ? pairRows(q, n, redraw) : choiceRows(q, n, redraw),
    errorLine(name("options")), errorLine(name("answer")));
}

// Choices: each option with its "right answer" box (a radio for single, a checkbox for multiple).
function choiceRows(q, n, redraw) {
  const type = q.kind === "single" ? "radio" : "checkbox";
  return el("div", { class: "q-options" },
    el("p", { class: "muted q-hint", text: t(q.kind === "single" ? "library.editor.mark_one" : "library.editor.mark_some") }),
    q.options.map((o, k) => {
      const right = el("input", { type, name: `q-${n}-right`, id: `q-${n}-right-${k}` });
      right.checked = q.answer.includes(k);
      right.addEventListener("change", () => {
        q.answer = type === "radio" ? [k] : right.checked ? [...q.answer, k].sort((a, b) => a - b) : q.answer.filter((x) => x !== k);
      });
      const text = input({ id: `q-${n}-option-${k}`, class: "q-option-text" }, o, (v) => { q.options[k] = v; });
      const remove = el("button", { type: "button", class: "secondary q-remove", text: "×",
        "aria-label": t("library.editor.remove_option", { n: k + 1 }), onclick: () => {
          q.options.splice(k, 1);
          q.answer = q.answer.filter((x) => x !== k).map((x) => (x > k ? x - 1 : x));
          redraw();
        } });
      return el("div", { class: "q-option" }, right,
        el("label", { for: right.id, class: "lib-sr", text: t("library.editor.right_label", { n: k + 1 }) }),
        el("label", { for: text.id, class: "lib-sr", text: t("library.editor.option_label", { n: k + 1 }) }),
        text, remove);
    }),
    el("button", { type: "button", class: "secondary q-add-option", text: t("library.editor.add_option"),
      onclick: () => { q.options.push(""); redraw(); } }));
}

// A short answer: the accepted texts.
function textAnswers(q, n, redraw) {
  return el("div", { class: "q-options" },
    el("p", { class: "muted q-hint", text: t("library.editor.accepted_hint") }),
    q.answer.map((a, k) => {
      const text = input({ id: `q-${n}-accepted-${k}`, class: "q-accepted" }, a, (v) => { q.answer[k] = v; });
      return el("div", { class: "q-option" },
        el("label", { for: text.id, text: t("library.editor.accepted", { n: k + 1 }) }), text,
        q.answer.length > 1 ? el("button", { type: "button", class: "secondary q-remove", text: "×",
          "aria-label": t("library.editor.remove_accepted", { n: k + 1 }), onclick: () => { q.answer.splice(k, 1); redraw(); } }) : null);
    }),
    el("button", { type: "button", class: "secondary q-add-accepted", text: t("library.editor.add_accepted"),
      onclick: () => { q.answer.push(""); redraw(); } }));
}

// Matching: pairs, the left-hand item and the right-hand one that goes with it; the student
// gets the right-hand items shuffled.
function pairRows(q, n, redraw) {
  return el("div", { class: "q-options" },
    el("p", { class: "muted q-hint", text: t("library.editor.pairs_hint") }),
    q.options.map((left, k) => {
      const l = input({ id: `q-${n}-left-${k}`, class: "q-left" }, left, (v) => { q.options[k] = v; });
      const r = input({ id: `q-${n}-right-${k}`, class: "q-right" }, q.answer[k], (v) => { q.answer[k] = v; });
      return el("div", { class: "q-pair" },
        el("div", { class: "field" }, el("label", { for: l.id, text: t("library.editor.left", { n: k + 1 }) }), l),
        el("span", { class: "q-arrow", "aria-hidden": "true", text: "→" }),
        el("div", { class: "field" }, el("label", { for: r.id, text: t("library.editor.right", { n: k + 1 }) }), r),
        el("button", { type: "button", class: "secondary q-remove", text: "×",
          "aria-label": t("library.editor.remove_pair", { n: k + 1 }), onclick: () => {
            q.options.splice(k, 1); q.answer.splice(k, 1); redraw();
          } }));
    }),
    el("button", { type: "button", class: "secondary q-add-pair", text: t("library.editor.add_pair"),
      onclick: () => { q.options.push(""); q.answer.push(""); redraw(); } }));
}

// The author's items: every state, with the verdicts; a form for a new one.
async function mineView() {
  const r = await api("GET", "/api/v1/library/items?mine=1&limit=100");
  const subjects = (await api("GET", "/api/v1/subjects")).data?.items ?? [];
  const title = el("input", { name: "title" });
  const type = el("select", { name: "type" }, (await itemTypes()).map(typeOption));
  const subject = el("select", { name: "subject_id" }, el("option", { value: "", text: t("library.editor.no_subject") }),
    subjects.map((s) => el("option", { value: String(s.id), text: s.name })));
  const gmin = el("input", { type: "number", name: "grade_min", min: "1", max: "11", value: "5" });
  const gmax = el("input", { type: "number", name: "grade_max", min: "1", max: "11", value: "5" });
  const description = el("textarea", { name: "description", rows: "2" });
  const error = el("p", { class: "error", role: "alert" });
  let form = null;
  const create = async (ev) => {
    ev.preventDefault();
    const c = await api("POST", "/api/v1/library/items", { type: type.value, title: title.value, description: description.value,
      subject_id: subject.value ? Number(subject.value) : null, grade_min: Number(gmin.value), grade_max: Number(gmax.value) });
    if (c.status === 201) go(`/library/items/${c.data.id}`); else showError(c, form, error);
  };
  const submit = async (i) => {
    const s = await api("POST", `/api/v1/library/items/${i.id}/submit`);
    if (s.status === 200) mineView(); else showError(s, null, error);
  };
  form = el("form", { class: "card new-item", id: "new-item", onsubmit: create },
    el("h2", { text: t("library.new") }),
    field("library.new_title", title), field("library.editor.type_label", type),
    field("library.editor.subject", subject),
    el("div", { class: "q-row" }, field("library.editor.grade_min", gmin), field("library.editor.grade_max", gmax)),
    field("library.description", description),
    el("button", { type: "submit", text: t("library.create") }), error);
  show(
    el("h1", { text: t("library.mine") }),
    form,
    r.status === 200 ? el("ul", { class: "items" }, r.data.items.map((i) => itemCard(i,
      i.status === "draft" || i.status === "rejected"
        ? el("button", { type: "button", class: "submit-item", onclick: () => submit(i), text: t("library.submit") }) : null)))
      : el("p", { class: "error", text: errorText(r) }));
}

// The methodologist's queue: approve, return to the author for changes, or reject; returning
// and rejecting need a comment for the author, who is notified of the verdict.
async function reviewView() {
  const r = await api("GET", "/api/v1/library/items?status=submitted&limit=100");
  if (r.status !== 200) { show(el("p", { class: "error", text: errorText(r) })); return; }
  show(el("h1", { text: t("library.review") }),
    r.data.items.length ? el("ul", { class: "items" }, r.data.items.map((i) => {
      const comment = el("textarea", { name: "comment", rows: "2", id: `comment-${i.id}` });
      const error = el("p", { class: "error", role: "alert" });
      let box = null;
      const verdict = async (v) => {
        const s = await api("POST", `/api/v1/library/items/${i.id}/review`, { verdict: v, comment: comment.value });
        if (s.status === 200) reviewView(); else showError(s, box, error);
      };
      box = el("div", { class: "review" }, field("library.comment", comment, "comment"),
        el("div", { class: "toolbar" },
          el("button", { type: "button", class: "approve", onclick: () => verdict("approve"), text: t("library.approve") }),
          el("button", { type: "button", class: "secondary return", onclick: () => verdict("return"), text: t("library.editor.return") }),
          el("button", { type: "button", class: "secondary reject", onclick: () => verdict("reject"), text: t("library.editor.reject") })),
        el("p", { class: "error field-error", role: "alert", "data-error-for": "verdict" }), error);
      return itemCard(i, box);
    })) : el("p", { class: "card", text: t("library.queue_empty") }));
}
