// The import page (/admin/import): the region admin uploads a OneRoster set (a zip) or the
// Russian CSV template, sees what would change and every error beside its file and line, and
// applies it; a school admin imports the template for their own school. The server's error
// codes are turned into Russian here (roster.error.CODE, roster.http.CODE).
import { api, el, errorText, field, fmt, navigation, pages, section, show, t, upload } from "./app.js";

navigation.push({ key: "roster.nav", href: "/admin/import", roles: ["admin", "school_admin"] });

pages.push({ path: /^\/admin\/import$/, view: importView });

const KINDS = ["municipalities", "schools", "years", "classes", "students", "guardians", "staff",
  "enrolments", "assignments", "guardian_links", "accounts"];
const COLUMNS = ["added", "updated", "moved", "left"];
const number = { format: (n) => fmt.number(n, 0) };

// A refused upload or apply: this page's texts ("roster.http.CODE"), else the shell's.
const httpError = (r) => errorText(r, "roster.http");

// Only the kinds and the columns with something in them: a first import is one column.
function countsTable(counts) {
  const kinds = KINDS.filter((k) => COLUMNS.some((c) => counts[k][c]));
  const columns = COLUMNS.filter((c) => KINDS.some((k) => counts[k][c]));
  if (!kinds.length) return el("p", { class: "muted", text: t("roster.nothing") });
  const rows = kinds.map((k) => el("tr", { "data-kind": k }, el("th", { text: t(`roster.kind.${k}`) }),
    ...columns.map((c) => el("td", { class: "num", "data-col": c, text: number.format(counts[k][c]) }))));
  return el("div", { class: "roster-scroll" }, el("table", { class: "roster-counts" },
    el("thead", {}, el("tr", {}, el("th", {}), ...columns.map((c) => el("th", { class: "num", text: t(`roster.col.${c}`) })))),
    el("tbody", {}, rows)));
}

function errorList(report) {
  if (!report.errors.length) return el("p", { class: "roster-ok", text: t("roster.no_errors") });
  const items = report.errors.map((e) => el("li", { class: "roster-error", "data-code": e.code },
    el("code", { class: "roster-where", text: e.line ? `${e.file}:${e.line}` : e.file }), " ",
    el("span", { text: t(`roster.error.${e.code}`, { id: e.params.id, value: e.params.value }) })));
  const more = report.errors_total > report.errors.length
    ? el("p", { class: "muted", text: t("roster.more_errors", { n: number.format(report.errors_total - report.errors.length) }) })
    : null;
  return el("div", {},
    el("h3", { text: t("roster.errors", { n: number.format(report.errors_total) }) }),
    el("ul", { class: "roster-errors" }, items), more);
}

function reportView(report) {
  return el("div", { class: "roster-report" },
    ...report.notices.map((n) => el("p", { class: "muted", text: t("roster.cp1251", { file: n.file }) })),
    countsTable(report.counts), errorList(report));
}

function importView() {
  const file = el("input", { type: "file", name: "file", accept: ".zip,.csv,text/csv,application/zip" });
  const status = el("p", { class: "status", role: "status" });
  const result = el("div", { class: "roster-result" });
  const check = async (ev) => {
    ev.preventDefault();
    result.replaceChildren();
    if (!file.files.length) { status.textContent = t("roster.choose"); return; }
    status.textContent = t("roster.checking");
    const r = await upload("/api/v1/roster/uploads", file.files[0]);
    if (r.status !== 201) { status.textContent = httpError(r); return; }
    status.textContent = "";
    preview(r.data, result, status);
  };
  show(
    el("h1", { text: t("roster.title") }),
    section(null,
      el("p", { text: t("roster.intro") }),
      el("form", { class: "roster-form", onsubmit: check },
        field("roster.file", file),
        el("button", { type: "submit", text: t("roster.check") })),
      status),
    result);
}

function preview(data, result, status) {
  const skip = el("input", { type: "checkbox", name: "skip_invalid" });
  const apply = async (ev) => {
    ev.preventDefault();
    status.textContent = t("roster.applying");
    const r = await api("POST", `/api/v1/roster/uploads/${data.id}/apply`, { skip_invalid: skip.checked });
    if (r.status === 200) {
      status.textContent = "";
      result.replaceChildren(section("roster.applied", reportView(r.data.report)));
      return;
    }
    if (r.status === 422) {
      status.textContent = t("roster.http.invalid");
      result.replaceChildren(section("roster.preview", reportView(r.data.report)));
      return;
    }
    status.textContent = httpError(r);
  };
  const form = el("form", { class: "roster-apply", onsubmit: apply },
    data.valid ? null : el("label", { class: "roster-skip" }, skip, " ", t("roster.skip_invalid")),
    el("button", { type: "submit", text: t("roster.apply") }));
  result.replaceChildren(section("roster.preview",
    el("p", { class: "muted", text: t(data.format === "oneroster" ? "roster.format_oneroster" : "roster.format_csv") }),
    reportView(data.report), form));
}
