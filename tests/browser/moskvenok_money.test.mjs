// «Москвёнок»'s money in the browser (money.js): a parent sees the child's balance, the account
// number and the way to top up; a top-up the payment provider posts (signed here with
// node:crypto, as a provider would) appears in the history and the notifications; the school
// admin opens the day's reconciliation from /admin and downloads its CSV; the canteen operator
// finds it in the menu; a teacher is refused. The demo has no payment secret, so these tests
// serve the demo region (`mesnode gen`) with a meals section of their own.
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, call, errorsOf, freePort, login, MESNODE, token, waitForTrue } from "./lib.mjs";

const SECRET = "browser-payment-secret-0123456789-abcdef";
const PAY_URL = "https://pay.example.ru/meals";

let shared = null;

// The demo region served with meals.payment_secret and payment_url; one for this file's tests,
// stopped when the process ends.
function moneyNode() {
  if (!shared) {
    shared = (async () => {
      const dir = mkdtempSync(join(tmpdir(), "mesnode-money-"));
      execFileSync(MESNODE, ["gen", "--scale", "demo", "--data", join(dir, "data")], { stdio: "ignore" });
      const port = await freePort();
      writeFileSync(join(dir, "node.yaml"), `http:\n  listen: "127.0.0.1:${port}"\n  access_log: "off"\n` +
        `storage:\n  data_dir: "${join(dir, "data")}"\n  synchronous: normal\n` +
        `meals:\n  payment_secret: "${SECRET}"\n  payment_url: "${PAY_URL}"\n`);
      const proc = spawn(MESNODE, ["serve", "--config", join(dir, "node.yaml")], { stdio: "ignore" });
      process.on("exit", () => { proc.kill("SIGTERM"); rmSync(dir, { recursive: true, force: true }); });
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 400; i++) {
        try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
        await new Promise((r) => setTimeout(r, 50));
      }
      const parent = await token(base, "parent");
      const me = (await call(base, parent, "GET", "/api/v1/me")).data;
      const artem = me.children.find((c) => c.name.startsWith("Иванов Артём")).id;
      return { base, artem };
    })();
  }
  return shared;
}

// The account number as a provider checks it: 9 digits of the id and a Luhn digit.
function accountNumber(id) {
  const body = String(id).padStart(9, "0");
  let sum = 0;
  [...`${body}0`].reverse().forEach((c, i) => {
    let d = Number(c);
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  });
  return body + String((10 - (sum % 10)) % 10);
}

// Posts a signed top-up notification, as the payment provider does.
async function topUp(base, student, amount, paymentId) {
  const body = JSON.stringify({ payment_id: paymentId, account: accountNumber(student), amount,
    paid_at: new Date().toISOString() });
  const ts = String(Math.floor(Date.now() / 1000));
  const signature = createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex");
  const r = await fetch(`${base}/api/v1/meals/topups`, { method: "POST", body,
    headers: { "Content-Type": "application/json", "X-Payment-Timestamp": ts, "X-Payment-Signature": signature } });
  return { status: r.status, data: await r.json() };
}

const fitsWidth = () => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth;
// «1 234,50 ₽» as Intl writes it for ru-RU (its spaces are no-break ones).
const rubles = (s) => s.replace(/[\u00a0\u202f]/g, " ");

export const tests = {
  async "moskvenok money: a parent sees the balance, the account number and the way to top up; a top-up shows in the history"(ctx) {
    const { page } = ctx;
    const { base, artem } = await moneyNode();
    await login(page, base, "parent");
    await page.waitForSelector("a.account-link");
    const errors = errorsOf(page);
    const before = (await call(base, await token(base, "parent"), "GET", `/api/v1/students/${artem}/meals/account`)).data.balance;
    await page.click(`a.account-link[href="/students/${artem}/account"]`);
    await page.waitForSelector("#balance");
    assert((await page.textContent("h1")).includes("Иванов Артём"), "title: " + await page.textContent("h1"));
    const shown = rubles(await page.textContent("#balance"));
    assert(shown === rubles(new Intl.NumberFormat("ru-RU", { style: "currency", currency: "RUB" }).format(before / 100)),
      "balance: " + shown);
    assert(/₽$/.test(shown), "not in rubles: " + shown);
    assert(await page.textContent("#account-number") === accountNumber(artem), "account number: " + await page.textContent("#account-number"));
    assert(await page.getAttribute("#pay-link", "href") === PAY_URL, "the payment link");
    assert((await page.textContent("#topup-delay")).includes("в течение нескольких минут"), "delay text");
    // The provider's notification, then the page again: the balance and the history move.
    const r = await topUp(base, artem, 50000, `browser-${Date.now()}`);
    assert(r.status === 200 && r.data.applied, "top-up: " + JSON.stringify(r));
    await page.reload();
    await page.waitForSelector("#history tbody tr[data-kind=topup]");
    assert(rubles(await page.textContent("#balance")) === rubles(new Intl.NumberFormat("ru-RU", { style: "currency", currency: "RUB" })
      .format((before + 50000) / 100)), "balance after: " + await page.textContent("#balance"));
    const row = await page.$$eval("#history tbody tr[data-kind=topup]:first-child td", (tds) => tds.map((td) => td.textContent));
    assert(row[1] === "Пополнение" && rubles(row[2]) === "+500,00 ₽", "history row: " + row.join(" | "));
    assert(/^\d{1,2} [а-я]+\.? \d{4} г\., \d{2}:\d{2}$/.test(row[0]), "a Russian date: " + row[0]);
    // The notification reads in Russian with the amount in rubles.
    await page.goto(`${base}/notifications`);
    await page.waitForSelector("li[data-kind=meals_topup]");
    const text = rubles(await page.textContent("li[data-kind=meals_topup]"));
    assert(text.includes("Иванов Артём") && text.includes("пополнен на 500,00 ₽"), "notification: " + text);
    // At a phone's width nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/students/${artem}/account`);
    await page.waitForSelector("#history tbody tr");
    assert(await page.evaluate(fitsWidth), "the balance page scrolls sideways at 390 px");
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },

  async "moskvenok money: the student sees their balance on the home page"(ctx) {
    const { page } = ctx;
    const { base, artem } = await moneyNode();
    await login(page, base, "student");
    await page.waitForSelector("#home-balance-link");
    await waitForTrue(page, () => /₽/.test(document.querySelector("#home-balance")?.textContent ?? ""));
    await page.click("#home-balance-link");
    await page.waitForSelector("#account-number");
    assert(new URL(page.url()).pathname === `/students/${artem}/account`, "went to " + page.url());
  },

  async "moskvenok money: the school admin opens the reconciliation from /admin and downloads the CSV"(ctx) {
    const { page } = ctx;
    const { base, artem } = await moneyNode();
    assert((await topUp(base, artem, 12300, `browser-rec-${Date.now()}`)).status === 200, "top-up");
    // A student enrolled in 5А today, with no card and no meal account yet.
    const sa = await token(base, "schooladmin");
    const c5a = (await call(base, await token(base, "parent"), "GET", "/api/v1/me")).data.children
      .find((c) => c.id === artem).class.id;
    const person = await call(base, sa, "POST", "/api/v1/persons", { last_name: "Новенький", first_name: "Пётр" });
    assert(person.status === 201, "newcomer: " + person.status);
    const newcomer = person.data.id;
    const d = new Date();
    const enrolledOn = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const enrolled = await call(base, sa, "POST", "/api/v1/enrollments", { student_id: newcomer, class_id: c5a, enrolled_on: enrolledOn });
    assert(enrolled.status === 201, "enrolment: " + enrolled.status + " " + JSON.stringify(enrolled.data));
    await login(page, base, "schooladmin");
    await page.waitForSelector("#logout");
    const errors = errorsOf(page);
    await page.goto(`${base}/admin`);
    await page.click("a[href^='/school/reconciliation']");
    await page.waitForSelector("#recon-table");
    assert((await page.textContent("#recon-check")).includes("Всё сходится"), "check: " + await page.textContent("#recon-check"));
    const row = await page.$$eval(`#recon-table tr[data-student="${artem}"] > *`, (c) => c.map((x) => x.textContent));
    assert(row[0] === "Иванов Артём Сергеевич" && row[1] === "5А", "row: " + row.join(" | "));
    assert(/₽$/.test(row[3]) && rubles(row[3]) !== "0,00 ₽", "top-ups of the day: " + row[3]);
    // Everyone else of the demo's Школа № 1 has money too (its showcase of «Москвёнок»); the
    // newcomer has none and is listed only with the others.
    const moved = await page.$$eval("#recon-table tbody tr", (r) => r.length);
    assert(!(await page.$(`#recon-table tr[data-student="${newcomer}"]`)), "the newcomer among those with money");
    await page.uncheck("#recon-moved");
    await waitForTrue(page, (n) => document.querySelectorAll("#recon-table tbody tr").length > n, moved);
    await page.waitForSelector(`#recon-table tr[data-student="${newcomer}"]`);
    // The CSV: UTF-8 with a BOM, ';'-separated, the same row.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#recon-csv")]);
    const bytes = readFileSync(await download.path());
    assert(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf, "no BOM");
    const lines = bytes.toString("utf8").slice(1).split("\r\n");
    assert(lines[0].startsWith("student_id;student;class;account_number;opening;topups"), "header: " + lines[0]);
    const mine = lines.find((l) => l.startsWith(`${artem};`))?.split(";");
    assert(mine && mine[1] === "Иванов Артём Сергеевич" && mine[3] === accountNumber(artem), "CSV row: " + mine);
    assert(lines.some((l) => l.startsWith("total;")), "no totals line");
    // Another day: nothing moved then.
    await page.fill("input[name=date]", "2020-01-15");
    await page.dispatchEvent("input[name=date]", "change");
    await waitForTrue(page, () => /2020/.test(document.querySelector("#recon-where")?.textContent ?? ""));
    await page.setViewportSize({ width: 390, height: 844 });
    assert(await page.evaluate(fitsWidth), "the reconciliation scrolls sideways at 390 px");
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },

  async "moskvenok money: the canteen operator finds the reconciliation in the menu; a teacher is refused"(ctx) {
    const { page } = ctx;
    const { base } = await moneyNode();
    const admin = await token(base, "admin");
    const sa = (await call(base, await token(base, "schooladmin"), "GET", "/api/v1/me")).data;
    const school = sa.grants.find((g) => g.role === "school_admin").institution_id;
    const made = await call(base, admin, "POST", "/api/v1/persons", { last_name: "Поварова", first_name: "Анна",
      account: { login: "canteen-browser", password: "canteen-pass-1", roles: [{ role: "canteen", institution_id: school }] } });
    assert(made.status === 201, "canteen account: " + made.status);
    await login(page, base, "canteen-browser", "canteen-pass-1");
    await page.waitForSelector("#nav a[href='/school/reconciliation']");
    await page.click("#nav a[href='/school/reconciliation']");
    await page.waitForSelector("#recon-check");
    await page.click("#logout");
    await login(page, base, "teacher");
    await page.waitForSelector("#logout");
    assert(!(await page.$("#nav a[href='/school/reconciliation']")), "a teacher sees the link");
    await page.goto(`${base}/school/reconciliation`);
    await page.waitForSelector("#recon-denied");
    assert(!(await page.$("#recon-table")), "a teacher sees the table");
  },
};
