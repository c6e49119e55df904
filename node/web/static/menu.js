// «Москвёнок»'s menu. The canteen operator's and the school admin's /canteen/menu (the day's
// complexes, copying a day or a week of them, the buffet's goods: add, edit, take off sale)
// and /canteen/order (the kitchen's order for the next school day: printable, as CSV); the
// school admin's /school/benefits (who has a benefit category, and giving one); the family's
// /students/{id}/menu (the day's menu of the child's school, what is free for this child and
// why); the canteen operator's card on the home page. The menus opened without ?date= show the
// school's next school day from today on (today when it is one: the server's date=next), and
// say so when that is not today: on a weekend, Monday's menu is the one to see and to edit. Money comes in kopecks and is shown with
// fmt.money; a price is typed in rubles («45» or «45,50»).
import { api, childLinks, clearErrors, dayShown, el, errorText, field, fmt, go, homeCards, navigation, pages, section, show, showError, state, t, today } from "./app.js";
import { childHead, samePage } from "./family.js";

navigation.push(
  { key: "menu.nav", href: "/canteen/menu", roles: ["canteen", "school_admin"] },
  { key: "kitchen.nav", href: "/canteen/order", roles: ["canteen", "school_admin"] },
  { key: "benefit.nav", href: "/school/benefits", roles: ["school_admin"] },
);

pages.push(
  { path: /^\/canteen\/menu$/, view: menuView },
  { path: /^\/canteen\/order$/, view: orderView },
  { path: /^\/school\/benefits$/, view: benefitsView },
  { path: /^\/students\/(\d+)\/menu$/, view: familyMenuView },
);

childLinks.push({ key: "menu.child_link", href: (id) => `/students/${id}/menu`, class: "menu-link" });

const KINDS = ["breakfast", "lunch", "snack"];
const CATEGORIES = ["hot", "bakery", "dairy", "drinks", "fruit", "sweets", "snacks"];

// ---- small helpers -----------------------------------------------------------------------

// Rubles as typed («45», «45,5», «45.50», «1 200») as kopecks; null when it is no price.
function kopecks(text) {
  const s = String(text).replace(/[\s\u00a0]/g, "").replace(",", ".");
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(s)) return null;
  return Math.round(Number(s) * 100);
}

// Kopecks as a price field shows them: «45» or «45,50».
function rubles(k) {
  return k % 100 ? (k / 100).toFixed(2).replace(".", ",") : String(k / 100);
}

const isDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s ?? "") && !Number.isNaN(Date.parse(`${s}T00:00:00Z`));

// The calendar day n days after `iso`.
function addDays(iso, n) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// «завтрак и обед»
function kindList(kinds) {
  const words = kinds.map((k) => t(`menu.kind_lower.${k}`));
  try { return new Intl.ListFormat("ru", { style: "long", type: "conjunction" }).format(words); } catch { return words.join(", "); }
}

function setTitle(text) {
  document.title = `${text} — ${t("app.title")}`;
}

// The schools where the logged-in person holds one of `roles` (from their grants).
function mySchools(roles) {
  const me = state.me;
  const ids = [...new Set((me.grants ?? []).filter((g) => roles.includes(g.role) && g.institution_id).map((g) => g.institution_id))];
  return ids.map((id) => ({ id, name: (me.institutions ?? []).find((i) => i.id === id)?.name ?? "" }));
}

// The school a page is about: ?school=ID when it is one of the person's (any for the region's
// admin), else their first. { school, list }; school is undefined when they have none.
function pageSchool(params, roles) {
  const list = mySchools(roles);
  const asked = Number(params.get("school"));
  const school = list.find((s) => s.id === asked)
    ?? (asked > 0 && state.me.roles.includes("admin") ? { id: asked, name: "" } : list[0]);
  return { school, list };
}

// A choice of school, for a person who runs the canteen of several.
function schoolPicker(list, school, hrefOf) {
  if (list.length < 2) return null;
  const pick = el("select", {}, list.map((s) => el("option", { value: String(s.id), text: s.name })));
  pick.value = String(school.id);
  pick.addEventListener("change", () => go(hrefOf(Number(pick.value))));
  return el("div", { class: "toolbar no-print" }, field("menu.school", pick, "school"));
}

// The day's switch: the day before, a date field, the day after.
function dayNav(date, hrefOf, labelKey = "menu.date") {
  const input = el("input", { type: "date", name: "date", value: date, required: "" });
  input.addEventListener("change", () => { if (isDate(input.value)) go(hrefOf(input.value)); });
  return el("nav", { class: "toolbar canteen-days no-print", "aria-label": t(labelKey) },
    el("a", { href: hrefOf(addDays(date, -1)), "data-link": "", class: "button secondary day-prev", text: t("menu.prev_day") }),
    field(labelKey, input),
    el("a", { href: hrefOf(addDays(date, 1)), "data-link": "", class: "button secondary day-next", text: t("menu.next_day") }));
}

const status = (id) => el("p", { class: "form-status", role: "status", id });
const general = () => el("p", { class: "error form-status", role: "alert" });

// The text of a refused complex_sold: which complex and day.
const soldText = (e) => t("menu.error.complex_sold", { kind: t(`menu.kind.${e.kind}`), date: fmt.date(e.date) });

// ---- /canteen/menu ---------------------------------------------------------------------------

async function menuView() {
  const params = new URLSearchParams(location.search);
  const { school, list } = pageSchool(params, ["canteen", "school_admin"]);
  setTitle(t("menu.title"));
  if (!school) {
    show(el("h1", { text: t("menu.title") }), el("p", { class: "card", id: "menu-no-school", text: t("menu.no_school") }));
    return;
  }
  const asked = isDate(params.get("date")) ? params.get("date") : null;
  const here = (d, s = school.id) => `/canteen/menu?${new URLSearchParams(d ? { date: d, school: s } : { school: s })}`;
  show(el("p", { text: t("app.loading") }));
  const [menu, items] = await Promise.all([
    api("GET", `/api/v1/institutions/${school.id}/menu?date=${asked ?? "next"}`),
    api("GET", `/api/v1/institutions/${school.id}/buffet/items?all=1`),
  ]);
  if (menu.status !== 200 || items.status !== 200) {
    show(el("h1", { text: t("menu.title") }), el("p", { class: "error", text: errorText(menu.status !== 200 ? menu : items) }));
    return;
  }
  const date = menu.data.date;
  show(
    el("h1", { text: t("menu.title") }),
    school.name ? el("p", { class: "muted canteen-school", text: school.name }) : null,
    schoolPicker(list, school, (id) => here(asked, id)),
    dayNav(date, (d) => here(d)),
    dayShown({ date, isToday: date === today(), chosen: !asked, noteKey: "menu.next_note", line: false,
      todayHref: here(today()) }),
    complexesForm(school, date, menu.data),
    copyForm(school, date),
    buffetSection(school, items.data.items));
}

// The day's complexes: each kind served or not, its price and dishes.
function complexesForm(school, date, menu) {
  const byKind = Object.fromEntries(menu.complexes.map((c) => [c.kind, c]));
  const done = status("menu-saved");
  const rows = KINDS.map((kind) => {
    const c = byKind[kind];
    const served = el("input", { type: "checkbox", name: `${kind}.served`, class: "complex-served" });
    served.checked = Boolean(c);
    const price = el("input", { name: `${kind}.price`, inputmode: "decimal", autocomplete: "off", class: "complex-price" });
    price.value = c ? rubles(c.price) : "";
    const dishes = el("textarea", { name: `${kind}.dishes`, rows: "3", class: "complex-dishes" });
    dishes.value = c ? c.dishes.join("\n") : "";
    const body = el("div", { class: "canteen-complex-fields" }, field("menu.price", price), field("menu.dishes", dishes));
    body.hidden = !served.checked;
    served.addEventListener("change", () => {
      body.hidden = !served.checked;
      if (served.checked) price.focus();
    });
    const box = el("fieldset", { class: "canteen-complex", "data-kind": kind },
      el("legend", { text: t(`menu.kind.${kind}`) }),
      el("label", { class: "check" }, served, t("menu.served")),
      body);
    return { kind, served, price, dishes, box };
  });
  const error = general();
  const save = el("button", { type: "submit", id: "menu-save", text: t("menu.save") });
  const form = el("form", { class: "canteen-complexes", id: "menu-form", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors(form, error);
    done.textContent = "";
    const sent = [];
    const complexes = [];
    let bad = false;
    for (const r of rows) {
      if (!r.served.checked) continue;
      const price = kopecks(r.price.value);
      const dishes = r.dishes.value.split("\n").map((d) => d.trim()).filter(Boolean);
      if (price == null) {
        form.querySelector(`[data-error-for="${r.kind}.price"]`).textContent = t("menu.error.bad_request.price");
        bad = true;
      }
      if (!dishes.length || dishes.length > 20 || dishes.some((d) => d.length > 200)) {
        form.querySelector(`[data-error-for="${r.kind}.dishes"]`).textContent = t("menu.error.bad_request.dishes");
        bad = true;
      }
      sent.push(r.kind);
      complexes.push({ kind: r.kind, price, dishes });
    }
    if (bad) return;
    save.disabled = true;
    const r = await api("PUT", `/api/v1/institutions/${school.id}/menu`, { date, complexes });
    save.disabled = false;
    if (r.status === 200) { done.textContent = t("menu.saved"); return; }
    const e = r.data?.error;
    if (e?.code === "complex_sold") { error.textContent = soldText(e); return; }
    // "complexes[1].price": the field of the second complex sent.
    const m = /^complexes\[(\d+)\]\.(\w+)$/.exec(e?.field ?? "");
    const spot = m && sent[m[1]] && form.querySelector(`[data-error-for="${sent[m[1]]}.${m[2]}"]`);
    if (spot) spot.textContent = errorText({ status: r.status, data: { error: { ...e, field: m[2] } } }, "menu.error");
    else showError(r, form, error, "menu.error");
  } },
  rows.map((r) => r.box), el("p", { class: "muted small-text", text: t("menu.sold_note") }), error, el("div", { class: "toolbar" }, save, done));
  return section(null, el("h2", { text: t("menu.complexes", { date: fmt.weekday(date) }) }), form);
}

// Copying this day (or five days from it) to other days.
function copyForm(school, date) {
  const to = el("input", { type: "date", name: "to", value: addDays(date, 7), required: "" });
  const days = el("select", { name: "days" },
    el("option", { value: "1", text: t("menu.copy.one") }),
    el("option", { value: "5", text: t("menu.copy.week") }));
  const done = status("menu-copied");
  const error = general();
  const submit = el("button", { type: "submit", class: "secondary", id: "menu-copy", text: t("menu.copy.submit") });
  const form = el("form", { class: "canteen-copy", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors(form, error);
    done.textContent = "";
    if (!isDate(to.value)) { form.querySelector('[data-error-for="to"]').textContent = t("menu.error.bad_date.to"); return; }
    submit.disabled = true;
    const r = await api("POST", `/api/v1/institutions/${school.id}/menu/copy`, { from: date, to: to.value, days: Number(days.value) });
    submit.disabled = false;
    if (r.status === 200) {
      done.textContent = r.data.copied.length ? fmt.plural("menu.copy.done", r.data.copied.length) : t("menu.copy.nothing");
      return;
    }
    if (r.data?.error?.code === "complex_sold") { error.textContent = soldText(r.data.error); return; }
    showError(r, form, error, "menu.error");
  } },
  el("p", { class: "muted", text: t("menu.copy.hint") }),
  el("div", { class: "canteen-row" }, field("menu.copy.days", days), field("menu.copy.to", to)),
  error, el("div", { class: "toolbar" }, submit, done));
  return section("menu.copy.title", form);
}

// The buffet's goods: each with its category and price, to edit or take off sale (and back);
// the form of a new one.
function buffetSection(school, items) {
  const list = el("ul", { class: "canteen-items", id: "buffet-items" });
  const done = status("items-status");
  const categorySelect = (value) => {
    const s = el("select", { name: "category" }, CATEGORIES.map((c) => el("option", { value: c, text: t(`menu.category.${c}`) })));
    if (value) s.value = value;
    return s;
  };
  const reload = async () => {
    const r = await api("GET", `/api/v1/institutions/${school.id}/buffet/items?all=1`);
    if (r.status === 200) draw(r.data.items);
  };
  const draw = (all) => list.replaceChildren(...(all.length ? all.map(row)
    : [el("li", { class: "muted canteen-none", text: t("menu.items.none") })]));

  function row(item) {
    const li = el("li", { class: item.active ? "canteen-item" : "canteen-item off", "data-id": String(item.id) });
    const setActive = async (on) => {
      const r = on ? await api("PUT", `/api/v1/buffet/items/${item.id}`, { active: true })
        : await api("DELETE", `/api/v1/buffet/items/${item.id}`);
      if (r.status === 200) { done.textContent = ""; await reload(); } else done.textContent = errorText(r, "menu.error");
    };
    const view = () => li.replaceChildren(
      el("div", { class: "canteen-item-main" },
        el("strong", { class: "item-name", text: item.name }),
        el("span", { class: "muted item-category", text: t(`menu.category.${item.category}`) }),
        item.active ? null : el("span", { class: "canteen-off", text: t("menu.items.off") })),
      el("span", { class: "canteen-price item-price", text: fmt.money(item.price) }),
      el("span", { class: "canteen-actions" },
        el("button", { type: "button", class: "secondary item-edit", "aria-label": t("menu.items.edit_of", { name: item.name }),
          onclick: edit, text: t("menu.items.edit") }),
        item.active
          ? el("button", { type: "button", class: "secondary item-remove", "aria-label": t("menu.items.remove_of", { name: item.name }),
              onclick: () => setActive(false), text: t("menu.items.remove") })
          : el("button", { type: "button", class: "secondary item-restore", "aria-label": t("menu.items.restore_of", { name: item.name }),
              onclick: () => setActive(true), text: t("menu.items.restore") })));
    function edit() {
      const name = el("input", { name: "name", maxlength: "100", value: item.name, required: "" });
      const category = categorySelect(item.category);
      const price = el("input", { name: "price", inputmode: "decimal", value: rubles(item.price), required: "" });
      const error = general();
      const form = el("form", { class: "canteen-item-form", novalidate: "", onsubmit: async (ev) => {
        ev.preventDefault();
        clearErrors(form, error);
        const k = kopecks(price.value);
        if (k == null || k < 1) { form.querySelector('[data-error-for="price"]').textContent = t("menu.error.bad_request.price"); return; }
        const r = await api("PUT", `/api/v1/buffet/items/${item.id}`, { name: name.value.trim(), category: category.value, price: k });
        if (r.status !== 200) { showError(r, form, error, "menu.error"); return; }
        await reload();
      } },
      el("div", { class: "canteen-row" }, field("menu.items.name", name), field("menu.items.category", category), field("menu.items.price", price)),
      error,
      el("div", { class: "toolbar" },
        el("button", { type: "submit", class: "item-save", text: t("menu.items.save") }),
        el("button", { type: "button", class: "secondary", onclick: view, text: t("menu.items.cancel") })));
      li.replaceChildren(form);
      name.focus();
    }
    view();
    return li;
  }

  const name = el("input", { name: "name", maxlength: "100", autocomplete: "off", required: "" });
  const category = categorySelect();
  const price = el("input", { name: "price", inputmode: "decimal", autocomplete: "off", required: "" });
  const error = general();
  const add = el("form", { class: "canteen-item-form canteen-add", id: "item-add", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    clearErrors(add, error);
    done.textContent = "";
    const k = kopecks(price.value);
    if (!name.value.trim()) { add.querySelector('[data-error-for="name"]').textContent = t("menu.error.bad_request.name"); return; }
    if (k == null || k < 1) { add.querySelector('[data-error-for="price"]').textContent = t("menu.error.bad_request.price"); return; }
    const r = await api("POST", `/api/v1/institutions/${school.id}/buffet/items`, { name: name.value.trim(), category: category.value, price: k });
    if (r.status !== 201) { showError(r, add, error, "menu.error"); return; }
    name.value = "";
    price.value = "";
    done.textContent = t("menu.items.added");
    await reload();
  } },
  el("h3", { text: t("menu.items.add_title") }),
  el("div", { class: "canteen-row" }, field("menu.items.name", name), field("menu.items.category", category), field("menu.items.price", price)),
  error, el("div", { class: "toolbar" }, el("button", { type: "submit", text: t("menu.items.add") }), done));

  draw(items);
  return section("menu.items.title", list, add);
}

// ---- /canteen/order --------------------------------------------------------------------------

async function orderView() {
  const params = new URLSearchParams(location.search);
  const { school, list } = pageSchool(params, ["canteen", "school_admin"]);
  setTitle(t("kitchen.title"));
  if (!school) {
    show(el("h1", { text: t("kitchen.title") }), el("p", { class: "card", text: t("menu.no_school") }));
    return;
  }
  const asked = isDate(params.get("date")) ? params.get("date") : null;
  const here = (d, s = school.id) => `/canteen/order?${new URLSearchParams(d ? { date: d, school: s } : { school: s })}`;
  show(el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/institutions/${school.id}/meals/order${asked ? `?date=${asked}` : ""}`);
  if (r.status !== 200) {
    show(el("h1", { text: t("kitchen.title") }), el("p", { class: "error", text: errorText(r) }));
    return;
  }
  const o = r.data;
  const csv = `/api/v1/institutions/${school.id}/meals/order?${new URLSearchParams({ date: o.date, format: "csv" })}`;
  const num = (x, cls = "") => el("td", { class: `num ${cls}`.trim(), text: fmt.number(x, 1) });
  // One table per complex: what the kitchen cooks for each meal, class by class.
  const kindTable = (kind, i) => el("section", { class: "card kitchen-kind", "data-kind": kind },
    el("h2", {}, t(`menu.kind.${kind}`), el("span", { class: "kitchen-portions" },
      fmt.plural("kitchen.portions", o.totals.complexes[i].portions))),
    o.classes.length
      ? el("div", { class: "table-wrap" }, el("table", { class: "kitchen-order" },
          el("thead", {}, el("tr", {},
            el("th", { scope: "col", text: t("kitchen.col.class") }),
            ["enrolled", "expected", "free", "paid", "portions"].map((c) => el("th", { scope: "col", class: `num ${c}`, text: t(`kitchen.col.${c}`) })))),
          el("tbody", {}, o.classes.map((c) => el("tr", { "data-class": c.class.name },
            el("th", { scope: "row", text: c.class.name }), num(c.enrolled, "enrolled"), num(c.expected),
            num(c.complexes[i].free), num(c.complexes[i].paid_estimate),
            el("td", { class: "num portions", text: fmt.number(c.complexes[i].portions, 0) })))),
          el("tfoot", {}, el("tr", { class: "totals" },
            el("th", { scope: "row", text: t("kitchen.total") }), num(o.totals.enrolled, "enrolled"), num(o.totals.expected),
            num(o.totals.complexes[i].free), num(o.totals.complexes[i].paid_estimate),
            el("td", { class: "num portions", text: fmt.number(o.totals.complexes[i].portions, 0) })))))
      : el("p", { class: "muted", text: t("kitchen.no_classes") }));
  const print = el("button", { type: "button", class: "secondary", id: "kitchen-print", onclick: () => window.print(), text: t("kitchen.print") });
  const dateInput = el("input", { type: "date", name: "date", value: o.date, required: "" });
  dateInput.addEventListener("change", () => { if (isDate(dateInput.value)) go(here(dateInput.value)); });
  show(
    el("h1", { text: t("kitchen.title") }),
    schoolPicker(list, school, (id) => here(asked, id)),
    el("div", { class: "toolbar no-print kitchen-tools" }, field("kitchen.date", dateInput), print,
      el("a", { href: csv, class: "button secondary", id: "kitchen-csv", download: `kitchen-order-${o.date}.csv`, text: t("kitchen.csv") })),
    el("p", { class: "kitchen-date", id: "kitchen-date", "data-date": o.date }, el("strong", { text: t("kitchen.for", { date: fmt.weekday(o.date) }) }),
      school.name ? ` · ${school.name}` : ""),
    o.menu ? null : el("p", { class: "muted", id: "kitchen-no-menu", text: t("kitchen.no_menu") }),
    el("div", { id: "kitchen-order" }, o.kinds.map(kindTable)),
    el("p", { class: "muted", text: o.sales_days ? fmt.plural("kitchen.estimate", o.sales_days) : t("kitchen.no_sales") }),
    el("p", { class: "muted", text: t("kitchen.expected_note") }),
    el("p", { class: "muted no-print", text: t("kitchen.csv_hint") }));
}

// ---- /school/benefits ------------------------------------------------------------------------

async function benefitsView() {
  const params = new URLSearchParams(location.search);
  const { school, list } = pageSchool(params, ["school_admin"]);
  setTitle(t("benefit.title"));
  if (!school) {
    show(el("h1", { text: t("benefit.title") }), el("p", { class: "card", text: t("menu.no_school") }));
    return;
  }
  show(el("p", { text: t("app.loading") }));
  const [r, classes] = await Promise.all([
    api("GET", `/api/v1/institutions/${school.id}/meals/benefits`),
    api("GET", `/api/v1/institutions/${school.id}/classes`),
  ]);
  if (r.status !== 200 || classes.status !== 200) {
    show(el("h1", { text: t("benefit.title") }), el("p", { class: "error", text: errorText(r.status !== 200 ? r : classes) }));
    return;
  }
  const { categories, benefit_complexes: complexes, free_grades: grades } = r.data;
  const freeText = (free) => (free.length ? kindList(free) : t("benefit.free_none"));
  const benefitText = (s) => (s.listed ? s.benefit : t("benefit.unlisted", { benefit: s.benefit }));
  const withBox = el("div", { id: "benefit-list" });
  const drawWith = (items) => withBox.replaceChildren(items.length
    ? el("ul", { class: "benefit-list" }, items.map((s) => el("li", { "data-student": String(s.student.id) },
        el("span", { class: "benefit-who" }, el("strong", { text: s.student.name }), ` · ${s.class.name}`),
        el("span", { class: "benefit-name", text: benefitText(s) }),
        el("span", { class: "muted benefit-free", text: t("benefit.free_list", { kinds: freeText(s.free) }) }))))
    : el("p", { class: "muted", text: t("benefit.nobody") }));
  drawWith(r.data.items);
  const refreshWith = async () => {
    const w = await api("GET", `/api/v1/institutions/${school.id}/meals/benefits`);
    if (w.status === 200) drawWith(w.data.items);
  };

  // Giving a benefit: a class's students, each with a choice of category.
  let assign = categories.length ? section("benefit.assign", el("p", { class: "muted", text: t("benefit.no_classes") })) : null;
  if (categories.length && classes.data.items.length) {
    const pick = el("select", { name: "class" }, classes.data.items.map((c) => el("option", { value: String(c.id), text: c.name })));
    if (classes.data.items.some((c) => String(c.id) === params.get("class"))) pick.value = params.get("class");
    const students = el("div", { id: "benefit-class" });
    const load = async () => {
      const c = await api("GET", `/api/v1/institutions/${school.id}/meals/benefits?class=${pick.value}`);
      if (c.status !== 200) { students.replaceChildren(el("p", { class: "error", text: errorText(c) })); return; }
      students.replaceChildren(el("ul", { class: "benefit-students" }, c.data.items.map((s) => {
        const choice = el("select", { "aria-label": t("benefit.of", { name: s.student.name }), "data-student": String(s.student.id) },
          el("option", { value: "", text: t("benefit.no_benefit") }),
          categories.map((b) => el("option", { value: b, text: b })),
          s.benefit && !s.listed ? el("option", { value: s.benefit, text: t("benefit.unlisted", { benefit: s.benefit }) }) : null);
        choice.value = s.benefit;
        const note = el("span", { class: "muted benefit-status", role: "status" });
        choice.addEventListener("change", async () => {
          note.textContent = "";
          note.classList.remove("error");
          const w = await api("PUT", `/api/v1/students/${s.student.id}/meals/benefit`, { benefit: choice.value });
          if (w.status === 200) {
            note.textContent = t("benefit.saved");
            await refreshWith();
          } else {
            note.classList.add("error");
            note.textContent = errorText(w);
          }
        });
        return el("li", { class: "benefit-student" }, el("span", { class: "benefit-student-name", text: s.student.name }), choice, note);
      })));
    };
    pick.addEventListener("change", load);
    assign = section("benefit.assign", el("div", { class: "toolbar" }, field("benefit.class", pick, "class")), students);
    await load();
  }
  show(
    el("h1", { text: t("benefit.title") }),
    schoolPicker(list, school, (id) => `/school/benefits?school=${id}`),
    el("div", { class: "card", id: "benefit-rules" },
      grades.complexes.length ? el("p", { text: t("benefit.by_grade", { from: grades.from, to: grades.to, kinds: kindList(grades.complexes) }) }) : null,
      el("p", { text: categories.length
        ? t("benefit.categories", { list: categories.map((c) => `«${c}»`).join(", "), kinds: kindList(complexes) })
        : t("benefit.none_listed") })),
    section("benefit.with", withBox),
    assign);
}

// ---- the family's /students/{id}/menu ----------------------------------------------------------

async function familyMenuView(id) {
  const params = new URLSearchParams(location.search);
  const asked = isDate(params.get("date")) ? params.get("date") : null;
  show(el("p", { text: t("app.loading") }));
  const s = await api("GET", `/api/v1/students/${id}`);
  const school = s.data?.institution?.id;
  if (s.status !== 200 || !school) {
    show(el("h1", { text: t("menu.family.title") }), el("p", { class: "error", text: errorText(s) }));
    return;
  }
  const [menu, ent, head] = await Promise.all([
    api("GET", `/api/v1/institutions/${school}/menu?date=${asked ?? "next"}`),
    api("GET", `/api/v1/students/${id}/meals/entitlement`),
    childHead("menu.family.title", id, samePage((c) => `/students/${c}/menu`)),
  ]);
  if (menu.status !== 200 || ent.status !== 200) {
    show(...head, el("p", { class: "error", text: errorText(menu.status !== 200 ? menu : ent) }));
    return;
  }
  const e = ent.data;
  const date = menu.data.date;
  const free = new Set(e.free);
  const why = [];
  if (e.by_benefit.length) why.push(t("menu.free_by_benefit", { benefit: e.benefit, kinds: kindList(e.by_benefit) }));
  if (e.by_grade.length) why.push(t("menu.free_by_grade", { grade: e.grade, kinds: kindList(e.by_grade) }));
  if (!why.length) why.push(t("menu.free_none"));

  const complexes = menu.data.complexes;
  const byCategory = CATEGORIES.map((c) => [c, menu.data.items.filter((i) => i.category === c)]).filter(([, l]) => l.length);
  show(
    ...head,
    el("div", { class: "card menu-entitlement", id: "menu-entitlement" }, why.map((w) => el("p", { text: w }))),
    dayNav(date, (d) => `/students/${id}/menu?date=${d}`),
    el("h2", { id: "menu-day", "data-date": date, text: t("menu.family.for", { date: fmt.weekday(date) }) }),
    dayShown({ date, isToday: date === today(), chosen: !asked, noteKey: "menu.next_note", line: false,
      todayHref: `/students/${id}/menu?date=${today()}` }),
    complexes.length
      ? el("ul", { class: "menu-complexes", id: "menu-complexes" }, complexes.map((c) => el("li", { class: "card menu-complex", "data-kind": c.kind },
          el("div", { class: "menu-complex-head" },
            el("h3", { text: t(`menu.kind.${c.kind}`) }),
            free.has(c.kind)
              ? el("span", { class: "menu-price" }, el("span", { class: "menu-free", text: t("menu.free") }), " ", el("s", { class: "muted", text: fmt.money(c.price) }))
              : el("span", { class: "menu-price", text: fmt.money(c.price) })),
          el("ul", { class: "menu-dishes" }, c.dishes.map((d) => el("li", { text: d }))))))
      : el("p", { class: "card", id: "menu-none", text: t("menu.family.none") }),
    section("menu.buffet", byCategory.length
      ? byCategory.map(([c, list]) => el("div", { class: "menu-buffet-group" },
          el("h3", { text: t(`menu.category.${c}`) }),
          el("ul", { class: "menu-buffet" }, list.map((i) => el("li", {},
            el("span", { text: i.name }), el("span", { class: "menu-price", text: fmt.money(i.price) }))))))
      : el("p", { class: "muted", text: t("menu.buffet_none") })));
}

// ---- the canteen operator's home ---------------------------------------------------------------

homeCards.push((me) => {
  if (!me.roles.includes("canteen")) return null;
  const schools = mySchools(["canteen"]).map((s) => s.name).filter(Boolean);
  // The day's sales and refunds have their own page (/canteen) once it is part of the shell.
  const sales = pages.some((p) => p.path.test("/canteen"));
  return el("section", { class: "card canteen-home", id: "home-canteen" },
    el("h2", { text: t("menu.home.title") }),
    schools.length ? el("p", { class: "muted", text: schools.join(", ") }) : null,
    el("p", { text: t("menu.home.text") }),
    el("p", { class: "canteen-home-links" },
      el("a", { href: "/canteen/menu", "data-link": "", class: "button", id: "home-canteen-menu", text: t("menu.home.menu") }),
      el("a", { href: "/canteen/order", "data-link": "", class: "button secondary", id: "home-canteen-order", text: t("menu.home.order") }),
      sales ? el("a", { href: "/canteen", "data-link": "", class: "button secondary", id: "home-canteen-sales", text: t("menu.home.sales") }) : null));
});
