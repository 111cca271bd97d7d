// Prints the gzipped size of what the first page load fetches — the
// scripts, modulepreloads and stylesheets index.html names — and fails
// when it exceeds the budget (500 kB, issue 11). Lazy routes load later
// and are listed for information.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 500 * 1000;
const dist = new URL("../../internal/web/dist/ui/", import.meta.url).pathname;

let html;
try {
  html = readFileSync(join(dist, "index.html"), "utf8");
} catch {
  console.error(`size: ${dist}index.html is missing; run npm run build first`);
  process.exit(1);
}
const initial = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]));
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;

let total = 0;
for (const f of initial) {
  const n = gz(f);
  total += n;
  console.log(`initial  ${(n / 1000).toFixed(1).padStart(7)} kB  ${f}`);
}
let lazy = 0;
for (const f of readdirSync(join(dist, "assets"))) {
  if (!/\.(js|css)$/.test(f) || initial.has("assets/" + f)) continue;
  lazy += gz("assets/" + f);
}
console.log(`size: initial route ${(total / 1000).toFixed(1)} kB gzipped of a ${BUDGET / 1000} kB budget (${((total / BUDGET) * 100).toFixed(0)}%); lazy chunks ${(lazy / 1000).toFixed(1)} kB more`);
if (total > BUDGET) {
  console.error(`size: the initial route is over budget by ${((total - BUDGET) / 1000).toFixed(1)} kB`);
  process.exit(1);
}
