// The canteen's day, /canteen: the buffet terminals' sales of one school on one day, with the
// day's totals and what was sold (per complex and item: portions, free ones, sums, refunds) on
// top, then the sales themselves newest first, a page at a time («Показать ещё»): refusals
// with their reason; sales a terminal made offline that could not be paid at upload, marked as
// handed out unpaid; and a refund of a sale with its reason (once; audited). For the school's
// canteen operator and its admin (?school= when they serve several schools, ?date= a day).
// Without ?date= the page shows today, or, when today has no sales yet (a weekend, a holiday,
// the early morning), the latest day with sales, and says so (the server's date=latest).
import { api, dayShown, el, errorText, field, fmt, go, navigation, pages, show, showError, state, t, today } from "./app.js";
import { lineItem } from "./meals.js";

navigation.push({ key: "canteen.nav", href: "/canteen", roles: ["canteen", "school_admin"] });
pages.push({ path: /^\/canteen$/, view: canteenView });

const PAGE = 50; // sales a page

// The schools whose canteen the person runs: a canteen operator's or admin's grants.
function schools() {
  const mine = new Set((state.me.grants ?? []).filter((g) => g.role === "canteen" || g.role === "school_admin")
    .map((g) => g.institution_id).filter(Boolean));
  return (state.me.institutions ?? []).filter((i) => mine.has(i.id));
}

async function canteenView() {
  const params = new URLSearchParams(location.search);
  const list = schools();
  const school = list.find((s) => `${s.id}` === params.get("school")) ?? list[0];
  const asked = /^\d{4}-\d{2}-\d{2}$/.test(params.get("date") ?? "") ? params.get("date") : null;
  const title = el("h1", { text: t("canteen.title") });
  if (!school) { show(title, el("p", { class: "card", text: t("canteen.no_school") })); return; }
  show(title, el("p", { text: t("app.loading") }));
  const sales = (query) => api("GET", `/api/v1/institutions/${school.id}/meals/sales?${new URLSearchParams(query)}`);
  const r = await sales({ date: asked ?? "latest", limit: PAGE });

  const pick = el("select", { name: "school" }, list.map((s) => el("option", { value: String(s.id), text: s.name })));
  pick.value = String(school.id);
  const date = el("input", { type: "date", name: "date", value: r.data?.date ?? asked ?? today(), max: today() });
  const here = (s, d) => `/canteen?${new URLSearchParams(d ? { school: s, date: d } : { school: s })}`;
  pick.addEventListener("change", () => go(here(pick.value, asked)));
  date.addEventListener("change", () => { if (date.value) go(here(pick.value, date.value)); });
  const controls = el("form", { class: "toolbar canteen-controls", onsubmit: (ev) => ev.preventDefault() },
    list.length > 1 ? field("canteen.school", pick) : el("p", { class: "canteen-school", text: school.name }),
    field("canteen.date", date));
  if (r.status !== 200) {
    show(title, controls, el("p", { class: "error", id: "canteen-error", text: errorText(r) }));
    return;
  }
  const day = r.data.date;
  const loaded = [...r.data.items];
  const top = el("div", { id: "canteen-top" });
  const saleList = el("ul", { class: "canteen-sales", id: "canteen-sales" });
  const shown = el("p", { class: "muted", id: "canteen-shown", role: "status" });
  const more = el("button", { type: "button", class: "secondary", id: "canteen-more", text: t("canteen.more") });
  const moreError = el("p", { class: "error", role: "alert" });
  const salesHead = el("h2", {});
  // A search among the day's sales by the student's name or a card (a refund a parent asks for):
  // the list is asked anew, filtered; the totals stay the day's.
  const search = el("input", { type: "search", name: "q", id: "canteen-q", maxlength: "100", autocomplete: "off" });
  const searchForm = el("form", { class: "canteen-search", role: "search", onsubmit: (ev) => { ev.preventDefault(); find(); } },
    field("canteen.search", search));
  let query = "", findSeq = 0, findTimer = 0;
  const withQuery = (q) => (query ? { ...q, q: query } : q);
  let totals = r.data.totals;

  // The totals and the summary, from the latest answer (new sales may have come since).
  function drawTop(data) {
    totals = data.totals;
    top.replaceChildren(...[totalsCard(data.totals), summaryCard(data.summary, data.totals)].filter(Boolean));
    const all = data.totals.approved + data.totals.declined;
    salesHead.textContent = t("canteen.sales_title", { n: fmt.number(all, 0) });
  }
  function drawShown(hasMore) {
    const all = totals.approved + totals.declined;
    shown.textContent = query
      ? (loaded.length ? t("canteen.found", { n: fmt.number(loaded.length, 0) }) : t("canteen.not_found"))
      : hasMore || loaded.length < all
        ? t("canteen.shown", { n: fmt.number(loaded.length, 0), of: fmt.number(Math.max(all, loaded.length), 0) }) : "";
    more.hidden = !hasMore;
  }
  // The list anew for the search's text; only the latest search's answer is drawn.
  async function find() {
    clearTimeout(findTimer);
    const seq = ++findSeq;
    const asked = search.value.trim();
    const found = await sales(asked ? { date: day, limit: PAGE, q: asked } : { date: day, limit: PAGE });
    if (seq !== findSeq) return;
    if (found.status !== 200) { moreError.textContent = errorText(found); return; }
    moreError.textContent = "";
    query = asked;
    loaded.splice(0, loaded.length, ...found.data.items);
    saleList.replaceChildren(...loaded.map((s) => saleItem(s, refunded)));
    drawTop(found.data);
    drawShown(found.data.more);
  }
  search.addEventListener("input", () => { clearTimeout(findTimer); findTimer = setTimeout(find, 300); });
  // After a refund: the totals asked anew, the sale marked where it is (the pages loaded stay).
  async function refunded(s, reason) {
    s.refunded = { at: Math.floor(Date.now() / 1000), by: state.me.name, reason };
    const again = await sales({ date: day, limit: 1 });
    if (again.status === 200) drawTop(again.data);
    saleList.querySelector(`li.canteen-sale[data-id='${s.id}']`)?.replaceWith(saleItem(s, refunded));
  }
  more.addEventListener("click", async () => {
    more.disabled = true;
    const seq = findSeq; // a search since then has drawn another list: this page is not its
    const next = await sales(withQuery({ date: day, limit: PAGE, before: loaded[loaded.length - 1].id }));
    more.disabled = false;
    if (seq !== findSeq) return;
    if (next.status !== 200) { moreError.textContent = errorText(next); return; }
    moreError.textContent = "";
    loaded.push(...next.data.items);
    saleList.append(...next.data.items.map((s) => saleItem(s, refunded)));
    drawTop(next.data);
    drawShown(next.data.more);
  });

  saleList.append(...loaded.map((s) => saleItem(s, refunded)));
  drawTop(r.data);
  drawShown(r.data.more);
  show(title, controls,
    dayShown({ date: day, isToday: r.data.today, chosen: !asked, noteKey: "canteen.latest",
      todayHref: here(school.id, today()) }),
    top,
    loaded.length
      ? el("section", { class: "canteen-list" }, salesHead, searchForm, saleList, shown, moreError, more)
      : el("p", { class: "card muted", id: "canteen-none", text: t("canteen.none") }));
}

// The day's totals: sales, money debited and refunded, free meals, refusals, unpaid ones.
function totalsCard(totals) {
  return el("section", { class: "card canteen-totals", id: "canteen-totals" },
    el("h2", { text: t("canteen.totals_title") }),
    el("dl", { class: "facts" },
      el("dt", { text: t("canteen.total.approved") }), el("dd", { id: "total-approved", text: fmt.number(totals.approved, 0) }),
      el("dt", { text: t("canteen.total.debited") }), el("dd", { id: "total-debited", text: fmt.money(totals.debited) }),
      el("dt", { text: t("canteen.total.refunded") }), el("dd", { id: "total-refunded",
        text: totals.refunds ? t("canteen.total.refunds_value", { count: fmt.plural("canteen.sales_count", totals.refunds), sum: fmt.money(totals.refunded) })
          : fmt.money(totals.refunded) }),
      el("dt", { text: t("canteen.total.free") }), el("dd", { id: "total-free",
        text: t("canteen.total.free_value", { count: fmt.plural("canteen.portions", totals.free_quantity), sum: fmt.money(totals.free) }) }),
      el("dt", { text: t("canteen.total.declined") }), el("dd", { text: fmt.number(totals.declined, 0) }),
      el("dt", { text: t("canteen.total.unpaid") }), el("dd", { id: "total-unpaid", class: totals.offline_unpaid ? "unpaid-total" : "",
        text: t("canteen.total.unpaid_value", { count: fmt.number(totals.offline_unpaid, 0), sum: fmt.money(totals.offline_unpaid_value) }) })));
}

// What was sold: one row per complex kind and buffet item, with the day's sums below.
function summaryCard(lines, totals) {
  if (!lines.length) return null;
  const sum = (k) => lines.reduce((a, l) => a + l[k], 0);
  const name = (l) => (l.kind === "complex" ? t(`meals.kind.${l.category}`) : l.name);
  const free = (n, value) => (n ? t("canteen.summary.free_value", { n: fmt.number(n, 0), sum: fmt.money(value) }) : "—");
  const cell = (key, text) => el("td", { class: `num ${key}`, "data-label": t(`canteen.summary.${key}`), text });
  const row = (head, l, cls = "") => el("tr", { class: cls, "data-kind": l.kind ?? "", "data-category": l.category ?? "" },
    el("th", { scope: "row", text: head }),
    cell("quantity", fmt.number(l.quantity, 0)),
    cell("free", free(l.free_quantity, l.free_value)),
    cell("amount", fmt.money(l.amount)),
    cell("refunded", l.refunded ? fmt.money(l.refunded) : "—"));
  return el("section", { class: "card canteen-summary", id: "canteen-summary" },
    el("h2", { text: t("canteen.summary.title") }),
    el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": t("canteen.summary.title") },
      el("table", { class: "canteen-summary-table" },
        el("thead", {}, el("tr", {},
          el("th", { scope: "col", text: t("canteen.summary.what") }),
          ["quantity", "free", "amount", "refunded"].map((c) => el("th", { scope: "col", class: "num", text: t(`canteen.summary.${c}`) })))),
        el("tbody", {}, lines.map((l) => row(name(l), l))),
        el("tfoot", {}, row(t("canteen.summary.total"), { quantity: sum("quantity"), free_quantity: sum("free_quantity"),
          free_value: sum("free_value"), amount: sum("amount"), refunded: sum("refunded") }, "totals")))),
    totals.declined ? el("p", { class: "muted small-text", text: t("canteen.summary.about") }) : null);
}

// Who bought: the student and class, or who the terminal could not name.
function buyer(s) {
  if (s.student) return s.student.class ? `${s.student.name}, ${s.student.class}` : s.student.name;
  return t(s.reason === "other_school" ? "canteen.buyer.other_school" : "canteen.buyer.unknown");
}

function saleItem(s, onRefund) {
  const marks = [];
  if (s.status === "declined")
    marks.push(el("span", { class: "sale-mark declined", text: t("canteen.declined", { reason: t(`meals.reason.${s.reason}`) }) }));
  if (s.unpaid) marks.push(el("span", { class: "sale-mark unpaid", text: t("canteen.unpaid", { sum: fmt.money(s.value) }) }));
  else if (s.offline) marks.push(el("span", { class: "sale-mark", text: t("canteen.offline") }));
  if (s.refunded) marks.push(el("span", { class: "sale-mark refunded", text: t("canteen.refunded") }));
  const sum = s.status !== "approved" ? null
    : el("span", { class: "sale-sum", text: s.total || !s.free ? fmt.money(s.total) : t("meals.free") });
  const li = el("li", { class: `card canteen-sale ${s.status}${s.unpaid ? " unpaid" : ""}`, "data-id": String(s.id),
    "data-status": s.status },
  el("div", { class: "sale-head" }, el("strong", { class: "sale-buyer", text: buyer(s) }), sum),
  marks.length ? el("div", { class: "sale-marks" }, marks) : null,
  el("p", { class: "muted small-text", text: t("canteen.when_where", { when: fmt.when(s.at), terminal: s.terminal }) }),
  el("ul", { class: "meal-lines" }, s.lines.map(lineItem)),
  s.refunded ? el("p", { class: "muted small-text refund-note", text: t("canteen.refund_note", {
    when: fmt.when(s.refunded.at), by: s.refunded.by ?? "—", reason: s.refunded.reason }) }) : null);
  if (s.status === "approved" && !s.refunded) li.append(refundPart(s, onRefund));
  return li;
}

// «Вернуть деньги»: opens a form asking the reason, then refunds the sale.
function refundPart(s, onRefund) {
  const wrap = el("div", { class: "refund" });
  const start = el("button", { type: "button", class: "secondary refund-open", text: t("canteen.refund.open") });
  start.addEventListener("click", () => {
    const reason = el("input", { name: "reason", maxlength: "500", autocomplete: "off", required: "" });
    const general = el("p", { class: "error", role: "alert" });
    const send = el("button", { type: "submit", class: "refund-send", text: t("canteen.refund.send", { sum: fmt.money(s.total) }) });
    const cancel = el("button", { type: "button", class: "secondary", text: t("canteen.refund.cancel") });
    cancel.addEventListener("click", () => wrap.replaceChildren(start));
    const form = el("form", { class: "refund-form", novalidate: "", onsubmit: async (ev) => {
      ev.preventDefault();
      if (!reason.value.trim()) {
        form.querySelector('[data-error-for="reason"]').textContent = t("error.bad_refund_reason.reason");
        reason.focus();
        return;
      }
      send.disabled = true;
      const r = await api("POST", `/api/v1/meals/sales/${s.id}/refund`, { reason: reason.value.trim() });
      send.disabled = false;
      if (r.status !== 200) { showError(r, form, general); return; }
      await onRefund(s, reason.value.trim());
    } },
    field("canteen.refund.reason", reason), general, el("div", { class: "toolbar" }, send, cancel));
    wrap.replaceChildren(form);
    reason.focus();
  });
  wrap.append(start);
  return wrap;
}
