/**
 * Where the config is, for send, plan and check (issue 11 §2): --config, else $MAILPLAN_CONFIG,
 * else $XDG_CONFIG_HOME/mailplan/mail.yaml, else ~/.config/mailplan/mail.yaml, else
 * /etc/mailplan/mail.yaml. Each rule is shown winning over the ones after it, with the
 * environment set in a child process (mod.ts under the runtime running this test), and each
 * command names the file it used and why.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const root = join(import.meta.dirname!, "..");
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const dir = mkdtempSync(join(tmpdir(), "mailplan-choice-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A config whose one relay is named after the place it sits, on a closed loopback port. */
function config(path: string, name: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `version: 1
relays:
  ${name}: { host: 127.0.0.1, port: 1, strategy: plain, security: { tls: none }, retry: { attempts: 1 }, timeouts: { connect: 2s } }
routes:
  - { name: all, via: [${name}] }
`);
  return path;
}

const home = join(dir, "home");
const xdg = join(dir, "xdg");
const flagFile = config(join(dir, "flag.yaml"), "from-flag");
const envFile = config(join(dir, "env.yaml"), "from-env");
const xdgFile = config(join(xdg, "mailplan", "mail.yaml"), "from-xdg");
const homeFile = join(home, ".config", "mailplan", "mail.yaml");

function run(args: string[], env: Record<string, string>) {
  const bin = join(root, "node_modules", ".bin", runtime);
  const argv = runtime === "bun" ? ["run", join(root, "mod.ts"), ...args] : ["run", "-A", join(root, "mod.ts"), ...args];
  const denoDir = process.env.DENO_DIR ?? join(process.env.HOME ?? "/root", ".cache", "deno");
  const r = spawnSync(bin, argv, {
    cwd: dir,
    encoding: "utf8",
    env: { PATH: process.env.PATH, NO_COLOR: "1", DENO_DIR: denoDir, MAILPLAN_OUTBOX: join(dir, "outbox"), ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What each command prints about the config it used, for a file chosen by a rule. */
const commands: [string, string[], (r: ReturnType<typeof run>, file: string, via: string) => void][] = [
  ["plan", ["plan"], (r, file, via) => {
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split("\n")[0], `Plan for ${file} (${via})`);
  }],
  ["plan --from --to", ["plan", "--from", "a@example.com", "--to", "b@example.com"], (r, file, via) => {
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split("\n")[0], `Plan for ${file} (${via})`);
  }],
  ["check", ["check"], (r, file, via) => {
    assert.equal(r.code, 0, r.out + r.err);
    const summary = via === "from --config" ? `${file}: ` : `${file} (${via}): `;
    assert.ok(r.out.includes(summary + "0 errors"), r.out);
  }],
  ["check --json", ["check", "--json"], (r, file) => {
    assert.equal(JSON.parse(r.out).file, file);
  }],
  ["send --verbose", ["send", "--verbose", "--no-queue", "--from", "a@example.com", "--to", "b@example.com", "--subject", "s", "--text", "t"], (r, file, via) => {
    assert.equal(r.err.split("\n")[0], `config ${file} (${via})`, r.err);
    assert.notEqual(r.code, 0); // the relay's port is closed: what matters is which config was used
  }],
];

describe(`which config each command uses (${runtime})`, () => {
  for (const [name, args, expect] of commands) {
    test(`${name}: --config beats $MAILPLAN_CONFIG`, () => {
      expect(run([...args, "--config", flagFile], { HOME: home, MAILPLAN_CONFIG: envFile, XDG_CONFIG_HOME: xdg }), flagFile, "from --config");
    });
    test(`${name}: $MAILPLAN_CONFIG beats $XDG_CONFIG_HOME`, () => {
      expect(run(args, { HOME: home, MAILPLAN_CONFIG: envFile, XDG_CONFIG_HOME: xdg }), envFile, "from $MAILPLAN_CONFIG");
    });
    test(`${name}: $XDG_CONFIG_HOME/mailplan/mail.yaml beats ~/.config`, () => {
      config(homeFile, "from-home");
      expect(run(args, { HOME: home, XDG_CONFIG_HOME: xdg }), xdgFile, "the default location, $XDG_CONFIG_HOME");
    });
    test(`${name}: ~/.config/mailplan/mail.yaml when XDG_CONFIG_HOME is unset`, () => {
      config(homeFile, "from-home");
      expect(run(args, { HOME: home }), homeFile, "the default location, ~/.config");
    });
    test(`${name}: nothing found names every place looked at`, (t) => {
      if (existsSync("/etc/mailplan/mail.yaml")) return t.skip("this machine has /etc/mailplan/mail.yaml");
      rmSync(homeFile, { force: true });
      const r = run(args, { HOME: home });
      if (args.includes("--json")) {
        assert.equal(r.code, 78);
        return assert.match(JSON.parse(r.out).error.message, /^No config found for check/);
      }
      assert.equal(r.code, 78, r.out + r.err);
      assert.equal(r.out, "");
      assert.match(r.err, new RegExp(`No config found for ${args[0]}: no --config, no \\$MAILPLAN_CONFIG, and nothing at ${homeFile} or /etc/mailplan/mail.yaml\\.`));
      assert.match(r.err, /Hint: write one at .* set \$MAILPLAN_CONFIG, or pass --config FILE\. \(CONFIG_INVALID\)/);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    });
  }
});
