#!/usr/bin/env node
// Runs the whole suite under Bun and under Deno (the same test files), then prints one
// `N passed, N failed` line with the totals of both runtimes. Exits non-zero if either fails.
// `--runtimes bun,deno` picks the runtimes; other arguments (test files) go to each runner.
// First it brings the system packages the peers need (tests/support/system-packages.mjs: apt-get
// when root, else one line naming the command and exit 1), so `npm test` works on a fresh machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureSystemPackages } from "./support/system-packages.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const argv = process.argv.slice(2);
const rt = argv.indexOf("--runtimes");
const wanted = rt >= 0 ? argv.splice(rt, 2)[1].split(",") : ["bun", "deno"];
const files = argv;
if (!ensureSystemPackages(root, files)) process.exit(1);
const out = mkdtempSync(join(tmpdir(), "mailplan-test-"));

const runners = [
  { name: "bun", cmd: bin("bun"), args: (xml) => ["test", "--timeout", "60000", "--reporter=junit", `--reporter-outfile=${xml}`, ...files] },
  { name: "deno", cmd: bin("deno"), args: (xml) => ["test", "-A", "--reporter=dot", `--junit-path=${xml}`, ...files] },
];

/** Counts leaf test cases (a case whose name prefixes another's is a group, not a test). */
function count(xml) {
  const cases = [...xml.matchAll(/<testcase\s+name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)]
    .map((m) => ({ name: m[1], failed: /<(failure|error)\b/.test(m[3] ?? "") }));
  const names = cases.map((c) => c.name);
  const leaves = cases.filter((c) => !names.some((n) => n.startsWith(c.name + " &gt; ")));
  const skipped = (xml.match(/<skipped\b/g) ?? []).length;
  return { passed: leaves.filter((c) => !c.failed).length - skipped, failed: leaves.filter((c) => c.failed).length, skipped };
}

let passed = 0, failed = 0, ok = true;
for (const r of runners.filter((r) => wanted.includes(r.name))) {
  const xml = join(out, `${r.name}.xml`);
  console.log(`\n=== ${r.name} ===`);
  const res = spawnSync(r.cmd, r.args(xml), { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  const c = existsSync(xml) ? count(readFileSync(xml, "utf8")) : { passed: 0, failed: 1, skipped: 0 };
  if (res.status !== 0 && c.failed === 0) c.failed = 1; // the runner failed outside any test (load or type error)
  console.log(`${r.name}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  passed += c.passed; failed += c.failed;
  if (res.status !== 0) ok = false;
}
rmSync(out, { recursive: true, force: true });
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(ok && failed === 0 && passed > 0 ? 0 : 1);
