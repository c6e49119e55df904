// The Ministry's page at the hub: for a month, each region's coverage, performance,
// attendance and use (a table, CSV, charts), marks by subject, and when each region last
// reported. Everything comes from the regions' signed aggregate reports.
import { api, el, navigation, pages, show, t } from "./app.js";

navigation.push({ key: "nav.ministry", href: "/ministry", roles: ["ministry"] });
pages.push({ path: /^\/ministry$/, view: ministryView });

const COLUMNS = ["name", "schools", "classes", "students", "teachers", "average_mark", "attendance_rate",
  "homework_assigned", "library_uses", "logins"];

function cell(v, col) {
  if (v === null || v === undefined) return "—";
  if (col === "attendance_rate") return `${(v * 100).toFixed(1)} %`;
  return String(v);
}

async function ministryView() {
  const params = new URLSearchParams(location.search);
  const summary = await api("GET", `/api/v1/ministry/summary${params.get("period") ? `?period=${params.get("period")}` : ""}`);
  if (summary.status !== 200) { show(el("p", { class: "error", text: t(summary.status === 403 ? "app.forbidden" : "app.error") })); return; }
  const period = summary.data.period;
  const q = period ? `?period=${period}` : "";
  const [subjects, regions] = await Promise.all([api("GET", `/api/v1/ministry/subjects${q}`), api("GET", "/api/v1/ministry/regions")]);
  const month = el("input", { type: "month", name: "period", value: period });
  const pick = (ev) => { ev.preventDefault(); if (month.value) { history.pushState(null, "", `/ministry?period=${month.value}`); ministryView(); } };
  const rows = summary.data.regions;
  show(
    el("h1", { text: t("ministry.title") }),
    el("form", { class: "toolbar", onsubmit: pick }, el("label", { text: t("ministry.period") }), month,
      el("button", { type: "submit", text: t("ministry.show") })),
    !rows.length ? el("p", { class: "card", id: "ministry-empty", text: t("ministry.no_reports") }) : el("div", {},
      el("div", { class: "grid-wrap" }, el("table", { id: "ministry-summary" },
        el("thead", {}, el("tr", {}, COLUMNS.map((c) => el("th", { text: t(`ministry.col.${c}`) })))),
        el("tbody", {}, rows.map((r) => el("tr", { "data-region": r.region }, COLUMNS.map((c) => el("td", { text: cell(r[c], c) }))))))),
      el("p", {}, el("a", { href: `/api/v1/ministry/summary?period=${period}&format=csv`, download: "", id: "csv-summary", text: t("ministry.csv") }),
        " · ", el("a", { href: `/api/v1/ministry/subjects?period=${period}&format=csv`, download: "", text: t("ministry.csv_subjects") })),
      el("div", { class: "charts" }, ["coverage", "performance", "attendance", "usage"].map((c) =>
        el("img", { class: "chart", src: `/api/v1/ministry/charts/${c}.svg${q}`, alt: t(`ministry.chart.${c}`) }))),
      el("h2", { text: t("ministry.subjects") }),
      el("table", { id: "ministry-subjects" }, el("thead", {}, el("tr", {}, ["region", "subject", "average_mark", "marks"].map((c) => el("th", { text: t(`ministry.col.${c}`) })))),
        el("tbody", {}, (subjects.data?.rows ?? []).map((r) => el("tr", {}, [r.region, r.subject, cell(r.average_mark), cell(r.marks)].map((v) => el("td", { text: v }))))))),
    el("h2", { text: t("ministry.freshness") }),
    el("table", { id: "ministry-regions" }, el("thead", {}, el("tr", {}, ["region", "name", "last_period", "days_since_report"].map((c) => el("th", { text: t(`ministry.col.${c}`) })))),
      el("tbody", {}, (regions.data?.items ?? []).map((r) => el("tr", { class: r.days_since_report === null || r.days_since_report > 31 ? "stale" : "" },
        [r.region, r.name, r.last_period ?? "—", r.days_since_report === null ? t("ministry.never") : String(r.days_since_report)].map((v) => el("td", { text: v })))))));
}
