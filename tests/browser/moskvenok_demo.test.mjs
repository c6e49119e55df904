// «Москвёнок»'s showcase in the demo (node/demo/terminals.c), as the demo's `canteen` login sees
// it: Белова Галина Петровна, the canteen of «Школа № 1», finds this week's menu (breakfast,
// lunch and the snack every Monday to Friday) and, on the canteen's day, the last school day's
// sales that the school's buffet terminal recorded, with what was sold on top and the sales a
// page at a time. The demo's today never has the showcase's sales or passage (its day is the
// last school day before today), so on any weekday it is a day off to the pages: the canteen's
// day, the school's passage, a class's presence and the reconciliation open on the last day with
// something and say so. Only the demo's own data: nothing is set up.
import { assert, call, errorsOf, login, token, waitForTrue } from "./lib.mjs";

const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

// The latest day up to today on which `has(day)` holds, asking day by day (an oracle of the
// test's own for the pages' date=latest): today when it holds today.
async function latestDay(has) {
  const day = new Date();
  for (let i = 0; i < 120; i++, day.setDate(day.getDate() - 1)) if (await has(iso(day))) return iso(day);
  return null;
}

// The day a page says it shows, and whether it says why (today had nothing).
const shownDay = (page) => page.evaluate(() => {
  const d = document.querySelector("#day-shown");
  return d && { date: d.dataset.date, note: document.querySelector("#day-shown-note")?.textContent ?? null,
    text: d.querySelector(".day-shown-date")?.textContent ?? null, today: Boolean(document.querySelector("#day-shown-today")) };
});

export const tests = {
  async "moskvenok demo: the canteen login sees this week's menu and the last school day's sales"(ctx) {
    const { page, base } = ctx;
    const tok = await token(base, "canteen");
    const me = (await call(base, tok, "GET", "/api/v1/me")).data;
    const school = me.grants.find((g) => g.role === "canteen").institution_id;
    // The day the canteen's page opens on: today when it has sales (another test may have sold
    // today), else the last day with sales at the school, the showcase's (whatever weekday today is).
    const day = await latestDay(async (d) => {
      const r = await call(base, tok, "GET", `/api/v1/institutions/${school}/meals/sales?date=${d}&limit=1`);
      assert(r.status === 200, `sales of ${d}: ${r.status}`);
      return r.data.items.length > 0;
    });
    assert(day, "no day with sales at Школа № 1");
    const sold = (await call(base, tok, "GET", `/api/v1/institutions/${school}/meals/sales?date=${day}&limit=200`)).data;
    const count = sold.totals.approved + sold.totals.declined;
    assert(count > 50 && !sold.more, `the showcase's sales: ${count}`);

    await login(page, base, "canteen");
    const errors = errorsOf(page);
    await page.waitForSelector("#home-canteen");
    assert((await page.textContent("#nav")).includes("Меню"), "navigation: " + await page.textContent("#nav"));
    // This week's Wednesday (any of Monday to Friday has the showcase's three complexes).
    const wednesday = new Date();
    wednesday.setDate(wednesday.getDate() - ((wednesday.getDay() + 6) % 7) + 2);
    await page.click("#nav a[href='/canteen/menu']");
    await page.waitForSelector("#menu-form");
    // Opened without a day: the school day from today on, and why when it is not today.
    const next = (await call(base, tok, "GET", `/api/v1/institutions/${school}/menu?date=next`)).data.date;
    assert(next >= iso(new Date()) && await page.inputValue(".canteen-days input[name=date]") === next, "the menu's day: " + next);
    const menuNote = await shownDay(page);
    assert(next === iso(new Date()) ? menuNote === null
      : menuNote.date === next && menuNote.note.startsWith("Сегодня не учебный день") && menuNote.today, JSON.stringify(menuNote));
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

    // The canteen's day opens on the last day with sales and says so; the totals and what was
    // sold on top; the sales 50 at a time.
    await page.click("#nav a[href='/canteen']");
    await page.waitForSelector("#canteen-totals");
    const shown = await shownDay(page);
    assert(shown.date === day, `the canteen's day: ${JSON.stringify(shown)}, expected ${day}`);
    if (day !== iso(new Date())) {
      assert(shown.note === "Сегодня продаж нет — показан последний день с продажами." && shown.today, JSON.stringify(shown));
      assert(/^[А-Я][а-я]+, \d+ [а-я]+ \d{4} г\.$/.test(shown.text), "the day in words: " + shown.text);
    }
    assert(await page.inputValue("input[name=date]") === day, "the date field");
    assert(new URLSearchParams(new URL(page.url()).search).get("date") === null, "the page chose the day, not the URL");
    assert(await page.textContent("#total-approved") === String(sold.totals.approved), "approved: " + await page.textContent("#total-approved"));
    const rows = await page.$$eval("#canteen-summary tbody tr", (trs) => trs.map((r) => [r.dataset.category, r.querySelector("th").textContent,
      r.querySelector("td.quantity").textContent]));
    assert(rows.length === sold.summary.length && rows[0][0] === "breakfast" && rows[0][1] === "Завтрак", "summary: " + JSON.stringify(rows));
    assert(rows.every((r, i) => r[2] === String(sold.summary[i].quantity)), "summary's counts: " + JSON.stringify(rows));
    const free = (await page.textContent("#canteen-summary tr[data-category=breakfast] td.free")).replace(/\s+/g, " ");
    assert(free.startsWith(`${sold.summary[0].free_quantity} на `), "free breakfasts: " + free);
    const listed = () => page.$$eval("#canteen-sales li.canteen-sale", (ls) => ls.map((l) => Number(l.dataset.id)));
    assert((await listed()).join() === sold.items.slice(0, 50).map((s) => s.id).join(), "the first page");
    assert(await page.textContent("#canteen-shown") === `Показано 50 из ${count}.`, await page.textContent("#canteen-shown"));
    while (await page.isVisible("#canteen-more")) {
      const before = (await listed()).length;
      await page.click("#canteen-more");
      await waitForTrue(page, (n) => document.querySelectorAll("#canteen-sales li.canteen-sale").length > n, before);
    }
    assert((await listed()).join() === sold.items.map((s) => s.id).join(), "every sale, once, newest first");
    assert(await page.textContent("#canteen-shown") === "", "all shown: " + await page.textContent("#canteen-shown"));
    const first = (await page.textContent(`li.canteen-sale[data-id='${sold.items[0].id}']`)).replace(/\s+/g, " ");
    assert(first.includes(sold.items[0].student.name) && first.includes("Буфет"), "a sale: " + first);
    const lines = await page.$$eval("#canteen-sales .meal-lines li", (ls) => ls.map((l) => l.textContent).join(" | "));
    assert(/Завтрак/.test(lines) && /Обед/.test(lines), "breakfasts and lunches: " + lines.slice(0, 300));
    // Today, by the link: no sales, no note.
    if (day !== iso(new Date())) {
      await page.click("#day-shown-today");
      await page.waitForSelector("#canteen-none");
      const today = await shownDay(page);
      assert(today.date === iso(new Date()) && today.note === null && today.text.startsWith("Сегодня, "), JSON.stringify(today));
      assert(!/null|undefined/.test(await page.textContent("main")), "an empty day: " + await page.textContent("main"));
    }
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },

  async "moskvenok demo: the school's day pages open on the last day with passage or money and say which"(ctx) {
    const { page, base } = ctx;
    const sa = await token(base, "schooladmin");
    const ct = await token(base, "classteacher");
    const me = (await call(base, sa, "GET", "/api/v1/me")).data;
    const school = me.grants.find((g) => g.role === "school_admin").institution_id;
    const cls = (await call(base, ct, "GET", "/api/v1/me")).data.classes[0].id;
    const get = async (tok, path) => {
      const r = await call(base, tok, "GET", path);
      assert(r.status === 200, `${path}: ${r.status}`);
      return r.data;
    };
    // The oracles: the latest day with passage at the school (denials too), with entries or
    // exits (the class's presence), with money moving (the reconciliation).
    const passageDay = await latestDay(async (d) => {
      const x = await get(sa, `/api/v1/institutions/${school}/passage?date=${d}`);
      return x.entries + x.exits + x.denied > 0;
    });
    const presenceDay = await latestDay(async (d) => {
      const x = await get(sa, `/api/v1/institutions/${school}/passage?date=${d}`);
      return x.entries + x.exits > 0;
    });
    const moneyDay = await latestDay(async (d) => {
      const x = (await get(sa, `/api/v1/institutions/${school}/meals/reconciliation?date=${d}`)).totals;
      return x.topups + x.sales + x.refunds > 0;
    });
    assert(passageDay && presenceDay && moneyDay, `days: ${passageDay} ${presenceDay} ${moneyDay}`);
    const today = iso(new Date());
    const says = async (expected, note) => {
      const shown = await shownDay(page);
      assert(shown?.date === expected, `${page.url()}: ${JSON.stringify(shown)}, expected ${expected}`);
      if (expected === today) assert(shown.note === null && !shown.today, JSON.stringify(shown));
      else assert(shown.note === note && shown.today, JSON.stringify(shown));
    };

    await login(page, base, "schooladmin");
    const errors = errorsOf(page);
    await page.waitForSelector("#nav");
    await page.goto(`${base}/school/passage?school=${school}`);
    await page.waitForSelector("#school-passage-facts");
    await says(passageDay, "Сегодня проходов нет — показан последний день с проходами.");
    assert(await page.inputValue("input[name=date]") === passageDay, "the date field");
    const facts = await get(sa, `/api/v1/institutions/${school}/passage?date=${passageDay}`);
    assert(await page.textContent("#school-passage-facts dd[data-fact=entries]") === String(facts.entries), "entries");
    // A day from the URL is that day, said in words, with the way back to today.
    const other = new Date(`${passageDay}T12:00:00Z`);
    other.setUTCDate(other.getUTCDate() - 7);
    const week = other.toISOString().slice(0, 10);
    await page.goto(`${base}/school/passage?school=${school}&date=${week}`);
    await page.waitForSelector("#school-passage-facts");
    const asked = await shownDay(page);
    assert(asked.date === week && asked.note === null && asked.today, JSON.stringify(asked));
    await page.click("#day-shown-today");
    await waitForTrue(page, (d) => document.querySelector("#day-shown")?.dataset.date === d, today);

    await page.goto(`${base}/classes/${cls}/presence`);
    await page.waitForSelector("table.presence");
    await says(presenceDay, "Сегодня проходов нет — показан последний день с проходами.");
    const counts = await page.textContent("#presence-counts");
    assert(presenceDay === today ? counts.startsWith("Сейчас в школе:") : counts.startsWith("Вошли в школу:"), counts);

    await page.goto(`${base}/school/reconciliation?school=${school}`);
    await page.waitForSelector("#recon-check");
    await says(moneyDay, "Сегодня движений по счетам нет — показан последний день с движениями.");
    assert(await page.inputValue("input[name=date]") === moneyDay, "the reconciliation's date field");
    assert(new URLSearchParams(new URL(page.url()).search).get("date") === null, "the URL names no day");
    // Today's, by the date field: said by the line under the field, nothing else.
    await page.fill("input[name=date]", today);
    await page.dispatchEvent("input[name=date]", "change");
    await waitForTrue(page, (d) => new URLSearchParams(location.search).get("date") === d, today);
    await waitForTrue(page, () => !document.querySelector("#day-shown") && document.querySelector("#recon-where"));
    assert(!/null|undefined/.test(await page.textContent("main")), "today's reconciliation: " + await page.textContent("main"));
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },
};
