// The family's meals page, /students/{id}/meals «Питание»: what the child bought at the school's
// buffet and what the terminal refused (with the reason), and the parents' controls over it: the
// stop list by category and by item of the school's buffet, the daily limit, and stopping the
// account at once (a lost card). The student and the school see the same page without the
// parents' controls; the school's admin may also stop the account. Money comes in kopecks and
// is shown with fmt.money.
import { api, childLinks, el, errorText, field, fmt, navigation, pages, section, show, showError, state, t } from "./app.js";
import { childHead, samePage } from "./family.js";

pages.push({ path: /^\/students\/(\d+)\/meals$/, view: mealsView });
childLinks.push({ key: "meals.link", href: (id) => `/students/${id}/meals`, class: "meals-link" });
navigation.push({ key: "meals.link", href: (me) => `/students/${me.person_id}/meals`, roles: ["student"] });

// The buffet's categories, in the order the stop list shows them.
export const CATEGORIES = ["hot", "bakery", "dairy", "drinks", "fruit", "sweets", "snacks"];

// «Обед: Щи, Котлета» for a complex, «Булочка с маком» for an item; « × 2» when more than one.
export function lineText(l) {
  const name = l.kind === "complex"
    ? (l.name && l.name !== l.category ? `${t(`meals.kind.${l.category}`)}: ${l.name}` : t(`meals.kind.${l.category}`))
    : l.name;
  return l.quantity > 1 ? t("meals.line_quantity", { name, quantity: fmt.number(l.quantity, 0) }) : name;
}

// One sale line: what, and its price or «бесплатно».
export function lineItem(l) {
  return el("li", { class: l.free ? "meal-line free" : "meal-line" },
    el("span", { class: "meal-line-name", text: lineText(l) }),
    el("span", { class: "meal-line-price", text: l.free ? t("meals.free") : fmt.money(l.price * l.quantity) }));
}

// The school whose buffet the child buys at: from /me for a parent or the student, else the
// student's record (the school's staff).
async function schoolOf(id) {
  const n = Number(id);
  const kid = (state.me.children ?? []).find((c) => c.id === n);
  if (kid) return kid.institution?.id ?? null;
  if (state.me.student?.id === n) return state.me.student.institution?.id ?? null;
  const r = await api("GET", `/api/v1/students/${n}`);
  return r.status === 200 ? r.data.institution?.id ?? null : null;
}

async function mealsView(id) {
  show(el("p", { text: t("app.loading") }));
  const n = Number(id);
  const parent = state.me.roles.includes("parent") && (state.me.children ?? []).some((c) => c.id === n);
  const [purchases, stoplist, limit, blocked, head, school] = await Promise.all([
    api("GET", `/api/v1/students/${id}/meals/purchases`),
    api("GET", `/api/v1/students/${id}/meals/stoplist`),
    api("GET", `/api/v1/students/${id}/meals/limit`),
    api("GET", `/api/v1/students/${id}/meals/blocked`),
    childHead("meals.title", id, samePage((c) => `/students/${c}/meals`)),
    schoolOf(id),
  ]);
  const failed = [purchases, stoplist, limit, blocked].find((r) => r.status !== 200);
  if (failed) {
    show(...head, el("p", { class: "error", id: "meals-error", text: errorText(failed) }));
    return;
  }
  const purchasesBox = el("div", { id: "meals-purchases" });
  const todayBox = el("p", { id: "meals-today", class: "meals-today" });
  const drawPurchases = (list, lim) => {
    todayBox.textContent = lim.daily_limit == null
      ? t("meals.spent_today", { spent: fmt.money(lim.spent_today) })
      : t("meals.spent_today_of", { spent: fmt.money(lim.spent_today), limit: fmt.money(lim.daily_limit) });
    purchasesBox.replaceChildren(purchaseList(list));
  };
  drawPurchases(purchases.data.items, limit.data);
  const refresh = async () => {
    const [p, l] = await Promise.all([api("GET", `/api/v1/students/${id}/meals/purchases`),
      api("GET", `/api/v1/students/${id}/meals/limit`)]);
    if (p.status === 200 && l.status === 200) drawPurchases(p.data.items, l.data);
  };

  const canBlock = parent || state.me.roles.includes("school_admin");
  show(
    ...head,
    section("meals.today", todayBox, el("p", { class: "muted small-text", text: t("meals.purchases_hint") }), purchasesBox),
    el("section", { class: "card", id: "meals-stoplist" }, el("h2", { text: t("stoplist.title") }),
      stoplistPart(id, stoplist.data, school, parent)),
    el("section", { class: "card", id: "meals-limit" }, el("h2", { text: t("meals.limit.title") }),
      limitPart(id, limit.data, parent, refresh)),
    el("section", { class: "card", id: "meals-blocked" },
      el("h2", { text: t("meals.blocked.title") }), blockedPart(id, blocked.data, canBlock)));
}

// The purchases, newest first: each with its lines, its sum, and a refusal's reason or a
// refund.
function purchaseList(list) {
  if (!list.length) return el("p", { class: "muted", id: "meals-none", text: t("meals.none") });
  return el("ul", { class: "purchases" }, list.map((p) => {
    const declined = p.status === "declined";
    const status = declined
      ? el("span", { class: "purchase-status declined", text: t("meals.declined", { reason: t(`meals.reason.${p.reason}`) }) })
      : p.refunded
        ? el("span", { class: "purchase-status refunded", text: t("meals.refunded", { when: fmt.when(p.refunded.at) }) })
        : el("span", { class: "purchase-sum", text: p.total ? fmt.money(p.total) : t("meals.free") });
    return el("li", { class: `purchase ${p.status}`, "data-id": String(p.id), "data-status": p.status },
      el("div", { class: "purchase-head" },
        el("span", { class: "muted", text: fmt.when(p.at) }), status),
      el("ul", { class: "meal-lines" }, p.lines.map(lineItem)),
      p.refunded?.reason ? el("p", { class: "muted small-text", text: t("meals.refund_reason", { reason: p.refunded.reason }) }) : null,
      p.free && !declined ? el("p", { class: "muted small-text", text: t("meals.free_given", { sum: fmt.money(p.free) }) }) : null);
  }));
}

// The stop list: categories, and single goods of the school's buffet (listed when asked: the
// list can be long). A parent edits it; others read it.
function stoplistPart(id, current, school, editable) {
  const stoppedItems = new Set(current.items);
  const status = el("p", { class: "status", role: "status" });
  const general = el("p", { class: "error", role: "alert" });
  const box = (name, value, checked, labelText, onChange) => {
    const input = el("input", { type: "checkbox", name, value: String(value) });
    input.checked = checked;
    if (!editable) input.disabled = true;
    if (onChange) input.addEventListener("change", () => onChange(input.checked));
    return el("label", { class: "check" }, input, labelText);
  };
  const cats = el("fieldset", { class: "stoplist-categories" },
    el("legend", { text: t("stoplist.categories") }),
    CATEGORIES.map((c) => box("category", c, current.categories.includes(c), t(`meals.category.${c}`))));
  const count = el("span", { class: "stoplist-count" });
  const drawCount = () => { count.textContent = t("stoplist.items_count", { n: fmt.number(stoppedItems.size, 0) }); };
  drawCount();
  const list = el("div", { class: "stoplist-items" }, el("p", { class: "muted", text: t("app.loading") }));
  const goods = el("details", { class: "stoplist-goods", id: "stoplist-goods" },
    el("summary", {}, t("stoplist.items"), " ", count), list);
  const toggle = (item) => (on) => {
    if (on) stoppedItems.add(item); else stoppedItems.delete(item);
    drawCount();
  };
  let loaded = false;
  goods.addEventListener("toggle", async () => {
    if (!goods.open || loaded) return;
    loaded = true;
    const r = school ? await api("GET", `/api/v1/institutions/${school}/buffet/items`) : null;
    const items = r?.status === 200 ? r.data.items ?? [] : [];
    const known = new Set(items.map((i) => i.id));
    const groups = CATEGORIES.map((c) => [c, items.filter((i) => i.category === c && (i.active !== false || stoppedItems.has(i.id)))])
      .filter(([, l]) => l.length);
    list.replaceChildren(...[
      ...groups.map(([c, l]) => el("div", { class: "stoplist-group" },
        el("p", { class: "stoplist-group-name", text: t(`meals.category.${c}`) }),
        l.map((i) => box("item", i.id, stoppedItems.has(i.id), `${i.name} · ${fmt.money(i.price)}`, toggle(i.id))))),
      groups.length ? null : el("p", { class: "muted", id: "stoplist-no-goods",
        text: t(r?.status === 200 ? "stoplist.no_goods" : "stoplist.goods_unavailable") }),
      // Items stopped earlier that the buffet no longer lists.
      ...[...stoppedItems].filter((i) => !known.has(i)).map((i) => box("item", i, true, t("stoplist.item_gone", { id: i }), toggle(i))),
    ].filter(Boolean));
  });
  if (!editable) return el("div", {}, el("p", { class: "muted", text: t("stoplist.read_only") }), cats, goods);
  const save = el("button", { type: "submit", id: "stoplist-save", text: t("stoplist.save") });
  const form = el("form", { class: "stoplist-form", onsubmit: async (ev) => {
    ev.preventDefault();
    status.textContent = "";
    general.textContent = "";
    const categories = [...form.querySelectorAll("input[name=category]:checked")].map((i) => i.value);
    save.disabled = true;
    const r = await api("PUT", `/api/v1/students/${id}/meals/stoplist`, { items: [...stoppedItems], categories });
    save.disabled = false;
    if (r.status !== 200) { showError(r, form, general); return; }
    status.textContent = t("stoplist.saved");
  } },
  el("p", { class: "muted", text: t("stoplist.hint") }), cats, goods, general, save, status);
  return form;
}

// The daily limit in rubles (kopecks on the wire); empty: none.
function limitPart(id, current, editable, refresh) {
  const shown = el("p", { id: "limit-current", text: limitText(current.daily_limit) });
  if (!editable) return shown;
  const input = el("input", { name: "daily_limit", inputmode: "decimal", autocomplete: "off", maxlength: "12" });
  if (current.daily_limit != null) input.value = fmt.number(current.daily_limit / 100, 2).replace(/\s/g, "");
  const status = el("p", { class: "status", role: "status" });
  const general = el("p", { class: "error", role: "alert" });
  const save = el("button", { type: "submit", id: "limit-save", text: t("meals.limit.save") });
  const form = el("form", { class: "limit-form", novalidate: "", onsubmit: async (ev) => {
    ev.preventDefault();
    status.textContent = "";
    general.textContent = "";
    const text = input.value.trim().replace(/\s/g, "").replace(",", ".");
    let value = null;
    if (text) {
      value = Math.round(Number(text) * 100);
      if (!/^\d+(\.\d{1,2})?$/.test(text) || value > 10000000) {
        form.querySelector('[data-error-for="daily_limit"]').textContent = t("error.bad_limit.daily_limit");
        input.focus();
        return;
      }
    }
    save.disabled = true;
    const r = await api("PUT", `/api/v1/students/${id}/meals/limit`, { daily_limit: value });
    save.disabled = false;
    if (r.status !== 200) { showError(r, form, general); return; }
    form.querySelector('[data-error-for="daily_limit"]').textContent = "";
    shown.textContent = limitText(r.data.daily_limit);
    status.textContent = t("meals.limit.saved");
    await refresh();
  } },
  shown, el("p", { class: "muted", text: t("meals.limit.hint") }),
  el("div", { class: "limit-row" }, field("meals.limit.label", input), save), general, status);
  return form;
}

function limitText(kopecks) {
  return kopecks == null ? t("meals.limit.none") : t("meals.limit.current", { limit: fmt.money(kopecks) });
}

// Whether the account is stopped, and the button that stops or frees it.
function blockedPart(id, current, editable) {
  const box = el("div", { class: "blocked-part" });
  const draw = (b) => {
    const general = el("p", { class: "error", role: "alert" });
    const button = el("button", { type: "button", id: "blocked-toggle", class: b.blocked ? "" : "danger",
      text: t(b.blocked ? "meals.blocked.unblock" : "meals.blocked.block") });
    button.addEventListener("click", async () => {
      button.disabled = true;
      const r = await api("PUT", `/api/v1/students/${id}/meals/blocked`, { blocked: !b.blocked });
      button.disabled = false;
      if (r.status !== 200) { showError(r, box, general); return; }
      draw(r.data);
    });
    box.replaceChildren(...[
      el("p", { id: "blocked-state", class: b.blocked ? "blocked-on" : "", text: b.blocked
        ? t("meals.blocked.on", { when: fmt.when(b.blocked_at) }) : t("meals.blocked.off") }),
      editable ? el("p", { class: "muted", text: t("meals.blocked.hint") }) : null,
      editable ? button : null, general].filter(Boolean));
  };
  draw(current);
  return box;
}
