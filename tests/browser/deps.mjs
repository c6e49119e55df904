// Checks, before the browser tests load playwright-core, that this Node.js is new enough for
// every package of package-lock.json (its "engines" field) and that node_modules holds the
// versions the lock file names, among them the two the tests use: playwright-core, which drives
// Chromium, and axe-core, whose axe.min.js the sweep (sweep.test.mjs) runs in every page.
// Either failing is a clear failure of the browser tests, never a skip: a Debian 12 machine's
// Node.js 18 must run them.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

// The packages the browser tests load, and the file of each they need.
export const REQUIRED = { "playwright-core": "index.mjs", "axe-core": "axe.min.js" };

function parseVersion(v) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : null;
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

// Whether version satisfies an npm engines range made of comparators (>=, >, <=, <, = or a bare
// version) joined by spaces, with alternatives joined by "||". Returns null for a range it
// cannot read, so that an unreadable range fails instead of passing.
export function satisfies(version, range) {
  const v = parseVersion(version);
  if (!v) return null;
  let any = false;
  for (const alt of range.split("||")) {
    let all = true;
    for (const term of alt.trim().split(/\s+/).filter(Boolean)) {
      const m = /^(>=|<=|>|<|=)?\s*(v?\d+(?:\.\d+){0,2})$/.exec(term);
      if (!m) return null;
      const c = compare(v, parseVersion(m[2]));
      const op = m[1] ?? "=";
      const ok = { ">=": c >= 0, "<=": c <= 0, ">": c > 0, "<": c < 0, "=": c === 0 }[op];
      all &&= ok;
    }
    any ||= all;
  }
  return any;
}

// Returns a sentence saying why the browser tests cannot run with this Node.js and the
// installed packages of dir (default: this directory), or null when they can.
export function browserDepsProblem({ node = process.versions.node, dir = HERE } = {}) {
  let lock;
  try {
    lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8"));
  } catch (e) {
    return `cannot read ${join(dir, "package-lock.json")}: ${e.message}`;
  }
  for (const name of Object.keys(REQUIRED))
    if (!lock.packages?.[`node_modules/${name}`])
      return `package-lock.json does not lock ${name}, which the browser tests need`;
  const locked = Object.entries(lock.packages ?? {}).filter(([path]) => path.startsWith("node_modules/"))
    .map(([path, pkg]) => [path, path.slice("node_modules/".length), pkg]);
  // The Node.js first: no `make deps` helps when it is too old.
  for (const [, name, pkg] of locked) {
    const range = pkg.engines?.node;
    if (!range) continue;
    const ok = satisfies(node, range);
    if (ok === null) return `cannot read the Node.js range "${range}" that ${name} ${pkg.version} declares`;
    if (!ok) {
      return `Node.js ${node} is older than ${name} ${pkg.version} of package-lock.json needs ` +
        `(${range}); install a Node.js that satisfies it or lock a ${name} that supports ${node}`;
    }
  }
  for (const [path, name, pkg] of locked) {
    let installed;
    try {
      installed = JSON.parse(readFileSync(join(dir, path, "package.json"), "utf8")).version;
    } catch {
      return `${name} is not installed in ${join(dir, "node_modules")}: run \`make deps\``;
    }
    if (installed !== pkg.version) {
      return `${name} ${installed} is installed but package-lock.json locks ${pkg.version}: run \`make deps\``;
    }
    if (REQUIRED[name] && !existsSync(join(dir, path, REQUIRED[name])))
      return `${name} ${installed} lacks ${REQUIRED[name]}: run \`make deps\``;
  }
  return null;
}
