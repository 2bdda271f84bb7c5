#!/usr/bin/env node
/**
 * Start-up time and size of the ways to run mailplan, beside msmtp's (for the README). Prints a
 * Markdown table; not a test. Each command runs `--runs` times (default 20) one after another;
 * the median wall time is shown. Needs dist/mailplan-linux-x64 (npm run build:bin); msmtp and an
 * installed shim (--shim PATH/bin/mailplan) are measured when present.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (n) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
const runs = Number(flag("--runs") ?? 20);
const shim = flag("--shim");
const config = join(root, "config", "mail.yaml");
const tmp = mkdtempSync(join(tmpdir(), "mailplan-measure-"));
const msmtprc = join(tmp, "msmtprc");
writeFileSync(msmtprc, "account default\nhost smtp.example.com\nport 587\ntls on\nauth on\nuser me\npasswordeval echo x\nfrom me@example.com\n", { mode: 0o600 });

/** CPU time (user + sys) per run of the command and its children, from bash's `times`: less
 * sensitive than wall time to other work on a shared machine. */
function cpu(cmd, args) {
  const q = (a) => `'${a.replace(/'/g, "'\\''")}'`;
  const script = `for i in $(seq ${runs}); do ${[cmd, ...args].map(q).join(" ")} >/dev/null 2>&1; done; times`;
  const out = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }).stdout.trim().split("\n").pop();
  const secs = (out.match(/(\d+)m([\d.]+)s/g) ?? []).map((t) => { const [, m, s] = t.match(/(\d+)m([\d.]+)s/); return Number(m) * 60 + Number(s); });
  return ((secs[0] ?? 0) + (secs[1] ?? 0)) * 1000 / runs;
}

function median(cmd, args) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    spawnSync(cmd, args, { stdio: "ignore", env: { ...process.env, NO_COLOR: "1" } });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { wall: times[Math.floor(times.length / 2)], cpu: cpu(cmd, args) };
}
const which = (name) => spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim() || null;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

const rows = [];
const binary = join(root, "dist", "mailplan-linux-x64");
if (existsSync(binary)) {
  rows.push(["standalone binary (dist/mailplan-linux-x64)", mb(statSync(binary).size), median(binary, ["--version"]), median(binary, ["check", "--config", config])]);
}
const du = (dir) => Number(spawnSync("du", ["-sb", dir], { encoding: "utf8" }).stdout.split("\t")[0]);
if (shim) rows.push(["npm install -g (Node shim → Bun)", `${mb(du(join(dirname(shim), "..")))} installed`, median(shim, ["--version"]), median(shim, ["check", "--config", config])]);
const bun = join(root, "node_modules", ".bin", "bun");
rows.push(["checkout: bun mod.ts", "—", median(bun, [join(root, "mod.ts"), "--version"]), median(bun, [join(root, "mod.ts"), "check", "--config", config])]);
rows.push(["checkout: npx bun run mod.ts", "—", median("npx", ["bun", "run", join(root, "mod.ts"), "--version"]), median("npx", ["bun", "run", join(root, "mod.ts"), "check", "--config", config])]);
const msmtp = which("msmtp");
if (msmtp) {
  const libs = spawnSync("ldd", [msmtp], { encoding: "utf8" }).stdout.match(/=> (\S+)/g)?.map((m) => m.slice(3)) ?? [];
  const withLibs = libs.reduce((n, l) => n + (existsSync(l) ? statSync(l).size : 0), statSync(msmtp).size);
  rows.push([`msmtp ${spawnSync(msmtp, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0].split(" ").pop()} (check = msmtp -P)`, `${mb(statSync(msmtp).size)} (${mb(withLibs)} with its ${libs.length} shared libraries)`, median(msmtp, ["--version"]), median(msmtp, ["-C", msmtprc, "-P"])]);
}
console.log(`load average while measuring: ${(await import("node:os")).loadavg().map((n) => n.toFixed(1)).join(" ")} on ${(await import("node:os")).cpus().length} CPUs`);
console.log(`| how it runs | size | --version: median wall time of ${runs} (CPU per run) | check: same |`);
console.log("|---|---|---:|---:|");
for (const [name, size, v, c] of rows) console.log(`| ${name} | ${size} | ${v.wall.toFixed(0)} ms (${v.cpu.toFixed(0)} ms CPU) | ${c.wall.toFixed(0)} ms (${c.cpu.toFixed(0)} ms CPU) |`);
