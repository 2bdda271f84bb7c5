/**
 * Files a config or a send names (threat F7): a FIFO, a device or a folder is refused at once
 * with a sentence naming the file and why; sizes are capped; `ca:` and `client_cert` must parse
 * as PEM at load time; a `{ file: }` secret open to group or others is warned about.
 *
 * The special-file cases run mailplan as a program under the current runtime and wait for it to
 * exit. They cannot hang even against code that blocks on a FIFO: a guard keeps opening each
 * FIFO for writing and closing it at once, so a blocked reader gets end-of-file (and then the
 * wrong answer, which fails the assertion) instead of waiting forever. No timers are involved.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { loadConfig, parseConfig } from "../lib/config/load.ts";
import { formatProblem, type Problem } from "../lib/config/problem.ts";
import { resolveSecret } from "../lib/config/secret.ts";

const root = join(import.meta.dirname!, "..");
let dir = "";
const fifo = () => join(dir, "pipe.fifo");

before(() => {
  dir = mkdtempSync(join(tmpdir(), "mailplan-files-"));
  const r = spawnSync("mkfifo", [fifo()]);
  assert.equal(r.status, 0, "mkfifo is needed for these tests");
  mkdirSync(join(dir, "folder"));
  writeFileSync(join(dir, "body.txt"), "hello\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds end-of-file to anyone who opens `path` for reading, until stopped. */
function fifoGuard(path: string) {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const fh = await open(path, "w");
      await fh.close();
    }
  })();
  return async () => {
    stopped = true;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // releases a pending writer open
    await loop;
    closeSync(fd);
  };
}

/** Runs mod.ts under this runtime; resolves when the program has exited. */
async function mailplan(...args: string[]): Promise<{ code: number | null; text: string }> {
  const isBun = "Bun" in globalThis;
  const argv = isBun ? ["run", join(root, "mod.ts"), ...args] : ["run", "-A", join(root, "mod.ts"), ...args];
  const stop = fifoGuard(fifo());
  const child = spawn(process.execPath, argv, { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout!.on("data", (d) => void (text += d));
  child.stderr!.on("data", (d) => void (text += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  await stop();
  return { code, text };
}

const relayConfig = (security: string, auth = "") =>
  `version: 1\nrelays:\n  r: { host: 127.0.0.1, port: 9, strategy: plain, security: { tls: none${security ? ", " + security : ""} }${auth ? ", auth: " + auth : ""} }\nroutes: [{ name: all, via: [r] }]\n`;

function configFile(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe("special files are refused at once, naming the file and why (Bun and Deno)", () => {
  for (const [what, path, why] of [["a FIFO", () => fifo(), /is a FIFO \(named pipe\), not a regular file/], ["/dev/zero", () => "/dev/zero", /is a device, not a regular file/], ["a folder", () => join(dir, "folder"), /is a folder, not a regular file/]] as const) {
    test(`--config given ${what}`, async () => {
      const r = await mailplan("check", "--config", path());
      assert.equal(r.code, 78, r.text);
      assert.match(r.text, why);
      assert.ok(r.text.includes(path()), r.text);
      assert.doesNotMatch(r.text, /internal error|at .*\.ts:\d+/);
    });
  }

  test("ca: a FIFO; client_cert: /dev/zero and a folder (check and plan)", async () => {
    const f = configFile("certs.yaml", relayConfig(`ca: ./pipe.fifo, client_cert: { cert: /dev/zero, key: ./folder }`));
    for (const command of ["check", "plan"]) {
      const r = await mailplan(command, "--config", f);
      assert.equal(r.code, 78, r.text);
      assert.ok(r.text.includes(`relays.r.security.ca: file ${fifo()} is a FIFO (named pipe), not a regular file`), r.text);
      assert.ok(r.text.includes("relays.r.security.client_cert.cert: file /dev/zero is a device, not a regular file"), r.text);
      assert.ok(r.text.includes(`relays.r.security.client_cert.key: file ${join(dir, "folder")} is a folder, not a regular file`), r.text);
    }
  });

  test("{ file: } secret given a FIFO: check reports it, send says so before connecting", async () => {
    const f = configFile("secret.yaml", relayConfig("", "{ user: u, password: { file: ./pipe.fifo } }"));
    const c = await mailplan("check", "--config", f);
    assert.equal(c.code, 78, c.text);
    assert.ok(c.text.includes(`relays.r.auth.password: secret file ${fifo()} is a FIFO (named pipe), not a regular file`), c.text);
    const s = await mailplan("send", "--config", f, "--from", "a@example.com", "--to", "b@example.com", "--subject", "s", "--text", "t", "--no-queue", "--json");
    assert.equal(s.code, 78, s.text);
    const result = JSON.parse(s.text.slice(s.text.indexOf("{")));
    assert.equal(result.error.code, "CONFIG_INVALID");
    assert.match(result.error.message, /secret file .*pipe\.fifo is a FIFO/);
  });

  for (const [flag, path, why] of [["--text-file", () => fifo(), /text file .* is a FIFO/], ["--html-file", () => "/dev/zero", /HTML file .* is a device/], ["--attach", () => fifo(), /attachment .* is a FIFO/], ["--text-file", () => join(dir, "folder"), /text file .* is a folder/]] as const) {
    test(`send ${flag} given ${path().replace(dir, "…")}`, async () => {
      const f = configFile("plain.yaml", relayConfig(""));
      const body = flag === "--text-file" ? [] : ["--text-file", join(dir, "body.txt")];
      const r = await mailplan("send", "--config", f, "--from", "a@example.com", "--to", "b@example.com", "--subject", "s", ...body, flag, path(), "--no-queue");
      assert.equal(r.code, 65, r.text);
      assert.match(r.text, why);
      assert.match(r.text, /MESSAGE_INVALID/);
    });
  }

  test("send --message given a FIFO", async () => {
    const f = configFile("plain.yaml", relayConfig(""));
    const r = await mailplan("send", "--config", f, "--from", "a@example.com", "--to", "b@example.com", "--message", fifo(), "--no-queue");
    assert.equal(r.code, 65, r.text);
    assert.match(r.text, /message file .*pipe\.fifo.* is a FIFO/);
  });
});

describe("size caps (config 1 MiB, PEM 1 MiB, secret 64 KiB)", () => {
  const errors = (problems: Problem[]) => problems.filter((p) => p.severity === "error").map(formatProblem).join("\n");

  test("a config over 1 MiB", () => {
    const f = configFile("big.yaml", relayConfig("") + "#".repeat(1024 * 1024) + "\n");
    assert.throws(() => loadConfig(f), (e: Error & { code?: string }) => e.code === "CONFIG_INVALID" && /larger than 1 MiB/.test(e.message));
  });

  test("a CA bundle over 1 MiB and a secret over 64 KiB", () => {
    writeFileSync(join(dir, "huge.pem"), "x".repeat(1024 * 1024 + 1));
    writeFileSync(join(dir, "huge.secret"), "x".repeat(64 * 1024 + 1), { mode: 0o600 });
    const f = configFile("caps.yaml", relayConfig("ca: ./huge.pem", "{ user: u, password: { file: ./huge.secret } }"));
    const text = errors(loadConfig(f, { references: true }).problems);
    assert.match(text, /relays\.r\.security\.ca: file .*huge\.pem is larger than the 1 MiB limit/);
    assert.match(text, /relays\.r\.auth\.password: secret file .*huge\.secret is larger than the 64 KiB limit/);
    assert.throws(() => resolveSecret({ file: "./huge.secret" }, dir), /huge\.secret is larger than the 64 KiB limit/);
  });

  test("a secret of exactly 64 KiB is read whole (one trailing newline dropped)", () => {
    writeFileSync(join(dir, "ok.secret"), "s".repeat(64 * 1024 - 1) + "\n", { mode: 0o600 });
    assert.equal(resolveSecret({ file: "./ok.secret" }, dir).length, 64 * 1024 - 1);
  });
});

describe("ca: and client_cert are parsed at load (CONFIG_INVALID before anything connects, on every runtime)", () => {
  const cert = readFileSync(join(root, "config", "internal-ca.pem"), "utf8");

  test("a ca: that is not PEM, or whose PEM block is garbage, is an error at load (send and plan), not at send time", () => {
    writeFileSync(join(dir, "text.pem"), "just some text\n");
    writeFileSync(join(dir, "garbage.pem"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    writeFileSync(join(dir, "good.pem"), cert);
    for (const [file, why] of [["text.pem", /is not a PEM certificate file/], ["garbage.pem", /has a certificate that cannot be parsed \(block 1 of 1\)/]] as const) {
      const loaded = loadConfig(configFile("ca.yaml", relayConfig(`ca: ./${file}`)));
      assert.equal(loaded.config, undefined);
      const [p] = loaded.problems.filter((p) => p.severity === "error");
      assert.match(formatProblem(p), why);
      assert.equal(p.line, 3);
    }
    assert.ok(loadConfig(configFile("ca.yaml", relayConfig("ca: ./good.pem"))).config);
  });

  test("a client key that is not a private key", () => {
    writeFileSync(join(dir, "good.pem"), cert);
    const loaded = loadConfig(configFile("key.yaml", relayConfig("client_cert: { cert: ./good.pem, key: ./good.pem }")));
    assert.match(loaded.problems.map(formatProblem).join("\n"), /client_cert\.key: file .*good\.pem is not a PEM private key file/);
  });

  test("a missing ca: file shows the absolute path that was looked for", () => {
    const sub = join(dir, "conf");
    mkdirSync(sub, { recursive: true });
    const loaded = loadConfig(configFile("conf/ca.yaml", relayConfig("ca: ./certs/ca.pem")));
    const text = loaded.problems.map(formatProblem).join("\n");
    assert.ok(text.includes(`file ${join(sub, "certs", "ca.pem")} does not exist`), text);
    assert.ok(text.includes(`(got "./certs/ca.pem")`), text);
  });

  test("parseConfig alone (no files option) does not touch the disk", () => {
    assert.ok(parseConfig(relayConfig("ca: ./nowhere.pem"), join(dir, "x.yaml")).config);
  });
});

describe("a { file: } secret readable by group or others: check warns, as ssh does", () => {
  for (const [mode, warned] of [[0o644, true], [0o640, true], [0o604, true], [0o600, false], [0o400, false]] as const) {
    test(`mode ${mode.toString(8)}`, () => {
      const secret = join(dir, `pw-${mode.toString(8)}`);
      writeFileSync(secret, "hunter2-secret\n");
      chmodSync(secret, mode);
      const loaded = loadConfig(configFile("perm.yaml", relayConfig("", `{ user: u, password: { file: ${secret} } }`)), { references: true });
      const warnings = loaded.problems.filter((p) => p.severity === "warning").map(formatProblem);
      const hit = warnings.find((w) => w.includes("can be read or changed by group or others"));
      assert.equal(Boolean(hit), warned, warnings.join("\n"));
      if (hit) assert.ok(hit.includes(`chmod 600 ${secret}`), hit);
      assert.ok(loaded.config, "a warning only");
      assert.doesNotMatch(warnings.join("\n"), /hunter2/);
    });
  }
});
