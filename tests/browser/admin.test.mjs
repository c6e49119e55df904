// Browser tests of the administration pages (admin.js): the hub for the region admin and a
// school admin, municipalities and schools, academic years, device tokens, the audit log, the
// denials a school admin meets elsewhere and the phone width.
import { assert, login, waitForTrue } from "./lib.mjs";

// Waits for the page's h1 to read `text`.
async function heading(page, text) {
  await waitForTrue(page, (t) => document.querySelector("main h1")?.textContent === t, text);
}

// Calls the API from inside the logged-in page (the session's cookie and CSRF token).
function call(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const r = await fetch(p, { method: m, headers: { "Content-Type": "application/json",
      "X-CSRF-Token": sessionStorage.getItem("mes.csrf") }, body: b === undefined ? undefined : JSON.stringify(b) });
    return { status: r.status, data: await r.json() };
  }, [method, path, body]);
}

async function schoolIds(page) {
  const r = await call(page, "GET", "/api/v1/institutions");
  return Object.fromEntries(r.data.items.map((s) => [s.short_name, s.id]));
}

const noRawJson = async (page) => {
  const text = await page.textContent("main");
  assert(!text.includes("{\"") && !/no such|forbidden|not_found/.test(text), "raw answer on the page: " + text);
};

export const tests = {
  async "admin: the region admin reaches every section from the home page"({ page, base }) {
    await login(page, base, "admin");
    await page.waitForSelector("#home-admin");
    await page.click("#home-admin");
    await page.waitForSelector("#admin-region");
    const hrefs = await page.$$eval("#admin-region .admin-links a", (as) => as.map((a) => a.getAttribute("href")));
    for (const h of ["/admin/municipalities", "/admin/schools", "/admin/years", "/admin/import", "/admin/accounts",
      "/admin/devices", "/admin/audit", "/federation"])
      assert(hrefs.includes(h), `hub lacks ${h}: ${hrefs}`);
    for (const [href, title] of [["/admin/municipalities", "Муниципалитеты"], ["/admin/schools", "Школы"],
      ["/admin/years", "Учебные годы"], ["/admin/devices", "Устройства"], ["/admin/audit", "Журнал действий"],
      ["/federation", null]]) {
      await page.click(`#admin-region a[href='${href}']`);
      if (title) await heading(page, title);
      else await page.waitForSelector("#federation-channel, #federation-hub");
      assert(new URL(page.url()).pathname === href, "at " + page.url());
      await noRawJson(page);
      if (title) { await page.click("a.admin-back"); } else { await page.goBack(); }
      await page.waitForSelector("#admin-region");
    }
  },

  async "admin: the region admin adds a municipality and a school"({ page, base }) {
    await login(page, base, "admin");
    await page.waitForSelector("#logout");
    await page.goto(base + "/admin/municipalities");
    await page.waitForSelector("form.municipality-add");
    await page.fill("form.municipality-add input[name=name]", "Гунибский район");
    await page.fill("form.municipality-add input[name=okato]", "82218");
    await page.click("form.municipality-add button[type=submit]");
    await waitForTrue(page, () => [...document.querySelectorAll("#municipalities .m-name")].some((s) => s.textContent === "Гунибский район"));
    // A rename, and a taken name refused in Russian.
    const row = "#municipalities tr:has(.m-name:text-is('Гунибский район'))";
    await page.click(`${row} button`);
    await page.fill("form.municipality-rename input[name=name]", "Гунибский муниципальный район");
    await page.click("form.municipality-rename button[type=submit]");
    await waitForTrue(page, () => [...document.querySelectorAll("#municipalities .m-name")].some((s) => s.textContent === "Гунибский муниципальный район"));
    await page.fill("form.municipality-add input[name=name]", "Гунибский муниципальный район");
    await page.click("form.municipality-add button[type=submit]");
    await waitForTrue(page, () => document.querySelector("form.municipality-add .form-status")?.textContent);
    assert(await page.textContent("form.municipality-add .form-status") === "Такая запись уже есть.", "duplicate's error");
    // An empty name: the error beside the name field, in Russian.
    await page.fill("form.municipality-add input[name=name]", "");
    await page.click("form.municipality-add button[type=submit]");
    await waitForTrue(page, () => document.querySelector("form.municipality-add [data-error-for=name]")?.textContent);
    assert(await page.textContent("form.municipality-add [data-error-for=name]") === "Название не указано или слишком длинное.",
      "name's error: " + await page.textContent("form.municipality-add [data-error-for=name]"));
    assert(await page.textContent("form.municipality-add .form-status") === "", "the old error stays");

    await page.goto(base + "/admin/schools");
    await page.waitForSelector("form.school-add");
    await page.selectOption("form.school-add select[name=municipality_id]", { label: "Гунибский муниципальный район" });
    await page.fill("form.school-add input[name=name]", "МКОУ «Гунибская СОШ»");
    await page.fill("form.school-add input[name=short_name]", "Гунибская школа");
    await page.fill("form.school-add input[name=address]", "с. Гуниб, ул. Шамиля, 3");
    await page.click("form.school-add button[type=submit]");
    await heading(page, "Гунибская школа");
    assert(/^\/admin\/schools\/\d+$/.test(new URL(page.url()).pathname), "not on the school's page: " + page.url());
    // Its details are edited on its page.
    await page.fill("form.school-edit input[name=address]", "с. Гуниб, ул. Шамиля, 5");
    await page.click("form.school-edit button[type=submit]");
    await waitForTrue(page, () => document.querySelector("main [role=status]")?.textContent === "Сохранено.");
    // The list: the municipality filter and the search find it.
    await page.goto(base + "/admin/schools");
    await page.waitForSelector("#schools tbody tr");
    await page.selectOption(".toolbar select[name=municipality]", { label: "Гунибский муниципальный район" });
    let names = await page.$$eval("#schools a.school-link", (as) => as.map((a) => a.textContent));
    assert(names.length === 1 && names[0] === "Гунибская школа", "filtered: " + names);
    await page.selectOption(".toolbar select[name=municipality]", "");
    await page.fill(".toolbar input[type=search]", "шамиля, 5");
    names = await page.$$eval("#schools a.school-link", (as) => as.map((a) => a.textContent));
    assert(names.length === 1 && names[0] === "Гунибская школа", "searched: " + names);
  },

  async "admin: a school admin sees only their school's sections and cannot open another school"({ page, base }) {
    await login(page, base, "schooladmin");
    await page.waitForSelector("#home-school_admin");
    await page.click("#home-school_admin");
    await page.waitForSelector(".admin-school");
    assert(!(await page.$("#admin-region")), "a school admin sees the region's block");
    const ids = await schoolIds(page);
    const blocks = await page.$$eval(".admin-school", (b) => b.map((x) => x.dataset.school));
    assert(blocks.length === 1 && blocks[0] === String(ids["Школа № 1"]), "blocks: " + blocks);
    const hrefs = await page.$$eval(".admin-school a", (as) => as.map((a) => a.getAttribute("href")));
    const own = ids["Школа № 1"];
    for (const h of [`/admin/schools/${own}/classes`, `/admin/schools/${own}/staff`, `/admin/schools/${own}/assignments`,
      `/admin/schools/${own}/timetable`, "/admin/accounts", `/admin/audit?institution=${own}`])
      assert(hrefs.includes(h), `no ${h}: ${hrefs}`);
    assert(hrefs.every((h) => !h.includes(`/${ids["Гимназия № 2"]}`) && !h.startsWith("/admin/municipalities")
      && !h.startsWith("/admin/years")), "links beyond the school: " + hrefs);
    // Their own school opens; another school, and the region's pages, say no in Russian.
    await page.click(`.admin-school a[href='/admin/schools/${own}']`);
    await heading(page, "Школа № 1");
    for (const path of [`/admin/schools/${ids["Гимназия № 2"]}`, `/admin/audit?institution=${ids["Гимназия № 2"]}`,
      `/admin/devices?institution=${ids["Гимназия № 2"]}`, "/admin/municipalities", "/admin/years"]) {
      await page.goto(base + path);
      await page.waitForSelector(".admin-denied");
      const text = await page.textContent(".admin-denied");
      assert(/^Нет доступа|^Этот раздел/.test(text), `${path}: ${text}`);
      assert(!(await page.$("form.school-edit, form.municipality-add, table")), `${path} shows data`);
      await noRawJson(page);
    }
    // The API refuses what the page does not offer.
    const r = await call(page, "PATCH", `/api/v1/institutions/${ids["Гимназия № 2"]}`, { address: "x" });
    assert(r.status === 403, "PATCH another school: " + r.status);
  },

  async "admin: the audit page filters by action"({ page, base }) {
    await login(page, base, "admin");
    await page.waitForSelector("#logout");
    await call(page, "POST", "/api/v1/municipalities", { name: "Район для журнала действий" });
    await page.goto(base + "/admin/audit");
    await page.waitForSelector("#audit tbody tr");
    await page.selectOption("form.audit-filters select[name=action]", "municipality.create");
    await page.click("form.audit-filters button[type=submit]");
    await waitForTrue(page, () => {
      const rows = [...document.querySelectorAll("#audit tbody tr")];
      return rows.length > 0 && rows.every((r) => r.dataset.action === "municipality.create");
    });
    const shown = await page.$$eval("#audit tbody tr .action", (s) => [...new Set(s.map((x) => x.textContent))]);
    assert(shown.length === 1 && shown[0] === "Добавлен муниципалитет", "actions shown: " + shown);
    assert(new URL(page.url()).search.includes("action=municipality.create"), "filter not in the address: " + page.url());
    // A login filter that matches nobody shows the empty list in Russian.
    await page.fill("form.audit-filters input[name=login]", "nobody-here");
    await page.click("form.audit-filters button[type=submit]");
    await waitForTrue(page, () => document.querySelectorAll("#audit tbody tr").length === 0);
    assert((await page.textContent("main")).includes("Записей нет."), "no empty message");
  },

  async "admin: a device token is shown once with a copy button, then revoked"({ page, base }) {
    await login(page, base, "admin");
    await page.waitForSelector("#logout");
    await page.goto(base + "/admin/devices");
    await page.waitForSelector("form.device-add");
    await page.fill("form.device-add input[name=name]", "Турникет, главный вход");
    await page.check("form.device-add input[value=passage]");
    await page.selectOption("form.device-add select[name=institution_id]", { label: "Школа № 1" });
    await page.click("form.device-add button[type=submit]");
    await page.waitForSelector(".token-box .token");
    const token = await page.textContent(".token-box .token");
    assert(token.length >= 20, "token: " + token);
    assert(await page.$(".token-box button.copy"), "no copy button");
    const row = "#devices tr:has(td:text-is('Турникет, главный вход'))";
    assert((await page.textContent(row)).includes("Турникет"), "row: " + await page.textContent(row));
    page.once("dialog", (d) => d.accept());
    await page.click(`${row} button.revoke`);
    await waitForTrue(page, () => [...document.querySelectorAll("#devices tbody tr")]
      .some((tr) => tr.cells[0].textContent === "Турникет, главный вход" && tr.textContent.includes("Отозван")));
    assert(!(await page.$(".token-box .token")), "the token is shown again");
  },

  async "admin: a period moved outside its year is refused in Russian"({ page, base }) {
    await login(page, base, "admin");
    await page.waitForSelector("#logout");
    await page.goto(base + "/admin/years");
    await page.waitForSelector("form.period-edit");
    const f = "form.period-edit >> nth=0";
    const year = await page.$eval("section.admin-year", (s) => s.querySelector("h2").textContent);
    const first = Number(year.match(/(\d{4})\//)[1]);
    await page.$eval("form.period-edit input[name=starts_on]", (i, d) => { i.removeAttribute("min"); i.value = d; }, `${first - 1}-08-01`);
    await page.click(`${f} >> button[type=submit]`);
    // Beside the start date, the field at fault.
    await waitForTrue(page, () => document.querySelector("form.period-edit [data-error-for=starts_on]")?.textContent);
    assert(await page.textContent("form.period-edit [data-error-for=starts_on]") === "Период должен лежать внутри учебного года.",
      "error: " + await page.textContent("form.period-edit [data-error-for=starts_on]"));
    // A day off added to the year appears in its list.
    await page.fill("section.admin-year form.holiday-add input[name=date]", `${first}-12-31`);
    await page.fill("section.admin-year form.holiday-add input[name=name]", "Новогодний день");
    await page.click("section.admin-year form.holiday-add button[type=submit]");
    await page.waitForSelector(`ul.holidays li[data-date='${first}-12-31']`);
    assert((await page.textContent(`ul.holidays li[data-date='${first}-12-31']`)).includes("31 декабря"), "date in Russian");
  },

  async "admin: pages at 390 px do not scroll sideways"({ browser, base }) {
    const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
    try {
      for (const [user, paths] of [["admin", ["/home", "/admin", "/admin/municipalities", "/admin/schools", "/admin/schools/1",
        "/admin/years", "/admin/devices", "/admin/audit"]], ["schooladmin", ["/home", "/admin", "/admin/schools/1",
        "/admin/devices?institution=1", "/admin/audit?institution=1"]]]) {
        const page = await context.newPage();
        await login(page, base, user);
        await page.waitForSelector("#menu-toggle"); // the header is folded into its menu
        for (const p of paths) {
          await page.goto(base + p);
          await page.waitForSelector("main h1");
          await page.waitForTimeout(300);
          const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
          assert(sw <= w, `${user} ${p}: ${sw} px wide at ${w}`);
        }
        await page.evaluate(() => fetch("/api/v1/auth/logout", { method: "POST", headers: { "X-CSRF-Token": sessionStorage.getItem("mes.csrf") } }));
        await page.close();
      }
    } finally {
      await context.close();
    }
  },
};
