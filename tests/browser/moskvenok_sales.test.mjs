// «Москвёнок»'s buffet in the browser (meals.js, canteen.js): a parent stops a category (and an
// item, when the school's buffet is listed), sets a daily limit, sees a purchase and a refusal
// with its reason in Russian, stops the account and frees it; the canteen operator sees the
// day's sales, an offline sale handed out unpaid, and refunds a sale with a reason. Both pages
// fit a phone.
//
// The buffet's world (goods, the day's complexes, a card and a balance) is written with sqlite3
// into a demo region of its own before its node starts (`salesNode`): the menu's, cards' and
// top-ups' APIs are other parts of the same issue. Школа № 1 is the demo's showcase of
// «Москвёнок» besides (a buffet, the week's complexes, a card and a balance for everyone): the
// goods here are the test's own, and its lunch replaces today's.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, call, freePort, login, MESNODE, token, waitForTrue } from "./lib.mjs";

const CANTEEN = { login: "canteen1", password: "canteen-pass-1" };

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// The goods and the day's complexes of Школа № 1, Артём's card and 1000 ₽ on his account.
function seed(db) {
  const sql = (q) => execFileSync("sqlite3", [db, q]).toString().trim();
  const s1 = sql("SELECT id FROM institutions WHERE short_name = 'Школа № 1'");
  const artem = sql("SELECT id FROM persons WHERE last_name = 'Иванов' AND first_name = 'Артём'");
  const day = today();
  const known = sql("SELECT coalesce(max(id), 0) FROM buffet_items"); // the demo's buffet
  sql(`PRAGMA foreign_keys = ON;
    INSERT INTO buffet_items (institution_id, name, category, price) VALUES
      (${s1}, 'Булочка с маком', 'bakery', 4500), (${s1}, 'Сок яблочный', 'drinks', 6000),
      (${s1}, 'Шоколад', 'sweets', 8000);
    INSERT INTO meal_complexes (institution_id, day, kind, price, dishes) VALUES
      (${s1}, '${day}', 'lunch', 15000, '["Щи", "Котлета с пюре"]')
      ON CONFLICT (institution_id, day, kind) DO UPDATE SET price = excluded.price, dishes = excluded.dishes;
    INSERT INTO cards (card, student_id, institution_id) VALUES ('ARTEM-1', ${artem}, ${s1});
    INSERT INTO meal_accounts (student_id, balance) VALUES (${artem}, 100000)
      ON CONFLICT (student_id) DO UPDATE SET balance = balance + 100000;
    INSERT INTO ledger (student_id, day, at, kind, amount, ref, balance)
      SELECT ${artem}, '${day}', unixepoch(), 'topup', 100000, 0, balance FROM meal_accounts WHERE student_id = ${artem};`);
  const ids = (q) => Object.fromEntries(sql(q).split("\n").map((l) => l.split("|")).map(([k, v]) => [k, Number(v)]));
  const mine = `FROM buffet_items WHERE id > ${known}`;
  return { s1: Number(s1), artem: Number(artem), items: ids(`SELECT name, id ${mine}`),
    prices: ids(`SELECT name, price ${mine}`),
    categories: Object.fromEntries(sql(`SELECT name, category ${mine}`).split("\n").map((l) => l.split("|"))),
    lunch: Number(sql(`SELECT id FROM meal_complexes WHERE institution_id = ${s1} AND day = '${day}' AND kind = 'lunch'`)) };
}

let shared = null;

// A demo region of its own with the buffet's world, served; a buffet terminal's token and the
// canteen operator's account made through the API. Stopped when the process ends.
function salesNode() {
  shared ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "mesnode-sales-"));
    const data = join(dir, "data");
    execFileSync(MESNODE, ["gen", "--scale", "demo", "--data", data], { stdio: "ignore" });
    const world = seed(join(data, "mes.db"));
    const port = await freePort();
    writeFileSync(join(dir, "node.yaml"), `http:\n  listen: "127.0.0.1:${port}"\n  access_log: "off"\n` +
      `storage:\n  data_dir: "${data}"\n  synchronous: normal\n`);
    const proc = spawn(MESNODE, ["serve", "--config", join(dir, "node.yaml")], { stdio: "ignore" });
    process.on("exit", () => { proc.kill("SIGTERM"); rmSync(dir, { recursive: true, force: true }); });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 400; i++) {
      try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    const admin = await token(base, "admin");
    const device = await call(base, admin, "POST", "/api/v1/devices", { name: "Касса столовой", scopes: ["meals"], institution_id: world.s1 });
    assert(device.status === 201, `device: ${device.status}`);
    const person = await call(base, admin, "POST", "/api/v1/persons", { last_name: "Поварова", first_name: "Анна",
      account: { ...CANTEEN, roles: [{ role: "canteen", institution_id: world.s1 }] } });
    assert(person.status === 201, `canteen operator: ${person.status}`);
    let seq = 0;
    // The terminal sells to Артём's card (or `card`); the node's answer.
    const sell = async (items, extra = {}) => {
      seq++;
      const r = await call(base, device.data.token, "POST", "/api/v1/meals/sales",
        { key: `b-${seq}`, seq, card: "ARTEM-1", items, ...extra });
      assert(r.status === 200, `sale: ${r.status} ${JSON.stringify(r.data)}`);
      return r.data;
    };
    return { base, world, sell };
  })();
  return shared;
}

// A text as read, its spaces (Intl's no-break ones in «90,00 ₽» too) made plain.
const text = async (page, sel) => (await page.textContent(sel)).replace(/\s+/g, " ");

// The page has no horizontal scroll at a desktop's width nor at a phone's; with SCREENSHOT_DIR
// set, a screenshot of each goes there (NAME-1366.png, NAME-390.png).
async function shots(page, name) {
  for (const [width, height] of [[1366, 800], [390, 844]]) {
    await page.setViewportSize({ width, height });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, `${width} px wide: horizontal overflow of ${overflow} px`);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: join(process.env.SCREENSHOT_DIR, `${name}-${width}.png`), fullPage: true });
  }
}

export const tests = {
  async "moskvenok sales: a parent sets a stop list and a limit and sees a purchase"(ctx) {
    const { page } = ctx;
    const { base, world, sell } = await salesNode();
    const bun = await sell([{ id: world.items["Булочка с маком"], quantity: 2 }]);
    assert(bun.approved, "the bun was not sold");
    const tok = await token(base, "parent");
    await login(page, base, "parent");
    await page.click(`a.meals-link[href='/students/${world.artem}/meals']`);
    await page.waitForSelector("#meals-purchases");
    const title = await page.textContent("h1");
    assert(title.startsWith("Питание") && title.includes("Иванов Артём"), "title: " + title);
    const first = await text(page, `li.purchase[data-id='${bun.sale}']`);
    assert(first.includes("Булочка с маком × 2") && first.includes("90,00 ₽"), "purchase: " + first);
    assert((await text(page, "#meals-today")).includes("90,00 ₽"), "spent today");

    // The stop list by category (and by item when the school's goods are listed).
    await page.check("#meals-stoplist input[name=category][value=sweets]");
    await page.click("#stoplist-goods summary");
    await waitForTrue(page, () => document.querySelector("#stoplist-goods .stoplist-group, #stoplist-no-goods"));
    await page.check(`#meals-stoplist input[name=item][value='${world.items["Сок яблочный"]}']`);
    assert((await text(page, "#stoplist-goods summary")).includes("запрещено: 1"), "the count of stopped goods");
    const drinks = await text(page, "#stoplist-goods .stoplist-group:has(input[name=item][value='" + world.items["Сок яблочный"] + "'])");
    assert(drinks.includes("Напитки") && drinks.includes("Сок яблочный · 60,00 ₽"), "goods: " + drinks);
    await page.click("#stoplist-save");
    await waitForTrue(page, () => document.querySelector("#meals-stoplist .status")?.textContent === "Список запретов сохранён.");
    const list = await call(base, tok, "GET", `/api/v1/students/${world.artem}/meals/stoplist`);
    assert(JSON.stringify(list.data.categories) === '["sweets"]', "categories: " + JSON.stringify(list.data));
    assert(JSON.stringify(list.data.items) === `[${world.items["Сок яблочный"]}]`, "items: " + JSON.stringify(list.data));

    // A limit of 150 ₽ a day; a wrong one is refused beside the field.
    await page.fill("#meals-limit input[name=daily_limit]", "сто");
    await page.click("#limit-save");
    await waitForTrue(page, () => document.querySelector('#meals-limit [data-error-for="daily_limit"]')?.textContent.length > 0);
    await page.fill("#meals-limit input[name=daily_limit]", "150");
    await page.click("#limit-save");
    await waitForTrue(page, () => document.querySelector("#limit-current")?.textContent.replace(/\s+/g, " ") === "Не больше 150,00 ₽ в день.");
    const limit = await call(base, tok, "GET", `/api/v1/students/${world.artem}/meals/limit`);
    assert(limit.data.daily_limit === 15000, "limit: " + JSON.stringify(limit.data));
    await waitForTrue(page, () => document.querySelector("#meals-today")?.textContent.replace(/\s+/g, " ").includes("из 150,00 ₽"));

    // The terminal now refuses chocolate (stopped) and a lunch (over the limit); the page says why.
    const chocolate = await sell([{ id: world.items["Шоколад"], quantity: 1 }]);
    const lunch = await sell([{ complex: world.lunch, quantity: 1 }]);
    assert(chocolate.reason === "stop_list" && lunch.reason === "daily_limit", `${chocolate.reason} ${lunch.reason}`);
    await page.reload();
    await page.waitForSelector(`li.purchase[data-id='${lunch.sale}']`);
    const refused = await text(page, `li.purchase[data-id='${chocolate.sale}']`);
    assert(refused.includes("Отказ: товар в списке запретов") && refused.includes("Шоколад"), "refusal: " + refused);
    const over = await text(page, `li.purchase[data-id='${lunch.sale}']`);
    assert(over.includes("Отказ: превышен дневной лимит") && over.includes("Обед: Щи, Котлета с пюре"), "refusal: " + over);
    assert(await page.isChecked("#meals-stoplist input[name=category][value=sweets]"), "the stop list as saved");

    // Stopping the account at once, and freeing it.
    await page.click("#blocked-toggle");
    await waitForTrue(page, () => document.querySelector("#blocked-state")?.textContent.startsWith("Питание заблокировано"));
    assert((await sell([{ id: world.items["Булочка с маком"], quantity: 1 }])).reason === "account_blocked", "not blocked");
    await page.click("#blocked-toggle");
    await waitForTrue(page, () => document.querySelector("#blocked-state")?.textContent === "Питание доступно.");
    await shots(page, "meals");
    // Lift the limit and the stop list for the other test.
    await call(base, tok, "PUT", `/api/v1/students/${world.artem}/meals/limit`, { daily_limit: null });
    await call(base, tok, "PUT", `/api/v1/students/${world.artem}/meals/stoplist`, { items: [], categories: [] });
  },

  async "moskvenok sales: the canteen operator refunds a sale"(ctx) {
    const { page } = ctx;
    const { base, world, sell } = await salesNode();
    const sale = await sell([{ id: world.items["Сок яблочный"], quantity: 1 }, { complex: world.lunch, quantity: 1 }]);
    assert(sale.approved && sale.total === 21000, "sale: " + JSON.stringify(sale));
    const lost = await sell([{ id: world.items["Булочка с маком"], quantity: 1 }],
      { card: "UNKNOWN-9", offline: true, at: new Date(Date.now() - 600000).toISOString() });
    assert(lost.reason === "unknown_card", "offline sale: " + JSON.stringify(lost));
    await login(page, base, CANTEEN.login, CANTEEN.password);
    await page.click("#nav a[href='/canteen']");
    await page.waitForSelector(`li.canteen-sale[data-id='${sale.sale}']`);
    const row = `li.canteen-sale[data-id='${sale.sale}']`;
    const shown = await text(page, row);
    assert(shown.includes("Иванов Артём") && shown.includes("210,00 ₽") && shown.includes("Обед: Щи, Котлета с пюре"), "sale: " + shown);
    const unpaid = await text(page, `li.canteen-sale.unpaid[data-id='${lost.sale}']`);
    assert(unpaid.includes("Выдано без оплаты: 45,00 ₽") && unpaid.includes("Незарегистрированная карта"), "unpaid: " + unpaid);
    assert((await text(page, "#total-unpaid")).includes("45,00 ₽"), "unpaid total");
    // What was sold today, on top: the lunch and the juice among the goods.
    const lunch = await text(page, "#canteen-summary tr[data-category=lunch]");
    assert(lunch.startsWith("Обед") && lunch.includes("150,00 ₽"), "the summary's lunch: " + lunch);
    assert(await page.textContent("#canteen-summary tr[data-category=lunch] td.refunded") === "—", "nothing refunded yet");

    // A refund needs a reason; then the sale is marked and its money is back.
    await page.click(`${row} button.refund-open`);
    await page.click(`${row} button.refund-send`);
    await waitForTrue(page, (sel) => document.querySelector(`${sel} [data-error-for="reason"]`)?.textContent.length > 0, row);
    await page.fill(`${row} input[name=reason]`, "Обед не выдан: закончился");
    await page.click(`${row} button.refund-send`);
    await waitForTrue(page, (sel) => document.querySelector(`${sel} .refund-note`)?.textContent.includes("Обед не выдан"), row);
    assert(!(await page.$(`${row} button.refund-open`)), "a refunded sale offers a refund again");
    assert((await text(page, "#total-refunded")) === "1 продажа на 210,00 ₽", "refunded total: " + await text(page, "#total-refunded"));
    assert((await text(page, "#canteen-summary tr[data-category=lunch] td.refunded")) === "150,00 ₽", "the lunch refunded");
    const parent = await token(base, "parent");
    const bought = await call(base, parent, "GET", `/api/v1/students/${world.artem}/meals/purchases`);
    const refunded = bought.data.items.find((p) => p.id === sale.sale).refunded;
    assert(refunded?.reason === "Обед не выдан: закончился", "refund: " + JSON.stringify(refunded));

    // A search by the student's name as typed, or by a card, keeps only their sales.
    const listed = () => page.$$eval("li.canteen-sale", (li) => li.map((x) => Number(x.dataset.id)));
    await page.fill("#canteen-q", "иванов арт");
    await waitForTrue(page, () => document.querySelector("#canteen-shown")?.textContent.startsWith("Найдено"));
    const found = await listed();
    assert(found.includes(sale.sale) && !found.includes(lost.sale), "found by name: " + found);
    assert((await text(page, row)).includes("Обед не выдан"), "the refund shows in the search");
    await page.fill("#canteen-q", "");
    await waitForTrue(page, (id) => document.querySelector(`li.canteen-sale[data-id='${id}']`), lost.sale);
    await page.fill("#canteen-q", "ARTEM-1");
    await waitForTrue(page, (id) => !document.querySelector(`li.canteen-sale[data-id='${id}']`), lost.sale);
    const byCard = await page.$$eval("li.canteen-sale", (li) => li.map((x) => x.textContent));
    assert(byCard.length > 0 && byCard.every((x) => x.includes("Иванов Артём")), "found by card: " + byCard);
    await page.fill("#canteen-q", "Нет такого ученика");
    await waitForTrue(page, () => document.querySelector("#canteen-shown")?.textContent === "Ничего не найдено.");
    await page.fill("#canteen-q", "");
    await waitForTrue(page, (ids) => ids.every((id) => document.querySelector(`li.canteen-sale[data-id='${id}']`)), [sale.sale, lost.sale]);
    await shots(page, "canteen");
  },
};
