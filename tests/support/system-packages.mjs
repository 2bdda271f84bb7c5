// The system packages the test peers need, in ONE list, and what to do when some are missing:
// install them with apt-get when we are root and apt-get exists (one line of output saying so),
// else stop at once with one line naming the command to run. Used by tests/run-all.mjs (so
// `npm test` on a fresh machine brings its peers) and therefore by .ci/run, which runs `npm test`.
// Plain JavaScript (not TypeScript) because run-all.mjs runs under Node before Bun and Deno exist.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

/**
 * Each Debian package, how to tell it is there, and which tests need it. `scope: "postfix"`
 * packages are needed only when a Postfix test file runs; `scope: "all"` ones by every run.
 * @type {{ pkg: string, present: () => boolean, scope: "postfix" | "all" }[]}
 */
export const PACKAGES = [
  { pkg: "postfix", present: () => existsSync("/usr/sbin/postfix"), scope: "postfix" },
  { pkg: "sasl2-bin", present: () => existsSync("/usr/sbin/saslpasswd2"), scope: "postfix" },
  { pkg: "libsasl2-modules", present: () => saslPlugin("libplain.so") && saslPlugin("liblogin.so"), scope: "postfix" },
  { pkg: "openssl", present: () => onPath("openssl"), scope: "all" },
  // The real clients that call /usr/sbin/sendmail in tests/sendmail/clients.test.ts.
  { pkg: "bsd-mailx", present: () => onPath("bsd-mailx"), scope: "all" },
  { pkg: "git-email", present: () => gitSendEmail(), scope: "all" },
];

/** True when git's send-email command is installed (package git-email). */
function gitSendEmail() {
  const r = spawnSync("git", ["--exec-path"], { encoding: "utf8" });
  return r.status === 0 && existsSync(join(r.stdout.trim(), "git-send-email"));
}

/** True when a Cyrus SASL mechanism plugin (e.g. libplain.so) is installed in a usual place. */
function saslPlugin(name) {
  const dirs = ["/usr/lib/sasl2", "/usr/lib64/sasl2"];
  for (const base of ["/usr/lib", "/usr/lib64"]) {
    try {
      for (const d of readdirSync(base)) dirs.push(join(base, d, "sasl2"));
    } catch { /* no such folder */ }
  }
  return dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => f === name || f.startsWith(name + "."));
    } catch {
      return false;
    }
  });
}

/** True when `cmd` is an executable file in a folder of $PATH (or /usr/sbin, /sbin for root tools). */
export function onPath(cmd) {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"].filter(Boolean);
  return dirs.some((d) => {
    try {
      return statSync(join(d, cmd)).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The test files that start the private Postfix (they import tests/peers/postfix.ts), relative
 * to `root`, e.g. `tests/engine/postfix.test.ts`.
 */
export function postfixTestFiles(root) {
  const found = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === "node_modules" || name === "fixtures") continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".test.ts") && /["'][^"']*postfix\.ts["']/.test(readFileSync(p, "utf8"))) found.push(relative(root, p));
    }
  };
  walk(join(root, "tests"));
  return found.sort();
}

/** True when running `args` (test files or folders; none = the whole suite) includes a Postfix test. */
export function runsPostfix(root, args) {
  if (args.length === 0) return true;
  const files = postfixTestFiles(root).map((f) => resolve(root, f));
  return args.some((a) => {
    const p = resolve(root, a);
    return files.some((f) => f === p || f.startsWith(p.endsWith(sep) ? p : p + sep));
  });
}

/**
 * The decision, as data (pure: tested without a package manager).
 * @param {{ missing: string[], root: boolean, aptGet: boolean, postfixOnly: boolean }} s
 * @returns {{ action: "ok" } | { action: "install", line: string, packages: string[] } | { action: "stop", line: string }}
 */
export function decide(s) {
  if (s.missing.length === 0) return { action: "ok" };
  const list = s.missing.join(" ");
  const who = s.postfixOnly ? "the Postfix tests need them" : "the tests need them";
  if (s.root && s.aptGet) return { action: "install", packages: s.missing, line: `installing ${list} with apt-get (${who})` };
  const how = s.aptGet
    ? `run: sudo apt-get install -y ${list}`
    : `install ${list} with your system's package manager (Debian/Ubuntu: apt-get install -y ${list})`;
  return { action: "stop", line: `missing system packages ${list} (${who}): ${how}, then npm test again` };
}

/**
 * Makes sure the peers' system packages are there before a run of `args`; returns true to go on,
 * false (after printing one line on stderr) when the run must stop. Prints nothing when all is present.
 */
export function ensureSystemPackages(root, args, out = console.log, err = console.error) {
  const postfix = runsPostfix(root, args);
  // Test hooks (tests/support/system-packages.test.ts): pretend packages are missing / not root.
  const pretend = (process.env.MAILPLAN_TEST_PRETEND_MISSING ?? "").split(",").filter(Boolean);
  const missing = PACKAGES.filter((p) => (p.scope === "all" || postfix) && (pretend.includes(p.pkg) || !p.present())).map((p) => p.pkg);
  const d = decide({
    missing,
    root: typeof process.getuid === "function" && process.getuid() === 0 && !process.env.MAILPLAN_TEST_PRETEND_NOT_ROOT,
    aptGet: onPath("apt-get"),
    postfixOnly: missing.every((m) => PACKAGES.find((p) => p.pkg === m)?.scope === "postfix"),
  });
  if (d.action === "ok") return true;
  if (d.action === "stop") {
    err(d.line);
    return false;
  }
  out(d.line);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", ...d.packages]]) {
    const r = spawnSync("apt-get", args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || String(r.error ?? "")).trim().split("\n").at(-1);
      err(`apt-get ${args[0]} failed (${why}): run apt-get install -y ${d.packages.join(" ")} yourself, then npm test again`);
      return false;
    }
  }
  const still = PACKAGES.filter((p) => d.packages.includes(p.pkg) && !p.present()).map((p) => p.pkg);
  if (still.length) {
    err(`apt-get installed ${d.packages.join(" ")} but ${still.join(" ")} is still not found: check the package manager's output`);
    return false;
  }
  return true;
}

// `node tests/support/system-packages.mjs [files…]`: only the check/installation step.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(new URL("../..", import.meta.url).pathname);
  process.exit(ensureSystemPackages(root, process.argv.slice(2)) ? 0 : 1);
}
