// The certificate of study: a printable page anyone with its link can open and check; the
// node verifies its Ed25519 signature and shows whether it is valid.
import { api, el, pages, show, t } from "./app.js";

pages.push({ path: /^\/certificates\/(\d+)$/, view: certificateView, open: true });

async function certificateView(id) {
  const s = new URLSearchParams(location.search).get("s") ?? "";
  const r = await api("GET", `/api/v1/certificates/${id}?s=${encodeURIComponent(s)}`);
  if (r.status !== 200) { show(el("p", { class: "error", id: "certificate-status", text: t("certificate.not_found") })); return; }
  const c = r.data.certificate;
  show(el("article", { class: "card certificate" },
    el("p", { class: "muted", text: c.region }),
    el("h1", { text: t("certificate.title", { number: c.number }) }),
    el("p", { text: t("certificate.text", { student: c.student, birth: c.birth_date, institution: c.institution, class: c.class, year: c.year }) }),
    el("p", { text: t("certificate.purpose", { purpose: c.purpose }) }),
    el("p", { text: t("certificate.issued", { date: c.issued_on }) }),
    el("p", { id: "certificate-status", class: r.data.valid ? "valid" : "error",
      text: t(r.data.valid ? "certificate.valid" : "certificate.invalid") }),
    el("div", { class: "qr" },
      el("img", { id: "certificate-qr", alt: t("certificate.qr"), width: 132, height: 132,
        src: `/api/v1/certificates/${id}/qr?s=${encodeURIComponent(s)}` }),
      el("p", { class: "muted small", id: "certificate-link", text: t("certificate.check", { url: r.data.link }) })),
    el("p", { class: "muted small", text: `Ed25519 · ${r.data.public_key}` }),
    el("button", { type: "button", class: "no-print", onclick: () => window.print(), text: t("certificate.print") })));
}
