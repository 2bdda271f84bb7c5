/**
 * Shared steps of the install tests: pack the project the way `npm publish` would (prepack builds
 * dist/), install the tarball somewhere else, and run programs waiting on their exit (never on time).
 * npm runs with --prefer-offline: with the npm cache warm (the checkout's own install warms it)
 * nothing is fetched, so the tests work without a network.
 */
import { spawn, type SpawnOptions } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

export const root = join(import.meta.dirname!, "..", "..");
export const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

export interface Ran {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; `input` is written to its stdin. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    child.stdout!.on("data", (d) => void (stdout += d));
    child.stderr!.on("data", (d) => void (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin!.end(opts.input ?? "");
  });
}

/** Runs and asserts exit 0, returning stdout; the error shows both streams. */
export async function ok(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let packed: Promise<string> | undefined;

/** `npm pack` of the project into a fresh folder (once per process); the tarball's path. */
export function packOnce(): Promise<string> {
  packed ??= (async () => {
    const dest = mkdtempSync(join(tmpdir(), "mailplan-pack-"));
    await ok("npm", ["pack", "--pack-destination", dest, "--loglevel=error"], { cwd: root });
    const tgz = readdirSync(dest).find((f) => f.endsWith(".tgz"));
    if (!tgz) throw new Error(`npm pack wrote no tarball in ${dest}`);
    return join(dest, tgz);
  })();
  return packed;
}

/** `npm install -g --prefix PREFIX ./mailplan-X.tgz`; the prefix (its bin/ holds `mailplan`). */
export async function installGlobal(tgz: string): Promise<string> {
  const prefix = mkdtempSync(join(tmpdir(), "mailplan-global-"));
  await ok("npm", ["install", "-g", "--prefix", prefix, ...NPM_FLAGS, tgz], { cwd: prefix });
  return prefix;
}

/** A new project folder with the tarball installed as a dependency (`npm install ./mailplan-X.tgz`). */
export async function installInProject(tgz: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "mailplan-project-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "uses-mailplan", private: true, type: "module" }));
  await ok("npm", ["install", ...NPM_FLAGS, tgz], { cwd: dir });
  return dir;
}

/** The environment for a child: NO_COLOR, and never the user's real outbox. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, NO_COLOR: "1", MAILPLAN_OUTBOX: mkdtempSync(join(tmpdir(), "mailplan-test-outbox-")), ...extra };
}
