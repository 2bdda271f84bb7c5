/**
 * The `mailplan` command as a user installs it: `npm pack`, `npm install -g --prefix TMP
 * ./mailplan-X.tgz`, then TMP/bin/mailplan. Checks that the shim finds the Bun that came as a
 * dependency and passes arguments, stdio, exit status, signals and the invoked name through.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { childEnv, installGlobal, packOnce, root, run } from "./support.ts";

// Set up at module load, not in a hook: packing (tsc) and installing can take over a minute on a
// busy machine, and Bun applies its per-hook timeout to hooks whatever their options say.
const prefix = await installGlobal(await packOnce());
const mailplan = join(prefix, "bin", "mailplan");

/** A stand-in for Bun (MAILPLAN_BUN): reports what it was given; `exit N`, `wait` on request. */
const FAKE_BUN = `#!/usr/bin/env node
const fs = require("fs");
const [script, ...args] = process.argv.slice(2);
const out = process.env.FAKE_OUT;
if (args[0] === "wait") {
  process.on("SIGTERM", () => { fs.writeFileSync(out, "SIGTERM"); process.removeAllListeners("SIGTERM"); process.kill(process.pid, "SIGTERM"); });
  process.stdout.write("ready\\n");
  setInterval(() => {}, 1 << 30);
} else {
  let stdin = ""; process.stdin.on("data", (d) => stdin += d).on("end", () => {
    process.stdout.write(JSON.stringify({ script, args, invokedAs: process.env.MAILPLAN_INVOKED_AS, stdin }));
    process.exit(args[0] === "exit" ? Number(args[1]) : 0);
  });
}
`;

describe("npm install -g of the packed tarball", () => {
  test("mailplan --version runs mod.ts with the Bun installed as a dependency", async () => {
    const r = await run(mailplan, ["--version"], { env: childEnv() });
    assert.equal(r.code, 0, r.stderr);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname!, "..", "..", "package.json"), "utf8"));
    assert.equal(r.stdout, `mailplan ${pkg.version}\n`);
  });

  test("mailplan demo sends through its loopback sink and exits 0", async () => {
    const r = await run(mailplan, ["demo", "--json"], { env: childEnv() });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.ok, true);
    assert.equal(result.demo.received.length, 2);
  });

  test("exit statuses pass through (64 usage, 78 config)", async () => {
    assert.equal((await run(mailplan, ["send", "--bogus"], { env: childEnv() })).code, 64);
    const missing = await run(mailplan, ["check", "--config", join(prefix, "nope.yaml")], { env: childEnv() });
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /does not exist/);
  });
});

describe("the GitOps example as a user's CI runs it", () => {
  test("examples/gitops/gitlab-ci.yml: every script line after the install works with the installed command", async () => {
    const job = parseYaml(readFileSync(join(root, "examples", "gitops", "gitlab-ci.yml"), "utf8"))["mail-plan"];
    const [install, ...lines] = job.script as string[];
    assert.match(install, /^npm install -g "\$MAILPLAN"$/);
    const repo = mkdtempSync(join(tmpdir(), "mailplan-user-repo-"));
    mkdirSync(join(repo, "mail"));
    copyFileSync(join(root, "examples", "gitops", "mail.yaml"), join(repo, "mail", "mail.yaml"));
    const env = childEnv({ PATH: `${join(prefix, "bin")}:${process.env.PATH}` });
    for (const line of lines) {
      const r = await run("sh", ["-c", line], { cwd: repo, env });
      assert.equal(r.code, 0, `${line}\n${r.stdout}\n${r.stderr}`);
    }
    assert.equal(JSON.parse(readFileSync(join(repo, "check.json"), "utf8")).errors, 0);
    assert.ok(Object.keys(JSON.parse(readFileSync(join(repo, "plan.json"), "utf8")).relays).length > 0);
  });
});

describe("the shim with a stand-in Bun (MAILPLAN_BUN)", () => {
  const dir = mkdtempSync(join(tmpdir(), "mailplan-shim-"));
  const fake = join(dir, "fake-bun");
  writeFileSync(fake, FAKE_BUN);
  chmodSync(fake, 0o755);

  test("arguments, stdin, stdout and the exit status pass through unchanged", async () => {
    const r = await run(mailplan, ["exit", "75", "a b", "--x=ü"], { env: childEnv({ MAILPLAN_BUN: fake }), input: "piped in" });
    assert.equal(r.code, 75);
    const seen = JSON.parse(r.stdout);
    assert.match(seen.script, /mailplan[/\\]mod\.ts$/);
    assert.deepEqual(seen.args, ["exit", "75", "a b", "--x=ü"]);
    assert.equal(seen.stdin, "piped in");
    assert.equal(seen.invokedAs, "mailplan");
  });

  test("invoked through a symlink named sendmail: MAILPLAN_INVOKED_AS=sendmail", async () => {
    const link = join(dir, "sendmail");
    symlinkSync(mailplan, link);
    const r = await run(link, ["-t"], { env: childEnv({ MAILPLAN_BUN: fake }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).invokedAs, "sendmail");
  });

  test("SIGTERM to the command reaches Bun, and the command dies of it too", async () => {
    const marker = join(dir, "signal");
    const child = spawn(mailplan, ["wait"], { env: childEnv({ MAILPLAN_BUN: fake, FAKE_OUT: marker }), stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout!.on("data", (d) => String(d).includes("ready") && resolve()));
    const ended = new Promise<string | null>((resolve) => child.on("close", (_code, signal) => resolve(signal)));
    child.kill("SIGTERM");
    assert.equal(await ended, "SIGTERM");
    assert.equal(readFileSync(marker, "utf8"), "SIGTERM");
  });

  test("with Bun's postinstall skipped (npm 11's default), the binary of Bun's platform package runs", async () => {
    // The layout npm leaves then: bun/bin/bun.exe is a small placeholder, the real binary is in
    // @oven/bun-<os>-<arch>/bin/bun. Built by hand here, with a large shell script as that binary.
    const pkg = mkdtempSync(join(tmpdir(), "mailplan-layout-"));
    const modules = join(pkg, "node_modules");
    mkdirSync(join(pkg, "bin"));
    copyFileSync(join(root, "bin", "mailplan.js"), join(pkg, "bin", "mailplan.js"));
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "mailplan", type: "module" }));
    mkdirSync(join(modules, "bun", "bin"), { recursive: true });
    writeFileSync(join(modules, "bun", "package.json"), JSON.stringify({ name: "bun" }));
    writeFileSync(join(modules, "bun", "bin", "bun.exe"), "placeholder\n");
    const arch = process.arch === "arm64" ? "aarch64" : process.arch;
    const platform = join(modules, "@oven", `bun-${process.platform}-${arch}`);
    mkdirSync(join(platform, "bin"), { recursive: true });
    writeFileSync(join(platform, "package.json"), JSON.stringify({ name: `@oven/bun-${process.platform}-${arch}` }));
    writeFileSync(join(platform, "bin", "bun"), `#!/bin/sh\necho "platform binary: $*"\nexit 3\n#${"x".repeat(1_100_000)}\n`);
    chmodSync(join(platform, "bin", "bun"), 0o755);
    const env = childEnv();
    delete env.MAILPLAN_BUN;
    const r = await run("node", [join(pkg, "bin", "mailplan.js"), "--version"], { env });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, `platform binary: ${join(pkg, "mod.ts")} --version\n`);
  });

  test("without any Bun: one sentence naming the fix, exit 69", async () => {
    const pkg = mkdtempSync(join(tmpdir(), "mailplan-nobun-"));
    mkdirSync(join(pkg, "bin"));
    copyFileSync(join(root, "bin", "mailplan.js"), join(pkg, "bin", "mailplan.js"));
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "mailplan", type: "module" }));
    const env = childEnv();
    delete env.MAILPLAN_BUN;
    const r = await run("node", [join(pkg, "bin", "mailplan.js"), "--version"], { env, cwd: pkg });
    assert.equal(r.code, 69);
    assert.match(r.stderr, /^mailplan: cannot start: the bun package is not installed next to mailplan\. .*MAILPLAN_BUN/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });
});
