// The school admin's pages (school_admin.js) with the demo's schooladmin of «Школа № 1».
import { assert, login, waitForTrue } from "./lib.mjs";

// Logs in as the demo's school admin; returns the ids of their school and of another one.
async function schoolAdmin(page, base) {
  await login(page, base, "schooladmin");
  await page.waitForSelector("#logout", { state: "attached" }); // folded into the menu on a phone
  return page.evaluate(async () => {
    const me = await (await fetch("/api/v1/me")).json();
    const all = await (await fetch("/api/v1/institutions")).json();
    return { mine: me.institutions[0].id, other: all.items.find((i) => i.short_name === "Гимназия № 2").id };
  });
}

async function classId(page, school, name) {
  return page.evaluate(async ([s, n]) => {
    const r = await (await fetch(`/api/v1/institutions/${s}/classes`)).json();
    return r.items.find((c) => c.name === n).id;
  }, [school, name]);
}

export const tests = {
  async "school admin adds a class, enrols a new student and transfers them"(ctx) {
    const { page, base } = ctx;
    const s = await schoolAdmin(page, base);
    await page.goto(`${base}/admin/schools/${s.mine}/classes`);
    await page.waitForSelector("#add-class");
    await page.selectOption("#add-class select[name=grade]", "7");
    await page.fill("#add-class input[name=letter]", "В");
    await page.click("#add-class button[type=submit]");
    await page.waitForSelector("a.class-link >> text=7В");
    await page.click("a.class-link >> text=5А");
    await page.waitForSelector("#enrol-new");
    assert(await page.$("#letters-link") && await page.$("#accounts-link"), "links to letters and accounts");
    await page.fill("#enrol-new input[name=last_name]", "Новенький");
    await page.fill("#enrol-new input[name=first_name]", "Тимур");
    await page.click("#enrol-new button[type=submit]");
    await page.waitForSelector("a.student-link >> text=Новенький Тимур");
    const row = page.locator("tr", { has: page.locator("a.student-link", { hasText: "Новенький Тимур" }) });
    await row.locator("summary").click();
    await row.locator("select[name=to]").selectOption({ label: "7В" });
    await row.locator("button.transfer").click();
    await page.waitForSelector("#past >> text=Новенький Тимур");
    assert((await page.textContent("#past")).includes("переведён в 7В"), "past: " + await page.textContent("#past"));
    assert(!(await page.$("a.student-link >> text=Новенький Тимур")), "still listed in 5А");
    // The new class lists them.
    await page.goto(`${base}/admin/schools/${s.mine}/classes`);
    await page.click("a.class-link >> text=7В");
    await page.waitForSelector("a.student-link >> text=Новенький Тимур");
  },
  async "school admin adds a teaching assignment"(ctx) {
    const { page, base } = ctx;
    const s = await schoolAdmin(page, base);
    await page.goto(`${base}/admin/schools/${s.mine}/assignments`);
    await page.waitForSelector("#add-assignment");
    const before = await page.$$eval("#assignments tbody tr", (r) => r.length);
    await page.selectOption("#add-assignment select[name=teacher]", { label: "Кузнецова Марина Игоревна" });
    await page.selectOption("#add-assignment select[name=class]", { label: "9А" });
    await page.selectOption("#add-assignment select[name=subject]", { label: "Литература" });
    await page.click("#add-assignment button[type=submit]");
    await waitForTrue(page, (n) => document.querySelectorAll("#assignments tbody tr").length === n + 1, before);
    const rows = await page.$$eval("#assignments tbody tr", (trs) => trs.map((tr) =>
      [...tr.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent).join(" | ")));
    assert(rows.includes("9А | Литература | Кузнецова Марина Игоревна"), "rows: " + rows);
  },
  async "school admin edits a class's weekly timetable and names a replacement"(ctx) {
    const { page, base } = ctx;
    const s = await schoolAdmin(page, base);
    await page.goto(`${base}/admin/schools/${s.mine}/timetable`);
    await page.waitForSelector("#tt-class");
    await page.selectOption("#tt-class", { label: "5А" });
    await page.waitForSelector("#add-entry");
    const before = await page.$$eval("#timetable tbody tr", (r) => r.length);
    await page.selectOption("#add-entry select[name=weekday]", "6");
    await page.fill("#add-entry input[name=number]", "1");
    await page.selectOption("#add-entry select[name=subject]", { label: "Музыка" });
    await page.selectOption("#add-entry select[name=teacher]", { label: "Смирнова Ольга Петровна" });
    await page.click("#add-entry button[type=submit]");
    await page.click("#save-timetable");
    await waitForTrue(page, () => document.querySelector(".status")?.textContent === "Сохранено.");
    await page.reload();
    await page.waitForSelector("#tt-class");
    await page.selectOption("#tt-class", { label: "5А" });
    await waitForTrue(page, (n) => document.querySelectorAll("#timetable tbody tr").length === n + 1, before);
    assert((await page.textContent("#timetable")).includes("Суббота"), "the Saturday lesson");
    // A replacement for a lesson of the last day before today on which 5А had lessons (the
    // node's local days, as the page's date field has them).
    const c5a = await classId(page, s.mine, "5А");
    const day = await page.evaluate(async (c) => {
      const pad = (n) => String(n).padStart(2, "0");
      for (let i = 1; i < 60; i++) {
        const x = new Date();
        x.setDate(x.getDate() - i);
        const d = `${x.getFullYear()}-${pad(x.getMonth() + 1)}-${pad(x.getDate())}`;
        const r = await (await fetch(`/api/v1/classes/${c}/lessons?date=${d}`)).json();
        if (r.items.length) return d;
      }
      return null;
    }, c5a);
    assert(day, "a day with lessons");
    await page.fill("#repl-date", day);
    await page.dispatchEvent("#repl-date", "change");
    await page.waitForSelector("#day-lessons li[data-lesson]");
    const li = page.locator("#day-lessons li[data-lesson]").first();
    // The replacement: a teacher the list offers (never the lesson's own) who gives no lesson
    // of that number on that day in any class of the school, as the API has the day. Who is
    // busy depends on the weekday, so the choice is made from the data, not by name.
    const lesson = Number(await li.getAttribute("data-lesson"));
    const free = await page.evaluate(async ([school, d, id]) => {
      const classes = (await (await fetch(`/api/v1/institutions/${school}/classes`)).json()).items;
      const days = await Promise.all(classes.map(async (c) =>
        (await (await fetch(`/api/v1/classes/${c.id}/lessons?date=${d}`)).json()).items));
      const all = days.flat();
      const number = all.find((l) => l.id === id).number;
      const busy = new Set(all.filter((l) => l.number === number)
        .flatMap((l) => [l.teacher.id, l.replacement?.id]).filter(Boolean).map(String));
      const offered = [...document.querySelectorAll(`#day-lessons li[data-lesson='${id}'] select option`)];
      const o = offered.find((x) => x.value && !busy.has(x.value));
      return o ? { id: o.value, name: o.textContent } : null;
    }, [s.mine, day, lesson]);
    assert(free, `no teacher is free at lesson ${lesson} on ${day}`);
    await li.locator("select").selectOption(free.id);
    await li.locator("button.set-replacement").click();
    await waitForTrue(page, ([id, name]) => document.querySelector(`#day-lessons li[data-lesson='${id}'] .sa-repl`)
      ?.textContent.includes(name), [lesson, free.name]);
  },
  async "a school admin opening another school's pages sees the Russian denial"(ctx) {
    const { page, base } = ctx;
    const s = await schoolAdmin(page, base);
    for (const p of ["classes", "staff", "assignments", "timetable"]) {
      await page.goto(`${base}/admin/schools/${s.other}/${p}`);
      await page.waitForSelector("#schooladmin-denied");
      const text = await page.textContent("#schooladmin-denied");
      assert(text === "Эта страница доступна только администратору этой школы и администратору региона.", p + ": " + text);
    }
    const other = await classId(page, s.other, "6А").catch(() => null);
    if (other) {
      await page.goto(`${base}/admin/classes/${other}`);
      await page.waitForSelector("#schooladmin-denied");
    }
  },
  async "the school admin's pages fit a 390 px phone"(ctx) {
    const { page, base } = ctx;
    await page.setViewportSize({ width: 390, height: 800 });
    const s = await schoolAdmin(page, base);
    const c5a = await classId(page, s.mine, "5А");
    for (const p of [`/admin/schools/${s.mine}/classes`, `/admin/classes/${c5a}`, `/admin/schools/${s.mine}/staff`,
      `/admin/schools/${s.mine}/assignments`, `/admin/schools/${s.mine}/timetable`]) {
      await page.goto(base + p);
      await page.waitForSelector(".sa-tabs");
      await page.waitForSelector("section.card");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert(overflow <= 0, `${p}: horizontal overflow of ${overflow} px`);
    }
  },
};
