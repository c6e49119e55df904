// «Москвёнок»'s menu in the browser (menu.js): a canteen operator finds the menu from the home
// page, sets a day's complexes (a bad price is refused beside its field), adds a buffet item,
// changes it and takes it off sale, copies the day, and reads the kitchen's order for it (one
// table per complex, a CSV link); a parent opens a child's menu from the home page and sees
// which complex is «бесплатно» for this child and why. At a phone's width nothing spills over.
import { assert, call, errorsOf, login, token, waitForTrue } from "./lib.mjs";

// Console errors and uncaught exceptions of the page, collected from now on.
// The Monday at least `days` days after today, as YYYY-MM-DD.
function mondayAfter(days) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  d.setUTCDate(d.getUTCDate() + ((8 - d.getUTCDay()) % 7));
  return d.toISOString().slice(0, 10);
}

const plusDays = (iso, n) => {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

// A new account of the demo's school 1 made by its admin: { login, password, id }.
async function newAccount(base, login, roles, last) {
  const sa = await token(base, "schooladmin");
  const me = await call(base, sa, "GET", "/api/v1/me");
  const school = me.data.institutions[0].id;
  const r = await call(base, sa, "POST", "/api/v1/persons", { last_name: last, first_name: "Тест",
    account: { login, password: "menu-pass-2026", roles: roles(school) } });
  assert(r.status === 201, `new account ${login}: ${r.status} ${JSON.stringify(r.data)}`);
  return { login, password: "menu-pass-2026", id: r.data.id, school, sa };
}

const nothingSpills = (page) => page.evaluate(() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth);

export const tests = {
  async "moskvenok menu: the canteen operator edits the menu and the goods and sees the kitchen's order"(ctx) {
    const { page, base } = ctx;
    const op = await newAccount(base, "menu_canteen", (s) => [{ role: "canteen", institution_id: s }], "Поварова");
    const day = mondayAfter(30);
    await login(page, base, op.login, op.password);
    const errors = errorsOf(page);
    // The home card and the navigation lead to the menu.
    await page.waitForSelector("#home-canteen");
    assert(await page.$("#nav a[href='/canteen/menu']") && await page.$("#nav a[href='/canteen/order']"), "canteen navigation");
    assert(!(await page.$("#nav a[href='/school/benefits']")), "benefits are the school admin's");
    await page.click("#home-canteen-menu");
    await page.waitForSelector("#menu-form");
    await page.goto(`${base}/canteen/menu?date=${day}`);
    await page.waitForSelector("#menu-form");
    assert((await page.textContent("h1")).startsWith("Меню столовой"), "h1: " + await page.textContent("h1"));

    // Breakfast with a bad price: refused beside the price, nothing saved.
    const breakfast = "fieldset[data-kind=breakfast]";
    await page.check(`${breakfast} input.complex-served`);
    await page.fill(`${breakfast} input.complex-price`, "дёшево");
    await page.fill(`${breakfast} textarea.complex-dishes`, "Каша гречневая\nЧай");
    await page.click("#menu-save");
    await waitForTrue(page, () => document.querySelector('[data-error-for="breakfast.price"]')?.textContent.includes("Цена"));
    let menu = await call(base, op.sa, "GET", `/api/v1/institutions/${op.school}/menu?date=${day}`);
    assert(menu.data.complexes.length === 0, "a bad price saved something");
    // Good prices: saved in kopecks.
    await page.fill(`${breakfast} input.complex-price`, "85,50");
    await page.check("fieldset[data-kind=lunch] input.complex-served");
    await page.fill("fieldset[data-kind=lunch] input.complex-price", "150");
    await page.fill("fieldset[data-kind=lunch] textarea.complex-dishes", "Суп-лапша\n\nТефтели с рисом\n");
    await page.click("#menu-save");
    await waitForTrue(page, () => document.querySelector("#menu-saved")?.textContent === "Меню сохранено.");
    assert(!(await page.textContent('[data-error-for="breakfast.price"]')), "the old error stays");
    menu = await call(base, op.sa, "GET", `/api/v1/institutions/${op.school}/menu?date=${day}`);
    const got = menu.data.complexes.map((c) => `${c.kind}:${c.price}:${c.dishes.join("|")}`);
    assert(got.join(" ") === "breakfast:8550:Каша гречневая|Чай lunch:15000:Суп-лапша|Тефтели с рисом", "saved: " + got.join(" "));

    // A buffet item: added, its price changed, taken off sale and back.
    const add = "#item-add";
    await page.fill(`${add} input[name=name]`, "Пирожок с капустой");
    await page.selectOption(`${add} select[name=category]`, "bakery");
    await page.fill(`${add} input[name=price]`, "0");
    await page.click(`${add} button[type=submit]`);
    await waitForTrue(page, () => document.querySelector('#item-add [data-error-for="price"]')?.textContent.length > 0);
    await page.fill(`${add} input[name=price]`, "32");
    await page.click(`${add} button[type=submit]`);
    await page.waitForSelector("#buffet-items li:has(.item-name:text-is('Пирожок с капустой'))");
    const id = await page.getAttribute("#buffet-items li:has(.item-name:text-is('Пирожок с капустой'))", "data-id");
    const item = `#buffet-items li[data-id='${id}']`;
    assert((await page.textContent(`${item} .item-price`)).replace(/\s/g, " ") === "32,00 ₽", "price: " + await page.textContent(`${item} .item-price`));
    assert((await page.textContent(`${item} .item-category`)) === "Выпечка", "category");
    await page.click(`${item} .item-edit`);
    await page.fill(`${item} input[name=price]`, "34,5");
    await page.click(`${item} .item-save`);
    await waitForTrue(page, (sel) => document.querySelector(`${sel} .item-price`)?.textContent.replace(/\s/g, " ") === "34,50 ₽", item);
    await page.click(`${item} .item-remove`);
    await waitForTrue(page, (sel) => document.querySelector(`${sel} .canteen-off`)?.textContent === "снят с продажи", item);
    const onSale = await call(base, op.sa, "GET", `/api/v1/institutions/${op.school}/buffet/items`);
    assert(!onSale.data.items.some((i) => i.name === "Пирожок с капустой"), "still on sale");
    await page.click(`${item} .item-restore`);
    await page.waitForSelector(`${item} .item-remove`);

    // Copy the day a week on.
    await page.fill("form.canteen-copy input[name=to]", plusDays(day, 7));
    await page.click("#menu-copy");
    await waitForTrue(page, () => document.querySelector("#menu-copied")?.textContent === "Меню скопировано на 1 день.");
    const copied = await call(base, op.sa, "GET", `/api/v1/institutions/${op.school}/menu?date=${plusDays(day, 7)}`);
    assert(copied.data.complexes.length === 2, "copy");

    // The kitchen's order for the day: a table per complex on the menu, with the day in words.
    await page.goto(`${base}/canteen/order?date=${day}`);
    await page.waitForSelector("#kitchen-order table");
    assert((await page.textContent("h1")) === "Заказ на кухню", "order h1");
    const kinds = await page.$$eval(".kitchen-kind h2", (hs) => hs.map((h) => h.firstChild.textContent));
    assert(kinds.join(",") === "Завтрак,Обед", "kinds: " + kinds);
    assert(/^На понедельник, \d+ [а-я]+$/.test(await page.textContent("#kitchen-date strong")), "day: " + await page.textContent("#kitchen-date strong"));
    // 2А eats breakfast free (grades 1-4 by default): its portions are its pupils expected.
    const c2a = await page.$eval(".kitchen-kind[data-kind=breakfast] tr[data-class='2А']", (tr) => [...tr.children].map((c) => c.textContent));
    assert(c2a[0] === "2А" && Number(c2a[3]) > 0 && c2a[3] === c2a[2] && c2a[5] === c2a[3], "2А breakfast: " + c2a.join("|"));
    assert(/\d+ порци/.test(await page.textContent(".kitchen-kind[data-kind=breakfast] .kitchen-portions")), "portions in words");
    const csv = await page.getAttribute("#kitchen-csv", "href");
    assert(csv.includes("format=csv") && csv.includes(`date=${day}`), "csv link: " + csv);
    const file = await page.evaluate(async (href) => (await fetch(href)).text(), csv);
    assert(file.split("\r\n")[0].replace(/^\ufeff/, "") === "Класс;Комплекс;Учеников;Придут;Бесплатно;Платно (оценка);Порций", "csv head: " + file.slice(0, 80));
    // Another day from the date field.
    await page.fill("input[name=date]", plusDays(day, 7));
    await page.dispatchEvent("input[name=date]", "change");
    await waitForTrue(page, (d) => document.querySelector("#kitchen-date")?.dataset.date === d, plusDays(day, 7));

    // A phone: nothing spills over the order or the menu.
    await page.setViewportSize({ width: 390, height: 844 });
    assert(await nothingSpills(page), "the order spills over at 390 px");
    await page.goto(`${base}/canteen/menu?date=${day}`);
    await page.waitForSelector("#buffet-items li");
    assert(await nothingSpills(page), "the menu spills over at 390 px");
    assert(!errors.length, "console: " + errors.join("; "));
  },

  async "moskvenok menu: a parent sees the child's menu with «бесплатно» and why"(ctx) {
    const { page, base } = ctx;
    // A parent of a 2А pupil (grades 1-4 eat breakfast free by the demo's rules).
    const parent = await newAccount(base, "menu_parent", () => [{ role: "parent" }], "Родителева");
    const classes = await call(base, parent.sa, "GET", `/api/v1/institutions/${parent.school}/classes`);
    const c2a = classes.data.items.find((c) => c.name === "2А");
    const pupils = await call(base, parent.sa, "GET", `/api/v1/classes/${c2a.id}/students`);
    const child = pupils.data.items[0];
    const g = await call(base, parent.sa, "POST", "/api/v1/guardians", { guardian_id: parent.id, student_id: child.id, relation: "mother" });
    assert(g.status === 201, "guardian: " + g.status);
    const today = (() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`; })();
    // The day the page opens on: the school day from today on (today when it is one).
    const day = (await call(base, parent.sa, "GET", `/api/v1/institutions/${parent.school}/menu?date=next`)).data.date;
    assert(day >= today, "the next school day: " + day);
    const set = await call(base, parent.sa, "PUT", `/api/v1/institutions/${parent.school}/menu`, { date: day, complexes: [
      { kind: "breakfast", price: 9000, dishes: ["Омлет", "Какао"] }, { kind: "lunch", price: 15550, dishes: ["Щи", "Плов"] }] });
    assert(set.status === 200, "menu: " + set.status);

    await login(page, base, parent.login, parent.password);
    const errors = errorsOf(page);
    await page.waitForSelector("a.menu-link");
    await page.click("a.menu-link");
    await page.waitForSelector("#menu-complexes");
    const short = child.name.split(" ").slice(0, 2).join(" ");
    assert((await page.textContent("h1")) === `Меню: ${short}`, "h1: " + await page.textContent("h1"));
    assert(new URL(page.url()).pathname === `/students/${child.id}/menu`, page.url());
    const why = await page.textContent("#menu-entitlement");
    assert(why.includes("Бесплатно по возрасту (2 класс): завтрак."), "why: " + why);
    const breakfast = await page.textContent("li.menu-complex[data-kind=breakfast] .menu-price");
    assert(breakfast.startsWith("бесплатно") && breakfast.replace(/\s/g, " ").includes("90,00 ₽"), "breakfast: " + breakfast);
    assert(!(await page.$("li.menu-complex[data-kind=lunch] .menu-free")), "lunch is not free");
    assert((await page.textContent("li.menu-complex[data-kind=lunch] .menu-price")).replace(/\s/g, " ") === "155,50 ₽", "lunch price");
    assert((await page.$$eval("li.menu-complex[data-kind=lunch] .menu-dishes li", (l) => l.map((x) => x.textContent))).join(",") === "Щи,Плов", "dishes");
    assert(await page.getAttribute("#menu-day", "data-date") === day, "the day shown");
    // Another day than today (a weekend, a holiday) says why.
    const note = await page.$eval("#day-shown-note", (n) => n.textContent).catch(() => null);
    assert(day === today ? note === null : note === "Сегодня не учебный день — показано меню ближайшего учебного дня.", "note: " + note);
    // The next day, as the school's menu has it (the demo's showcase has complexes every Monday
    // to Friday of this week and the next); the switch keeps the child.
    const next = plusDays(day, 1);
    const tomorrow = (await call(base, parent.sa, "GET", `/api/v1/institutions/${parent.school}/menu?date=${next}`)).data.complexes;
    await page.click(".canteen-days .day-next");
    await waitForTrue(page, (d) => new URLSearchParams(location.search).get("date") === d, next);
    if (tomorrow.length) {
      const dishes = tomorrow.map((c) => c.dishes.join(","));
      await waitForTrue(page, (want) => [...document.querySelectorAll("#menu-complexes li.menu-complex")]
        .map((l) => [...l.querySelectorAll(".menu-dishes li")].map((x) => x.textContent).join(",")).join("|") === want,
      dishes.join("|"));
    } else {
      await page.waitForSelector("#menu-none");
    }
    assert(new URL(page.url()).pathname === `/students/${child.id}/menu`, page.url());
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goBack();
    await page.waitForSelector("#menu-complexes");
    assert(await nothingSpills(page), "the family's menu spills over at 390 px");
    // Another family's child is not this parent's.
    await page.goto(`${base}/students/${pupils.data.items[1].id}/menu`);
    await page.waitForSelector("main .error");
    assert(!errors.filter((e) => !/403/.test(e)).length, "console: " + errors.join("; "));
  },

  async "moskvenok menu: the school admin's benefits page tells the region's rules"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "schooladmin");
    await page.waitForSelector("#nav a[href='/school/benefits']");
    await page.click("#nav a[href='/school/benefits']");
    await page.waitForSelector("#benefit-rules");
    const rules = await page.textContent("#benefit-rules");
    assert(rules.includes("ученики 1–4 классов получают бесплатно: завтрак") && rules.includes("Льготные категории в регионе не заданы"),
      "rules: " + rules);
    assert((await page.textContent("#benefit-list")).includes("Пока ни у кого нет льготы."), "list");
  },
};
