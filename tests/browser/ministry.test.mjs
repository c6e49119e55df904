// The Ministry's page at the hub (federation/ministry.c, ministry.js): «Москвёнок»'s passage and
// meals volumes of each region, per month and per day, from the region's signed report of the
// demo's showcase day (node/demo/terminals.c), numbers and roubles in Russian, at a phone's
// width too.
import { assert, login, startHubWithReport } from "./lib.mjs";

// A cell's text with the locale's spaces (U+00A0, U+202F) as plain ones.
const plain = (s) => s.replace(/[\u00a0\u202f]/g, " ").trim();

// A whole number as Russian writes it: digits, in groups of three apart when grouped («1 234»).
const whole = (text, n) => /^\d{1,3}( ?\d{3})*$/.test(plain(text)) && plain(text).replace(/ /g, "") === String(n);

// Kopecks as roubles in Russian: «9 305,00 ₽».
function roubles(text, kopecks) {
  const t = plain(text);
  return /^\d{1,3}( \d{3})*,\d{2} ₽$/.test(t) && t.replace(/\D/g, "") === String(kopecks);
}

export const tests = {
  async "ministry: the passage and meals volumes of a region, per month and per day, in roubles"({ browser }) {
    const hub = await startHubWithReport();
    try {
      // The showcase's day is the last school day before today: this month's or the last one's.
      let report = JSON.parse(hub.mesnode("report", "--config", hub.regionConfig, "--print"));
      if (!report.passage.length) {
        const d = new Date();
        d.setDate(0);
        const last = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
        hub.mesnode("report", "--config", hub.regionConfig, "--period", last);
        hub.mesnode("sync", "--config", hub.regionConfig, "--only", "push");
        report = JSON.parse(hub.mesnode("report", "--config", hub.regionConfig, "--period", last, "--print"));
      }
      assert(report.passage.length > 0, "the demo's showcase made no passage");
      const period = report.period.month;
      const shown = (rows, f) => rows.map(f).filter((v) => v !== null && v !== undefined);
      const sum = (xs) => xs.reduce((a, b) => a + b, 0);
      const day = report.passage.find((p) => p.students !== null).day;
      const entries = sum(shown(report.passage, (p) => p.entries));
      const sales = sum(shown(report.meals, (m) => m.sales.kopecks));
      const dayRows = report.passage.filter((p) => p.day === day);
      for (const width of [1366, 390]) {
        const context = await browser.newContext({ viewport: { width, height: width === 390 ? 844 : 800 } });
        const page = await context.newPage();
        try {
          await login(page, hub.base, "ministry1", "ministry-pass-1");
          await page.waitForSelector("#nav a[href='/ministry']", { state: "attached" });
          await page.goto(`${hub.base}/ministry?period=${period}`);
          await page.waitForSelector("#ministry-volumes tr[data-region='50']");
          const heads = await page.$$eval("#ministry-volumes th", (ths) => ths.map((th) => th.textContent));
          const month = await page.$$eval("#ministry-volumes tr[data-region='50'] td", (tds) => tds.map((td) => td.textContent));
          const col = (name) => month[heads.indexOf(name)];
          assert(month[0] === "Республика Пример", "the region by name: " + month[0]);
          assert(whole(col("Входов в школу"), entries), `entries ${entries}: ${col("Входов в школу")}`);
          assert(roubles(col("Сумма покупок"), sales), `sales ${sales}: ${col("Сумма покупок")}`);
          assert(plain(col("Сумма возвратов")) === "—", "no refund was published: " + col("Сумма возвратов"));
          // The days, folded until asked for.
          assert(!(await page.isVisible("#ministry-volume-days")), "the days are folded");
          await page.click("#ministry-volume-days-box summary");
          await page.waitForSelector(`#ministry-volume-days tr[data-region='50'][data-day='${day}']`);
          const dayHeads = await page.$$eval("#ministry-volume-days th", (ths) => ths.map((th) => th.textContent));
          const cells = await page.$$eval(`#ministry-volume-days tr[data-region='50'][data-day='${day}'] td`,
            (tds) => tds.map((td) => td.textContent));
          const dcol = (name) => cells[dayHeads.indexOf(name)];
          assert(/^\d{1,2} [а-я]+$/.test(plain(dcol("День"))), "the day in Russian: " + dcol("День"));
          assert(whole(dcol("Пришли в школу, учащихся"), sum(shown(dayRows, (p) => p.students))),
            "students of the day: " + dcol("Пришли в школу, учащихся"));
          const free = sum(shown(report.meals.filter((m) => m.day === day), (m) => m.free.kopecks));
          assert(roubles(dcol("Стоимость бесплатных комплексов"), free), `free ${free}: ${dcol("Стоимость бесплатных комплексов")}`);
          // The CSV of each table, and nothing unformatted or English anywhere.
          assert(/\/api\/v1\/ministry\/volumes\?period=.*format=csv/.test(await page.getAttribute("#csv-volumes", "href")), "csv link");
          assert(/\/volumes\/days\?period=.*format=csv/.test(await page.getAttribute("#csv-volume-days", "href")), "days' csv link");
          const text = await page.textContent("section.ministry-volumes");
          for (const bad of ["null", "undefined", "NaN", "kopecks", "students"]) assert(!text.includes(bad), `shows «${bad}»`);
          // Only the tables' own boxes scroll sideways.
          const [sw, w] = await page.evaluate(() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]);
          assert(sw <= w, `${sw} px wide at ${w}`);
        } finally {
          await context.close();
        }
      }
    } finally {
      hub.stop();
    }
  },
};
