// What the browser tests share: the node under test, waiting inside a page, logging in.
// run.mjs holds the web shell's own tests and loads every *.test.mjs beside it; such a file
// exports `tests`, an object of named async functions taking { page, base, browser }.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The node keeps the region's clock (region.timezone, the demo's default): the tests' "today"
// and the browser's (Chromium inherits this environment) must be the region's day too.
process.env.TZ = "Europe/Moscow";

export const MESNODE = process.env.MESNODE ?? "build/mesnode";
export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function startNode() {
  const dir = mkdtempSync(join(tmpdir(), "mesnode-browser-"));
  const proc = spawn(MESNODE, ["demo", "--port", "0", "--data", join(dir, "data")],
    { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      reject(new Error("mesnode did not start:\n" + out));
    }, 60000);
    const onData = (b) => {
      out += b.toString();
      const m = out.match(/running: http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) { clearTimeout(timer); resolve({ proc, dir, base: `http://127.0.0.1:${m[1]}` }); }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", (b) => { out += b.toString(); });
    proc.on("exit", (code) => { clearTimeout(timer); rmSync(dir, { recursive: true, force: true }); reject(new Error(`mesnode exited ${code}:\n${out}`)); });
    proc.on("error", (e) => { clearTimeout(timer); reject(e); });
  });
}

export function assert(cond, msg) { if (!cond) throw new Error(msg); }

// Collects the page's console errors and uncaught exceptions from now on, into the array it
// returns (a test asserts it is empty at the end).
export function errorsOf(page) {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

// A bearer token of a demo login, for setting the scene through the API behind a page's back.
export async function token(base, user) {
  const r = await fetch(`${base}/api/v1/auth/login`, { method: "POST", body: JSON.stringify({ login: user, password: "demo" }) });
  return (await r.json()).token;
}

// One API call with a bearer token: { status, data } (data null when the answer is not JSON).
export async function call(base, tok, method, path, body) {
  const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${tok}` },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, data: await r.json().catch(() => null) };
}

// Waits until fn(arg), run in the page, is truthy, like page.waitForFunction. That one, in
// playwright-core 1.49, evaluates its predicate with eval() inside the page, which the shell's
// Content-Security-Policy (no 'unsafe-eval') refuses; page.evaluate is not subject to the CSP.
export async function waitForTrue(page, fn, arg, timeout = 30000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      if (await page.evaluate(fn, arg)) return;
    } catch (e) {
      if (!/context was destroyed|navigat/i.test(e.message)) throw e; // the page moved on: again
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeout} ms in vain for ${fn}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// A hub with one region's report pushed to it, and a ministry account: for the Ministry's page.
// Besides base and stop, `mesnode(...args)` runs the binary (its output as text) and
// `regionConfig` is the region's configuration, for more reports of it.
export async function startHubWithReport() {
  const dir = mkdtempSync(join(tmpdir(), "mesnode-hub-"));
  const run = (...args) => execFileSync(MESNODE, args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
  run("gen", "--scale", "demo", "--data", join(dir, "hub"));
  const port = await freePort();
  writeFileSync(join(dir, "hub.yaml"), `mode: hub\nregion:\n  name: "Москва"\n  code: "77"\nhttp:\n` +
    `  listen: "127.0.0.1:${port}"\n  access_log: "off"\nstorage:\n  data_dir: "${join(dir, "hub")}"\n`);
  const proc = spawn(MESNODE, ["serve", "--config", join(dir, "hub.yaml")], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) break; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  const hubKey = readFileSync(join(dir, "hub", "node.pub"), "utf8").split("\n")[1];
  run("gen", "--scale", "demo", "--data", join(dir, "r50"));
  writeFileSync(join(dir, "r50.yaml"), `region:\n  name: "Республика Пример"\n  code: "50"\nstorage:\n` +
    `  data_dir: "${join(dir, "r50")}"\nfederation:\n  hub_public_key: "${hubKey}"\n  hub_url: "${base}"\n`);
  run("report", "--config", join(dir, "r50.yaml"));
  run("enroll", "--config", join(dir, "hub.yaml"), "--region", "50", "--pubkey", join(dir, "r50", "node.pub"),
    "--name", "Республика Пример");
  run("sync", "--config", join(dir, "r50.yaml"), "--only", "push");
  const login = await (await fetch(`${base}/api/v1/auth/login`, { method: "POST",
    body: JSON.stringify({ login: "admin", password: "demo" }) })).json();
  const made = await fetch(`${base}/api/v1/persons`, { method: "POST", headers: { Authorization: `Bearer ${login.token}` },
    body: JSON.stringify({ last_name: "Аналитик", first_name: "Мария", account: { login: "ministry1",
      password: "ministry-pass-1", roles: [{ role: "ministry" }] } }) });
  assert(made.status === 201, `ministry account: ${made.status}`);
  return { base, mesnode: run, regionConfig: join(dir, "r50.yaml"),
    stop: () => { proc.kill("SIGTERM"); rmSync(dir, { recursive: true, force: true }); } };
}

export async function login(page, base, user, password = "demo") {
  await page.goto(base + "/");
  await page.fill("#login", user);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
}

