// The teacher's pages (teacher.js): the day with replacements and cancellations, the class
// teacher's summary of a class, and the calendar-thematic plan editor whose topics reach the
// lessons, the journal and the diary.
import { assert, call, login, token, waitForTrue } from "./lib.mjs";

// Logs in and waits for the home page.
async function enter(page, base, user) {
  await login(page, base, user);
  await page.waitForSelector("#logout");
}

const noOverflow = (page) => page.evaluate(() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth);

export const tests = {
  async "the teacher's day: first in the menu and on the home page, lessons in bell order, arrows, the journal of a lesson"(ctx) {
    const { page, base } = ctx;
    await enter(page, base, "teacher");
    assert(await page.$eval("#nav a", (a) => a.getAttribute("href")) === "/day", "the day is not first in the menu");
    await page.waitForSelector("#home-day");
    const homeFirst = await page.$eval("main > :nth-child(2)", (e) => e.id);
    assert(homeFirst === "home-day", "the home page does not start with the day: " + homeFirst);
    // A day with lessons: the nearest one before today.
    const api = await page.evaluate(async () => {
      const now = await (await fetch("/api/v1/teachers/me/lessons")).json();
      return (await fetch(`/api/v1/teachers/me/lessons?date=${now.previous}`)).json();
    });
    assert(api.lessons.length > 0, "no lessons on the previous day");
    await page.click("#home-day-link");
    await page.waitForSelector("#day-prev");
    await page.click("#day-prev");
    await waitForTrue(page, (d) => document.querySelector("#day-date")?.dataset.date === d, api.date);
    const shown = await page.$$eval("li.day-lesson", (ls) => ls.map((l) => ({ id: Number(l.dataset.lesson), text: l.textContent })));
    assert(JSON.stringify(shown.map((l) => l.id)) === JSON.stringify(api.lessons.map((l) => l.id)), "lessons differ from the API's");
    const first = api.lessons[0];
    assert(shown[0].text.includes(`${first.class.name} · ${first.subject.name}`) && shown[0].text.includes(first.starts_at),
      "first lesson: " + shown[0].text);
    const heading = await page.textContent("#day-date");
    assert(!/\d{4}-\d{2}-\d{2}/.test(heading) && /[а-я]+, \d+ [а-я]+/.test(heading), "date heading: " + heading);
    // Forward again: the next day with lessons.
    await page.click("#day-next");
    await waitForTrue(page, (d) => document.querySelector("#day-date")?.dataset.date === d, api.next);
    await page.click("#day-prev");
    await waitForTrue(page, (d) => document.querySelector("#day-date")?.dataset.date === d, api.date);
    // A lesson leads to its journal: class, subject and period.
    await page.click(`li.day-lesson[data-lesson="${first.id}"] a.journal-link`);
    await waitForTrue(page, () => location.pathname === "/journal");
    const q = new URL(page.url()).searchParams;
    assert(q.get("class") === String(first.class.id) && q.get("subject") === String(first.subject.id)
      && q.get("period") === String(first.period_id), "journal link: " + page.url());
    // On a phone nothing runs off sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/day?date=${api.date}`);
    await page.waitForSelector("li.day-lesson");
    assert(await noOverflow(page), "the day overflows at 390 px");
  },

  async "the teacher's day shows a replacement both ways and a cancelled lesson"(ctx) {
    const { page, base, browser } = ctx;
    const sa = await token(base, "schooladmin");
    const ct = await token(base, "classteacher");
    const t = await token(base, "teacher");
    const now = await call(base, t, "GET", "/api/v1/teachers/me/lessons");
    const day = (await call(base, t, "GET", `/api/v1/teachers/me/lessons?date=${now.data.previous}`)).data;
    const own = day.lessons.filter((l) => l.role === "own" && !l.cancelled);
    assert(own.length >= 2, "two lessons needed on " + day.date);
    const [given, cancelled] = own;
    const ctId = (await call(base, ct, "GET", "/api/v1/me")).data.person_id;
    assert((await call(base, sa, "PATCH", `/api/v1/lessons/${given.id}`, { replacement_id: ctId })).status === 200, "replacement");
    assert((await call(base, sa, "PATCH", `/api/v1/lessons/${cancelled.id}`, { cancelled: true })).status === 200, "cancel");
    try {
      await enter(page, base, "teacher");
      await page.goto(`${base}/day?date=${day.date}`);
      await page.waitForSelector(`li.day-lesson[data-lesson="${given.id}"]`);
      const replaced = await page.textContent(`li.day-lesson[data-lesson="${given.id}"]`);
      assert(await page.$eval(`li.day-lesson[data-lesson="${given.id}"]`, (l) => l.dataset.role) === "replaced", "not shown as replaced");
      assert(replaced.includes("Урок ведёт замена: Кузнецова Марина Игоревна"), "replaced: " + replaced);
      const off = await page.textContent(`li.day-lesson[data-lesson="${cancelled.id}"]`);
      assert(off.includes("Урок отменён"), "cancelled: " + off);
      assert(await page.$eval(`li.day-lesson[data-lesson="${cancelled.id}"]`, (l) => l.classList.contains("cancelled")), "cancelled class");
      // The replacing teacher has it in their day, with whose lesson it is, and no journal to open.
      const other = await browser.newContext();
      const p2 = await other.newPage();
      await enter(p2, base, "classteacher");
      await p2.goto(`${base}/day?date=${day.date}`);
      await p2.waitForSelector(`li.day-lesson[data-lesson="${given.id}"]`);
      const li = `li.day-lesson[data-lesson="${given.id}"]`;
      assert(await p2.$eval(li, (l) => l.dataset.role) === "replacing", "not shown as replacing");
      const text = await p2.textContent(li);
      assert(text.includes("Замена. Учитель класса: Смирнова Ольга Петровна") && text.includes(given.subject.name), "replacing: " + text);
      assert(!(await p2.$(`${li} a.journal-link`)), "a replacement is offered a journal it cannot open");
      await other.close();
    } finally {
      await call(base, sa, "PATCH", `/api/v1/lessons/${given.id}`, { replacement_id: null });
      await call(base, sa, "PATCH", `/api/v1/lessons/${cancelled.id}`, { cancelled: false });
    }
  },

  async "the class teacher's summary: from the home page, averages in Russian, a student's marks"(ctx) {
    const { page, base } = ctx;
    await enter(page, base, "classteacher");
    await page.click("a.summary-link >> text=5А");
    await page.waitForSelector("#class-summary");
    assert((await page.textContent("h1")) === "Сводка по классу 5А", "title: " + await page.textContent("h1"));
    const id = Number(new URL(page.url()).pathname.split("/")[2]);
    const period = await page.$eval("select[name=period]", (s) => s.value);
    const api = await page.evaluate(async ([c, p]) => (await fetch(`/api/v1/classes/${c}/summary?period=${p}`)).json(), [id, period]);
    const heads = await page.$$eval("#class-summary thead th.subject", (ths) => ths.map((th) => th.textContent));
    assert(JSON.stringify(heads) === JSON.stringify(api.subjects.map((s) => s.name)), "subject heads: " + heads);
    // Every average is a Russian number or a dash; the first student's agree with the API.
    const cells = await page.$$eval("#class-summary tbody .summary-avg", (s) => s.map((x) => x.textContent));
    assert(cells.length && cells.every((c) => /^(\d(,\d{1,2})?|—)$/.test(c)), "averages: " + cells.slice(0, 20));
    const st = api.students[0];
    for (const c of st.subjects.filter((c) => c.average != null)) {
      const shown = await page.$eval(`tr[data-student="${st.id}"] td[data-subject="${c.subject_id}"] .summary-avg`, (e) => e.textContent);
      const want = c.average.toLocaleString("ru-RU", { maximumFractionDigits: 2 });
      assert(shown === want, `average ${shown} is not ${want}`);
    }
    const total = await page.$eval(`tr[data-student="${st.id}"] td.att-total`, (e) => e.textContent);
    assert(total === String(st.attendance.total), "absences: " + total);
    const body = await page.textContent("main");
    assert(!/\b(null|undefined|NaN)\b|\d\.\d/.test(body), "raw values on the page");
    // Another period.
    const other = await page.$$eval("select[name=period] option", (os, cur) => os.map((o) => o.value).find((v) => v !== cur), period);
    await page.selectOption("select[name=period]", other);
    await waitForTrue(page, (p) => new URL(location.href).searchParams.get("period") === p && document.querySelector("#class-summary caption"), other);
    // A student's row opens their marks for the period.
    await page.click(`tr[data-student="${st.id}"] a.student-link`);
    await waitForTrue(page, (sid) => location.pathname === `/marks/${sid}`, st.id);
    assert(new URL(page.url()).searchParams.get("period") === other, "marks page period: " + page.url());
    // On a phone the table scrolls in its own box, the page does not.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/classes/${id}/summary`);
    await page.waitForSelector("#class-summary");
    assert(await noOverflow(page), "the summary overflows the page at 390 px");
    assert(await page.$eval(".summary-wrap", (w) => w.scrollWidth > w.clientWidth), "the table does not scroll in its box");
  },

  async "the class summary is refused in Russian to a teacher of the class"(ctx) {
    const { page, base } = ctx;
    await enter(page, base, "teacher");
    const c5a = await page.evaluate(async () => (await (await fetch("/api/v1/me")).json()).assignments.find((a) => a.class.name === "5А").class.id);
    await page.goto(`${base}/classes/${c5a}/summary`);
    await page.waitForSelector("main .error");
    assert((await page.textContent("main .error")) === "Нет доступа к этим данным.", "refusal: " + await page.textContent("main .error"));
    assert(!(await page.$("#nav a[href$='/summary']")), "a teacher who leads no class has the class in the menu");
  },

  async "the thematic plan editor: add, check, reorder, delete, save; topics reach the lessons and the diary; CSV import"(ctx) {
    const { page, base, browser } = ctx;
    await enter(page, base, "teacher");
    await page.click("#nav a[href='/plans']");
    await page.waitForSelector("#plan-editor");
    await page.selectOption("select[name=assignment]", { label: "9А · Геометрия" });
    await waitForTrue(page, () => new URL(location.href).searchParams.get("class") && document.querySelector("#plan-editor"));
    const q = new URL(page.url()).search;
    for (const [title, hours] of [["Начальные сведения", 2], ["Треугольники", 3], ["", 1]]) {
      await page.click("#plan-add");
      await page.fill("#plan-topics li:last-child input.plan-title", title);
      await page.fill("#plan-topics li:last-child input.plan-hours", String(hours));
    }
    // An empty topic is refused beside it, in Russian.
    await page.click("#plan-save");
    await waitForTrue(page, () => document.querySelector('#plan-topics li[data-index="2"] [data-error-for=title]')?.textContent);
    const err = await page.textContent('#plan-topics li[data-index="2"] [data-error-for=title]');
    assert(err === "Заполните название: оно не может быть пустым или слишком длинным.", "error: " + err);
    await page.fill('#plan-topics li[data-index="2"] input.plan-title', "Параллельные прямые");
    // Reorder: the third goes up; then the first is deleted.
    await page.click('#plan-topics li[data-index="2"] button.up');
    await page.click('#plan-topics li[data-index="0"] button.remove');
    const titles = await page.$$eval("#plan-topics input.plan-title", (is) => is.map((i) => i.value));
    assert(JSON.stringify(titles) === JSON.stringify(["Параллельные прямые", "Треугольники"]), "after reorder: " + titles);
    await page.click("#plan-save");
    await waitForTrue(page, () => document.querySelector("#plan-status")?.textContent.startsWith("План сохранён"));
    assert((await page.textContent("#plan-status")).includes("2 темы"), "status: " + await page.textContent("#plan-status"));
    // Each topic shows the dates of its lessons, in Russian; the first lessons carry the topics.
    const dates = await page.$$eval("#plan-topics .plan-dates", (s) => s.map((x) => x.textContent));
    assert(dates.length === 2 && dates.every((d) => /^Уроки: \d+ [а-я]+/.test(d)), "dates: " + dates);
    const plan = await page.evaluate(async (qs) => (await fetch(`/api/v1/plans${qs}`)).json(), q);
    assert(plan.topics[0].dates.length === 1 && plan.topics[1].dates.length === 3, "hours not used: " + JSON.stringify(plan.topics));
    const firstDate = plan.topics[0].dates[0];
    // The topic in the grid's data and in the diary of a student of 9А (the parent's Maria).
    const params = new URLSearchParams(q);
    const years = await page.evaluate(async () => (await fetch("/api/v1/academic-years")).json());
    const per = years.items[0].periods.find((p) => p.starts_on <= firstDate && firstDate <= p.ends_on);
    const g = await page.evaluate(async (u) => (await fetch(u)).json(),
      `/api/v1/journal?class=${params.get("class")}&subject=${params.get("subject")}&period=${per.id}`);
    assert(g.lessons.find((l) => l.date === firstDate).topic === "Параллельные прямые", "grid topic");
    const other = await browser.newContext();
    const p2 = await other.newPage();
    await enter(p2, base, "parent");
    const maria = await p2.evaluate(async () => (await (await fetch("/api/v1/me")).json()).children.find((c) => c.class?.name === "9А").id);
    await p2.goto(`${base}/diary/${maria}?week=${firstDate}`);
    await p2.waitForSelector("main li, main .card");
    await waitForTrue(p2, () => document.querySelector("main").textContent.includes("Параллельные прямые"));
    await other.close();
    // CSV: a bad line is named in Russian beside the file; a good file replaces the plan.
    await page.click("details.card summary");
    await page.setInputFiles("#plan-import input[type=file]", { name: "plan.csv", mimeType: "text/csv",
      buffer: Buffer.from("Тема;Часы\nВекторы;2\nКоординаты;0\n") });
    await page.click("#plan-import button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#plan-import [data-error-for=csv]")?.textContent);
    const csvErr = await page.textContent("#plan-import [data-error-for=csv]");
    assert(csvErr.startsWith("Ошибка в строке 3 файла"), "csv error: " + csvErr);
    await page.setInputFiles("#plan-import input[type=file]", { name: "plan.csv", mimeType: "text/csv",
      buffer: Buffer.from("№;Тема;Часы\n1;Векторы;2\n2;\"Координаты; метод\";2\n") });
    await page.click("#plan-import button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#plan-status")?.textContent.startsWith("План загружен"));
    const after = await page.$$eval("#plan-topics input.plan-title", (is) => is.map((i) => i.value));
    assert(JSON.stringify(after) === JSON.stringify(["Векторы", "Координаты; метод"]), "imported: " + after);
    // Every control is labelled; on a phone nothing runs off sideways.
    const unlabelled = await page.$$eval("main input, main select, main button", (cs) => cs.filter((c) =>
      !(c.labels?.length || c.getAttribute("aria-label") || c.textContent.trim())).map((c) => c.outerHTML));
    assert(!unlabelled.length, "unlabelled: " + unlabelled);
    await page.setViewportSize({ width: 390, height: 844 });
    assert(await noOverflow(page), "the plan overflows at 390 px");
  },
};
