// The import page (/admin/import): the region admin uploads a small OneRoster set with one
// error, sees it in Russian beside its file and line, uploads the corrected set, applies it,
// and the imported students are there. The set is made by tests/api/oneroster_set.py.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, login, waitForTrue } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));

// A zip of a OneRoster 1.1 set: one school «Школа № 77», one class of two students; with
// `broken`, one enrolment names a class that does not exist.
function oneRosterZip(broken) {
  const script = `
import base64, io, os, sys, tempfile, zipfile
sys.path.insert(0, ${JSON.stringify(join(here, "..", "api"))})
import oneroster_set as o
s = o.make(schools=1, classes=1, students=2)
s["orgs.csv"][1]["name"] = "МБОУ СОШ № 77"
s["orgs.csv"][1]["identifier"] = "Школа № 77"
if ${broken ? "True" : "False"}:
    s["enrollments.csv"][-1]["classSourcedId"] = "no-such-class"
with tempfile.TemporaryDirectory() as d:
    o.write(s, d)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in sorted(os.listdir(d)):
            z.write(os.path.join(d, n), n)
    print(base64.b64encode(buf.getvalue()).decode())
`;
  return Buffer.from(execFileSync("/usr/bin/python3", ["-c", script]).toString().trim(), "base64");
}

async function choose(page, zip, name) {
  await page.setInputFiles(".roster-form input[type=file]", { name, mimeType: "application/zip", buffer: zip });
  await page.click(".roster-form button[type=submit]");
}

export const tests = {
  async "roster: an import with one error, fixed, applied; the students are there"({ page, base }) {
    await page.setViewportSize({ width: 390, height: 800 });
    await login(page, base, "admin");
    await page.click("#menu-toggle"); // at 390 px the navigation is in the menu
    await page.click("#nav a[href='/admin/import']");
    await page.waitForSelector(".roster-form");
    await choose(page, oneRosterZip(true), "выгрузка.zip");
    await page.waitForSelector(".roster-error");
    const errors = await page.$$eval(".roster-error", (els) => els.map((e) => ({ code: e.dataset.code, text: e.textContent })));
    assert(errors.length === 1, `one error, got ${JSON.stringify(errors)}`);
    assert(errors[0].code === "unknown_class", errors[0].code);
    assert(/^enrollments\.csv:\d+ /.test(errors[0].text), errors[0].text);
    assert(errors[0].text.includes("класса no-such-class нет"), `in Russian: ${errors[0].text}`);
    // the preview counts the valid rows
    const students = await page.$eval(".roster-counts tr[data-kind=students] td", (td) => td.textContent);
    assert(students === "2", `students added: ${students}`);
    // usable at a phone's width: no sideways scroll
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(wide <= 390, `the page is ${wide} px wide at 390`);
    // applying it as it is imports nothing and says why
    await page.click(".roster-apply button[type=submit]");
    await waitForTrue(page, () => document.querySelector(".status")?.textContent.includes("ничего не импортировано"));

    await choose(page, oneRosterZip(false), "выгрузка.zip");
    await waitForTrue(page, () => document.querySelector(".roster-ok")?.textContent === "Ошибок нет.");
    await page.click(".roster-apply button[type=submit]");
    await waitForTrue(page, () => [...document.querySelectorAll("h2")].some((h) => h.textContent === "Импорт выполнен"));

    const names = await page.evaluate(async () => {
      const get = async (p) => (await fetch(p, { credentials: "same-origin" })).json();
      const school = (await get("/api/v1/institutions")).items.find((i) => i.short_name === "Школа № 77" || i.name === "МБОУ СОШ № 77");
      const cls = (await get(`/api/v1/institutions/${school.id}/classes`)).items[0];
      return (await get(`/api/v1/classes/${cls.id}/students`)).items.map((s) => s.name);
    });
    assert(names.length === 2, `imported students: ${JSON.stringify(names)}`);
  },
};
