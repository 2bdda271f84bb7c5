#!/usr/bin/env node
/**
 * The `mailplan` command as npm installs it: a small Node script that runs mailplan's mod.ts with
 * the Bun that comes as a dependency of this package, and gets out of the way.
 *
 * Invariants:
 * - Arguments, stdin/stdout/stderr, the exit status and a death by signal pass through unchanged
 *   (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 are forwarded to Bun; if Bun dies of a signal,
 *   this process dies of the same one).
 * - The name the command was invoked under (the basename of argv[1], e.g. `sendmail` when
 *   /usr/sbin/sendmail is a symlink to it) reaches mailplan as MAILPLAN_INVOKED_AS.
 * - Bun is found from this file's own location (require.resolve), so it works installed globally
 *   (`npm install -g`) and hoisted in a project (`npm install mailplan`). npm 11 skips install
 *   scripts by default, so Bun's postinstall may not have run: then bun/bin/bun.exe is a small
 *   placeholder and the binary of the platform package (@oven/bun-<os>-<arch>) is used instead.
 *   MAILPLAN_BUN=/path/to/bun overrides the search.
 */
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modTs = join(here, "..", "mod.ts");

/** True for an executable file large enough to be a real Bun (the placeholder is a few bytes). */
function isRealBinary(path) {
  try {
    const s = statSync(path);
    return s.isFile() && s.size > 1_000_000;
  } catch {
    return false;
  }
}

/** Candidate platform packages of the bun npm package, most specific first. */
function platformPackages() {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const arch = process.arch === "arm64" ? "aarch64" : process.arch;
  const base = `@oven/bun-${os}-${arch}`;
  // npm installs only the one whose os/cpu/libc fields match this machine.
  return [base, `${base}-musl`, `${base}-baseline`, `${base}-musl-baseline`];
}

/** The path of the Bun binary to run, or null with the reason. */
function findBun() {
  if (process.env.MAILPLAN_BUN) return { path: process.env.MAILPLAN_BUN };
  const require = createRequire(join(here, "mailplan.js"));
  let bunPkg;
  try {
    bunPkg = require.resolve("bun/package.json");
  } catch {
    return { path: null, reason: "the bun package is not installed next to mailplan" };
  }
  const exe = process.platform === "win32" ? "bun.exe" : "bun";
  const fromBun = createRequire(bunPkg);
  for (const name of platformPackages()) {
    try {
      const candidate = join(dirname(fromBun.resolve(`${name}/package.json`)), "bin", exe);
      if (isRealBinary(candidate)) return { path: candidate };
    } catch { /* not installed for this platform */ }
  }
  const linked = join(dirname(bunPkg), "bin", "bun.exe"); // the postinstall moves the binary here
  if (isRealBinary(linked)) return { path: linked };
  return { path: null, reason: `no Bun binary for ${process.platform}-${process.arch} was installed with the bun package` };
}

function main() {
  const bun = findBun();
  if (!bun.path) {
    process.stderr.write(`mailplan: cannot start: ${bun.reason}. Reinstall with \`npm install -g mailplan\` (optional dependencies enabled), or set MAILPLAN_BUN to a Bun binary.\n`);
    process.exit(69);
  }
  const invokedAs = basename(process.argv[1] ?? "mailplan").replace(/\.(c|m)?js$/, "");
  const child = spawn(bun.path, [modTs, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, MAILPLAN_INVOKED_AS: invokedAs },
  });
  const forward = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];
  const relay = (sig) => child.kill(sig);
  for (const sig of forward) process.on(sig, relay);
  child.on("error", (e) => {
    process.stderr.write(`mailplan: cannot start Bun (${bun.path}): ${e.message}\n`);
    process.exit(69);
  });
  child.on("exit", (code, signal) => {
    for (const sig of forward) process.off(sig, relay);
    if (signal) {
      process.kill(process.pid, signal); // die the same way, so the caller sees the signal
      return;
    }
    process.exit(code ?? 1);
  });
}

main();
