#!/usr/bin/env node
/**
 * `npm run build:bin`: standalone executables for hosts without Node or Bun, with
 * `bun build --compile` (the Bun runtime and mailplan in one file):
 *   dist/mailplan-linux-x64, dist/mailplan-linux-arm64
 * The host's own target is compiled with the local Bun (node_modules/.bin/bun), no download. Other
 * targets need Bun to fetch that platform's runtime (from the npm registry, cached afterwards);
 * when it cannot, the target is skipped with one line and the build still succeeds, as long as
 * the host's own target was built.
 *
 * Flags: --only linux-x64[,linux-arm64]   --outdir DIR (default dist/)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const outdir = resolve(flag("--outdir") ?? join(root, "dist"));
const TARGETS = { "linux-x64": { os: "linux", arch: "x64" }, "linux-arm64": { os: "linux", arch: "arm64" } };
const only = flag("--only")?.split(",") ?? Object.keys(TARGETS);
const unknown = only.filter((t) => !TARGETS[t]);
if (unknown.length) {
  console.error(`build:bin: unknown target ${unknown.join(", ")}; known: ${Object.keys(TARGETS).join(", ")}.`);
  process.exit(64);
}
const bun = process.env.MAILPLAN_BUN ?? join(root, "node_modules", ".bin", "bun");
mkdirSync(outdir, { recursive: true });

let hostBuilt = false, hostWanted = false, failed = false;
for (const name of only) {
  const t = TARGETS[name];
  const host = t.os === process.platform && t.arch === process.arch;
  hostWanted ||= host;
  const outfile = join(outdir, `mailplan-${name}`);
  // The host's target without --target: Bun embeds its own executable (no download).
  const args = ["build", "--compile", ...(host ? [] : [`--target=bun-${name}`]), join(root, "mod.ts"), "--outfile", outfile];
  const r = spawnSync(bun, args, { cwd: root, encoding: "utf8" });
  if (r.status === 0) {
    console.log(`build:bin: ${outfile}${host ? "" : ` (cross-compiled: Bun fetched the bun-${name} runtime)`}`);
    if (host) hostBuilt = true;
    continue;
  }
  const why = `${r.error?.message ?? ""}${r.stderr ?? ""}`.trim().split("\n").filter(Boolean).pop() ?? `exit ${r.status}`;
  if (host) {
    console.error(`build:bin: bun build --compile failed for ${name}: ${why}`);
    failed = true;
  } else {
    console.log(`build:bin: skipped ${name}: bun build --compile could not get the bun-${name} runtime here (${why}); build it on a machine that can reach the npm registry, or on ${name} itself.`);
  }
}
if (!hostWanted) console.log(`build:bin: note: this host (${process.platform}-${process.arch}) is not among the targets built.`);
process.exit(failed || (hostWanted && !hostBuilt) ? 1 : 0);
