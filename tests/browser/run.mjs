// Browser tests of the web shell: the real mesnode demo on a loopback port, Debian's
// Chromium driven by playwright-core. Prints one line per test and "N passed, M failed".
// playwright-core is pinned to the last release that runs on Debian 12's Node.js 18 (see
// package.json); deps.mjs checks Node.js and the installed package before it is loaded.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { browserDepsProblem } from "./deps.mjs";

const problem = browserDepsProblem();
if (problem) {
  console.log(`FAIL - browser-test dependencies: ${problem}`);
  console.log("browser: 0 passed, 1 failed");
  process.exit(1);
}
const { chromium } = await import("playwright-core");

const { assert, CHROMIUM, login, startHubWithReport, startNode, waitForTrue } = await import("./lib.mjs");

const tests = {
  async "parent logs in and sees the child's name"(ctx) {
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.waitForSelector("a.child");
    const names = await ctx.page.$$eval("a.child", (as) => as.map((a) => a.textContent));
    assert(names.some((n) => n.startsWith("Иванов Артём")), "child not shown: " + names);
    assert(new URL(ctx.page.url()).pathname === "/home", "not on /home: " + ctx.page.url());
  },
  async "parent opens the child's profile"(ctx) {
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.click("a.child >> text=Иванов Артём");
    await ctx.page.waitForSelector("dl.facts");
    const text = await ctx.page.textContent("main");
    assert(text.includes("5А") && text.includes("Школа № 1"), "profile lacks class/school: " + text);
  },
  async "wrong password shows the catalog's error"(ctx) {
    await login(ctx.page, ctx.base, "teacher", "not-the-password");
    await waitForTrue(ctx.page, () => document.querySelector("#login-error")?.textContent);
    const err = await ctx.page.textContent("#login-error");
    assert(err === "Неверный логин или пароль", "error text: " + err);
  },
  async "logout returns to the login page and ends the session"(ctx) {
    await login(ctx.page, ctx.base, "student");
    await ctx.page.waitForSelector("#logout");
    await ctx.page.click("#logout");
    await ctx.page.waitForSelector("#login");
    const status = await ctx.page.evaluate(async () => (await fetch("/api/v1/me")).status);
    assert(status === 401, "after logout /me is " + status);
  },
  async "teacher sees mathematics among the assignments"(ctx) {
    await login(ctx.page, ctx.base, "teacher");
    await ctx.page.waitForSelector("table");
    const text = await ctx.page.textContent("table");
    assert(text.includes("Математика") && text.includes("5А"), "assignments: " + text);
  },
  async "teacher puts a mark in the journal, the parent sees it in the diary"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "teacher");
    await page.waitForSelector("#nav a[href='/journal']");
    await page.click("#nav a[href='/journal']");
    await page.waitForSelector("#journal-grid");
    const pick = await page.$eval("#journal-pick option:checked", (o) => o.textContent);
    assert(pick === "5А · Математика", "first assignment: " + pick);
    // Artem's cell in the last lesson that has taken place (none is put on a future one).
    const target = await page.evaluate(() => {
      const d = new Date();
      const now = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      const row = [...document.querySelectorAll("#journal-grid tbody tr")]
        .find((tr) => tr.querySelector("th").textContent.startsWith("Иванов Артём"));
      const cells = [...row.querySelectorAll("td.cell")];
      const heads = [...document.querySelectorAll("#journal-grid thead th[data-lesson]")];
      const i = heads.map((h) => !h.classList.contains("cancelled") && h.dataset.date <= now).lastIndexOf(true);
      return { lesson: cells[i].dataset.lesson, student: cells[i].dataset.student, date: heads[i].dataset.date };
    });
    // The control form is chosen once in the toolbar; a click selects, the key 5 puts the mark.
    const cell = `td.cell[data-lesson='${target.lesson}'][data-student='${target.student}']`;
    await page.selectOption("#grid-form", "control");
    await page.click(cell);
    await page.keyboard.press("5");
    await waitForTrue(page, (sel) => [...document.querySelectorAll(`${sel} .mark`)].some((m) => m.textContent === "5"), cell);
    // Its details (Enter on the cell): the comment of that mark.
    await page.click(cell);
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog.cell-dialog[open]");
    const form = "dialog.cell-dialog form.existing:has(select[name=control_form] option[value=control]:checked)";
    await page.fill(`${form} input[name=comment]`, "Браузерная проверка");
    await page.click(`${form} button.save`);
    await waitForTrue(page, (sel) => [...document.querySelectorAll(`${sel} .mark`)].some((m) => m.title.includes("Браузерная проверка")), cell);
    await page.keyboard.press("Escape");
    await page.waitForSelector("dialog.cell-dialog", { state: "detached" });
    await page.click("#logout");
    await page.waitForSelector("#login");

    await login(page, base, "parent");
    await page.waitForSelector("a.diary-link");
    await page.click(`a.diary-link[href='/diary/${target.student}']`);
    await page.waitForSelector("h1");
    await page.goto(`${base}/diary/${target.student}?week=${target.date}`);
    await page.waitForSelector(`li.lesson[data-lesson='${target.lesson}']`);
    const text = await page.textContent(`li.lesson[data-lesson='${target.lesson}']`);
    assert(text.includes("Математика") && text.includes("5") && text.includes("Браузерная проверка"),
      "diary lesson: " + text);
    // The mark is also in the parent's notifications, and reading them clears the count.
    await page.click("#nav a[href='/notifications']");
    await page.waitForSelector("ul.feed li[data-kind='mark']");
    const feed = await page.textContent("ul.feed li[data-kind='mark']");
    assert(feed.includes("оценка 5") && feed.includes("Математика"), "notification: " + feed);
    await page.click("#read-all");
    await waitForTrue(page, () => document.querySelector("#unread")?.textContent.endsWith(": 0"));
  },
  async "teacher sets homework with a file and an absence from the grid; the student downloads it and hands in a file"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "teacher");
    await page.waitForSelector("#nav a[href='/journal']");
    await page.click("#nav a[href='/journal']");
    await page.waitForSelector("#journal-grid");
    const target = await page.evaluate(() => {
      const row = [...document.querySelectorAll("#journal-grid tbody tr")]
        .find((tr) => tr.querySelector("th").textContent.startsWith("Иванов Артём"));
      const cells = [...row.querySelectorAll("td.cell")];
      const heads = [...document.querySelectorAll("#journal-grid thead th[data-lesson]")];
      const i = heads.map((h) => !h.classList.contains("cancelled")).indexOf(true);
      return { lesson: cells[i].dataset.lesson, student: cells[i].dataset.student, date: heads[i].dataset.date };
    });
    // The lesson's column head: homework with a file.
    await page.click(`th[data-lesson='${target.lesson}']`);
    await page.waitForSelector(".lesson-dialog");
    await page.fill(".lesson-dialog textarea[name=homework]", "Решить задачи из файла");
    await page.setInputFiles(".lesson-dialog input[type=file]",
      { name: "задачи.txt", mimeType: "text/plain", buffer: Buffer.from("1) 2+2\n2) 3*3\n") });
    await page.click(".lesson-dialog button.add-homework");
    await page.waitForSelector(".lesson-dialog", { state: "detached" });
    await page.waitForSelector(`th.has-homework[data-lesson='${target.lesson}']`);
    // Artem's cell: absent, from the cell's details («Подробнее…» above the grid).
    await page.click(`td.cell[data-lesson='${target.lesson}'][data-student='${target.student}']`);
    await page.click(".grid-keys button.details");
    await page.waitForSelector("dialog.cell-dialog[open]");
    await page.check("dialog.cell-dialog input[type=radio][value=absent]");
    await waitForTrue(page, (sel) => document.querySelector(sel)?.textContent.includes("н"),
      `td.cell[data-lesson='${target.lesson}'][data-student='${target.student}']`);
    await page.keyboard.press("Escape");
    await page.click("#logout");
    await page.waitForSelector("#login");

    await login(page, base, "student");
    await page.waitForSelector("#nav a");
    await page.goto(`${base}/diary/${target.student}?week=${target.date}`);
    const lesson = `li.lesson[data-lesson='${target.lesson}']`;
    await page.waitForSelector(`${lesson} a.file`);
    const text = await page.textContent(lesson);
    assert(text.includes("Решить задачи из файла") && text.includes("задачи.txt") && text.includes("отсутствовал"),
      "diary lesson: " + text);
    const href = await page.getAttribute(`${lesson} a.file`, "href");
    const body = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    assert(body === "1) 2+2\n2) 3*3\n", "downloaded: " + JSON.stringify(body));
    await page.setInputFiles(`${lesson} input.hand-in`,
      { name: "ответ.txt", mimeType: "text/plain", buffer: Buffer.from("4, 9") });
    await waitForTrue(page, (sel) => [...document.querySelectorAll(`${sel} a.file`)]
      .some((a) => a.textContent === "ответ.txt"), lesson);
  },
  async "a parent reports an absence, the medic records a note, the class teacher sees both"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "parent");
    await page.click("a.child >> text=Иванов Артём");
    await page.click("#notices-link");
    await page.waitForSelector("form.notice-form");
    await page.fill("form.notice-form input[name=reason]", "Семейная поездка");
    await page.click("form.notice-form button[type=submit]");
    await page.waitForSelector("li.notice[data-kind='parent'] >> text=Семейная поездка");
    await page.click("#logout");
    await page.waitForSelector("#login");

    await login(page, base, "medic");
    await page.click("#nav a[href='/medic']");
    await page.click("a.class-link >> text=5А");
    await page.click("a.student-link >> text=Иванов Артём");
    await page.waitForSelector("form.notice-form");
    await page.fill("form.notice-form input[name=reason]", "ОРВИ");
    await page.click("form.notice-form button[type=submit]");
    await page.waitForSelector("li.notice[data-kind='medical'] >> text=ОРВИ");
    await page.click("#logout");
    await page.waitForSelector("#login");

    await login(page, base, "classteacher");
    await page.click("#nav a[href='/notices']");
    await page.waitForSelector("li.notice[data-kind='medical']");
    const text = await page.textContent("ul.notices");
    assert(text.includes("Семейная поездка") && text.includes("ОРВИ") && text.includes("медицинская справка"),
      "class teacher's notices: " + text);
  },
  async "a student finds a test by a word form and takes it; the score comes from the server"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "student");
    await page.click("#nav a[href='/library']");
    await page.fill(".library-search input[name=q]", "уравнений");
    await page.click(".library-search button[type=submit]");
    await page.waitForSelector("a.item-title >> text=Решение линейных уравнений");
    const found = await page.$$eval("a.item-title", (as) => as.map((a) => a.textContent));
    assert(found.includes("Квадратные уравнения и теорема Виета"), "results: " + found);
    await page.click("a.item-title >> text=Решение линейных уравнений");
    await page.waitForSelector("#test-form");
    const html = await page.content();
    assert(!html.includes('"answer"'), "the page holds an answer key");
    const sets = await page.$$("#test-form fieldset");
    await (await sets[0].$$("input"))[1].check();            // 2x + 3 = 11 → 4
    const multi = await sets[1].$$("input");
    await multi[0].check(); await multi[2].check();         // x + 2 = 4, 5 - x = 3
    await (await sets[2].$("input")).fill("7");
    await page.click("#test-form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#test-result")?.textContent.includes("3 из 3"));
  },
  async "a teacher attaches a library item to a lesson from the journal; the parent sees it in the diary"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "teacher");
    await page.click("#nav a[href='/journal']");
    await page.waitForSelector("#journal-grid");
    const target = await page.evaluate(() => {
      const heads = [...document.querySelectorAll("#journal-grid thead th[data-lesson]")];
      const h = heads.find((x) => !x.classList.contains("cancelled"));
      return { lesson: h.dataset.lesson, date: h.dataset.date };
    });
    await page.click(`th[data-lesson='${target.lesson}']`);
    await page.waitForSelector(".lesson-dialog");
    await page.click(".lesson-dialog details.attach-library summary");
    await page.fill(".lesson-dialog .library-search input[name=q]", "дроби");
    await page.click(".lesson-dialog .library-search button[type=submit]");
    await page.waitForSelector(".lesson-dialog li.item >> text=Сложение и вычитание обыкновенных дробей");
    const id = await page.$eval(".lesson-dialog li.item", (li) => li.dataset.item);
    await page.click(`.lesson-dialog button.pick[data-item='${id}']`);
    await page.waitForSelector(".lesson-dialog", { state: "detached" });
    await page.click("#logout");
    await page.waitForSelector("#login");
    await login(page, base, "parent");
    await page.waitForSelector("a.diary-link");
    const diary = await page.$eval("li:has(a.child:text('Иванов Артём')) a.diary-link", (a) => a.getAttribute("href"));
    await page.goto(`${base}${diary}?week=${target.date}`);
    const link = `li.lesson[data-lesson='${target.lesson}'] a.library-item`;
    await page.waitForSelector(link);
    assert((await page.textContent(link)) === "Сложение и вычитание обыкновенных дробей", "diary item");
    await page.click(link);
    await page.waitForSelector("article.library-item h1");
  },
  async "a teacher stars items and downloads them as one signed package"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "teacher");
    await page.click("#nav a[href='/library']");
    await page.fill(".library-search input[name=q]", "клетки");
    await page.click(".library-search button[type=submit]");
    await page.click(`a.item-title >> text="Строение клетки"`);
    await page.waitForSelector("#download-package");
    await page.click("#favourite");
    await waitForTrue(page, () => document.querySelector("#favourite")?.textContent === "Убрать из избранного");
    await page.click("#nav a[href='/library/favourites']");
    await page.waitForSelector("#download-favourites");
    assert((await page.textContent("ul.items")).includes("Строение клетки"), "favourites list");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-favourites")]);
    assert(/^library-\d+-1-items\.mesb$/.test(download.suggestedFilename()), "file name: " + download.suggestedFilename());
    const file = await download.path();
    const { readFileSync } = await import("node:fs");
    const bytes = readFileSync(file);
    assert(bytes.readUInt32LE(0) === 0xfd2fb528, "a zstd stream");
  },
  async "a teacher writes a draft, edits it with a file and sends it for review"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "teacher");
    await page.click("#nav a[href='/library/mine']");
    await page.fill(".new-item input[name=title]", "Проценты в жизни");
    await page.click(".new-item button[type=submit]");
    // A new draft opens at once, ready to edit.
    await page.waitForSelector("#edit-item");
    assert((await page.textContent("article.library-item h1")) === "Проценты в жизни", "the new draft's page");
    await page.fill("#edit-item textarea[name=body]", "Скидки, вклады и налоги: задачи на проценты.");
    await page.setInputFiles("#edit-item input[type=file]", { name: "задачи.txt", mimeType: "text/plain",
      buffer: Buffer.from("1. Найдите 10% от 250.") });
    await page.click("#edit-item button[type=submit]");
    await page.waitForSelector("ul.files a.file >> text=задачи.txt");
    assert((await page.textContent("article.library-item .body")).includes("Скидки, вклады"), "saved text");
    await page.click("#submit-item");
    await waitForTrue(page, () => document.querySelector("article.library-item p.muted")?.textContent.includes("на экспертизе"));
    assert(!(await page.$("#edit-item")), "a submitted item is no longer editable");
  },
  async "the Ministry sees each region's report at the hub: table, charts and CSV"(ctx) {
    const { page } = ctx;
    const hub = await startHubWithReport();
    try {
      await login(page, hub.base, "ministry1", "ministry-pass-1");
      await page.click("#nav a[href='/ministry']");
      await page.waitForSelector("#ministry-summary tr[data-region='50']");
      const row = await page.textContent("#ministry-summary tr[data-region='50']");
      assert(row.includes("Республика Пример"), "summary row: " + row);
      await waitForTrue(page, () => [...document.querySelectorAll("img.chart")].every((i) => i.complete && i.naturalWidth > 0));
      assert((await page.$$("img.chart")).length === 4, "four charts");
      const csv = await page.getAttribute("#csv-summary", "href");
      assert(/format=csv/.test(csv), "csv link: " + csv);
      const fresh = await page.textContent("#ministry-regions");
      assert(fresh.includes("Республика Пример"), "freshness: " + fresh);
    } finally {
      hub.stop();
    }
  },
  async "the administrator sees the federation's status of the region"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "admin");
    await page.click("#nav a[href='/federation']");
    await page.waitForSelector("#federation-channel");
    const text = await page.textContent("main");
    assert(text.includes("региональный") && text.includes("Синхронизация по расписанию выключена"),
      "status page: " + text);
    assert((await page.textContent("#federation-outbox")).includes("Ждут отправки"), "outbox");
  },
  async "student sees the week and the weighted averages"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "student");
    await page.waitForSelector("#nav a");
    await page.click("#nav a >> text=Оценки");
    await page.waitForSelector("table.marks");
    const rows = await page.$$eval("table.marks tbody tr", (trs) => trs.length);
    assert(rows > 5, "subjects: " + rows);
    const total = await page.textContent("#attendance-total");
    assert(/отсутствовал \d+, болел \d+, опоздал \d+/.test(total), "attendance: " + total);
    // Homework due: the page lists what the diary holds, with a link back.
    await page.click("#nav a >> text=Домашние задания");
    await page.waitForSelector("h1 >> text=Домашние задания");
    await page.waitForSelector("ul.homework-list li, p.card");
    await page.click("#nav a >> text=Дневник");
    await page.waitForSelector(".week");
    const before = await page.textContent(".week");
    await page.click("text=← Неделя назад");
    await waitForTrue(page, (b) => document.querySelector(".week")?.textContent !== b, before);
    const lessons = await page.$$eval("li.lesson", (l) => l.length);
    assert(lessons > 10, "lessons in the previous week: " + lessons);
    // The student ticks a homework done; it stays done after a reload.
    const hw = await page.$eval("input.hw-done", (b) => b.dataset.homework);
    await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/homework/${hw}/submission`) && r.status() === 200),
      page.check(`input.hw-done[data-homework='${hw}']`),
    ]);
    await page.reload();
    await page.waitForSelector(`input.hw-done[data-homework='${hw}']`);
    assert(await page.isChecked(`input.hw-done[data-homework='${hw}']`), "done was not kept");
  },
  async "a parent writes to a teacher, the teacher answers, the child cannot see it"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "parent");
    await page.waitForSelector("#nav a[href='/messages']");
    await page.click("#nav a[href='/messages']");
    await page.waitForSelector("#thread-with option", { state: "attached" });
    await page.selectOption("#thread-student", { label: "Иванов Артём Сергеевич" });
    await waitForTrue(page, () => [...document.querySelectorAll("#thread-with option")]
      .some((o) => o.textContent.startsWith("Смирнова Ольга Петровна")));
    const teacherId = await page.$eval("#thread-with", (s) => [...s.options]
      .find((o) => o.textContent.startsWith("Смирнова Ольга Петровна")).value);
    await page.selectOption("#thread-with", teacherId);
    await page.fill("#thread-title", "Олимпиада");
    await page.fill("#thread-text", "Можно ли Артёму участвовать в олимпиаде?");
    await page.click(".thread-new button[type=submit]");
    await page.waitForSelector("#reply-text");
    await page.click("#logout");
    await page.waitForSelector("#login");
    await login(page, base, "teacher");
    await page.waitForSelector("#nav a[href='/messages']");
    await page.click("#nav a[href='/messages']");
    await page.click("a.thread >> text=Олимпиада");
    await page.waitForSelector("#reply-text");
    await page.fill("#reply-text", "Да, запись до пятницы.");
    await page.click("form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("ul.messages")?.textContent.includes("запись до пятницы"));
    await page.click("#logout");
    await page.waitForSelector("#login");
    await login(page, base, "student");
    await page.waitForSelector("#nav a[href='/messages']");
    await page.click("#nav a[href='/messages']");
    await page.waitForSelector("h1");
    const list = await page.textContent("main");
    assert(!list.includes("Олимпиада"), "the child sees the parents' thread");
  },
  async "a teacher starts a thread with a student of the class; the student answers"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "teacher");
    await page.click("#nav a[href='/messages']");
    await page.waitForSelector("#thread-class option", { state: "attached" });
    await page.selectOption("#thread-class", { label: "5А" });
    await waitForTrue(page, () => [...document.querySelectorAll("#thread-student option")]
      .some((o) => o.textContent === "Иванов Артём Сергеевич"));
    await page.selectOption("#thread-student", { label: "Иванов Артём Сергеевич" });
    // The recipients are filled in for the chosen student: wait for Artём's own entry.
    await waitForTrue(page, () => [...document.querySelectorAll("#thread-with option")]
      .some((o) => o.textContent === "Иванов Артём Сергеевич (ученик)"));
    const self = await page.$eval("#thread-with", (s) => [...s.options]
      .find((o) => o.textContent === "Иванов Артём Сергеевич (ученик)").value);
    await page.selectOption("#thread-with", self);
    await page.fill("#thread-title", "Доклад");
    await page.fill("#thread-text", "Подготовь доклад о дробях к пятнице.");
    await page.click(".thread-new button[type=submit]");
    await page.waitForSelector("#reply-text");
    await page.click("#logout");
    await page.waitForSelector("#login");
    await login(page, base, "student");
    await page.click("#nav a[href='/messages']");
    await page.click("a.thread >> text=Доклад");
    await page.waitForSelector("#reply-text");
    await page.fill("#reply-text", "Хорошо, подготовлю.");
    await page.click("form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("ul.messages")?.textContent.includes("подготовлю"));
  },
  async "a parent gets a certificate anyone can check without logging in"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "parent");
    await page.click("a.child >> text=Иванов Артём");
    await page.click("#certificate");
    await page.click("form.certificate-request button[type=submit]");
    await page.click("#certificate-result a.certificate-open");
    await page.waitForSelector("#certificate-status");
    const status = await page.textContent("#certificate-status");
    assert(status.includes("подлинная"), "status: " + status);
    await waitForTrue(page, () => document.querySelector("#certificate-qr")?.naturalWidth > 0);
    const url = page.url();
    // The link printed under the QR code is the node's own (http.public_url; the demo's: its address).
    assert((await page.textContent("#certificate-link")).includes(url), "printed link: " + await page.textContent("#certificate-link"));
    await page.click("#logout").catch(() => {});
    const other = await page.context().browser().newContext();
    const anon = await other.newPage();
    await anon.goto(url);
    await anon.waitForSelector("#certificate-status");
    const text = await anon.textContent("article");
    assert(text.includes("Иванову Артёму Сергеевичу") && text.includes("подлинная"), "anonymous view: " + text);
    await anon.goto(url.replace(/s=[^&]+/, "s=AAAA"));
    await anon.waitForSelector("#certificate-status");
    assert((await anon.textContent("#certificate-status")).includes("не найдена"), "forged link accepted");
    await other.close();
  },
  async "roles in Russian; the student's home shows the class and school"(ctx) {
    await login(ctx.page, ctx.base, "classteacher");
    await ctx.page.waitForSelector("p.roles");
    const roles = await ctx.page.textContent("p.roles");
    assert(roles === "Роли: учитель, классный руководитель", "roles: " + roles);
    assert((await ctx.page.textContent("main")).includes("Школа № 1"), "institution missing");
    await ctx.page.click("#logout");
    await ctx.page.waitForSelector("#login");
    await login(ctx.page, ctx.base, "student");
    await ctx.page.waitForSelector("main section:has-text('Мой класс')");
    const text = await ctx.page.textContent("main section:has-text('Мой класс')");
    assert(text.includes("5А") && text.includes("Школа № 1"), "student's class: " + text);
  },
  async "an ended session sends the shell back to the login page"(ctx) {
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.waitForSelector("a.child");
    await ctx.page.context().clearCookies();
    await ctx.page.click("#nav a[href='/notifications']");
    await ctx.page.waitForSelector("#login");
    assert(new URL(ctx.page.url()).pathname === "/login", "not on /login: " + ctx.page.url());
    assert(!(await ctx.page.$("#logout")), "logout button still shown");
  },
  async "too many wrong passwords show the wait from the catalog"(ctx) {
    const { page, base } = ctx;
    await page.goto(base + "/");
    await page.fill("#login", "medic");
    let status = 0;
    for (let i = 0; i < 6 && status !== 429; i++) {
      await page.fill("#password", "wrong-" + i);
      const [r] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/login")),
        page.click("button[type=submit]"),
      ]);
      status = r.status();
    }
    assert(status === 429, "no 429 after six wrong passwords: " + status);
    await waitForTrue(page, () => document.querySelector("#login-error")?.textContent.startsWith("Слишком"));
    const err = await page.textContent("#login-error");
    assert(/^Слишком много неудачных попыток входа\. Повторите через \d+ (с|мин)\.$/.test(err), "error text: " + err);
  },
  async "assets carry ETags and CSP; unknown API paths stay JSON"(ctx) {
    const { base } = ctx;
    const index = await fetch(base + "/home");
    assert(index.status === 200 && index.headers.get("content-type").startsWith("text/html"), "index");
    assert(index.headers.get("content-security-policy")?.includes("default-src 'self'"), "no CSP");
    const js = await fetch(base + "/static/app.js");
    const etag = js.headers.get("etag");
    assert(js.status === 200 && /^"[0-9a-f]{32}"$/.test(etag), "etag: " + etag);
    assert(js.headers.get("content-type").startsWith("text/javascript"), "js type");
    assert(js.headers.get("cache-control") === "no-cache", "cache-control");
    const again = await fetch(base + "/static/app.js", { headers: { "If-None-Match": etag } });
    assert(again.status === 304 && (await again.text()) === "", "revalidation: " + again.status);
    const list = await fetch(base + "/static/app.js", { headers: { "If-None-Match": `"0", W/${etag}` } });
    assert(list.status === 304, "If-None-Match list: " + list.status);
    const other = await fetch(base + "/static/app.js", { headers: { "If-None-Match": `"0"` } });
    assert(other.status === 200, "another ETag revalidated: " + other.status);
    const cat = await fetch(base + "/i18n/ru.json");
    assert((await cat.json())["login.error.invalid"] === "Неверный логин или пароль", "catalog");
    for (const path of ["/api/v1/nope", "/static/nope.js"]) {
      const r = await fetch(base + path);
      assert(r.status === 404 && (await r.json()).error.code === "not_found", path + ": " + r.status);
    }
    const ui = await (await fetch(base + "/api/v1/ui")).json();
    assert(ui.default_language === "ru" && ui.languages.includes("ru") && ui.region.name, "ui");
  },
  async "home page fits a 360 px phone"(ctx) {
    await ctx.page.setViewportSize({ width: 360, height: 740 });
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.waitForSelector("a.child");
    const overflow = await ctx.page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, "horizontal overflow of " + overflow + " px");
    if (process.env.SCREENSHOT) await ctx.page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  },
};

// Every *.test.mjs beside this file adds its tests; ONLY=text runs the tests whose name has it,
// SKIP=text leaves out those whose name has it.
const here = dirname(fileURLToPath(import.meta.url));
for (const f of readdirSync(here).filter((f) => f.endsWith(".test.mjs")).sort()) {
  const mod = await import(join(here, f));
  for (const [name, fn] of Object.entries(mod.tests)) {
    assert(!(name in tests), `${f}: the test "${name}" exists already`);
    tests[name] = fn;
  }
}
const only = process.env.ONLY, skip = process.env.SKIP;

let node;
try {
  node = await startNode();
} catch (e) {
  console.log(`FAIL - start mesnode: ${e.message}`);
  console.log("browser: 0 passed, 1 failed");
  process.exit(1);
}
let browser = null;
let passed = 0, failed = 0;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  for (const [name, fn] of Object.entries(tests)) {
    if ((only && !name.includes(only)) || (skip && name.includes(skip))) continue;
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const started = Date.now();
    try {
      await fn({ page, base: node.base, browser });
      passed++;
      console.log(`ok - ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      console.log(`FAIL - ${name}: ${e.message}`);
    } finally {
      await context.close();
    }
  }
} catch (e) {
  failed++;
  console.log(`FAIL - browser: ${e.message}`);
} finally {
  await browser?.close();
  node.proc.removeAllListeners("exit");
  node.proc.kill("SIGTERM");
  rmSync(node.dir, { recursive: true, force: true });
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
