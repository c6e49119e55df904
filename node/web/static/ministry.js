// The Ministry's page at the hub: for a month, each region's coverage, performance,
// attendance and use (a table, CSV, charts), marks by subject, «Москвёнок»'s passage and meals
// volumes (per region, and per region and day), and when each region last reported. Everything comes from the regions' signed aggregate reports. Regions and subjects
// are shown by name (the hub's names for the codes), numbers and months through Intl.
import { api, el, errorText, field, fmt, navigation, pages, show, t } from "./app.js";

navigation.push({ key: "nav.ministry", href: "/ministry", roles: ["ministry"] });
pages.push({ path: /^\/ministry$/, view: ministryView });

const COLUMNS = ["name", "schools", "classes", "students", "teachers", "average_mark", "attendance_rate",
  "homework_assigned", "library_uses", "logins"];

// The volumes' columns: a region's month, and a region's day.
const VOLUME_MONTH = ["name", "passage_days", "students_entered_per_day", "entries", "exits", "sales", "sales_kopecks",
  "free_meals", "free_kopecks", "topups", "topups_kopecks", "refunds", "refunds_kopecks"];
const VOLUME_DAY = ["region_name", "day", "students_entered", ...VOLUME_MONTH.slice(3)];

// One cell's text: a name as it is, a share as per cent, a mark with two decimals, money
// (kopecks) in roubles, a day by its date, an average with one decimal, counts whole.
function cell(v, col) {
  if (v === null || v === undefined || v === "") return "—";
  if (col === "name" || col === "region_name") return String(v);
  if (col === "attendance_rate") return `${fmt.number(v * 100, 1)} %`;
  if (col === "average_mark") return fmt.number(v, 2);
  if (col.endsWith("_kopecks")) return fmt.money(v);
  if (col === "day") return fmt.dayMonth(v);
  if (col === "students_entered_per_day") return fmt.number(v, 1);
  return fmt.number(v, 0);
}

const head = (cols) => el("thead", {}, el("tr", {}, cols.map((c) => el("th", { text: t(`ministry.col.${c}`) }))));
// A table's own scroll box: reachable from the keyboard (a box that scrolls must take focus)
// and named by the table's caption or heading for a screen reader.
const TABLE_NAMES = { "ministry-summary": "ministry.title", "ministry-subjects": "ministry.subjects",
  "ministry-volumes": "ministry.volumes", "ministry-volume-days": "ministry.volume_days", "ministry-regions": "ministry.freshness" };
const wrap = (table) => el("div", { class: "grid-wrap ministry-wrap", tabindex: "0", role: "region",
  "aria-label": t(TABLE_NAMES[table.id] ?? "ministry.title") }, table);

async function ministryView() {
  const params = new URLSearchParams(location.search);
  const summary = await api("GET", `/api/v1/ministry/summary${params.get("period") ? `?period=${encodeURIComponent(params.get("period"))}` : ""}`);
  if (summary.status !== 200) { show(el("p", { class: "error", text: errorText(summary) })); return; }
  const period = summary.data.period;
  const q = period ? `?period=${period}` : "";
  const [subjects, regions, volumes, volumeDays] = await Promise.all([api("GET", `/api/v1/ministry/subjects${q}`),
    api("GET", "/api/v1/ministry/regions"), api("GET", `/api/v1/ministry/volumes${q}`), api("GET", `/api/v1/ministry/volumes/days${q}`)]);
  const month = el("input", { type: "month", name: "period", value: period });
  const pick = (ev) => { ev.preventDefault(); if (month.value) { history.pushState(null, "", `/ministry?period=${month.value}`); ministryView(); } };
  const rows = summary.data.regions;
  show(
    el("h1", { text: t("ministry.title") }),
    el("form", { class: "toolbar ministry-month", onsubmit: pick }, field("ministry.period", month),
      el("button", { type: "submit", text: t("ministry.show") })),
    period ? el("p", { class: "muted", id: "ministry-month", text: fmt.month(period) }) : null,
    !rows.length ? el("p", { class: "card", id: "ministry-empty", text: t("ministry.no_reports") }) : el("div", {},
      wrap(el("table", { id: "ministry-summary" }, head(COLUMNS),
        el("tbody", {}, rows.map((r) => el("tr", { "data-region": r.region }, COLUMNS.map((c) => el("td", { text: cell(r[c], c) }))))))),
      el("p", {}, el("a", { href: `/api/v1/ministry/summary?period=${period}&format=csv`, download: "", id: "csv-summary", text: t("ministry.csv") }),
        " · ", el("a", { href: `/api/v1/ministry/subjects?period=${period}&format=csv`, download: "", text: t("ministry.csv_subjects") })),
      el("div", { class: "charts" }, ["coverage", "performance", "attendance", "usage"].map((c) =>
        el("img", { class: "chart", src: `/api/v1/ministry/charts/${c}.svg${q}`, alt: t(`ministry.chart.${c}`) }))),
      el("h2", { text: t("ministry.subjects") }),
      wrap(el("table", { id: "ministry-subjects" }, head(["name", "subject", "average_mark", "marks"]),
        el("tbody", {}, (subjects.data?.rows ?? []).map((r) => el("tr", { "data-region": r.region, "data-subject": r.subject },
          [r.region_name || r.region, r.subject_name || r.subject, cell(r.average_mark, "average_mark"), cell(r.marks, "marks")]
            .map((v) => el("td", { text: v }))))))),
      volumesView(period, volumes.data?.regions ?? [], volumeDays.data?.rows ?? [])),
    el("h2", { text: t("ministry.freshness") }),
    wrap(el("table", { id: "ministry-regions" }, head(["name", "last_period", "days_since_report"]),
      el("tbody", {}, (regions.data?.items ?? []).map((r) => el("tr", { "data-region": r.region,
        class: r.days_since_report === null || r.days_since_report > 31 ? "stale" : "" },
      [r.name || r.region, r.last_period ? fmt.month(r.last_period) : "—",
        r.days_since_report === null ? t("ministry.never") : fmt.number(r.days_since_report, 0)].map((v) => el("td", { text: v }))))))));
}

// «Москвёнок»'s volumes: each region's month, its CSV and the days' CSV, and each region's days
// (folded: a row per region and school day). Sums over the cells the regions published.
function volumesView(period, months, days) {
  const row = (r, cols) => el("tr", { "data-region": r.region, ...(r.day ? { "data-day": r.day } : {}) },
    cols.map((c) => el("td", { text: cell(r[c], c) })));
  return el("section", { class: "ministry-volumes" },
    el("h2", { text: t("ministry.volumes") }),
    el("p", { class: "muted", text: t("ministry.volumes_note") }),
    wrap(el("table", { id: "ministry-volumes" }, head(VOLUME_MONTH),
      el("tbody", {}, months.map((r) => row(r, VOLUME_MONTH))))),
    el("p", {}, el("a", { href: `/api/v1/ministry/volumes?period=${period}&format=csv`, download: "", id: "csv-volumes", text: t("ministry.csv_volumes") }),
      " · ", el("a", { href: `/api/v1/ministry/volumes/days?period=${period}&format=csv`, download: "", id: "csv-volume-days", text: t("ministry.csv_volume_days") })),
    el("details", { id: "ministry-volume-days-box" }, el("summary", { text: t("ministry.volume_days") }),
      !days.length ? el("p", { class: "muted", text: t("ministry.no_volumes") })
        : wrap(el("table", { id: "ministry-volume-days" }, head(VOLUME_DAY),
          el("tbody", {}, days.map((r) => row(r, VOLUME_DAY)))))));
}
