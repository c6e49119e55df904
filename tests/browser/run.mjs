// Browser tests of the web shell: the real mesnode demo on a loopback port, Debian's
// Chromium driven by playwright-core. Prints one line per test and "N passed, M failed".
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const MESNODE = process.env.MESNODE ?? "build/mesnode";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

function startNode() {
  const dir = mkdtempSync(join(tmpdir(), "mesnode-browser-"));
  const proc = spawn(MESNODE, ["demo", "--port", "0", "--data", join(dir, "data")],
    { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("mesnode did not start:\n" + out)), 60000);
    const onData = (b) => {
      out += b.toString();
      const m = out.match(/running: http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) { clearTimeout(timer); resolve({ proc, dir, base: `http://127.0.0.1:${m[1]}` }); }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", (b) => { out += b.toString(); });
    proc.on("exit", (code) => reject(new Error(`mesnode exited ${code}:\n${out}`)));
  });
}

function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function login(page, base, user, password = "demo") {
  await page.goto(base + "/");
  await page.fill("#login", user);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
}

const tests = {
  async "parent logs in and sees the child's name"(ctx) {
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.waitForSelector("a.child");
    const names = await ctx.page.$$eval("a.child", (as) => as.map((a) => a.textContent));
    assert(names.some((n) => n.startsWith("Иванов Артём")), "child not shown: " + names);
    assert(new URL(ctx.page.url()).pathname === "/home", "not on /home: " + ctx.page.url());
  },
  async "parent opens the child's profile"(ctx) {
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.click("a.child >> text=Иванов Артём");
    await ctx.page.waitForSelector("dl.facts");
    const text = await ctx.page.textContent("main");
    assert(text.includes("5А") && text.includes("Школа № 1"), "profile lacks class/school: " + text);
  },
  async "wrong password shows the catalog's error"(ctx) {
    await login(ctx.page, ctx.base, "teacher", "not-the-password");
    await ctx.page.waitForFunction(() => document.querySelector("#login-error")?.textContent);
    const err = await ctx.page.textContent("#login-error");
    assert(err === "Неверный логин или пароль", "error text: " + err);
  },
  async "logout returns to the login page and ends the session"(ctx) {
    await login(ctx.page, ctx.base, "student");
    await ctx.page.waitForSelector("#logout");
    await ctx.page.click("#logout");
    await ctx.page.waitForSelector("#login");
    const status = await ctx.page.evaluate(async () => (await fetch("/api/v1/me")).status);
    assert(status === 401, "after logout /me is " + status);
  },
  async "teacher sees mathematics among the assignments"(ctx) {
    await login(ctx.page, ctx.base, "teacher");
    await ctx.page.waitForSelector("table");
    const text = await ctx.page.textContent("table");
    assert(text.includes("Математика") && text.includes("5А"), "assignments: " + text);
  },
  async "home page fits a 360 px phone"(ctx) {
    await ctx.page.setViewportSize({ width: 360, height: 740 });
    await login(ctx.page, ctx.base, "parent");
    await ctx.page.waitForSelector("a.child");
    const overflow = await ctx.page.evaluate(() =>
      document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert(overflow <= 0, "horizontal overflow of " + overflow + " px");
    if (process.env.SCREENSHOT) await ctx.page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  },
};

const node = await startNode();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let passed = 0, failed = 0;
try {
  for (const [name, fn] of Object.entries(tests)) {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await fn({ page, base: node.base });
      passed++;
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL - ${name}: ${e.message}`);
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
  node.proc.removeAllListeners("exit");
  node.proc.kill("SIGTERM");
  rmSync(node.dir, { recursive: true, force: true });
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
