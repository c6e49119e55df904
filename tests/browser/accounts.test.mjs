// Accounts for everyone in the browser: a class teacher prints the activation letters of their
// class, a parent activates with the code of a letter and sees their child, and a school admin
// is refused another school's letters in Russian.
import { assert, login, waitForTrue } from "./lib.mjs";

// The class teacher's letters page of their first class, letters made.
async function printLetters(page, base) {
  await login(page, base, "classteacher");
  await page.waitForSelector("#nav a");
  await page.click("#nav a >> text=Письма для активации");
  await page.waitForSelector("#letters-make");
  await page.click("#letters-make");
  await page.waitForSelector("article.letter");
}

export const tests = {
  async "class teacher prints activation letters of the class, one per person"(ctx) {
    const { page, base } = ctx;
    await printLetters(page, base);
    const letters = await page.$$eval("article.letter", (as) => as.map((a) => ({
      login: a.querySelector(".letter-login")?.textContent ?? "",
      code: a.querySelector(".letter-code")?.textContent ?? "",
      role: a.dataset.role, person: a.dataset.person })));
    assert(letters.length > 10, "too few letters: " + letters.length);
    assert(new Set(letters.map((l) => l.person)).size === letters.length, "a person has two letters");
    for (const l of letters) {
      assert(/^[a-z0-9-]+$/.test(l.login), "login: " + l.login);
      assert(/^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/.test(l.code), "code: " + l.code);
    }
    assert(letters.some((l) => l.role === "parent") && letters.some((l) => l.role === "student"), "roles");
    const text = await page.textContent("article.letter");
    assert(text.includes("/activate") && text.includes("Код активации"), "letter text: " + text);
    // One letter per printed page.
    await page.emulateMedia({ media: "print" });
    const breaks = await page.$$eval("article.letter", (as) => as.map((a) => getComputedStyle(a).breakAfter));
    assert(breaks.slice(0, -1).every((b) => b === "page"), "page breaks: " + breaks.join(","));
    const hidden = await page.$eval("#letters-print", (b) => getComputedStyle(b.parentElement).display);
    assert(hidden === "none", "the print button is printed");
  },
  async "parent with an inactive account activates with the letter's code and sees the child"(ctx) {
    const { page, base } = ctx;
    await printLetters(page, base);
    const letter = await page.$eval("article.letter[data-role=parent]", (a) => ({
      login: a.querySelector(".letter-login").textContent, code: a.querySelector(".letter-code").textContent,
      student: a.dataset.student }));
    await page.click("#logout");
    await page.waitForSelector("#login");
    await page.goto(base + "/activate");
    await page.waitForSelector("#act-login");
    await page.fill("#act-login", letter.login);
    await page.fill("#act-code", letter.code.toLowerCase());
    await page.fill("#act-password", "short");
    await page.fill("#act-password2", "short");
    await page.click("form.activate button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#act-password-error")?.textContent);
    const err = await page.textContent("#act-password-error");
    assert(err.includes("не меньше 8"), "password error: " + err);
    await page.fill("#act-password", "Roditel2026");
    await page.fill("#act-password2", "Roditel2026");
    await page.click("form.activate button[type=submit]");
    await page.waitForSelector("a.child");
    const names = await page.$$eval("a.child", (as) => as.map((a) => a.textContent));
    assert(names.includes(letter.student), `child ${letter.student} not in ${names}`);
    // The same code does not work twice.
    await page.click("#logout");
    await page.goto(base + "/activate");
    await page.fill("#act-login", letter.login);
    await page.fill("#act-code", letter.code);
    await page.fill("#act-password", "Roditel2027");
    await page.fill("#act-password2", "Roditel2027");
    await page.click("form.activate button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#act-code-error")?.textContent);
    assert((await page.textContent("#act-code-error")) === "Неверный логин или код активации.", "reuse error");
  },
  async "class teacher gives one parent a new code; the old one stops, the new one activates"(ctx) {
    const { page, base } = ctx;
    await printLetters(page, base);
    const first = await page.$eval("article.letter[data-role=parent]", (a) => ({
      person: a.dataset.person, login: a.querySelector(".letter-login").textContent,
      code: a.querySelector(".letter-code").textContent, student: a.dataset.student }));
    // Back on the class's page: that parent's own button, one letter.
    await page.goto(page.url());
    await page.waitForSelector(`button.letter-reset[data-person="${first.person}"]`);
    await page.click(`button.letter-reset[data-person="${first.person}"]`);
    await page.waitForSelector("article.letter");
    const again = await page.$$eval("article.letter", (as) => as.map((a) => ({
      person: a.dataset.person, login: a.querySelector(".letter-login").textContent,
      code: a.querySelector(".letter-code").textContent })));
    assert(again.length === 1 && again[0].person === first.person && again[0].login === first.login,
      "one letter for that parent: " + JSON.stringify(again));
    assert(again[0].code !== first.code, "the code is new");
    await page.click("#logout");
    await page.waitForSelector("#login");
    for (const [code, works] of [[first.code, false], [again[0].code, true]]) {
      await page.goto(base + "/activate");
      await page.waitForSelector("#act-login");
      await page.fill("#act-login", first.login);
      await page.fill("#act-code", code);
      await page.fill("#act-password", "Roditel2028");
      await page.fill("#act-password2", "Roditel2028");
      await page.click("form.activate button[type=submit]");
      if (works) {
        await page.waitForSelector("a.child");
        const names = await page.$$eval("a.child", (as) => as.map((a) => a.textContent));
        assert(names.includes(first.student), `child ${first.student} not in ${names}`);
      } else {
        await waitForTrue(page, () => document.querySelector("#act-code-error")?.textContent);
      }
    }
  },
  async "school admin cannot open another school's class letters"(ctx) {
    const { page, base } = ctx;
    const token = (await (await fetch(`${base}/api/v1/auth/login`, { method: "POST",
      body: JSON.stringify({ login: "admin", password: "demo" }) })).json()).token;
    const get = async (p) => (await fetch(base + p, { headers: { Authorization: `Bearer ${token}` } })).json();
    const school = (await get("/api/v1/institutions")).items.find((i) => i.short_name === "Гимназия № 2");
    const cls = (await get(`/api/v1/institutions/${school.id}/classes`)).items[0];
    await login(page, base, "schooladmin");
    await page.waitForSelector("#logout");
    await page.goto(`${base}/admin/classes/${cls.id}/letters`);
    await page.waitForSelector("#letters-error");
    const text = await page.textContent("#letters-error");
    assert(text.startsWith("Нет доступа к письмам этого класса"), "denial: " + text);
    assert(!(await page.$("#letters-make")), "the make button is shown");
  },
};
