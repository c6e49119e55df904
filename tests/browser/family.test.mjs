// The family in the browser: a parent of two children switches between them on every page of
// one child (diary, marks, homework, notices, the student's page) and sees whose it is; the
// planner «какая оценка нужна»; a hand-in both ways (the student hands in and withdraws; once
// the teacher has seen it the withdrawal is gone; the teacher's feedback and mark reach the
// student).
import { assert, login, waitForTrue } from "./lib.mjs";

const ARTEM = "Иванов Артём", MARIA = "Иванова Мария";

// The demo's ids of the parent's two children (5А and 9А).
async function children(base) {
  const c = await apiAs(base, "parent");
  const me = await (await c("GET", "/api/v1/me")).json();
  const by = (n) => me.children.find((k) => k.name.startsWith(n)).id;
  return { artem: by(ARTEM), maria: by(MARIA) };
}

// fetch with a bearer token of `user`: (method, path, body) => Response.
async function apiAs(base, user) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: "POST", body: JSON.stringify({ login: user, password: "demo" }) });
  const { token } = await r.json();
  return (method, path, body) => fetch(base + path, { method, headers: { Authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body) });
}

const text = (page, sel) => page.textContent(sel);
async function h1Is(page, want) {
  await waitForTrue(page, (w) => document.querySelector("h1")?.textContent === w, want);
  const title = await page.title();
  assert(title.startsWith(want), `document.title: ${title}`);
}

// Monday of the week before this one, as YYYY-MM-DD (a week with lessons in the past).
function lastWeek() {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) - 7);
  return d.toISOString().slice(0, 10);
}

export const tests = {
  async "family: a parent of two children switches between them on diary, marks, homework, notices and profile"(ctx) {
    const { page, base } = ctx;
    const kids = await children(base);
    await login(page, base, "parent");
    await page.waitForSelector("a.child");
    // The home lists each child's pages.
    for (const id of [kids.artem, kids.maria])
      for (const href of [`/diary/${id}`, `/marks/${id}`, `/homework/${id}`, `/students/${id}/notices`, `/students/${id}`])
        assert(await page.$(`ul.children a[href='${href}']`), `home lacks ${href}`);

    // Diary: the switch keeps the week and shows the other child's lessons (9А has algebra).
    const week = lastWeek();
    await page.goto(`${base}/diary/${kids.artem}?week=${week}`);
    await h1Is(page, `Дневник: ${ARTEM}`);
    const current = await page.$$eval(".child-tab[aria-current=page]", (as) => as.map((a) => a.textContent));
    assert(current.length === 1 && current[0].startsWith(ARTEM), "current tab: " + current);
    const weekText = await text(page, ".week");
    const artemDiary = await text(page, "main");
    assert(artemDiary.includes("Математика") && !artemDiary.includes("Алгебра"), "Artem's diary");
    await page.click(`.child-tab[data-child='${kids.maria}']`);
    await h1Is(page, `Дневник: ${MARIA}`);
    assert(new URL(page.url()).pathname === `/diary/${kids.maria}` && new URL(page.url()).search === `?week=${week}`,
      "the switch lost the page or the week: " + page.url());
    assert(await text(page, ".week") === weekText, "week changed");
    await page.waitForSelector("li.lesson");
    const mariaDiary = await text(page, "main");
    assert(mariaDiary.includes("Алгебра") && !mariaDiary.includes("Математика"), "Maria's diary: " + mariaDiary.slice(0, 300));
    assert((await page.getAttribute(`.child-tab[data-child='${kids.maria}']`, "aria-current")) === "page", "aria-current");

    // Marks, homework, notices and the profile: the same switch, the right child's name and data.
    await page.goto(`${base}/marks/${kids.artem}`);
    await h1Is(page, `Оценки: ${ARTEM}`);
    await page.waitForSelector("table.marks");
    assert((await text(page, "table.marks")).includes("Математика"), "Artem's subjects");
    await page.click(`.child-tab[data-child='${kids.maria}']`);
    await h1Is(page, `Оценки: ${MARIA}`);
    await waitForTrue(page, () => document.querySelector("table.marks")?.textContent.includes("Алгебра"));
    assert(new URL(page.url()).pathname === `/marks/${kids.maria}`, page.url());

    await page.goto(`${base}/homework/${kids.maria}`);
    await h1Is(page, `Домашние задания: ${MARIA}`);
    await page.click(`.child-tab[data-child='${kids.artem}']`);
    await h1Is(page, `Домашние задания: ${ARTEM}`);
    assert(new URL(page.url()).pathname === `/homework/${kids.artem}`, page.url());

    await page.goto(`${base}/students/${kids.artem}/notices`);
    await h1Is(page, `Отсутствия и справки: ${ARTEM}`);
    await page.click(`.child-tab[data-child='${kids.maria}']`);
    await h1Is(page, `Отсутствия и справки: ${MARIA}`);
    assert(new URL(page.url()).pathname === `/students/${kids.maria}/notices`, page.url());

    await page.goto(`${base}/students/${kids.artem}`);
    await h1Is(page, `Профиль ученика: ${ARTEM}`);
    await page.click(`.child-tab[data-child='${kids.maria}']`);
    await h1Is(page, `Профиль ученика: ${MARIA}`);
    await page.waitForSelector("dl.facts");
    const facts = await text(page, "dl.facts");
    assert(facts.includes("9А") && /\d{1,2} [а-я]+ \d{4} г\./.test(facts) && !/null|\d{4}-\d\d-\d\d/.test(facts), "profile: " + facts);

    // On a phone the switch is a labelled select.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/diary/${kids.maria}?week=${week}`);
    await h1Is(page, `Дневник: ${MARIA}`);
    assert(!(await page.isVisible(".child-tabs")) && (await page.isVisible("select.child-pick")), "phone switch");
    const label = await page.$eval("select.child-pick", (s) => document.querySelector(`label[for='${s.id}']`)?.textContent);
    assert(label === "Ребёнок", "select label: " + label);
    await page.selectOption("select.child-pick", String(kids.artem));
    await h1Is(page, `Дневник: ${ARTEM}`);
    assert(new URL(page.url()).search === `?week=${week}`, page.url());
    const overflow = await page.evaluate(() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth);
    assert(overflow <= 0, "sideways scroll: " + overflow);
  },

  async "family: a student sees their own pages without a switcher"(ctx) {
    const { page, base } = ctx;
    const kids = await children(base);
    await login(page, base, "student");
    await page.waitForSelector("#nav a");
    await page.click("#nav a >> text=Дневник");
    await h1Is(page, `Дневник: ${ARTEM}`);
    assert(!(await page.$(".child-switch")), "a student has a switcher");
    await page.goto(`${base}/students/${kids.artem}`);
    await h1Is(page, `Профиль ученика: ${ARTEM}`);
    const main = await text(page, "main");
    assert(main.includes("5А") && !/null|undefined|NaN/.test(main), "own profile: " + main);
  },

  async "family: the planner tells which marks reach the wanted period mark"(ctx) {
    const { page, base } = ctx;
    const kids = await children(base);
    await login(page, base, "student");
    await page.waitForSelector("#nav a");
    await page.goto(`${base}/marks/${kids.artem}`);
    await page.waitForSelector("table.marks");
    // A subject with marks below 4,5 on average: its planner link.
    const row = await page.evaluate(() => [...document.querySelectorAll("table.marks tbody tr")]
      .map((tr) => ({ id: tr.dataset.subject, avg: Number(tr.querySelector(".avg").textContent.replace(",", ".")) }))
      .find((r) => r.avg > 0 && r.avg < 4.5));
    assert(row, "no subject below 4,5");
    await page.click(`tr[data-subject='${row.id}'] a.plan-link`);
    await h1Is(page, `Какая оценка нужна: ${ARTEM}`);
    await page.waitForSelector(".plan-options li");
    const five = await page.$eval(".plan-options li[data-value='5']", (li) => ({ n: Number(li.dataset.count), text: li.textContent }));
    const period = new URL(page.url()).searchParams.get("period");
    const api = await apiAs(base, "student");
    const plan = await (await api("GET", `/api/v1/students/${kids.artem}/plan?period=${period}&subject=${row.id}&target=4.5&form=oral`)).json();
    assert(plan.options.find((o) => o.value === "5").count === five.n, "count differs from the API");
    const n = five.n, m10 = n % 10, m100 = n % 100;
    const word = m10 === 1 && m100 !== 11 ? "пятёрку" : m10 >= 2 && m10 <= 4 && (m100 < 12 || m100 > 14) ? "пятёрки" : "пятёрок";
    assert(five.text === `нужно получить ${n} ${word}`, "plan text: " + five.text);
    assert((await text(page, ".plan-result")).includes("от 4,5"), "the rule");
    // Aiming at 4: fives or fours.
    await page.selectOption(".plan-form select[name=target]", "4");
    await waitForTrue(page, () => document.querySelectorAll(".plan-options li, .plan-reached").length > 0
      && document.querySelector(".plan-result")?.textContent.includes("от 3,5"));
    const result = await text(page, ".plan-result");
    assert(/нужно получить \d+ (пятёр|четвёр)/.test(result) || result.includes("уже достаточен"), "target 4: " + result);
    assert(new URL(page.url()).searchParams.get("target") === "4", "the target is not in the address");
    // The parent opens it for the other child.
    await page.click("#logout");
    await login(page, base, "parent");
    await page.waitForSelector("a.child");
    await page.goto(`${base}/plan/${kids.maria}`);
    await h1Is(page, `Какая оценка нужна: ${MARIA}`);
    await page.waitForSelector(".plan-result section");
    assert(!/null|undefined|NaN/.test(await text(page, "main")), "planner text");
  },

  async "family: a hand-in both ways - withdrawn while unseen, then seen, feedback and a mark reach the student"(ctx) {
    const { page, base } = ctx;
    const kids = await children(base);
    // The teacher gives homework at a past math lesson of 5А (through the API: the grid is
    // another page's business).
    const teacher = await apiAs(base, "teacher");
    const me = await (await teacher("GET", "/api/v1/me")).json();
    const a = me.assignments.find((x) => x.class.name === "5А" && x.subject.name === "Математика");
    const years = await (await teacher("GET", "/api/v1/academic-years")).json();
    const today = new Date().toISOString().slice(0, 10);
    const period = years.items[0].periods.find((p) => p.starts_on <= today && today <= p.ends_on);
    const grid = await (await teacher("GET", `/api/v1/journal?class=${a.class.id}&subject=${a.subject.id}&period=${period.id}`)).json();
    // A lesson where Artem has no mark yet: other tests mark the latest lessons on this node.
    const marked = new Set(grid.students.find((s) => s.id === kids.artem).marks.map((m) => m.lesson_id));
    const lesson = grid.lessons.filter((l) => l.date < today && !l.cancelled && !marked.has(l.id)).at(-1);
    const made = await teacher("POST", `/api/v1/lessons/${lesson.id}/homework`, { text: "Семейная проверка: задачи 1-3", due_date: lesson.date });
    assert(made.status === 201, "homework: " + made.status);
    const hw = (await made.json()).id;

    // The student hands in an answer, then withdraws it.
    page.on("dialog", (d) => d.accept());
    await login(page, base, "student");
    await page.waitForSelector("#nav a");
    const diary = `${base}/diary/${kids.artem}?week=${lesson.date}`;
    const box = `div.homework[data-homework='${hw}']`;
    await page.goto(diary);
    await page.waitForSelector(box);
    await page.click(`${box} details.hw-hand-in summary`);
    const answer = await page.$eval(`${box} textarea`, (t) => t.id);
    assert(await page.$(`label[for='${answer}']`), "the answer has no label");
    await page.fill(`${box} textarea`, "1) 12; 2) 7; 3) 30");
    await page.click(`${box} button.hw-send`);
    await waitForTrue(page, (b) => document.querySelector(`${b} .hw-state`)?.textContent === "Сдано, учитель ещё не посмотрел", box);
    assert((await text(page, box)).includes("1) 12; 2) 7; 3) 30"), "the answer is not shown");
    await page.click(`${box} button.hw-withdraw`);
    await waitForTrue(page, (b) => document.querySelector(b) && !document.querySelector(`${b} .hw-state`), box);
    assert(!(await text(page, box)).includes("1) 12; 2) 7; 3) 30"), "withdrawn answer still shown");
    // Handed in again, with a file.
    await page.click(`${box} details.hw-hand-in summary`);
    await page.fill(`${box} textarea`, "1) 12; 2) 8; 3) 30");
    await page.click(`${box} button.hw-send`);
    await waitForTrue(page, (b) => document.querySelector(`${b} .hw-state`), box);
    await page.setInputFiles(`${box} input.hand-in`, { name: "решение.txt", mimeType: "text/plain", buffer: Buffer.from("12, 8, 30") });
    await waitForTrue(page, (b) => [...document.querySelectorAll(`${b} a.file`)].some((x) => x.textContent === "решение.txt"), box);
    await page.click("#logout");
    await page.waitForSelector("#login");

    // The teacher opens the hand-ins: seen; writes feedback and gives a 4, then corrects it to 5.
    await login(page, base, "teacher");
    await page.waitForSelector("#nav a");
    const seen = page.waitForResponse((r) => r.url().endsWith(`/homework/${hw}/submissions/seen`) && r.status() === 200);
    // From the journal: the lesson's column head, then its homework's hand-ins.
    await page.goto(`${base}/journal?class=${a.class.id}&subject=${a.subject.id}&period=${period.id}`);
    await page.click(`th[data-lesson='${lesson.id}'] button`);
    await page.click(`.lesson-dialog a.handins-link[href='/homework/${hw}/submissions']`);
    const card = `li.handin[data-student='${kids.artem}']`;
    await page.waitForSelector(card);
    await seen;
    await h1Is(page, "Сданные работы: 5А, Математика");
    const c = await text(page, card);
    assert(c.includes("1) 12; 2) 8; 3) 30") && c.includes("решение.txt") && c.includes("новая"), "hand-in card: " + c);
    assert((await text(page, "main")).includes("не сдали"), "who handed nothing in");
    await page.fill(`${card} textarea`, "Задача 2 решена неверно, остальное хорошо");
    await page.selectOption(`${card} select[name=value]`, "4");
    await page.click(`${card} button.handin-save`);
    await waitForTrue(page, (s) => document.querySelector(`${s} .handin-marks`)?.textContent.includes("4"), card);
    await page.selectOption(`${card} select[name=value]`, "5");
    await page.click(`${card} button.handin-save`);
    await waitForTrue(page, (s) => document.querySelector(`${s} .handin-marks`)?.textContent.includes("5"), card);
    const marks = await page.$$eval(`${card} .handin-marks .mark`, (ms) => ms.map((m) => m.textContent));
    assert(marks.length === 1 && marks[0] === "5", "the mark was doubled: " + marks);
    assert(!(await page.$(`${card} .badge`)), "still new after being seen");
    await page.click("#logout");
    await page.waitForSelector("#login");

    // The student: seen, no withdrawal, the feedback and the mark.
    await login(page, base, "student");
    await page.waitForSelector("#nav a");
    await page.goto(diary);
    await page.waitForSelector(`${box} .hw-state`);
    assert((await text(page, `${box} .hw-state`)) === "Учитель посмотрел", "seen state");
    assert(!(await page.$(`${box} button.hw-withdraw`)), "the withdraw button is still there");
    assert((await text(page, `${box} .hw-feedback`)).includes("Задача 2 решена неверно"), "feedback");
    const lessonText = await text(page, `li.lesson[data-lesson='${lesson.id}'] .lesson-head`);
    assert(lessonText.includes("5"), "the mark in the diary: " + lessonText);
    // The API refuses too.
    const status = await page.evaluate(async (h) => (await fetch(`/api/v1/homework/${h}/submission`, {
      method: "DELETE", headers: { "X-CSRF-Token": sessionStorage.getItem("mes.csrf") } })).status, hw);
    assert(status === 409, "withdraw after seen: " + status);
  },
};
