/**
 * `mailplan completion bash|zsh|fish` and the hidden `__complete relays|routes` (issue 11 §5): the
 * bash script is valid (`bash -n`) and really completes commands, options and relay names (run
 * in bash against a `mailplan` on PATH that is this checkout); `__complete` lists a config's
 * names, only safe ones, and never fails loudly; zsh and fish are checked with `-n` when
 * installed, else by their text.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runCli } from "../lib/cli/main.ts";
import { COMPLETION } from "../lib/cli/completion.ts";
import { HELP } from "../lib/cli/help.ts";

const root = join(import.meta.dirname!, "..");
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const dir = mkdtempSync(join(tmpdir(), "mailplan-completion-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, "mail.yaml");
writeFileSync(config, `version: 1
relays:
  primary: { host: smtp.example.com, port: 587 }
  backup-tls: { host: smtp.example.com, port: 465 }
  "evil\\e[2J": { host: smtp.example.com, port: 587 }
routes:
  - { name: alerts, via: [primary] }
  - { name: default, via: [backup-tls] }
`);

async function cli(env: Record<string, string>, ...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err };
}

const has = (shell: string) => spawnSync(shell, ["-c", "exit 0"]).status === 0;

describe("__complete", () => {
  test("relays and routes of the config named by --config, one per line, unsafe names left out", async () => {
    assert.deepEqual(await cli({}, "__complete", "relays", "--config", config), { code: 0, out: "primary\nbackup-tls\n", err: "" });
    assert.deepEqual(await cli({}, "__complete", "routes", "--config", config), { code: 0, out: "alerts\ndefault\n", err: "" });
  });
  test("the located config when there is no --config ($MAILPLAN_CONFIG)", async () => {
    assert.equal((await cli({ MAILPLAN_CONFIG: config }, "__complete", "routes")).out, "alerts\ndefault\n");
  });
  test("never fails loudly: a missing or broken config, or an unknown word, prints nothing and exits 0", async () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "relays: [\n");
    for (const args of [["relays", "--config", join(dir, "none.yaml")], ["relays", "--config", broken], ["nonsense", "--config", config], []]) {
      assert.deepEqual(await cli({ HOME: dir, XDG_CONFIG_HOME: join(dir, "none") }, "__complete", ...args), { code: 0, out: "", err: "" }, args.join(" "));
    }
  });
  test("is not suggested for a mistyped command", async () => {
    const r = await cli({}, "__compete");
    assert.doesNotMatch(r.err, /__complete/);
  });
});

describe("completion scripts", () => {
  test("every option offered is one the command's --help documents", () => {
    for (const [command, { options }] of Object.entries(COMPLETION)) {
      for (const o of options.filter((o) => o !== "--help")) assert.ok(HELP[command].includes(o), `${command} ${o}`);
    }
  });

  test("an unknown shell is a usage error (64)", async () => {
    const r = await cli({}, "completion", "tcsh");
    assert.equal(r.code, 64);
    assert.match(r.err, /No completion for the shell "tcsh"\. Hint: write mailplan completion bash, zsh or fish\./);
  });

  test("bash: valid syntax, and it completes commands, options and relay names from the config", async () => {
    const script = (await cli({}, "completion", "bash")).out;
    const file = join(dir, "mailplan.bash");
    writeFileSync(file, script);
    const syntax = spawnSync("bash", ["-n", file], { encoding: "utf8" });
    assert.equal(syntax.status, 0, syntax.stderr);

    // A `mailplan` on PATH that runs this checkout under the runtime running the test.
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    const rt = join(root, "node_modules", ".bin", runtime);
    writeFileSync(join(bin, "mailplan"), `#!/bin/sh\nexec "${rt}" run ${runtime === "deno" ? "-A " : ""}"${join(root, "mod.ts")}" "$@"\n`);
    chmodSync(join(bin, "mailplan"), 0o755);
    const complete = (...words: string[]) => {
      const r = spawnSync("bash", ["-c", `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mailplan; printf '%s\\n' "\${COMPREPLY[@]}"`, "x", file, ...words], {
        encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, DENO_DIR: process.env.DENO_DIR ?? join(process.env.HOME ?? "/root", ".cache", "deno") },
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split("\n").filter(Boolean);
    };
    assert.deepEqual(complete("mailplan", "pl"), ["plan"]);
    assert.deepEqual(complete("mailplan", "check", "--lo"), ["--login"]);
    assert.deepEqual(complete("mailplan", "outbox", "fl"), ["flush"]);
    assert.deepEqual(complete("mailplan", "send", "--net", "node"), ["node-tls"]);
    assert.deepEqual(complete("mailplan", "check", "--config", config, "--login", "--relay", ""), ["primary", "backup-tls"]);
    assert.deepEqual(complete("mailplan", "send", "--config", config, "--route", "al"), ["alerts"]);
  });

  test("zsh: a #compdef function that asks __complete for names (zsh -n when installed)", async () => {
    const script = (await cli({}, "completion", "zsh")).out;
    assert.match(script, /^#compdef mailplan\n/);
    assert.match(script, /--relay\) names=\(\$\{\(f\)"\$\(mailplan __complete relays /);
    assert.match(script, /--route\) names=\(\$\{\(f\)"\$\(mailplan __complete routes /);
    assert.match(script, /\n {4}check\) opts\+=\(--config --json --login --relay --net --help\) ;;\n/);
    assert.match(script, /compdef _mailplan mailplan\n/);
    if (has("zsh")) {
      const file = join(dir, "_mailplan");
      writeFileSync(file, script);
      const r = spawnSync("zsh", ["-n", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  test("fish: one complete line per option, names from __complete (fish -n when installed)", async () => {
    const script = (await cli({}, "completion", "fish")).out;
    assert.match(script, /\ncomplete -c mailplan -n __fish_use_subcommand -a 'send outbox sendmail probe demo check plan schema completion'\n/);
    assert.match(script, /\ncomplete -c mailplan -n '__fish_seen_subcommand_from check' -l login\n/);
    assert.match(script, /\ncomplete -c mailplan -n '__fish_seen_subcommand_from probe' -l relay -x -a '\(mailplan __complete relays \(__mailplan_config\) 2>\/dev\/null\)'\n/);
    assert.match(script, /\ncomplete -c mailplan -n '__fish_seen_subcommand_from sendmail' -o bp\n/);
    if (has("fish")) {
      const file = join(dir, "mailplan.fish");
      writeFileSync(file, script);
      const r = spawnSync("fish", ["-n", file], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
  });
});
