// Certificates of study (certificates.js): a parent requests one for a child with a purpose,
// sees it in the child's list, asking again adds none; the document reads in Russian (the
// name in the dative case, dates in words); the pages fit a phone.
import { assert, errorsOf, login, waitForTrue } from "./lib.mjs";

const RUSSIAN_DATE = /^\d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря) \d{4} г\.$/;

// Console errors and uncaught exceptions of the page, collected from now on.
const rows = (page) => page.$$eval("#certificates-list tbody tr", (r) => r.length).catch(() => 0);

async function openArtemsCertificates(page, base) {
  await login(page, base, "parent");
  await page.click("a.child >> text=Иванов Артём");
  await page.click("#certificate");
  await page.waitForSelector("form.certificate-request");
}

export const tests = {
  async "a parent requests a certificate with a purpose; asking again adds none; it reads in Russian"(ctx) {
    const { page, base } = ctx;
    await openArtemsCertificates(page, base);
    const errors = errorsOf(page); // from the login page on: its own 401 of /api/v1/me is expected
    assert((await page.textContent("h1")).includes("Иванов Артём Сергеевич"), "title: " + await page.textContent("h1"));
    // The purposes are a labelled select; «другое» opens a labelled free text.
    const label = await page.$eval("form.certificate-request select", (s) => document.querySelector(`label[for="${s.id}"]`)?.textContent);
    assert(label === "Для чего справка", "select label: " + label);
    const before = await rows(page);
    assert(!(await page.locator("form.certificate-request input[name=purpose]").isVisible()), "free text before «другое»");
    await page.selectOption("form.certificate-request select", { label: "другое — указать самому" });
    const input = page.locator("form.certificate-request input[name=purpose]");
    assert(await input.isVisible(), "the free text is shown");
    // Left empty: an error beside the field, nothing requested.
    await page.click("form.certificate-request button[type=submit]");
    await waitForTrue(page, () => document.querySelector('[data-error-for="purpose"]')?.textContent.length > 0);
    assert(await rows(page) === before, "an empty purpose made a certificate");
    await input.fill("в музыкальную школу");
    await page.click("form.certificate-request button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#certificate-result")?.textContent.includes("готова"));
    await waitForTrue(page, (n) => document.querySelectorAll("#certificates-list tbody tr").length === n, before + 1);
    const first = await page.$$eval("#certificates-list tbody tr:first-child td", (tds) => tds.map((td) => td.textContent));
    assert(/^№\s\d+$/.test(first[0]) && first[2] === "в музыкальную школу", "row: " + first.join(" | "));
    assert(RUSSIAN_DATE.test(first[1]), "date: " + first[1]);
    // Again, the same purpose: the same number, no second row.
    await page.click("form.certificate-request button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#certificate-result")?.textContent.includes("уже выдана"));
    const again = await page.textContent("#certificate-result");
    assert(again.includes(first[0]), `the same number: ${again} vs ${first[0]}`);
    assert(await rows(page) === before + 1, "a second certificate for the same request");
    // A common purpose from the select: one more.
    await page.selectOption("form.certificate-request select", { label: "в поликлинику" });
    await page.click("form.certificate-request button[type=submit]");
    await waitForTrue(page, () => /готова|уже выдана/.test(document.querySelector("#certificate-result")?.textContent ?? ""));
    // The document: the name in the dative case, the pronoun, dates in words; signed.
    await page.locator("#certificates-list tbody tr", { hasText: "в музыкальную школу" }).locator("a.certificate-link").click();
    await page.waitForSelector("#certificate-status");
    const text = await page.textContent("#certificate-text");
    assert(/^Дана Иванову Артёму Сергеевичу \(дата рождения: \d{1,2} апреля \d{4} г\.\) в том, что он действительно обучается в 5 «А» классе/.test(text),
      "text: " + text);
    const date = (await page.textContent("#certificate-date")).replace(/^Дата выдачи: /, "");
    assert(RUSSIAN_DATE.test(date), "issued: " + date);
    assert((await page.textContent("#certificate-status")).includes("подлинная"), "not valid");
    const article = await page.textContent("article");
    assert(!/null|undefined|NaN|\d{4}-\d{2}-\d{2}/.test(article), "raw values: " + article);
    assert(article.includes("для предъявления в музыкальную школу"), "purpose: " + article);
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },
  async "the certificates pages fit a phone"(ctx) {
    const { page, base } = ctx;
    await page.setViewportSize({ width: 390, height: 844 });
    await openArtemsCertificates(page, base);
    const errors = errorsOf(page);
    await page.click("form.certificate-request button[type=submit]"); // по месту требования
    await page.waitForSelector("#certificates-list tbody tr");
    const wide = () => document.documentElement.scrollWidth <= window.innerWidth;
    assert(await page.evaluate(wide), "the list scrolls sideways at 390 px");
    await page.click("#certificate-result a.certificate-open");
    await page.waitForSelector("#certificate-status");
    assert(await page.evaluate(wide), "the certificate scrolls sideways at 390 px");
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },
  async "the school admin opens a pupil's certificates; a teacher is refused"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "parent");
    await page.waitForSelector("a.child");
    const artem = await page.evaluate(async () => (await (await fetch("/api/v1/me")).json())
      .children.find((c) => c.name.startsWith("Иванов Артём")).id);
    await page.click("#logout");
    await login(page, base, "schooladmin");
    await page.waitForSelector("#logout");
    await page.goto(`${base}/students/${artem}`);
    await page.click("#certificate");
    await page.waitForSelector("form.certificate-request");
    assert((await page.textContent("h1")).includes("Иванов Артём Сергеевич"), "school admin's title");
    await page.click("#logout");
    await login(page, base, "teacher");
    await page.waitForSelector("#logout");
    await page.goto(`${base}/students/${artem}/certificates`);
    await page.waitForSelector("#certificates-error");
    assert((await page.textContent("#certificates-error")).length > 0 && !(await page.$("form.certificate-request")),
      "a teacher sees the form");
  },
};
