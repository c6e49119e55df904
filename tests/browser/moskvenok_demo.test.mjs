// «Москвёнок»'s showcase in the demo (node/demo/terminals.c), as the demo's `canteen` login sees
// it: Белова Галина Петровна, the canteen of «Школа № 1», finds this week's menu (breakfast,
// lunch and the snack every Monday to Friday) and, on the canteen's day, the last school day's
// sales that the school's buffet terminal recorded. Only the demo's own data: nothing is set up.
import { assert, call, errorsOf, login, token, waitForTrue } from "./lib.mjs";

const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

export const tests = {
  async "moskvenok demo: the canteen login sees this week's menu and the last school day's sales"(ctx) {
    const { page, base } = ctx;
    const tok = await token(base, "canteen");
    const me = (await call(base, tok, "GET", "/api/v1/me")).data;
    const school = me.grants.find((g) => g.role === "canteen").institution_id;
    // The showcase's day: the last day before today with sales at the school.
    const day = new Date();
    let sold = null;
    for (let i = 0; i < 120 && !sold; i++) {
      day.setDate(day.getDate() - 1);
      const r = await call(base, tok, "GET", `/api/v1/institutions/${school}/meals/sales?date=${iso(day)}`);
      assert(r.status === 200, `sales of ${iso(day)}: ${r.status}`);
      if (r.data.items.length) sold = r.data;
    }
    assert(sold, "no day with sales at Школа № 1");

    await login(page, base, "canteen");
    const errors = errorsOf(page);
    await page.waitForSelector("#home-canteen");
    assert((await page.textContent("#nav")).includes("Меню"), "navigation: " + await page.textContent("#nav"));
    // This week's Wednesday (any of Monday to Friday has the showcase's three complexes).
    const wednesday = new Date();
    wednesday.setDate(wednesday.getDate() - ((wednesday.getDay() + 6) % 7) + 2);
    await page.click("#nav a[href='/canteen/menu']");
    await page.waitForSelector("#menu-form");
    await page.goto(`${base}/canteen/menu?date=${iso(wednesday)}`);
    await page.waitForSelector("#menu-form");
    for (const [kind, price] of [["breakfast", "95"], ["lunch", "145"], ["snack", "60"]]) {
      const f = `fieldset[data-kind=${kind}]`;
      assert(await page.isChecked(`${f} input.complex-served`), `${kind} is not on the menu`);
      const shown = await page.inputValue(`${f} input.complex-price`);
      assert(shown.replace(/,00$/, "") === price, `${kind}'s price: ${shown}`);
      assert((await page.inputValue(`${f} textarea.complex-dishes`)).trim().length > 0, `${kind}'s dishes`);
    }
    await page.waitForSelector("#buffet-items li");
    const goods = await page.$$eval("#buffet-items li .item-name", (ns) => ns.map((n) => n.textContent));
    assert(goods.includes("Чай с сахаром") && goods.length === 5, "the buffet: " + goods.join(", "));

    // The canteen's day: today has none yet; the showcase's day, by the date field, has them.
    await page.click("#nav a[href='/canteen']");
    await page.waitForSelector("#canteen-totals");
    await page.fill("input[name=date]", sold.date);
    await page.dispatchEvent("input[name=date]", "change");
    await waitForTrue(page, (d) => new URLSearchParams(location.search).get("date") === d, sold.date);
    await waitForTrue(page, (n) => document.querySelectorAll("#canteen-sales li.canteen-sale").length === n, sold.items.length);
    assert(await page.textContent("#total-approved") === String(sold.totals.approved), "approved: " + await page.textContent("#total-approved"));
    const first = (await page.textContent(`li.canteen-sale[data-id='${sold.items[0].id}']`)).replace(/\s+/g, " ");
    assert(first.includes(sold.items[0].student.name) && first.includes("Буфет"), "a sale: " + first);
    const lines = await page.$$eval("#canteen-sales .meal-lines li", (ls) => ls.map((l) => l.textContent).join(" | "));
    assert(/Завтрак/.test(lines) && /Обед/.test(lines), "breakfasts and lunches: " + lines.slice(0, 300));
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },
};
