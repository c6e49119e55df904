// Certificates of study. /students/{id}/certificates: a child's issued certificates (for a
// parent, or the school's admin) and the form to request one with a purpose; asking again the
// same day for the same purpose opens the one already issued instead of a new number.
// /certificates/{id}?s=...: the printable certificate anyone with its link can open and check;
// the node verifies its Ed25519 signature and shows whether it is valid.
import { api, el, errorText, field, fmt, pages, show, showError, t } from "./app.js";

pages.push({ path: /^\/certificates\/(\d+)$/, view: certificateView, open: true });
pages.push({ path: /^\/students\/(\d+)\/certificates$/, view: certificatesView });

// The common purposes, in the words that follow «Справка выдана для предъявления».
const PURPOSES = ["requirement", "social", "clinic", "military", "sfr", "work", "sport"];

async function certificatesView(id) {
  show(el("p", { text: t("app.loading") }));
  const [student, list] = await Promise.all([
    api("GET", `/api/v1/students/${id}`),
    api("GET", `/api/v1/students/${id}/certificates`),
  ]);
  if (list.status !== 200 || student.status !== 200) {
    show(el("p", { class: "error", id: "certificates-error", text: errorText(list.status !== 200 ? list : student) }));
    return;
  }
  const name = student.data.name;

  const choice = el("select", { name: "purpose_choice" },
    PURPOSES.map((k) => el("option", { value: t(`certificate.purposes.${k}`), text: t(`certificate.purposes.${k}`) })),
    el("option", { value: "", text: t("certificate.purposes.other") }));
  const other = el("input", { name: "purpose", maxlength: "200", autocomplete: "off" });
  const otherField = field("certificate.purpose_other", other);
  otherField.hidden = true;
  choice.addEventListener("change", () => {
    otherField.hidden = choice.value !== "";
    if (!otherField.hidden) other.focus();
  });
  const result = el("p", { id: "certificate-result", role: "status", class: "certificate-result" });
  const general = el("p", { class: "error", role: "alert" });
  const submit = el("button", { type: "submit", text: t("certificate.submit") });
  const listBox = el("div", { id: "certificates-list" });

  const form = el("form", { class: "certificate-request", onsubmit: async (ev) => {
    ev.preventDefault();
    result.replaceChildren();
    const purpose = choice.value || other.value.trim();
    for (const e of form.querySelectorAll("[data-error-for]")) e.textContent = "";
    general.textContent = "";
    if (!purpose) { // the free text, left empty
      form.querySelector('[data-error-for="purpose"]').textContent = t("error.bad_request.purpose");
      other.focus();
      return;
    }
    submit.disabled = true;
    const r = await api("POST", `/api/v1/students/${id}/certificates`, { purpose });
    submit.disabled = false;
    if (r.status !== 200 && r.status !== 201) { showError(r, form, general); return; }
    const link = el("a", { href: r.data.url, "data-link": "", class: "certificate-open",
      text: t("certificate.open", { number: r.data.number }) });
    result.append(t(r.status === 201 ? "certificate.created" : "certificate.existing", { number: r.data.number }), " ", link);
    await refresh(r.data.id);
  } },
  field("certificate.purpose_label", choice), otherField, general, submit, result);

  async function refresh(fresh) {
    const r = await api("GET", `/api/v1/students/${id}/certificates`);
    if (r.status !== 200) { listBox.replaceChildren(el("p", { class: "error", text: errorText(r) })); return; }
    listBox.replaceChildren(renderList(r.data.items, fresh));
  }

  show(
    el("a", { href: `/students/${id}`, "data-link": "", text: t("certificate.back") }),
    el("h1", { text: t("certificate.list_title", { name }) }),
    el("section", { class: "card" }, el("h2", { text: t("certificate.request_title") }), form),
    el("section", { class: "card" }, el("h2", { text: t("certificate.issued_title") }), listBox));
  listBox.replaceChildren(renderList(list.data.items));
}

function renderList(items, fresh) {
  if (!items.length) return el("p", { class: "muted", id: "certificates-none", text: t("certificate.none") });
  return el("table", { class: "certificates" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: t("certificate.col.number") }),
      el("th", { scope: "col", text: t("certificate.col.date") }),
      el("th", { scope: "col", text: t("certificate.col.purpose") }))),
    el("tbody", {}, items.map((c) => el("tr", { class: c.id === fresh ? "fresh" : "", "data-id": String(c.id) },
      el("td", {}, el("a", { href: c.url, "data-link": "", class: "certificate-link",
        "aria-label": t("certificate.open", { number: c.number }), text: t("certificate.number", { number: c.number }) })),
      el("td", { text: fmt.date(c.issued_on) }),
      el("td", { class: "purpose", text: c.purpose })))));
}

async function certificateView(id) {
  const s = new URLSearchParams(location.search).get("s") ?? "";
  const r = await api("GET", `/api/v1/certificates/${id}?s=${encodeURIComponent(s)}`);
  if (r.status !== 200) { show(el("p", { class: "error", id: "certificate-status", text: t("certificate.not_found") })); return; }
  const c = r.data.certificate;
  // Certificates issued before the Russian text was signed with them: the catalog's sentence.
  const text = c.text ?? t("certificate.text", { student: c.student, birth: fmt.date(c.birth_date),
    institution: c.institution, class: c.class, year: c.year });
  show(el("article", { class: "card certificate" },
    el("p", { class: "muted", text: c.region }),
    c.text ? el("p", { class: "institution", text: c.institution }) : null,
    el("h1", { text: t("certificate.title", { number: c.number }) }),
    el("p", { id: "certificate-text", text }),
    el("p", { text: t("certificate.purpose", { purpose: c.purpose }) }),
    el("p", { id: "certificate-date", text: t("certificate.issued", { date: fmt.date(c.issued_on) }) }),
    el("p", { id: "certificate-status", class: r.data.valid ? "valid" : "error",
      text: t(r.data.valid ? "certificate.valid" : "certificate.invalid") }),
    el("div", { class: "qr" },
      el("img", { id: "certificate-qr", alt: t("certificate.qr"), width: 132, height: 132,
        src: `/api/v1/certificates/${id}/qr?s=${encodeURIComponent(s)}` }),
      el("p", { class: "muted small", id: "certificate-link", text: t("certificate.check", { url: r.data.link }) })),
    el("p", { class: "muted small key", text: `Ed25519 · ${r.data.public_key}` }),
    el("button", { type: "button", class: "no-print", onclick: () => window.print(), text: t("certificate.print") })));
}
