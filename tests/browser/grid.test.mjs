// The teacher's journal grid (grid.js) with the demo's teacher of 5А mathematics: keyboard
// entry, correcting and deleting a mark, attendance keys, the weighted average and the period
// mark following each change without a reload, the server's refusal of a future lesson shown
// in Russian, the layout (one date per head, columns lined up) and the sticky student column
// and date row of the grid's own scroll box. Artem's row is left to run.mjs's tests.
import { assert, errorsOf, login, waitForTrue } from "./lib.mjs";

const CELL = (x) => `td.cell[data-lesson='${x.lesson}'][data-student='${x.student}']`;

// Logs in as the teacher and opens the journal; collects the page's errors from then on.
async function openGrid(page, base, query = "") {
  await login(page, base, "teacher");
  await page.waitForSelector("#nav a[href='/journal']", { state: "attached" });
  const errors = errorsOf(page);
  if (query) await page.goto(`${base}/journal${query}`);
  else {
    // At phone width the navigation is folded into the menu.
    if (!(await page.isVisible("#nav a[href='/journal']"))) await page.click("#menu-toggle");
    await page.click("#nav a[href='/journal']");
  }
  await page.waitForSelector("#journal-grid td.cell");
  return errors;
}

// The grid's data as the server has it now, and the grid's class, subject and period.
async function serverGrid(page) {
  return page.evaluate(async () => {
    const t = document.getElementById("journal-grid").dataset;
    const r = await fetch(`/api/v1/journal?class=${t.class}&subject=${t.subject}&period=${t.period}`);
    return r.json();
  });
}

// An empty cell of a lesson that has taken place (not cancelled, not after today), in a row
// other than Artem's; `filter(row)` may ask more of the row (run in the page).
async function emptyCell(page, needAverage = false) {
  const x = await page.evaluate((avg) => {
    const d = new Date();
    const now = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const heads = [...document.querySelectorAll("#journal-grid thead th[data-lesson]")];
    const rows = [...document.querySelectorAll("#journal-grid tbody tr")]
      .filter((tr) => !tr.querySelector("th").textContent.startsWith("Иванов Артём"));
    for (let i = heads.length - 1; i >= 0; i--) {
      const h = heads[i];
      if (h.classList.contains("cancelled") || h.dataset.date > now) continue;
      for (const tr of rows.slice(0, -1)) {
        const td = tr.querySelectorAll("td.cell")[i];
        if (td.textContent !== "" || (avg && tr.querySelector("td.avg").dataset.value === "")) continue;
        return { lesson: td.dataset.lesson, student: td.dataset.student, date: h.dataset.date,
          name: tr.querySelector("th").textContent };
      }
    }
    return null;
  }, needAverage);
  assert(x, "no empty cell of a past lesson");
  return x;
}

const cellText = (page, x) => page.$eval(CELL(x), (td) => td.textContent);
const marksOn = (grid, x) => grid.students.find((s) => String(s.id) === x.student).marks
  .filter((m) => String(m.lesson_id) === x.lesson);

export const tests = {
  async "grid: keyboard entry, correction (4 over 5 is 4), delete, attendance keys"(ctx) {
    const { page, base } = ctx;
    const errors = await openGrid(page, base);
    await page.selectOption("#grid-form", "oral");
    const x = await emptyCell(page);
    await page.click(CELL(x));
    // The clicked cell is selected and focused, the only one in the tab order, and labelled.
    const sel = await page.evaluate(() => ({
      focused: document.activeElement.matches("td.selected[aria-selected=true]"),
      tabbable: document.querySelectorAll("#journal-grid [tabindex='0']").length,
      label: document.activeElement.getAttribute("aria-label"),
    }));
    assert(sel.focused && sel.tabbable === 1, "selection: " + JSON.stringify(sel));
    const short = `${x.date.slice(8, 10)}.${x.date.slice(5, 7)}`;
    assert(sel.label.startsWith(`${x.name}, ${short}`), "aria-label: " + sel.label);
    assert(await cellText(page, x) === "", "a click saved something");
    // A digit puts the mark and moves down; back up, another digit corrects it.
    await page.keyboard.press("5");
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "5", CELL(x));
    assert(!(await page.$eval(CELL(x), (td) => td.classList.contains("selected"))), "the selection did not move down");
    await page.keyboard.press("ArrowUp");
    assert(await page.$eval(CELL(x), (td) => td === document.activeElement), "ArrowUp: not back on the cell");
    await page.keyboard.press("4");
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "4", CELL(x));
    let marks = marksOn(await serverGrid(page), x);
    assert(marks.length === 1 && marks[0].value === "4" && marks[0].control_form.code === "oral",
      "server after the correction: " + JSON.stringify(marks));
    // Another control form chosen: a second mark, explicitly; Delete takes that form's mark.
    await page.selectOption("#grid-form", "test");
    await page.click(CELL(x));
    await page.keyboard.press("3");
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "43", CELL(x));
    await page.click(CELL(x));
    await page.keyboard.press("Delete");
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "4", CELL(x));
    await page.keyboard.press("Backspace"); // the one mark left, of another form
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "", CELL(x));
    marks = marksOn(await serverGrid(page), x);
    assert(marks.length === 0, "server after the deletes: " + JSON.stringify(marks));
    // «н» (the key under it on a Latin layout too) marks the absence, again clears it.
    await page.keyboard.press("KeyY");
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "н", CELL(x));
    let grid = await serverGrid(page);
    const who = grid.students.find((s) => String(s.id) === x.student);
    assert(who.attendance.some((a) => String(a.lesson_id) === x.lesson && a.status === "absent"), "absence not saved");
    await page.click(CELL(x));
    await page.keyboard.press("KeyY");
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent === "", CELL(x));
    // Enter opens the details, Escape closes them and the keys go to the cell again.
    await page.click(CELL(x));
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog.cell-dialog[open]");
    const labelled = await page.$$eval("dialog.cell-dialog input, dialog.cell-dialog select", (cs) =>
      cs.every((c) => c.labels?.length > 0));
    assert(labelled, "a control of the details has no label");
    await page.keyboard.press("Escape");
    await page.waitForSelector("dialog.cell-dialog", { state: "detached" });
    assert(await page.$eval(CELL(x), (td) => td === document.activeElement), "focus not back on the cell");
    grid = await serverGrid(page);
    assert(marksOn(grid, x).length === 0, "Enter/Escape wrote something");
    assert(errors.length === 0, "page errors: " + errors.join("; "));
  },

  async "grid: the weighted average follows a new mark at once, without a reload"(ctx) {
    const { page, base } = ctx;
    const errors = await openGrid(page, base);
    await page.selectOption("#grid-form", "control");
    const x = await emptyCell(page, true);
    await page.evaluate(() => { window.gridTable = document.getElementById("journal-grid"); });
    const avg = (p) => p.$eval(`td.avg[data-student='${x.student}']`, (td) => td.textContent);
    const before = await avg(page);
    const value = Number(before.replace(",", ".")) > 3.5 ? "2" : "5";
    await page.click(CELL(x));
    await page.keyboard.press(value);
    await waitForTrue(page, (s) => document.querySelector(`${s} .mark`), CELL(x));
    // The server's average of the student, formatted as the page does.
    const grid = await serverGrid(page);
    const expected = grid.students.find((s) => String(s.id) === x.student).average;
    const text = await page.evaluate((v) => new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 2 }).format(v), expected);
    await waitForTrue(page, ([s, want]) => document.querySelector(s)?.textContent === want,
      [`td.avg[data-student='${x.student}']`, text]);
    assert(text !== before, `the average did not change: ${before} → ${text}`);
    assert(await page.evaluate(() => window.gridTable === document.getElementById("journal-grid")),
      "the grid was drawn again");
    assert(/^\d(,\d{1,2})?$/.test(text), "average shown as " + text);
    assert(errors.length === 0, "page errors: " + errors.join("; "));
  },

  async "grid: the period mark, suggested by the average, set and removed"(ctx) {
    const { page, base } = ctx;
    const errors = await openGrid(page, base);
    // A student with an average and no period mark yet.
    const s = await page.evaluate(() => {
      for (const tr of document.querySelectorAll("#journal-grid tbody tr")) {
        if (tr.querySelector("th").textContent.startsWith("Иванов Артём")) continue;
        const p = tr.querySelector("td.pcell.period");
        if (tr.querySelector("td.avg").dataset.value && p.querySelector(".suggested"))
          return { student: tr.dataset.student, avg: Number(tr.querySelector("td.avg").dataset.value),
            suggested: p.textContent };
      }
      return null;
    });
    assert(s, "no student with an average and without a period mark");
    assert(s.suggested === String(Math.min(5, Math.max(2, Math.round(s.avg)))), `suggested ${s.suggested} for ${s.avg}`);
    const cell = `td.pcell.period[data-student='${s.student}']`;
    await page.click(cell);
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog.period-dialog[open]");
    await page.click("dialog.period-dialog button.suggested");
    await page.waitForSelector("dialog.period-dialog", { state: "detached" });
    await waitForTrue(page, ([c, v]) => document.querySelector(`${c} .set`)?.textContent === v, [cell, s.suggested]);
    let grid = await serverGrid(page);
    let row = grid.students.find((x) => String(x.id) === s.student);
    assert(row.period_mark === s.suggested, "server period mark: " + row.period_mark);
    // A digit on the cell changes it; Delete removes it and the suggestion is back.
    const other = s.suggested === "3" ? "4" : "3";
    await page.click(cell);
    await page.keyboard.press(other);
    await waitForTrue(page, ([c, v]) => document.querySelector(`${c} .set`)?.textContent === v, [cell, other]);
    await page.click(cell);
    await page.keyboard.press("Delete");
    await waitForTrue(page, ([c, v]) => document.querySelector(`${c} .suggested`)?.textContent === v, [cell, s.suggested]);
    grid = await serverGrid(page);
    row = grid.students.find((x) => String(x.id) === s.student);
    assert(row.period_mark === null, "period mark not removed: " + row.period_mark);
    assert(errors.length === 0, "page errors: " + errors.join("; "));
  },

  async "grid: a mark on a future lesson is refused, in Russian"(ctx) {
    const { page, base } = ctx;
    await openGrid(page, base);
    const future = () => page.evaluate(() => {
      const d = new Date();
      const now = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      const heads = [...document.querySelectorAll("#journal-grid thead th[data-lesson]")];
      const i = heads.findIndex((h) => h.dataset.date > now && !h.classList.contains("cancelled"));
      if (i < 0) return null;
      const tr = [...document.querySelectorAll("#journal-grid tbody tr")]
        .find((r) => !r.querySelector("th").textContent.startsWith("Иванов Артём"));
      const td = tr.querySelectorAll("td.cell")[i];
      return { lesson: td.dataset.lesson, student: td.dataset.student };
    });
    let x = await future();
    if (!x) {
      // The period ends today or earlier: the next one, its lessons made by the school's admin.
      const t = await page.$eval("#journal-grid", (g) => ({ ...g.dataset }));
      const next = await page.evaluate(async (period) => {
        const years = (await (await fetch("/api/v1/academic-years")).json()).items;
        const all = years.flatMap((y) => y.periods);
        const i = all.findIndex((p) => String(p.id) === period);
        return all[i + 1]?.id;
      }, t.period);
      assert(next, "no lesson after today in this academic year");
      const admin = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST",
        body: JSON.stringify({ login: "schooladmin", password: "demo" }) })).json();
      await fetch(`${base}/api/v1/classes/${t.class}/lessons`, { method: "POST",
        headers: { Authorization: `Bearer ${admin.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ period_id: next }) });
      await page.goto(`${base}/journal?class=${t.class}&subject=${t.subject}&period=${next}`);
      await page.waitForSelector("#journal-grid td.cell");
      x = await future();
    }
    assert(await page.$eval(CELL(x), (td) => td.classList.contains("future")), "the future cell is not shaded");
    await page.click(CELL(x));
    await page.keyboard.press("5");
    await waitForTrue(page, () => document.querySelector("#grid-error")?.textContent);
    const error = await page.textContent("#grid-error");
    assert(error.includes("Урок ещё не прошёл") && !/[a-z]{3}/i.test(error), "error: " + error);
    assert(await cellText(page, x) === "", "the cell shows a refused mark");
    assert(marksOn(await serverGrid(page), x).length === 0, "the server kept a mark");
    // Attendance too.
    await page.evaluate(() => { document.querySelector("#grid-error").textContent = ""; });
    await page.click(CELL(x));
    await page.keyboard.press("KeyY");
    await waitForTrue(page, () => document.querySelector("#grid-error")?.textContent.includes("Урок ещё не прошёл"));
  },

  async "grid: one date per column head, heads and cells lined up"(ctx) {
    const { page, base } = ctx;
    const errors = await openGrid(page, base);
    const layout = await page.evaluate(() => {
      const heads = [...document.querySelectorAll("#journal-grid thead th")];
      const row = document.querySelector("#journal-grid tbody tr");
      const cells = [...row.children];
      return {
        count: [heads.length, cells.length],
        dates: heads.filter((h) => h.dataset.lesson).map((h) => [...h.querySelectorAll(".grid-day, .grid-weekday")].map((s) => s.textContent).join("")),
        days: heads.filter((h) => h.dataset.lesson).map((h) => h.querySelectorAll(".grid-day").length),
        heights: heads.filter((h) => h.dataset.lesson).map((h) => h.getBoundingClientRect().height),
        x: heads.map((h, i) => [h.getBoundingClientRect().left, cells[i].getBoundingClientRect().left,
          h.getBoundingClientRect().width, cells[i].getBoundingClientRect().width]),
      };
    });
    assert(layout.count[0] === layout.count[1], "head and row differ in cells: " + layout.count);
    assert(layout.dates.length > 5, "too few lessons: " + layout.dates.length);
    for (const d of layout.dates)
      assert(/^\d\d\.\d\d(пн|вт|ср|чт|пт|сб)$/.test(d), "a head holds " + JSON.stringify(d));
    assert(layout.days.every((n) => n === 1), "heads with several dates: " + layout.days);
    assert(Math.max(...layout.heights) < 80, "a tall head: " + Math.max(...layout.heights));
    for (const [hx, cx, hw, cw] of layout.x)
      assert(Math.abs(hx - cx) < 1 && Math.abs(hw - cw) < 1, `head at ${hx}/${hw}, cell at ${cx}/${cw}`);
    // A cancelled lesson (the period's last, cancelled here and restored) is struck out.
    const t = await page.$eval("#journal-grid", (g) => ({ ...g.dataset }));
    const last = await page.$$eval("#journal-grid thead th[data-lesson]", (hs) => hs.at(-1).dataset.lesson);
    const admin = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST",
      body: JSON.stringify({ login: "schooladmin", password: "demo" }) })).json();
    const cancel = (on) => fetch(`${base}/api/v1/lessons/${last}`, { method: "PATCH",
      headers: { Authorization: `Bearer ${admin.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ cancelled: on }) });
    assert((await cancel(true)).status === 200, "cancelling a lesson");
    try {
      await page.goto(`${base}/journal?class=${t.class}&subject=${t.subject}&period=${t.period}`);
      await page.waitForSelector(`#journal-grid th.cancelled[data-lesson='${last}']`);
      const struck = await page.$eval(`th[data-lesson='${last}'] .grid-day`, (d) => getComputedStyle(d).textDecorationLine);
      assert(struck.includes("line-through"), "a cancelled lesson's date: " + struck);
      const label = await page.$eval(`th[data-lesson='${last}'] button`, (b) => b.textContent);
      assert(label.includes("отменён"), "its label: " + label);
    } finally {
      await cancel(false);
    }
    assert(errors.length === 0, "page errors: " + errors.join("; "));
  },

  async "grid: on a phone the grid scrolls in its box, the student column and dates stay"(ctx) {
    const { page, base } = ctx;
    await page.setViewportSize({ width: 390, height: 844 });
    await openGrid(page, base);
    const before = await page.evaluate(() => {
      const wrap = document.getElementById("journal-grid-wrap");
      wrap.scrollLeft = 0;
      wrap.scrollTop = 0;
      return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        inner: wrap.scrollWidth - wrap.clientWidth };
    });
    assert(before.page <= 0, "the page scrolls sideways by " + before.page);
    assert(before.inner > 0, "the grid does not need its scroll box at 390 px?");
    const at = await page.evaluate(async () => {
      const wrap = document.getElementById("journal-grid-wrap");
      wrap.scrollLeft = wrap.scrollWidth;
      wrap.scrollTop = 240;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const box = wrap.getBoundingClientRect();
      const rows = [...wrap.querySelectorAll("tbody tr")];
      const visible = rows.find((tr) => tr.getBoundingClientRect().top >= box.top + 40);
      const name = visible.querySelector("th.grid-student").getBoundingClientRect();
      const firstCell = visible.querySelector("td.cell").getBoundingClientRect();
      const head = wrap.querySelector("thead th[data-lesson]").getBoundingClientRect();
      return { left: wrap.scrollLeft, top: wrap.scrollTop, box: [box.left + wrap.clientLeft, box.top + wrap.clientTop],
        name: name.left, head: head.top, firstCell: firstCell.right,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth };
    });
    assert(at.left > 0 && at.top > 0, "did not scroll: " + JSON.stringify(at));
    assert(Math.abs(at.name - at.box[0]) < 1.5, `the student column moved: ${at.name} vs ${at.box[0]}`);
    assert(Math.abs(at.head - at.box[1]) < 1.5, `the date row moved: ${at.head} vs ${at.box[1]}`);
    assert(at.firstCell < at.name, "the first lesson column did not scroll under the names");
    assert(at.page <= 0, "the page scrolls sideways by " + at.page);
    if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/grid-390.png` });
  },
};
