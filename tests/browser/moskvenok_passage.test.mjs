// «Москвёнок»'s cards and passage in the browser (passage.js): the parent sees a child's entries
// and exits week by week, the diary's day shows the first entry and the last exit, and the
// notification reads «Артём вошёл в школу в 07:50»; the school admin finds a student, issues,
// blocks and replaces a carrier, errors in Russian beside the field; the class teacher sees who
// is in school now and the flag where the journal and the turnstiles disagree. The scene is set
// through the API (a turnstile's token, its events) behind the pages' back.
import { assert, call, errorsOf, login, token, waitForTrue } from "./lib.mjs";

const pad = (n) => String(n).padStart(2, "0");
const localDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const TODAY = localDay(new Date());
// RFC 3339 of the node's (and this process's) local day at hh:mm.
const at = (day, hh, mm) => new Date(`${day}T${pad(hh)}:${pad(mm)}:00`).toISOString();

// Monday of the week before this one (a week with lessons in the past).
function lastMonday() {
  const d = new Date(`${TODAY}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7) - 7);
  return d.toISOString().slice(0, 10);
}

let serial = 0;
const cardNo = (p) => `${p}${process.pid.toString(16)}${Date.now().toString(36)}${++serial}`.toUpperCase().slice(0, 32);

// The demo world: tokens of the people we act as, Артём's and Мария's ids, the school and 5А.
async function world(base) {
  const sa = await token(base, "schooladmin");
  const parent = await token(base, "parent");
  const me = (await call(base, parent, "GET", "/api/v1/me")).data;
  const kid = (n) => me.children.find((c) => c.name.startsWith(n));
  const artem = kid("Иванов Артём");
  const school = (await call(base, sa, "GET", "/api/v1/me")).data.grants.find((g) => g.role === "school_admin").institution_id;
  return { sa, parent, artem: artem.id, maria: kid("Иванова Мария").id, c5a: artem.class.id, school };
}

// A turnstile of the school: posts events numbered 1, 2, 3...
async function turnstile(base, w) {
  const r = await call(base, w.sa, "POST", "/api/v1/devices", { name: `Турникет ${++serial}`, scopes: ["passage"], institution_id: w.school });
  assert(r.status === 201, `device: ${r.status}`);
  let seq = 0;
  return async (events) => {
    const body = { events: events.map(([card, direction, when]) => ({ key: `b${r.data.id}-${++seq}`, seq, card, direction, at: when })) };
    const a = await call(base, r.data.token, "POST", "/api/v1/passage/events", body);
    assert(a.status === 200, `events: ${a.status} ${JSON.stringify(a.data)}`);
    return a.data;
  };
}

async function issue(base, w, student) {
  const r = await call(base, w.sa, "POST", `/api/v1/students/${student}/cards`, { card: cardNo("B") });
  assert(r.status === 201, `card: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data.card;
}

// A day of last week on which the student had a lesson (of `subject`, when given) that took
// place: the first such day, or with `last` the last one.
async function pastLessonDay(base, tok, student, subject = null, last = false) {
  const monday = lastMonday();
  const sunday = new Date(`${monday}T00:00:00Z`);
  sunday.setUTCDate(sunday.getUTCDate() + 6);
  const d = await call(base, tok, "GET", `/api/v1/students/${student}/diary?from=${monday}&to=${sunday.toISOString().slice(0, 10)}`);
  const fits = (l) => !l.cancelled && (!subject || l.subject.name === subject);
  const days = d.data.days.filter((x) => x.lessons.some(fits));
  const day = last ? days[days.length - 1] : days[0];
  assert(day, `no lesson last week (${subject ?? "any"})`);
  return { monday, day: day.date, lesson: day.lessons.find(fits) };
}

export const tests = {
  async "moskvenok passage: the parent sees the passage log, the diary's entry time and the notification"(ctx) {
    const { page, base } = ctx;
    const w = await world(base);
    const card = await issue(base, w, w.artem);
    const post = await turnstile(base, w);
    const past = await pastLessonDay(base, w.parent, w.artem);
    const d = await post([[card, "in", at(past.day, 8, 12)], [card, "out", at(past.day, 14, 5)],
      [card, "in", at(past.day, 10, 0)], [card, "in", at(TODAY, 7, 50)]]);
    assert(d.applied === 4, JSON.stringify(d));

    await login(page, base, "parent");
    const errors = errorsOf(page);
    await page.waitForSelector(`a.passage-link[href='/students/${w.artem}/passage']`);
    await page.click(`a.passage-link[href='/students/${w.artem}/passage']`);
    await waitForTrue(page, () => document.querySelector("h1")?.textContent.includes("Иванов Артём"));
    assert((await page.textContent("h1")).startsWith("Проходы в школу"), await page.textContent("h1"));
    await page.waitForSelector(`ul.passage-log[data-day='${TODAY}']`);
    const today = await page.textContent(`ul.passage-log[data-day='${TODAY}']`);
    assert(today.includes("07:50") && today.includes("вход"), "today: " + today);
    // Last week, by the button: the day's entries and exits in time order.
    await page.click("button.secondary >> text=Неделя назад");
    await page.waitForSelector(`ul.passage-log[data-day='${past.day}']`);
    const lines = await page.$$eval(`ul.passage-log[data-day='${past.day}'] li`, (ls) => ls.map((l) => l.textContent));
    assert(lines.length === 3 && lines[0].startsWith("08:12") && lines[0].includes("вход") && lines[1].startsWith("10:00")
      && lines[2].startsWith("14:05") && lines[2].includes("выход"), "lines: " + lines.join(" | "));
    // The diary of that week, from the toolbar: the first entry and the last exit under the day.
    await page.click(`a[href='/diary/${w.artem}?week=${past.monday}']`);
    await page.waitForSelector(`.diary-passage[data-day='${past.day}']`);
    const gate = await page.textContent(`.diary-passage[data-day='${past.day}']`);
    assert(gate === "Вход в школу 08:12 · выход 14:05", "diary: " + gate);
    // Today's entry reached the parent as a notification, in Russian with the gender's verb.
    await page.click("#nav a[href='/notifications']");
    await page.waitForSelector("ul.feed li[data-kind='passage_in']");
    const feed = await page.$$eval("ul.feed li[data-kind='passage_in']", (ls) => ls.map((l) => l.textContent));
    assert(feed.some((f) => f.includes("Артём вошёл в школу в 07:50 (Школа № 1)")), "feed: " + feed.join(" | "));
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },

  async "moskvenok passage: the school admin issues, blocks and replaces a card"(ctx) {
    const { page, base } = ctx;
    const w = await world(base);
    await login(page, base, "schooladmin");
    const errors = errorsOf(page);
    await page.click("#nav a[href='/admin']");
    await page.click(`a[href='/school/cards?school=${w.school}']`);
    await page.waitForSelector("form.cards-search");
    await page.selectOption("form.cards-search select[name=class]", { label: "5А" });
    await page.click("form.cards-search button[type=submit]");
    const student = `li.card-student[data-student='${w.artem}']`;
    await page.waitForSelector(student);
    const carriers = async () => page.$$eval(`${student} li.carrier`, (ls) => ls.length);
    const before = await carriers();

    // Issue: a bad identifier is refused beside the field, then a good one.
    await page.click(`${student} details.cards-action:has(form.cards-issue) > summary`);
    const issueForm = `${student} form.cards-issue`;
    await page.fill(`${issueForm} input[name=card]`, "ab");
    await page.click(`${issueForm} button[type=submit]`);
    await waitForTrue(page, (f) => document.querySelector(`${f} [data-error-for=card]`)?.textContent.length > 0, issueForm);
    const err = await page.textContent(`${issueForm} [data-error-for=card]`);
    assert(err.startsWith("Номер карты — от 4 до 64 символов"), "error: " + err);
    const first = cardNo("P");
    await page.fill(`${issueForm} input[name=card]`, first);
    await page.selectOption(`${issueForm} select[name=kind]`, "bracelet");
    await page.click(`${issueForm} button[type=submit]`);
    await waitForTrue(page, ([s, n]) => document.querySelectorAll(`${s} li.carrier`).length === n, [student, before + 1]);
    assert((await page.textContent("#cards-status")).includes(`выдана карта ${first}`), await page.textContent("#cards-status"));
    const carrier = (id) => `${student} li.carrier[data-identifier='${id}']`;
    assert((await page.textContent(carrier(first))).includes("браслет"), await page.textContent(carrier(first)));
    assert((await page.textContent(`${carrier(first)} .carrier-state`)) === "действует", "state");

    // The same identifier again: taken.
    await page.click(`${student} details.cards-action:has(form.cards-issue) > summary`);
    await page.fill(`${issueForm} input[name=card]`, first);
    await page.click(`${issueForm} button[type=submit]`);
    await waitForTrue(page, (f) => document.querySelector(`${f} [data-error-for=card]`)?.textContent.includes("уже выдан"), issueForm);

    // Replace it by a new one: the old one shows «заменена», the new one is in use.
    const second = cardNo("Q");
    await page.click(`${carrier(first)} details.cards-action:has(form.cards-replace) > summary`);
    await page.fill(`${carrier(first)} form.cards-replace input[name=card]`, second);
    await page.click(`${carrier(first)} form.cards-replace button[type=submit]`);
    await page.waitForSelector(carrier(second));
    await waitForTrue(page, (s) => document.querySelector(`${s} .carrier-state`)?.textContent === "заменена", carrier(first));
    assert((await page.textContent(carrier(second))).includes("браслет"), "the kind carries over");
    assert(!(await page.$(`${carrier(first)} form.cards-block`)), "a replaced carrier offers no actions");

    // Block the new one: lost.
    await page.click(`${carrier(second)} details.cards-action:has(form.cards-block) > summary`);
    await page.selectOption(`${carrier(second)} form.cards-block select[name=reason]`, "lost");
    await page.click(`${carrier(second)} form.cards-block button[type=submit]`);
    await waitForTrue(page, (s) => document.querySelector(`${s} .carrier-state`)?.textContent === "заблокирована: потеряна", carrier(second));
    assert((await page.textContent("#cards-status")).includes("заблокирована"), await page.textContent("#cards-status"));

    // The API agrees, and finding by the identifier finds the student.
    const listed = (await call(base, w.sa, "GET", `/api/v1/students/${w.artem}/cards`)).data.items;
    const byCard = Object.fromEntries(listed.map((c) => [c.card, c]));
    assert(byCard[first].blocked_reason === "replaced" && byCard[first].replaced_by === byCard[second].id, JSON.stringify(byCard[first]));
    assert(byCard[second].blocked_reason === "lost", JSON.stringify(byCard[second]));
    await page.selectOption("form.cards-search select[name=class]", "");
    await page.fill("form.cards-search input[name=q]", second);
    await page.click("form.cards-search button[type=submit]");
    await waitForTrue(page, (a) => [...document.querySelectorAll("li.card-student")].map((l) => l.dataset.student).join() === String(a), w.artem);
    // The taken identifier's answer (409) is the only failed request.
    const unexpected = errors.filter((e) => !/status of 409/.test(e));
    assert(unexpected.length === 0 && errors.length === 1, "console errors: " + errors.join("; "));
  },

  async "moskvenok passage: the class teacher sees who is in school and a flag"(ctx) {
    const { page, base } = ctx;
    const w = await world(base);
    const teacher = await token(base, "teacher");
    const ct = await token(base, "classteacher");
    const mates = (await call(base, w.sa, "GET", `/api/v1/classes/${w.c5a}/students`)).data.items.filter((s) => s.id !== w.artem);
    const y = mates[mates.length - 1];
    const [ca, cy] = [await issue(base, w, w.artem), await issue(base, w, y.id)];
    const post = await turnstile(base, w);
    // Today: y came in. A past day: Артём is marked absent at a math lesson, yet came in.
    const past = await pastLessonDay(base, w.parent, w.artem, "Математика", true);
    const r = await call(base, teacher, "PUT", `/api/v1/lessons/${past.lesson.id}/attendance`, { student_id: w.artem, status: "absent" });
    assert(r.status === 200, `attendance: ${r.status}`);
    await post([[cy, "in", at(TODAY, 0, 5)], [ca, "in", at(past.day, 8, 0)]]);
    const artemOnDay = (await call(base, ct, "GET", `/api/v1/classes/${w.c5a}/presence?date=${past.day}`)).data
      .students.find((s) => s.student.id === w.artem);

    await login(page, base, "classteacher");
    const errors = errorsOf(page);
    // The home page: the link beside the class; the flags card as today's presence has it.
    await page.waitForSelector(`a.presence-link[href='/classes/${w.c5a}/presence']`);
    const flagsToday = (await call(base, ct, "GET", `/api/v1/classes/${w.c5a}/presence`)).data.counts.flags;
    await waitForTrue(page, (n) => { const c = document.querySelector("#home-presence"); return c && (n ? !c.hidden : c.hidden); }, flagsToday);
    await page.click(`ul.homeroom a.presence-link[href='/classes/${w.c5a}/presence']`);
    await page.waitForSelector("table.presence");
    assert((await page.textContent("h1")) === "Кто в школе: 5А", await page.textContent("h1"));
    const row = (id) => `table.presence tr[data-student='${id}']`;
    assert((await page.textContent(`${row(y.id)} td.in-school`)) === "в школе", "y is in");
    assert((await page.textContent(`${row(y.id)} td.first-in`)) === "00:05", "y's entry");
    assert((await page.textContent("#presence-counts")).startsWith("Сейчас в школе:"), await page.textContent("#presence-counts"));
    // The past day, by the date field: Артём's row is flagged.
    await page.fill("input[name=date]", past.day);
    await page.dispatchEvent("input[name=date]", "change");
    await waitForTrue(page, (d) => location.search === `?date=${d}`, past.day);
    await page.waitForSelector(`${row(w.artem)}.flagged`);
    assert((await page.textContent(`${row(w.artem)} .badge.flag`)) === "проход есть, урок пропущен", "flag");
    assert((await page.textContent(`${row(w.artem)} td.first-in`)) === artemOnDay.first_in.time, "Артём's entry");
    const listed = await page.textContent("ul.presence-flags li[data-flag=absent_with_entry]");
    assert(listed.startsWith("Проход через турникет есть, но в журнале пропуск урока") && listed.includes("Иванов Артём"), listed);
    assert(await page.$(`ul.presence-flags li[data-flag=absent_with_entry] span[data-student='${w.artem}']`), "Артём among them");
    // Those present at lessons who never entered are flagged too, now that the turnstiles ran.
    const other = await page.$$eval("table.presence tr.flagged .badge.flag", (bs) => bs.map((b) => b.textContent));
    assert(other.includes("на уроке, прохода нет"), other.join(" | "));
    assert(errors.length === 0, "console errors: " + errors.join("; "));
  },
};
