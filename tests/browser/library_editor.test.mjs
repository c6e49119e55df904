// The library's tests in the browser: a teacher writes a test with one question of each kind
// in the question editor (single and multiple choice, short answer, matching), sees a refused
// question's error in Russian beside its field, and sends the test for review; the
// methodologist approves it; the teacher is notified; a student takes the test, matching
// included, and the score comes from the server.
import { assert, login, waitForTrue } from "./lib.mjs";

async function logout(page) {
  await page.click("#logout");
  await page.waitForSelector("#login");
}

// Adds a question of `kind` and returns the selector of its card (the last one).
async function addQuestion(page, kind) {
  await page.selectOption("#question-editor select[name=new-kind]", kind);
  const before = await page.$$eval("#question-editor .q-card", (x) => x.length);
  await page.click("#add-question");
  await waitForTrue(page, (n) => document.querySelectorAll("#question-editor .q-card").length === n + 1, before);
  return `#question-editor .q-card:nth-child(${before + 1})`;
}

// Fills the labelled control `label` inside `scope` (a label tied to it by for=).
async function fillLabelled(page, scope, label, value) {
  const id = await page.$eval(scope, (s, l) => [...s.querySelectorAll("label")].find((x) => x.textContent === l)?.htmlFor, label);
  assert(id, `no label «${label}» in ${scope}`);
  await page.fill(`[id="${id}"]`, value);
}

export const tests = {
  async "a teacher writes a test in the question editor, the methodologist approves it, a student takes it"(ctx) {
    const { page, base } = ctx;
    const errors = [];
    // Script errors; answers with an error status (the refusals this test provokes, the login
    // page's 401) are the browser's network log, not errors of the page.
    page.on("console", (m) => { if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(e.message));
    const title = `Столицы и числа ${Date.now() % 100000}`;

    await login(page, base, "teacher");
    await page.click("#nav a[href='/library/mine']");
    await page.waitForSelector("#new-item");
    // A draft without a title is refused: Russian, beside the title.
    await page.click("#new-item button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#new-item [data-error-for=title]")?.textContent);
    const noTitle = await page.textContent("#new-item [data-error-for=title]");
    assert(noTitle === "Напишите название (до 300 знаков).", "empty title: " + noTitle);
    await fillLabelled(page, "#new-item", "Название", title);
    await page.selectOption("#new-item select[name=type]", "test");
    await page.click("#new-item button[type=submit]");
    await page.waitForSelector("#question-editor #no-questions");

    // Submitting before there are questions says so in Russian, beside the form.
    await page.click("#submit-item");
    await waitForTrue(page, () => document.querySelector("#edit-item [data-error-for=questions]")?.textContent);
    const early = await page.textContent("#edit-item [data-error-for=questions]");
    assert(early === "Сначала добавьте в тест вопросы и сохраните их.", "submit without questions: " + early);

    // One question of each kind.
    let q = await addQuestion(page, "single");
    await fillLabelled(page, q, "Текст вопроса", "2 + 2 =");
    await fillLabelled(page, q, "Вариант ответа 1", "3");
    await fillLabelled(page, q, "Вариант ответа 2", "4");
    await page.check(`${q} input[type=radio][id$='-right-1']`);

    q = await addQuestion(page, "multiple");
    await fillLabelled(page, q, "Текст вопроса", "Чётные числа");
    await page.click(`${q} .q-add-option`);
    await fillLabelled(page, q, "Вариант ответа 1", "2");
    await fillLabelled(page, q, "Вариант ответа 2", "3");
    await fillLabelled(page, q, "Вариант ответа 3", "8");
    await page.check(`${q} input[type=checkbox][id$='-right-0']`);
    await page.check(`${q} input[type=checkbox][id$='-right-2']`);

    q = await addQuestion(page, "text");
    await fillLabelled(page, q, "Текст вопроса", "x − 7 = 0, x =");
    await fillLabelled(page, q, "Верный ответ 1", "7");

    q = await addQuestion(page, "matching");
    await fillLabelled(page, q, "Текст вопроса", "Столица и страна");
    await page.click(`${q} .q-add-pair`);
    const pairs = [["Москва", "Россия"], ["Париж", "Франция"], ["Рим", "Италия"]];
    for (const [k, [l, r]] of pairs.entries()) {
      await fillLabelled(page, q, `Левая часть ${k + 1}`, l);
      await fillLabelled(page, q, `Правая часть ${k + 1}`, k === 2 ? "Россия" : r); // a repeat, at first
    }
    await fillLabelled(page, q, "Баллы", "3");

    // The repeated right-hand item is refused: Russian, beside that question's right-hand side.
    await page.click("#save-questions");
    const spot = "#question-editor [data-error-for='questions[3].answer']";
    await waitForTrue(page, (s) => document.querySelector(s)?.textContent, spot);
    const dup = await page.textContent(spot);
    assert(dup === "Части пар на одной стороне не должны повторяться.", "duplicate pair error: " + dup);
    await fillLabelled(page, q, "Правая часть 3", "Италия");

    // Reorder: the matching question goes up one place and back; deleting and re-adding works.
    await page.click(`${q} .q-up`);
    await waitForTrue(page, () => document.querySelector("#question-editor .q-card:nth-child(3)")?.dataset.kind === "matching");
    await page.click("#question-editor .q-card:nth-child(3) .q-down");
    await waitForTrue(page, () => document.querySelector("#question-editor .q-card:nth-child(4)")?.dataset.kind === "matching");
    const extra = await addQuestion(page, "single");
    await page.click(`${extra} .q-delete`);
    await waitForTrue(page, () => document.querySelectorAll("#question-editor .q-card").length === 4);

    await page.click("#save-questions");
    await waitForTrue(page, () => document.querySelector("#editor-status")?.textContent === "Сохранено 4 вопроса.");
    assert(!(await page.textContent(spot)), "the error line is cleared after a good save");

    // The saved questions come back in the editor, keys included, after a reload.
    await page.reload();
    await page.waitForSelector("#question-editor .q-card:nth-child(4)");
    const kinds = await page.$$eval("#question-editor .q-card", (cs) => cs.map((c) => c.dataset.kind));
    assert(kinds.join() === "single,multiple,text,matching", "saved kinds: " + kinds);
    assert(await page.isChecked("#question-editor .q-card:nth-child(2) input[id$='-right-2']"), "the multiple key came back");

    await page.click("#submit-item");
    await waitForTrue(page, () => document.querySelector("article.library-item p.muted")?.textContent.includes("на экспертизе"));
    assert(!(await page.$("#question-editor")), "a submitted test is no longer edited");
    const itemPath = new URL(page.url()).pathname;
    await logout(page);

    // The methodologist: returning needs a comment (Russian, beside it); then approves.
    await login(page, base, "methodologist");
    await page.waitForSelector("#logout");
    // The reviewer reads the questions with their answers on the test's page.
    await page.goto(base + itemPath);
    await page.waitForSelector("#answer-key li[data-kind=matching] li");
    const key = await page.textContent("#answer-key");
    assert(key.includes("Москва → Россия") && key.includes("Рим → Италия") && key.includes("✓ 4 — верный"), "answer key: " + key);
    assert(!(await page.$("#test-form")), "the reviewer is not asked to take the test");
    await page.click("#nav a[href='/library/review']");
    const card = `ul.items li.item[data-item='${itemPath.split("/").pop()}']`;
    await page.waitForSelector(card);
    await page.click(`${card} button.return`);
    await waitForTrue(page, (c) => document.querySelector(c)?.querySelector("[data-error-for=comment]")?.textContent, card);
    const need = await page.textContent(`${card} [data-error-for=comment]`);
    assert(need === "Напишите замечания для автора (до 5000 знаков).", "return without comment: " + need);
    await page.click(`${card} button.approve`);
    await page.waitForSelector(card, { state: "detached" });
    await logout(page);

    // The teacher hears of it.
    await login(page, base, "teacher");
    await page.click("#nav a[href='/notifications']");
    await page.waitForSelector("ul.feed li[data-kind=library_approved]");
    const note = await page.textContent("ul.feed li[data-kind=library_approved]");
    assert(note.includes(`Материал «${title}» одобрен методистом.`), "notification: " + note);
    await logout(page);

    // A student takes it: radios and checkboxes beside their labels, a select per left-hand item.
    await login(page, base, "student");
    await page.waitForSelector("#logout");
    await page.goto(base + itemPath);
    await page.waitForSelector("#test-form fieldset[data-kind=matching] select");
    const html = await page.content();
    assert(!html.includes('"answer"'), "the page holds an answer key");
    const labelled = await page.$$eval("#test-form input, #test-form select", (xs) =>
      xs.every((x) => x.labels && x.labels.length === 1 && x.labels[0].textContent.trim()));
    assert(labelled, "every answer control has its own label");
    await page.check("#test-form fieldset[data-kind=single] label:text-is('4')");
    await page.check("#test-form fieldset[data-kind=multiple] label:text-is('2')");
    await page.check("#test-form fieldset[data-kind=multiple] label:text-is('8')");
    await page.getByLabel("Ваш ответ").fill(" 7 ");
    for (const [l, r] of pairs) await page.getByLabel(l, { exact: true }).selectOption(r);
    // The box sits on the same line as its answer text.
    const same = await page.$eval("#test-form fieldset[data-kind=single] .option", (o) => {
      const a = o.querySelector("input").getBoundingClientRect(), b = o.querySelector("label").getBoundingClientRect();
      return Math.abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2) < 12 && a.right <= b.left + 1;
    });
    assert(same, "the radio sits beside its answer");
    await page.click("#test-form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#test-result")?.textContent === "Результат: 6 из 6");
    // One pair swapped: that question is marked wrong, by the server's scoring.
    await page.getByLabel("Москва", { exact: true }).selectOption("Франция");
    await page.getByLabel("Париж", { exact: true }).selectOption("Россия");
    await page.click("#test-form button[type=submit]");
    await waitForTrue(page, () => document.querySelector("#test-result")?.textContent === "Результат: 3 из 6");
    assert(await page.$("#test-form fieldset[data-kind=matching].wrong"), "the matching question is marked wrong");
    assert(errors.length === 0, "console errors: " + errors.join(" | "));
  },
  async "library pages: labelled search, Russian empty favourites, no null"(ctx) {
    const { page, base } = ctx;
    await login(page, base, "student");
    await page.click("#nav a[href='/library/favourites']");
    await page.waitForSelector("#no-favourites");
    const text = await page.textContent("main");
    assert(text.includes("Избранного пока нет") && !/null|undefined|NaN/.test(text), "empty favourites: " + text);
    await page.click("#nav a[href='/library']");
    await page.waitForSelector("#library-total");
    for (const sel of [".library-search input[name=q]", ".library-search select[name=type]", ".library-search select[name=grade]"])
      assert(await page.$eval(sel, (x) => x.getAttribute("aria-label")), `${sel} has no label`);
    const main = await page.textContent("main");
    assert(!/null|undefined|NaN/.test(main), "raw values on the page: " + main);
  },
};
