// The shell everywhere: the phone menu, unread counts in the navigation, field errors in
// Russian beside their fields, the Ministry's page with names instead of codes.
import { assert, call, login, startHubWithReport, token, waitForTrue } from "./lib.mjs";

const visible = (page, sel) => page.isVisible(sel);
const badge = (page, href) => page.evaluate((h) => document.querySelector(`#nav a[href='${h}'] .badge`)?.textContent ?? null, href);

export const tests = {
  async "shell: the header folds into a menu at 390 px; it opens, closes and its links work"({ browser, base }) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    try {
      await login(page, base, "parent");
      await page.waitForSelector("#menu-toggle");
      const toggle = "#menu-toggle";
      assert(await page.getAttribute(toggle, "aria-controls") === "menu", "aria-controls");
      assert(await page.getAttribute(toggle, "aria-expanded") === "false", "starts closed");
      assert((await page.textContent(toggle)).includes("Меню"), "button text: " + await page.textContent(toggle));
      assert(!(await visible(page, "#nav a[href='/messages']")) && !(await visible(page, "#logout")), "links shown while folded");
      const h = await page.evaluate(() => document.querySelector("header.top").getBoundingClientRect().height);
      assert(h < 844 / 8, `the folded header is ${h} px high`);
      await page.click(toggle);
      assert(await page.getAttribute(toggle, "aria-expanded") === "true", "opened");
      assert(await visible(page, "#nav a[href='/messages']") && await visible(page, "#logout") && await visible(page, "#account-link"),
        "the menu shows the navigation and the account links");
      // Closes again by the button and by Escape.
      await page.click(toggle);
      assert(!(await visible(page, "#nav a[href='/messages']")), "closed by the button");
      await page.click(toggle);
      await page.keyboard.press("Escape");
      assert(await page.getAttribute(toggle, "aria-expanded") === "false" && !(await visible(page, "#nav a")), "closed by Escape");
      // A link of the menu goes to its page and the menu folds.
      await page.click(toggle);
      await page.click("#nav a[href='/messages']");
      await page.waitForSelector("form.thread-new");
      assert(new URL(page.url()).pathname === "/messages", "at " + page.url());
      assert(await page.getAttribute(toggle, "aria-expanded") === "false" && !(await visible(page, "#nav a")), "folded after the link");
      const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert(sw <= w, `${sw} px wide at ${w}`);
      // At desktop width: no button, the links in the header's row.
      await page.setViewportSize({ width: 1366, height: 800 });
      assert(!(await visible(page, toggle)) && await visible(page, "#nav a[href='/messages']") && await visible(page, "#logout"),
        "desktop header");
    } finally {
      await context.close();
    }
  },

  async "shell: unread counts of messages and notifications appear and go to zero"({ page, base }) {
    const parent = await token(base, "parent");
    const teacherTok = await token(base, "teacher");
    const me = (await call(base, teacherTok, "GET", "/api/v1/me")).data;
    const kids = (await call(base, parent, "GET", "/api/v1/me")).data.children;
    const artem = kids.find((c) => c.name.startsWith("Иванов Артём")).id;
    // Whatever the teacher had before is read, so the counts start at zero.
    await call(base, teacherTok, "POST", "/api/v1/notifications/read", { all: true });
    for (const x of (await call(base, teacherTok, "GET", "/api/v1/threads")).data.items)
      if (x.unread) await call(base, teacherTok, "POST", `/api/v1/threads/${x.id}/read`, {});
    const t = await call(base, parent, "POST", "/api/v1/threads", { student_id: artem, with_id: me.person_id,
      title: "Счётчики", text: "Первое" });
    assert(t.status === 201, "thread: " + t.status);
    assert((await call(base, parent, "POST", `/api/v1/threads/${t.data.id}/messages`, { text: "Второе" })).status === 201, "message");
    await login(page, base, "teacher");
    await waitForTrue(page, () => document.querySelector("#nav a[href='/messages'] .badge")?.textContent === "2");
    const label = await page.textContent("#nav a[href='/messages'] .unread-text");
    assert(label === ", 2 непрочитанных", "words for a screen reader: " + label);
    assert(await badge(page, "/notifications") === "2", "notifications: " + await badge(page, "/notifications"));
    // Folded on a phone, the menu's button says there is something new; the counts are inside.
    await page.setViewportSize({ width: 390, height: 844 });
    assert(await page.isVisible("#menu-unread") && await page.getAttribute("#menu-toggle", "aria-label") === "Меню: есть непрочитанное",
      "the menu's button does not tell");
    await page.setViewportSize({ width: 1280, height: 800 });
    // Reading the thread: both counts go (its notifications are read with it).
    await page.click("#nav a[href='/messages']");
    await page.click("a.thread >> text=Счётчики");
    await page.waitForSelector("#reply-text");
    await waitForTrue(page, () => !document.querySelector("#nav a[href='/messages'] .badge"));
    assert(await badge(page, "/notifications") === null, "notifications still counted");
    assert(await page.getAttribute("#menu-toggle", "aria-label") === null && await page.$eval("#menu-unread", (d) => d.hidden), "the menu still tells");
    assert(await page.$("#nav a[href='/messages'] .unread-text") === null, "words left at zero");
    // A new message shows on the next page; reading all notifications clears that count.
    assert((await call(base, parent, "POST", `/api/v1/threads/${t.data.id}/messages`, { text: "Третье" })).status === 201, "third");
    await page.click("#nav a[href='/notifications']");
    await waitForTrue(page, () => document.querySelector("#nav a[href='/notifications'] .badge")?.textContent === "1");
    assert(await page.textContent("#nav a[href='/notifications'] .unread-text") === ", 1 непрочитанное", "one");
    await page.click("#read-all");
    await waitForTrue(page, () => !document.querySelector("#nav a[href='/notifications'] .badge"));
    assert(await badge(page, "/messages") === "1", "the message stays unread until its thread is read");
  },

  async "shell: a notice's errors show in Russian beside their fields"({ page, base }) {
    const parent = await token(base, "parent");
    const kids = (await call(base, parent, "GET", "/api/v1/me")).data.children;
    const artem = kids.find((c) => c.name.startsWith("Иванов Артём")).id;
    await login(page, base, "parent");
    await page.waitForSelector("a.child");
    await page.goto(`${base}/students/${artem}/notices`);
    await page.waitForSelector("form.notice-form");
    // Every control has its label.
    const unlabelled = await page.$$eval("form.notice-form input", (xs) => xs.filter((x) => !x.labels?.length).map((x) => x.name));
    assert(!unlabelled.length, "unlabelled: " + unlabelled);
    await page.fill("form.notice-form input[name=from]", "2026-11-05");
    await page.fill("form.notice-form input[name=to]", "2026-11-01");
    await page.fill("form.notice-form input[name=reason]", "Болезнь");
    await page.click("form.notice-form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("[data-error-for=to]")?.textContent);
    const to = await page.textContent("[data-error-for=to]");
    assert(to === "Дата окончания не может быть раньше даты начала.", "to: " + to);
    assert(!(await page.textContent("form.notice-form")).match(/[a-z]{3,}/i), "English in the form");
    await page.fill("form.notice-form input[name=to]", "2026-11-06");
    await page.fill("form.notice-form input[name=reason]", "");
    await page.click("form.notice-form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("[data-error-for=reason]")?.textContent);
    assert(await page.textContent("[data-error-for=to]") === "", "the old error stays");
    assert((await page.textContent("[data-error-for=reason]")).startsWith("Укажите причину"), "reason");
    await page.fill("form.notice-form input[name=reason]", "Семейные обстоятельства");
    await page.click("form.notice-form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("ul.notices")?.textContent.includes("Семейные обстоятельства"));
    const line = await page.evaluate(() => [...document.querySelectorAll("ul.notices li")]
      .map((li) => li.textContent).find((x) => x.includes("Семейные обстоятельства")));
    assert(line.includes("5 ноября") && line.includes("6 ноября 2026"), "dates in Russian: " + line);
  },

  async "shell: the Ministry's page names regions and subjects, numbers in Russian"({ browser }) {
    const hub = await startHubWithReport();
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    try {
      await login(page, hub.base, "ministry1", "ministry-pass-1");
      await page.waitForSelector("#menu-toggle");
      await page.goto(hub.base + "/ministry");
      await page.waitForSelector("#ministry-subjects tr[data-subject]");
      const subjects = await page.$$eval("#ministry-subjects tbody tr", (trs) => trs.map((tr) =>
        ({ code: tr.dataset.subject, cells: [...tr.cells].map((c) => c.textContent) })));
      const math = subjects.find((r) => r.code === "math");
      assert(math && math.cells[0] === "Республика Пример" && math.cells[1] === "Математика", JSON.stringify(math));
      for (const r of subjects) {
        assert(r.cells[1] !== r.code && !/^[a-z_]+$/.test(r.cells[1]), "a subject code shown: " + r.cells[1]);
        assert(r.cells[0] !== "50", "a region code shown");
        assert(/^(\d(,\d{1,2})?|—)$/.test(r.cells[2]), "mark: " + r.cells[2]);
      }
      const text = await page.textContent("main");
      for (const bad of ["null", "undefined", "NaN", "obzr", "lit_read"]) assert(!text.includes(bad), "page shows " + bad);
      const summary = await page.$$eval("#ministry-summary tr[data-region='50'] td", (tds) => tds.map((td) => td.textContent));
      assert(summary[0] === "Республика Пример", "summary: " + summary);
      assert(/^\d+(,\d)? %$/.test(summary[6]), "attendance: " + summary[6]);
      const fresh = await page.$$eval("#ministry-regions tr[data-region='50'] td", (tds) => tds.map((td) => td.textContent));
      assert(fresh[0] === "Республика Пример" && /^[а-я]+ \d{4} г\.$/.test(fresh[1]), "freshness: " + fresh);
      // Nothing but the tables' own boxes scrolls sideways on the phone.
      const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
      assert(sw <= w, `${sw} px wide at ${w}`);
    } finally {
      await context.close();
      hub.stop();
    }
  },

  async "shell: the family's home and the child's profile: no «null», dates in Russian, every control labelled"({ page, base }) {
    for (const [user, path] of [["student", "/home"], ["parent", "/home"], ["parent", "child"], ["parent", "/account"], ["parent", "/messages"]]) {
      await login(page, base, user);
      await page.waitForURL("**/home");
      if (path === "child") {
        await page.click("a.child >> text=Иванов Артём");
        await page.waitForSelector("dl.facts");
        const born = await page.textContent("dl.facts dd:nth-of-type(3)");
        assert(/^\d{1,2} [а-я]+ \d{4} г\.$/.test(born), "birth date: " + born);
      } else {
        await page.goto(base + path);
        await page.waitForSelector("main h1");
        await page.waitForTimeout(300);
      }
      const text = await page.textContent("main");
      for (const bad of ["null", "undefined", "NaN"]) assert(!text.includes(bad), `${user} ${path}: ${bad}`);
      assert(!/\d{4}-\d{2}-\d{2}/.test(text), `${user} ${path}: an ISO date`);
      const unlabelled = await page.$$eval("main input, main select, main textarea", (xs) => xs
        .filter((x) => x.type !== "hidden" && !x.labels?.length && !x.getAttribute("aria-label")).map((x) => x.name || x.id));
      assert(!unlabelled.length, `${user} ${path}: unlabelled ${unlabelled}`);
      await page.evaluate(() => fetch("/api/v1/auth/logout", { method: "POST", headers: { "X-CSRF-Token": sessionStorage.getItem("mes.csrf") } }));
      await page.context().clearCookies();
    }
  },

  async "shell: the audit filter's wrong dates are refused beside the date field"({ page, base }) {
    await login(page, base, "admin");
    await page.waitForURL("**/home");
    await page.goto(base + "/admin/audit");
    await page.waitForSelector("form.audit-filters");
    await page.fill("form.audit-filters input[name=from]", "2026-12-05");
    await page.fill("form.audit-filters input[name=to]", "2026-12-01");
    await page.click("form.audit-filters button[type=submit]");
    await waitForTrue(page, () => document.querySelector("form.audit-filters [data-error-for=to]")?.textContent);
    const text = await page.textContent("form.audit-filters [data-error-for=to]");
    assert(text === "Дата окончания не может быть раньше даты начала.", "to: " + text);
    await page.fill("form.audit-filters input[name=to]", "2026-12-06");
    await page.click("form.audit-filters button[type=submit]");
    await waitForTrue(page, () => document.querySelector("form.audit-filters [data-error-for=to]")?.textContent === "");
  },

  async "shell: a school admin's new student without a last name is refused beside that field"({ page, base }) {
    await login(page, base, "schooladmin");
    await page.waitForURL("**/home");
    const c5a = await page.evaluate(async () => {
      const me = await (await fetch("/api/v1/me")).json();
      const r = await (await fetch(`/api/v1/institutions/${me.institutions[0].id}/classes`)).json();
      return r.items.find((c) => c.name === "5А").id;
    });
    await page.goto(`${base}/admin/classes/${c5a}`);
    await page.waitForSelector("#enrol-new");
    await page.fill("#enrol-new input[name=first_name]", "Анна");
    await page.click("#enrol-new button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#enrol-new [data-error-for=last_name]")?.textContent);
    assert(await page.textContent("#enrol-new [data-error-for=last_name]") === "Укажите фамилию.", "last name's error");
    assert(await page.$$eval("#enrol-new label", (ls) => ls.every((l) => l.control)), "a label without its control");
  },
};
