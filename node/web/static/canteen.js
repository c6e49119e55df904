// The canteen's day, /canteen: the buffet terminals' sales of one school on one day (today by
// default), newest first, with the day's totals; refusals with their reason; sales a terminal
// made offline that could not be paid at upload, marked as handed out unpaid; and a refund of
// a sale with its reason (once; audited). For the school's canteen operator and its admin
// (?school= when they serve several schools, ?date= another day).
import { api, el, errorText, field, fmt, go, navigation, pages, show, showError, state, t, today } from "./app.js";
import { lineItem } from "./meals.js";

navigation.push({ key: "canteen.nav", href: "/canteen", roles: ["canteen", "school_admin"] });
pages.push({ path: /^\/canteen$/, view: canteenView });

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
  const day = /^\d{4}-\d{2}-\d{2}$/.test(params.get("date") ?? "") ? params.get("date") : today();
  const title = el("h1", { text: t("canteen.title") });
  if (!school) { show(title, el("p", { class: "card", text: t("canteen.no_school") })); return; }
  show(title, el("p", { text: t("app.loading") }));
  const r = await api("GET", `/api/v1/institutions/${school.id}/meals/sales?date=${day}`);

  const pick = el("select", { name: "school" }, list.map((s) => el("option", { value: String(s.id), text: s.name })));
  pick.value = String(school.id);
  const date = el("input", { type: "date", name: "date", value: day, max: today() });
  const open = (s, d) => go(`/canteen?${new URLSearchParams({ school: s, date: d })}`);
  pick.addEventListener("change", () => open(pick.value, date.value || day));
  date.addEventListener("change", () => { if (date.value) open(pick.value, date.value); });
  const controls = el("form", { class: "toolbar canteen-controls", onsubmit: (ev) => ev.preventDefault() },
    list.length > 1 ? field("canteen.school", pick) : el("p", { class: "canteen-school", text: school.name }),
    field("canteen.date", date));
  if (r.status !== 200) {
    show(title, controls, el("p", { class: "error", id: "canteen-error", text: errorText(r) }));
    return;
  }
  const { items, totals } = r.data;
  show(title, controls,
    el("section", { class: "card canteen-totals", id: "canteen-totals" },
      el("h2", { text: t("canteen.totals", { date: fmt.date(day) }) }),
      el("dl", { class: "facts" },
        el("dt", { text: t("canteen.total.approved") }), el("dd", { id: "total-approved", text: fmt.number(totals.approved, 0) }),
        el("dt", { text: t("canteen.total.debited") }), el("dd", { id: "total-debited", text: fmt.money(totals.debited) }),
        el("dt", { text: t("canteen.total.refunded") }), el("dd", { id: "total-refunded", text: fmt.money(totals.refunded) }),
        el("dt", { text: t("canteen.total.free") }), el("dd", { text: fmt.money(totals.free) }),
        el("dt", { text: t("canteen.total.declined") }), el("dd", { text: fmt.number(totals.declined, 0) }),
        el("dt", { text: t("canteen.total.unpaid") }), el("dd", { id: "total-unpaid", class: totals.offline_unpaid ? "unpaid-total" : "",
          text: t("canteen.total.unpaid_value", { count: fmt.number(totals.offline_unpaid, 0), sum: fmt.money(totals.offline_unpaid_value) }) }))),
    items.length
      ? el("ul", { class: "canteen-sales", id: "canteen-sales" }, items.map((s) => saleItem(s, () => canteenView())))
      : el("p", { class: "card muted", id: "canteen-none", text: t("canteen.none") }));
}

// Who bought: the student and class, or who the terminal could not name.
function buyer(s) {
  if (s.student) return s.student.class ? `${s.student.name}, ${s.student.class}` : s.student.name;
  return t(s.reason === "other_school" ? "canteen.buyer.other_school" : "canteen.buyer.unknown");
}

function saleItem(s, reload) {
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
  if (s.status === "approved" && !s.refunded) li.append(refundPart(s, reload));
  return li;
}

// «Вернуть деньги»: opens a form asking the reason, then refunds the sale.
function refundPart(s, reload) {
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
      await reload();
    } },
    field("canteen.refund.reason", reason), general, el("div", { class: "toolbar" }, send, cancel));
    wrap.replaceChildren(form);
    reason.focus();
  });
  wrap.append(start);
  return wrap;
}
