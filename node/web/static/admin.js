// Administration: the hub /admin and the region's set-up. The region admin finds here the
// municipalities, the schools, the academic years (periods and days off), device tokens and the
// audit log, and links to the import, the accounts and the federation's status; a school admin
// finds, for each school they administer, its sections (classes, staff, teaching assignments,
// the timetable, accounts, devices, the school's audit log). A link is shown only to whom it
// serves, and a page opened by someone else says so in Russian (the APIs refuse anyway).
import { api, clearErrors, el, errorText, field as shellField, fmt, navigation, pages, schoolSections, section, show, showError, state, t } from "./app.js";

navigation.push({ key: "admin.nav", href: "/admin", roles: ["admin", "school_admin"] });

pages.push(
  { path: /^\/admin$/, view: hubView },
  { path: /^\/admin\/municipalities$/, view: municipalitiesView },
  { path: /^\/admin\/schools$/, view: schoolsView },
  { path: /^\/admin\/schools\/(\d+)$/, view: schoolView },
  { path: /^\/admin\/years$/, view: yearsView },
  { path: /^\/admin\/devices$/, view: devicesView },
  { path: /^\/admin\/audit$/, view: auditView },
);

// The audit log's actions that have a name in the catalog (admin.action.*), for the filter.
const ACTIONS = ["login", "login_failed", "logout", "municipality.create", "municipality.update",
  "institution.create", "institution.update", "year.create", "period.update", "holiday.create",
  "holiday.delete", "subject.create", "class.create", "class.update", "group.create",
  "person.create", "staff.add", "guardian.create", "enrollment.create", "assignment.create",
  "assignment.delete", "bells.set", "timetable.set", "lessons.generate", "lesson.update",
  "period_mark.set", "plan.set", "device.create", "device.revoke", "card.issue", "card.block",
  "card.replace"];
const SCOPES = ["passage", "meals", "health"];

const isRegion = () => state.me.roles.includes("admin");
// The schools the caller administers: [{id, name}].
function mySchools() {
  const ids = (state.me.grants ?? []).filter((g) => g.role === "school_admin" && g.institution_id)
    .map((g) => g.institution_id);
  return (state.me.institutions ?? []).filter((i) => ids.includes(i.id));
}
const administers = (id) => isRegion() || mySchools().some((s) => s.id === Number(id));

// A catalog text when the key exists, else null.
function known(key) { return Object.hasOwn(state.msg, key) ? t(key) : null; }

// The Russian for a failed answer: the shell's, with this page's own texts ("admin.error.CODE":
// a conflict here is a duplicate).
const failure = (r) => errorText(r, "admin.error");

const back = () => el("a", { href: "/admin", "data-link": "", class: "admin-back", text: t("admin.back") });
const denied = (key = "admin.denied") => show(back(), el("p", { class: "error admin-denied", role: "alert", text: t(key) }));
const link = (href, key, extra = {}) => el("a", { href, "data-link": "", ...extra, text: t(key) });
const wrap = (tableEl) => el("div", { class: "table-wrap" }, tableEl);
const day = (d) => fmt.date(d);
const moment = (ts) => fmt.when(ts);
const actionName = (a) => known(`admin.action.${a}`) ?? a;

// A labelled control with its own error line (the shell's field()), laid out in a form's row.
function field(labelKey, input) {
  const f = shellField(labelKey, input);
  f.classList.add("admin-field");
  return f;
}

function options(items, selected, emptyKey) {
  const list = emptyKey ? [el("option", { value: "", text: t(emptyKey) })] : [];
  for (const [value, text] of items) {
    const o = el("option", { value: String(value), text });
    if (String(value) === String(selected ?? "")) o.selected = true;
    list.push(o);
  }
  return list;
}

// A form whose submit runs `send` (which returns the answer) and then `done`; the failure's
// Russian text beside the field the server names, else in the form's status line.
function form(cls, send, done, ...fields) {
  const status = el("p", { class: "error form-status", role: "alert" });
  const button = el("button", { type: "submit", text: t("admin.save") });
  const f = el("form", { class: `admin-form ${cls}`, novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors(f, status);
    button.disabled = true;
    const r = await send();
    button.disabled = false;
    if (r.status >= 200 && r.status < 300) await done(r);
    else showError(r, f, status, "admin.error");
  } }, ...fields, button, status);
  f.button = button;
  return f;
}

// ---- the hub -------------------------------------------------------------------------------

function hubView() {
  const parts = [el("h1", { text: t("admin.title") })];
  if (isRegion()) {
    parts.push(el("section", { class: "card admin-hub", id: "admin-region" },
      el("h2", { text: t("admin.region") }),
      el("ul", { class: "admin-links" }, [
        ["/admin/municipalities", "admin.municipalities", "admin.municipalities.about"],
        ["/admin/schools", "admin.schools", "admin.schools.about"],
        ["/admin/years", "admin.years", "admin.years.about"],
        ["/admin/import", "admin.import", "admin.import.about"],
        ["/admin/accounts", "admin.accounts", "admin.accounts.about"],
        ["/admin/devices", "admin.devices", "admin.devices.about"],
        ["/admin/audit", "admin.audit", "admin.audit.about"],
        ["/federation", "admin.federation", "admin.federation.about"],
      ].map(([href, key, about]) => el("li", {}, link(href, key),
        el("span", { class: "muted", text: t(about) }))))));
  }
  for (const s of mySchools()) {
    parts.push(el("section", { class: "card admin-hub admin-school", "data-school": String(s.id) },
      el("h2", { text: s.name }),
      el("ul", { class: "admin-links" }, [
        [`/admin/schools/${s.id}`, "admin.school.card"],
        [`/admin/schools/${s.id}/classes`, "admin.school.classes"],
        [`/admin/schools/${s.id}/staff`, "admin.school.staff"],
        [`/admin/schools/${s.id}/assignments`, "admin.school.assignments"],
        [`/admin/schools/${s.id}/timetable`, "admin.school.timetable"],
        ["/admin/accounts", "admin.accounts"],
        [`/admin/devices?institution=${s.id}`, "admin.devices"],
        [`/admin/audit?institution=${s.id}`, "admin.school.audit"],
        ...schoolSections.map((x) => [x.href(s.id), x.key]),
      ].map(([href, key]) => el("li", {}, link(href, key))))));
  }
  if (parts.length === 1) { denied(); return; }
  show(...parts);
}

// ---- municipalities ------------------------------------------------------------------------

async function municipalitiesView() {
  if (!isRegion()) { denied(); return; }
  const [m, i] = await Promise.all([api("GET", "/api/v1/municipalities"), api("GET", "/api/v1/institutions")]);
  if (m.status !== 200 || i.status !== 200) { denied("app.error"); return; }
  const count = {};
  for (const s of i.data.items) count[s.municipality.id] = (count[s.municipality.id] ?? 0) + 1;
  const name = el("input", { name: "name", required: "", maxlength: "200" });
  const okato = el("input", { name: "okato", maxlength: "20", inputmode: "numeric" });
  const add = form("municipality-add", () => api("POST", "/api/v1/municipalities",
    { name: name.value.trim(), okato: okato.value.trim() }), () => municipalitiesView(),
  field("admin.municipality.name", name), field("admin.municipality.okato", okato));
  add.button.textContent = t("admin.add");
  const rows = m.data.items.map((x) => {
    const cell = el("td", {}, el("span", { class: "m-name", text: x.name }));
    const rename = el("button", { type: "button", class: "secondary", text: t("admin.rename"), onclick: () => {
      const input = el("input", { name: "name", value: x.name, required: "", maxlength: "200", "aria-label": t("admin.municipality.name") });
      const f = form("municipality-rename", () => api("PATCH", `/api/v1/municipalities/${x.id}`,
        { name: input.value.trim() }), () => municipalitiesView(), input);
      cell.replaceChildren(f);
      input.focus();
    } });
    return el("tr", { "data-id": String(x.id) }, cell, el("td", { text: x.okato || "—" }),
      el("td", { text: fmt.number(count[x.id] ?? 0, 0) }), el("td", {}, rename));
  });
  show(back(), el("h1", { text: t("admin.municipalities") }),
    section("admin.municipality.add", add),
    section(null, wrap(el("table", { class: "admin-table", id: "municipalities" },
      el("thead", {}, el("tr", {}, ["admin.municipality.name", "admin.municipality.okato",
        "admin.municipality.schools", "admin.actions"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, rows)))));
}

// ---- schools -------------------------------------------------------------------------------

async function schoolsView() {
  if (!isRegion() && !mySchools().length) { denied(); return; }
  const [m, i] = await Promise.all([api("GET", "/api/v1/municipalities"), api("GET", "/api/v1/institutions")]);
  if (m.status !== 200 || i.status !== 200) { denied("app.error"); return; }
  const all = isRegion() ? i.data.items : i.data.items.filter((s) => administers(s.id));
  const params = new URLSearchParams(location.search);
  const muni = el("select", { name: "municipality", "aria-label": t("admin.school.municipality") },
    options(m.data.items.map((x) => [x.id, x.name]), params.get("municipality"), "admin.all_municipalities"));
  const search = el("input", { type: "search", name: "q", value: params.get("q") ?? "",
    placeholder: t("admin.search"), "aria-label": t("admin.search") });
  const body = el("tbody");
  const empty = el("p", { class: "muted", text: t("admin.none") });
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const list = all.filter((s) => (!muni.value || String(s.municipality.id) === muni.value) &&
      (!q || `${s.name} ${s.short_name} ${s.address}`.toLowerCase().includes(q)));
    body.replaceChildren(...list.map((s) => el("tr", { "data-id": String(s.id) },
      el("td", {}, el("a", { href: `/admin/schools/${s.id}`, "data-link": "", class: "school-link", text: s.short_name }),
        el("div", { class: "muted small-text", text: s.name })),
      el("td", { text: s.municipality.name }),
      el("td", { text: fmt.number(s.classes, 0) }),
      el("td", { text: fmt.number(s.students, 0) }))));
    empty.hidden = list.length > 0;
  };
  muni.addEventListener("change", draw);
  search.addEventListener("input", draw);
  draw();
  const parts = [back(), el("h1", { text: t("admin.schools") })];
  if (isRegion()) parts.push(section("admin.school.add", addSchoolForm(m.data.items)));
  parts.push(el("div", { class: "toolbar" }, muni, search),
    section(null, wrap(el("table", { class: "admin-table", id: "schools" },
      el("thead", {}, el("tr", {}, ["admin.school.short_name", "admin.school.municipality",
        "admin.school.classes_count", "admin.school.students"].map((k) => el("th", { text: t(k) })))),
      body)), empty));
  show(...parts);
}

function schoolFields(munis, s = {}) {
  const f = {
    municipality: el("select", { name: "municipality_id", required: "" },
      options(munis.map((x) => [x.id, x.name]), s.municipality?.id, s.municipality ? null : "admin.choose")),
    name: el("input", { name: "name", required: "", maxlength: "300", value: s.name ?? "" }),
    short_name: el("input", { name: "short_name", required: "", maxlength: "100", value: s.short_name ?? "" }),
    address: el("input", { name: "address", maxlength: "300", value: s.address ?? "" }),
  };
  return f;
}

function addSchoolForm(munis) {
  const f = schoolFields(munis);
  const kind = el("select", { name: "kind" }, options([["school", t("admin.kind.school")], ["college", t("admin.kind.college")]], "school"));
  const add = form("school-add", () => api("POST", "/api/v1/institutions", {
    municipality_id: Number(f.municipality.value), kind: kind.value, name: f.name.value.trim(),
    short_name: f.short_name.value.trim(), address: f.address.value.trim(),
  }), (r) => { history.pushState(null, "", `/admin/schools/${r.data.id}`); schoolView(r.data.id); },
  field("admin.school.municipality", f.municipality), field("admin.school.kind", kind),
  field("admin.school.name", f.name), field("admin.school.short_name", f.short_name),
  field("admin.school.address", f.address));
  add.button.textContent = t("admin.add");
  return add;
}

async function schoolView(id) {
  if (!administers(id)) { denied("admin.denied_school"); return; }
  const [s, m] = await Promise.all([api("GET", `/api/v1/institutions/${id}`), api("GET", "/api/v1/municipalities")]);
  if (s.status !== 200) { denied(s.status === 404 ? "app.not_found" : "app.error"); return; }
  const x = s.data;
  const f = schoolFields(m.data?.items ?? [x.municipality], x);
  if (!isRegion()) f.municipality.disabled = true;
  const saved = el("p", { class: "muted", role: "status" });
  const edit = form("school-edit", () => {
    saved.textContent = "";
    const body = { name: f.name.value.trim(), short_name: f.short_name.value.trim(), address: f.address.value.trim() };
    if (isRegion()) body.municipality_id = Number(f.municipality.value);
    return api("PATCH", `/api/v1/institutions/${id}`, body);
  }, () => { saved.textContent = t("admin.saved"); },
  field("admin.school.municipality", f.municipality), field("admin.school.name", f.name),
  field("admin.school.short_name", f.short_name), field("admin.school.address", f.address));
  show(back(), el("h1", { text: x.short_name }),
    el("p", { class: "muted", text: t("admin.school.counts", { classes: x.classes, students: x.students }) }),
    section("admin.school.card", edit, saved),
    section("admin.school.sections", el("ul", { class: "admin-links" }, [
      [`/admin/schools/${id}/classes`, "admin.school.classes"],
      [`/admin/schools/${id}/staff`, "admin.school.staff"],
      [`/admin/schools/${id}/assignments`, "admin.school.assignments"],
      [`/admin/schools/${id}/timetable`, "admin.school.timetable"],
      [`/admin/devices?institution=${id}`, "admin.devices"],
      [`/admin/audit?institution=${id}`, "admin.school.audit"],
      ...schoolSections.map((x) => [x.href(id), x.key]),
    ].map(([href, key]) => el("li", {}, link(href, key))))));
}

// ---- academic years ------------------------------------------------------------------------

async function yearsView() {
  if (!isRegion()) { denied(); return; }
  const r = await api("GET", "/api/v1/academic-years");
  if (r.status !== 200) { denied("app.error"); return; }
  const first = el("input", { name: "first_year", type: "number", min: "2000", max: "2100", required: "",
    value: String(new Date().getFullYear()) });
  const add = form("year-add", () => api("POST", "/api/v1/academic-years", { first_year: Number(first.value) }),
    () => yearsView(), field("admin.year.first", first));
  add.button.textContent = t("admin.add");
  const years = [];
  for (const y of [...r.data.items].reverse()) years.push(await yearCard(y));
  show(back(), el("h1", { text: t("admin.years") }), section("admin.year.add", add), ...years);
}

async function yearCard(y) {
  const h = await api("GET", `/api/v1/academic-years/${y.id}/holidays`);
  const periods = y.periods.map((p) => {
    const starts = el("input", { type: "date", name: "starts_on", value: p.starts_on, min: y.starts_on, max: y.ends_on });
    const ends = el("input", { type: "date", name: "ends_on", value: p.ends_on, min: y.starts_on, max: y.ends_on });
    const saved = el("span", { class: "muted", role: "status" });
    const f = form("period-edit", () => {
      saved.textContent = "";
      return api("PATCH", `/api/v1/periods/${p.id}`, { starts_on: starts.value, ends_on: ends.value });
    }, () => { saved.textContent = t("admin.saved"); },
    el("strong", { class: "period-name", text: p.name }), field("admin.period.starts", starts),
    field("admin.period.ends", ends));
    f.dataset.period = String(p.id);
    f.append(saved);
    return f;
  });
  const holidays = h.status === 200 ? h.data.items : [];
  const date = el("input", { type: "date", name: "date", required: "", min: y.starts_on, max: y.ends_on });
  const name = el("input", { name: "name", maxlength: "200" });
  const add = form("holiday-add", () => api("POST", `/api/v1/academic-years/${y.id}/holidays`,
    { date: date.value, name: name.value.trim() }), () => yearsView(),
  field("admin.holiday.date", date), field("admin.holiday.name", name));
  add.button.textContent = t("admin.add");
  const list = el("ul", { class: "holidays" }, holidays.map((d) => el("li", { "data-date": d.date },
    el("span", { text: d.name ? `${day(d.date)} — ${d.name}` : day(d.date) }),
    d.id ? el("button", { type: "button", class: "secondary", text: t("admin.delete"), onclick: async (ev) => {
      const b = await api("DELETE", `/api/v1/holidays/${d.id}`);
      if (b.status === 200) yearsView(); else ev.target.after(el("span", { class: "error", text: failure(b) }));
    } }) : null)));
  return el("section", { class: "card admin-year", "data-year": String(y.id) },
    el("h2", { text: t("admin.year.title", { name: y.name }) }),
    el("p", { class: "muted", text: `${day(y.starts_on)} — ${day(y.ends_on)}` }),
    el("h3", { text: t("admin.periods") }), ...periods,
    el("h3", { text: t("admin.holidays") }),
    h.data?.from_config ? el("p", { class: "muted", text: t("admin.holidays.from_config") }) : null,
    holidays.length ? list : el("p", { class: "muted", text: t("admin.holidays.none") }), add);
}

// ---- devices -------------------------------------------------------------------------------

async function devicesView() {
  const inst = new URLSearchParams(location.search).get("institution");
  if (inst ? !administers(inst) : !isRegion() && !mySchools().length) { denied("admin.denied_school"); return; }
  const r = await api("GET", `/api/v1/devices${inst ? `?institution_id=${encodeURIComponent(inst)}` : ""}`);
  if (r.status !== 200) { denied(r.status === 403 ? "admin.denied_school" : "app.error"); return; }
  let schools = mySchools();
  if (isRegion()) {
    const i = await api("GET", "/api/v1/institutions");
    schools = (i.data?.items ?? []).map((s) => ({ id: s.id, name: s.short_name }));
  }
  const name = el("input", { name: "name", required: "", maxlength: "200" });
  const boxes = SCOPES.map((s) => el("input", { type: "checkbox", name: "scope", value: s }));
  const school = el("select", { name: "institution_id" },
    options(schools.map((s) => [s.id, s.name]), inst ?? (isRegion() ? "" : schools[0]?.id), isRegion() ? "admin.device.region" : null));
  const shown = el("div", { class: "token-box", hidden: "" });
  const add = form("device-add", () => {
    const body = { name: name.value.trim(), scopes: boxes.filter((b) => b.checked).map((b) => b.value) };
    if (school.value) body.institution_id = Number(school.value);
    return api("POST", "/api/v1/devices", body);
  }, async (c) => {
    await devicesView();
    const token = el("code", { class: "token", text: c.data.token });
    const copied = el("span", { class: "muted", role: "status" });
    document.querySelector(".token-box")?.replaceWith(el("div", { class: "card token-box" },
      el("p", { text: t("admin.device.token_once", { name: c.data.name }) }), token,
      el("div", {}, el("button", { type: "button", class: "copy", text: t("admin.copy"), onclick: async () => {
        try { await navigator.clipboard.writeText(c.data.token); copied.textContent = t("admin.copied"); }
        catch { getSelection().selectAllChildren(token); copied.textContent = t("admin.copy_manually"); }
      } }), copied)));
  },
  field("admin.device.name", name),
  el("fieldset", { class: "scopes" }, el("legend", { text: t("admin.device.scopes") }),
    boxes.map((b) => el("label", { class: "scope" }, b, ` ${t(`admin.scope.${b.value}`)}`)),
    el("p", { class: "error field-error", role: "alert", "data-error-for": "scopes" })),
  field("admin.device.school", school));
  add.button.textContent = t("admin.device.create");
  const rows = r.data.items.map((d) => el("tr", { "data-id": String(d.id), class: d.revoked_at ? "revoked" : "" },
    el("td", { text: d.name }),
    el("td", { text: d.scopes.map((s) => known(`admin.scope.${s}`) ?? s).join(", ") }),
    el("td", { text: d.institution?.name ?? t("admin.device.region") }),
    el("td", { text: moment(d.created_at) }),
    el("td", {}, d.revoked_at ? el("span", { class: "muted", text: t("admin.device.revoked", { when: moment(d.revoked_at) }) })
      : el("button", { type: "button", class: "secondary revoke", text: t("admin.device.revoke"), onclick: async (ev) => {
        if (!confirm(t("admin.device.revoke_confirm", { name: d.name }))) return;
        const x = await api("DELETE", `/api/v1/devices/${d.id}`);
        if (x.status === 200) devicesView(); else ev.target.after(el("span", { class: "error", text: failure(x) }));
      } }))));
  show(back(), el("h1", { text: t("admin.devices") }), shown, section("admin.device.add", add),
    section(null, r.data.items.length ? wrap(el("table", { class: "admin-table", id: "devices" },
      el("thead", {}, el("tr", {}, ["admin.device.name", "admin.device.scopes", "admin.device.school",
        "admin.device.created", "admin.device.state"].map((k) => el("th", { text: t(k) })))),
      el("tbody", {}, rows))) : el("p", { class: "muted", text: t("admin.none") })));
}

// ---- the audit log -------------------------------------------------------------------------

async function auditView() {
  const params = new URLSearchParams(location.search);
  const inst = params.get("institution");
  if (inst ? !administers(inst) : !isRegion() && !mySchools().length) { denied("admin.denied_school"); return; }
  let schools = mySchools();
  if (isRegion()) {
    const i = await api("GET", "/api/v1/institutions");
    schools = (i.data?.items ?? []).map((s) => ({ id: s.id, name: s.short_name }));
  }
  const login = el("input", { name: "login", value: params.get("login") ?? "", maxlength: "64", autocomplete: "off" });
  const action = el("select", { name: "action" },
    options(ACTIONS.map((a) => [a, actionName(a)]).sort((a, b) => a[1].localeCompare(b[1], "ru")), params.get("action"), "admin.audit.all_actions"));
  const from = el("input", { type: "date", name: "from", value: params.get("from") ?? "" });
  const to = el("input", { type: "date", name: "to", value: params.get("to") ?? "" });
  const school = el("select", { name: "institution" },
    options(schools.map((s) => [s.id, s.name]), inst, isRegion() ? "admin.audit.all_schools" : null));
  const body = el("tbody");
  const status = el("p", { class: "error", role: "alert" });
  const more = el("button", { type: "button", class: "secondary", id: "audit-more", hidden: "", text: t("admin.audit.more") });
  let before = null;
  const query = () => {
    const q = new URLSearchParams();
    if (login.value.trim()) q.set("login", login.value.trim());
    if (action.value) q.set("action", action.value);
    if (from.value) q.set("from", from.value);
    if (to.value) q.set("to", to.value);
    if (school.value) q.set("institution", school.value);
    return q;
  };
  const load = async (append) => {
    const q = query();
    const a = new URLSearchParams({ limit: "50" });
    for (const [k, v] of q) a.set(k === "institution" ? "institution_id" : k, v);
    if (append && before) a.set("before", String(before));
    const r = await api("GET", `/api/v1/audit?${a}`);
    clearErrors(filters, status);
    if (r.status !== 200) { showError(r, filters, status, "admin.error"); return; }
    const rows = r.data.items.map((e) => el("tr", { "data-action": e.action },
      el("td", { text: moment(e.at) }),
      el("td", {}, e.account?.login ? el("code", { class: "login", text: e.account.login }) : "—"),
      el("td", {}, el("span", { class: "action", text: actionName(e.action) }),
        e.object ? el("div", { class: "muted small-text", text: e.object }) : null),
      el("td", { text: e.institution?.name ?? "—" })));
    if (append) body.append(...rows); else body.replaceChildren(...rows);
    before = r.data.next_before ?? null;
    more.hidden = !before;
    empty.hidden = body.children.length > 0;
  };
  const empty = el("p", { class: "muted", text: t("admin.audit.none"), hidden: "" });
  more.addEventListener("click", () => load(true));
  const filters = el("form", { class: "admin-form audit-filters", novalidate: "", onsubmit: (ev) => {
    ev.preventDefault();
    const q = query().toString();
    history.replaceState(null, "", `/admin/audit${q ? `?${q}` : ""}`);
    load(false);
  } },
  field("admin.audit.login", login), field("admin.audit.action", action), field("admin.audit.from", from),
  field("admin.audit.to", to), field("admin.audit.school", school),
  el("button", { type: "submit", text: t("admin.audit.apply") }));
  show(back(), el("h1", { text: t("admin.audit") }), section(null, filters), status,
    section(null, wrap(el("table", { class: "admin-table", id: "audit" },
      el("thead", {}, el("tr", {}, ["admin.audit.when", "admin.audit.who", "admin.audit.action",
        "admin.audit.school"].map((k) => el("th", { text: t(k) })))), body)), empty, more));
  await load(false);
}
