// «Москвёнок»'s money. /students/{id}/account «Баланс»: a child's meal account for the family
// (and the student's own): the balance, the account number to pay with and the way to top up,
// the history of top-ups, purchases and refunds. /school/reconciliation: a school's day of
// meal accounts for its admin and canteen operator: each student's opening balance, top-ups,
// purchases, refunds and closing balance, the totals with free meals and unpaid offline sales,
// whether it all adds up, and the CSV. Opened without ?date= it shows today, or the latest day
// with a movement of money when today has none yet (the server's date=latest), and says so.
import { api, childLinks, dayShown, el, errorText, field, fmt, homeCards, hooks, navigation, pages, schoolSections, section, show, showError, state, t, today } from "./app.js";

pages.push(
  { path: /^\/students\/(\d+)\/account$/, view: accountView },
  { path: /^\/school\/reconciliation$/, view: reconciliationView },
);
navigation.push({ key: "reconciliation.nav", href: "/school/reconciliation", roles: ["canteen"] });
childLinks.push({ key: "money.link", href: (id) => `/students/${id}/account`, class: "account-link" });
schoolSections.push({ key: "reconciliation.nav", href: (id) => `/school/reconciliation?school=${id}` });

// A signed amount: «+500,00 ₽» in, «−70,00 ₽» out.
const signed = (kopecks) => (kopecks > 0 ? `+${fmt.money(kopecks)}` : fmt.money(kopecks));

// ---- the student's own home: a card with the balance ---------------------------------------

homeCards.push((me) => {
  if (!me.roles.includes("student") || !me.student?.id) return null;
  const id = me.student.id;
  const amount = el("p", { class: "balance-amount", id: "home-balance", text: t("app.loading") });
  api("GET", `/api/v1/students/${id}/meals/account`).then((r) => {
    amount.textContent = r.status === 200 ? fmt.money(r.data.balance) : errorText(r);
    if (r.status === 200 && r.data.balance < r.data.low_balance_threshold) amount.classList.add("low");
  });
  return el("section", { class: "card home-balance" },
    el("h2", { text: t("money.home.title") }), amount,
    el("p", {}, el("a", { href: `/students/${id}/account`, "data-link": "", id: "home-balance-link", text: t("money.home.open") })));
});

// ---- the balance page ----------------------------------------------------------------------

async function accountView(id) {
  show(el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/students/${id}/meals/account`);
  const head = hooks.childHead ? await hooks.childHead("money.title", id, (c) => `/students/${c}/account`)
    : [el("h1", { text: t("money.title") })];
  if (r.status !== 200) {
    show(...head, el("p", { class: "error", id: "account-error", role: "alert", text: errorText(r) }));
    return;
  }
  const a = r.data;
  const low = a.balance < a.low_balance_threshold;
  const balance = section(null,
    el("p", { class: "muted", text: t("money.balance") }),
    el("p", { class: `balance-amount${low ? " low" : ""}`, id: "balance", text: fmt.money(a.balance) }),
    low ? el("p", { class: "balance-warning", id: "balance-low", role: "status",
      text: t("money.low", { threshold: fmt.money(a.low_balance_threshold) }) }) : null,
    a.blocked ? el("p", { class: "balance-warning", id: "account-blocked", text: t("money.blocked") }) : null,
    el("dl", { class: "facts" },
      el("dt", { text: t("money.daily_limit") }),
      el("dd", { id: "daily-limit", text: a.daily_limit == null ? t("money.no_limit") : fmt.money(a.daily_limit) }),
      el("dt", { text: t("money.spent_today") }), el("dd", { id: "spent-today", text: fmt.money(a.spent_today) }),
      a.overdraft > 0 ? el("dt", { text: t("money.overdraft") }) : null,
      a.overdraft > 0 ? el("dd", { text: fmt.money(a.overdraft) }) : null));
  balance.classList.add("balance-card");

  show(...head, balance, topUpSection(a), await historySection(id));
}

// How to top up: the account number (to copy), the payment page when the region names one.
function topUpSection(a) {
  const copied = el("span", { class: "muted copy-status", role: "status" });
  const copy = el("button", { type: "button", class: "secondary copy-number", onclick: async () => {
    try {
      await navigator.clipboard.writeText(a.account_number);
      copied.textContent = t("money.copied");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(number);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      copied.textContent = t("money.copy_failed");
    }
  }, text: t("money.copy") });
  const number = el("strong", { class: "account-number", id: "account-number", text: a.account_number ?? "—" });
  return section("money.topup.title",
    el("p", { class: "muted", text: t("money.topup.number") }),
    el("p", { class: "account-number-line" }, number, a.account_number ? copy : null, copied),
    a.payment_url
      ? el("p", {}, el("a", { href: a.payment_url, class: "button", id: "pay-link", target: "_blank", rel: "noopener",
          text: t("money.topup.pay") }))
      : el("p", { id: "pay-none", text: t("money.topup.no_url") }),
    el("p", { class: "muted", id: "topup-delay", text: t("money.topup.delay") }));
}

// The history: the days asked (the last 30 by default, at most 92), newest first.
async function historySection(id) {
  const params = new URLSearchParams(location.search);
  const to = el("input", { type: "date", name: "to", value: params.get("to") ?? today(), max: today() });
  const from = el("input", { type: "date", name: "from", value: params.get("from") ?? daysBefore(to.value, 29), max: today() });
  const general = el("p", { class: "error", role: "alert" });
  const list = el("div", { id: "history" });
  const form = el("form", { class: "history-range", onsubmit: async (ev) => {
    ev.preventDefault();
    await load();
  } }, field("money.history.from", from), field("money.history.to", to),
  el("button", { type: "submit", text: t("money.history.show") }), general);

  async function load() {
    const r = await api("GET", `/api/v1/students/${id}/meals/history?from=${from.value}&to=${to.value}`);
    if (r.status !== 200) { showError(r, form, general); list.replaceChildren(); return; }
    general.textContent = "";
    for (const e of form.querySelectorAll("[data-error-for]")) e.textContent = "";
    history.replaceState(null, "", `${location.pathname}?from=${from.value}&to=${to.value}`);
    list.replaceChildren(historyList(r.data.items));
  }
  await load();
  return section("money.history.title", form, list);
}

function historyList(items) {
  if (!items.length) return el("p", { class: "muted", id: "history-none", text: t("money.history.none") });
  return el("div", { class: "table-wrap" }, el("table", { class: "history" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: t("money.history.when") }),
      el("th", { scope: "col", text: t("money.history.what") }),
      el("th", { scope: "col", class: "num", text: t("money.history.amount") }),
      el("th", { scope: "col", class: "num", text: t("money.history.after") }))),
    el("tbody", {}, items.map((i) => el("tr", { class: `kind-${i.kind}`, "data-kind": i.kind },
      el("td", { class: "when", text: fmt.when(i.at) }),
      el("td", { class: "what", text: t(`money.kind.${i.kind}`) }),
      el("td", { class: `num amount ${i.amount > 0 ? "in" : "out"}`, text: signed(i.amount) }),
      el("td", { class: "num after", "data-label": t("money.history.after_short"), text: fmt.money(i.balance) }))))));
}

// "YYYY-MM-DD" `n` days before `day`.
function daysBefore(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

// ---- the reconciliation ------------------------------------------------------------------

// The schools whose reconciliation the caller reads: [{id, name}] (a region admin: all).
async function reconciliationSchools() {
  if (state.me.roles.includes("admin")) {
    const r = await api("GET", "/api/v1/institutions");
    return r.status === 200 ? r.data.items.map((i) => ({ id: i.id, name: i.short_name || i.name })) : [];
  }
  const ids = (state.me.grants ?? []).filter((g) => (g.role === "school_admin" || g.role === "canteen") && g.institution_id)
    .map((g) => g.institution_id);
  return (state.me.institutions ?? []).filter((i) => ids.includes(i.id));
}

async function reconciliationView() {
  show(el("p", { text: t("app.loading") }));
  const params = new URLSearchParams(location.search);
  const schools = await reconciliationSchools();
  const title = el("h1", { text: t("reconciliation.title") });
  document.title = `${t("reconciliation.title")} — ${t("app.title")}`;
  if (!schools.length) {
    show(title, el("p", { class: "error", id: "recon-denied", role: "alert", text: t("reconciliation.denied") }));
    return;
  }
  const school = el("select", { name: "school" }, schools.map((s) => el("option", { value: String(s.id), text: s.name })));
  if (schools.some((s) => String(s.id) === params.get("school"))) school.value = params.get("school");
  // Without a day the server picks it (date=latest) until the person picks one.
  let chosen = !/^\d{4}-\d{2}-\d{2}$/.test(params.get("date") ?? "");
  const date = el("input", { type: "date", name: "date", value: chosen ? today() : params.get("date"), max: today() });
  const movedOnly = el("input", { type: "checkbox", name: "moved", id: "recon-moved" });
  movedOnly.checked = params.get("all") !== "1";
  const general = el("p", { class: "error", role: "alert" });
  const body = el("div", { id: "recon-body" });
  const controls = el("form", { class: "toolbar recon-controls", onsubmit: (ev) => ev.preventDefault() },
    schools.length > 1 ? field("reconciliation.school", school) : null,
    field("reconciliation.date", date), general);
  let last = null;

  async function load() {
    const q = new URLSearchParams(chosen ? { school: school.value } : { school: school.value, date: date.value });
    if (!movedOnly.checked) q.set("all", "1");
    history.replaceState(null, "", `/school/reconciliation?${q}`);
    const day = chosen ? "latest" : date.value;
    const r = await api("GET", `/api/v1/institutions/${school.value}/meals/reconciliation?date=${encodeURIComponent(day)}`);
    if (r.status !== 200) { showError(r, controls, general); body.replaceChildren(); return; }
    general.textContent = "";
    for (const e of controls.querySelectorAll("[data-error-for]")) e.textContent = "";
    last = r.data;
    date.value = last.date;
    draw();
  }
  function draw() {
    const d = last;
    const csv = `/api/v1/institutions/${d.institution.id}/meals/reconciliation?date=${d.date}&format=csv`;
    const rows = movedOnly.checked ? d.items.filter(moved) : d.items;
    body.replaceChildren(...[
      dayShown({ date: d.date, isToday: d.today, chosen, noteKey: "reconciliation.latest", line: false,
        todayHref: `/school/reconciliation?${new URLSearchParams({ school: school.value, date: today() })}` }),
      el("p", { class: "muted", id: "recon-where", text: t("reconciliation.where", { school: d.institution.name, date: fmt.date(d.date) }) }),
      checkBanner(d),
      totalsSection(d.totals),
      el("p", { class: "recon-actions" },
        el("a", { href: csv, download: `reconciliation-${d.institution.id}-${d.date}.csv`, class: "button", id: "recon-csv", text: t("reconciliation.csv") })),
      section("reconciliation.rows",
        el("label", { class: "check", for: "recon-moved" }, movedOnly, ` ${t("reconciliation.moved_only")}`),
        rows.length ? rowsTable(rows) : el("p", { class: "muted", id: "recon-none", text: t("reconciliation.none") }))]
      .filter(Boolean));
  }
  school.addEventListener("change", load);
  date.addEventListener("change", () => {
    chosen = false;
    load();
  });
  movedOnly.addEventListener("change", () => {
    const q = new URLSearchParams(location.search);
    if (movedOnly.checked) q.delete("all"); else q.set("all", "1");
    history.replaceState(null, "", `/school/reconciliation?${q}`);
    if (last) draw();
  });
  show(title, controls, body);
  await load();
}

// A student with money moving that day, or a balance.
const moved = (i) => i.topups || i.sales || i.refunds || i.opening || i.closing || i.free_count || i.declined_offline_count;

function checkBanner(d) {
  if (d.check === true)
    return el("p", { class: "card recon-check valid", id: "recon-check", role: "status", text: t("reconciliation.check_ok") });
  const names = new Map(d.items.map((i) => [i.student.id, i.student.name]));
  return el("div", { class: "card recon-check error", id: "recon-check", role: "alert" },
    el("p", {}, el("strong", { text: t("reconciliation.check_bad") })),
    el("ul", {}, d.check.map((p) => el("li", { text: t(`reconciliation.problem.${p.problem}`, {
      student: p.student == null ? t("reconciliation.totals") : names.get(p.student) ?? "",
      expected: fmt.money(p.expected), actual: fmt.money(p.actual) }) }))));
}

function totalsSection(x) {
  const line = (key, value, id) => [el("dt", { text: t(key) }), el("dd", { id, text: value })];
  return el("section", { class: "card recon-totals" }, el("h2", { text: t("reconciliation.totals") }),
    el("dl", { class: "facts" },
      line("reconciliation.students", fmt.number(x.students, 0), "recon-students"),
      line("reconciliation.col.opening", fmt.money(x.opening), "recon-opening"),
      line("reconciliation.col.topups", fmt.money(x.topups), "recon-topups"),
      line("reconciliation.col.sales", fmt.money(x.sales), "recon-sales"),
      line("reconciliation.col.refunds", fmt.money(x.refunds), "recon-refunds"),
      line("reconciliation.col.closing", fmt.money(x.closing), "recon-closing"),
      line("reconciliation.free", t("reconciliation.count_value",
        { count: fmt.plural("reconciliation.portions", x.free_count), value: fmt.money(x.free_value) }), "recon-free"),
      line("reconciliation.declined", t("reconciliation.count_value",
        { count: fmt.plural("reconciliation.sales_count", x.declined_offline_count), value: fmt.money(x.declined_offline_value) }),
      "recon-declined")),
    el("p", { class: "muted recon-note", text: t("reconciliation.declined_about") }));
}

function rowsTable(rows) {
  const cols = ["opening", "topups", "sales", "refunds", "closing"];
  return el("div", { class: "table-wrap" }, el("table", { class: "recon", id: "recon-table" },
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: t("reconciliation.col.student") }),
      el("th", { scope: "col", text: t("reconciliation.col.class") }),
      cols.map((c) => el("th", { scope: "col", class: "num", text: t(`reconciliation.col.${c}`) })))),
    el("tbody", {}, rows.map((i) => el("tr", { class: i.adds_up ? "" : "mismatch", "data-student": String(i.student.id) },
      el("th", { scope: "row", class: "student" }, i.student.name,
        i.adds_up ? null : el("span", { class: "badge mismatch-badge", text: t("reconciliation.mismatch") })),
      el("td", { class: "class", "data-label": t("reconciliation.col.class"), text: i.class?.name ?? "—" }),
      cols.map((c) => el("td", { class: "num", "data-label": t(`reconciliation.col.${c}`), text: fmt.money(i[c]) })))))));
}
