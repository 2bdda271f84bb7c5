/**
 * The standalone executable (`npm run build:bin`, `bun build --compile`): built for this host
 * into a temporary folder, then run with no Node, Bun or node_modules on its PATH: `--version`,
 * `demo`, and a `send` to a loopback sink whose stored message is read back.
 * Skipped (with the reason) only on hosts bun build --compile has no target for.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Sink, startSink } from "../../lib/demo/sink.ts";
import { ok, root, run } from "./support.ts";

const target = `${process.platform}-${process.arch}`;
const supported = ["linux-x64", "linux-arm64"].includes(target);
const skip = supported ? false : `bun build --compile has no ${target} target in scripts/build-binary.mjs`;
const dir = mkdtempSync(join(tmpdir(), "mailplan-binary-"));
const binary = join(dir, `mailplan-${target}`);
/** A bare environment: the binary must not need Node, Bun or the checkout. */
const bare = () => ({ PATH: "/usr/bin:/bin", HOME: dir, NO_COLOR: "1", MAILPLAN_OUTBOX: join(dir, "outbox") });
let sink: Sink | undefined;

// Built at module load, not in a hook (Bun's per-hook timeout ignores hook options).
if (!skip) await ok("node", [join(root, "scripts", "build-binary.mjs"), "--only", target, "--outdir", dir], { cwd: dir });
after(async () => {
  await sink?.close();
  rmSync(binary, { force: true }); // 100 MB
});

describe("the standalone binary", { skip }, () => {
  test("--version runs without Node or Bun", async () => {
    const r = await run(binary, ["--version"], { cwd: dir, env: bare() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mailplan \d+\.\d+\.\d+\n$/);
  });

  test("demo sends its two messages", async () => {
    const r = await run(binary, ["demo", "--json"], { cwd: dir, env: bare() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).demo.received.length, 2);
  });

  test("send delivers to a loopback sink, and a usage error exits 64", async () => {
    sink = await startSink({ outDir: join(dir, "received"), user: "u", password: "pw-binary", requireAuth: true });
    writeFileSync(join(dir, "ca.pem"), sink.ca);
    writeFileSync(join(dir, "pw"), "pw-binary\n");
    writeFileSync(join(dir, "mail.yaml"), `version: 1
defaults: { security: { ca: ./ca.pem, server_name: localhost } }
relays:
  sink: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls, auth: { user: u, password: { file: ./pw } } }
routes:
  - { name: all, via: [sink] }
`);
    const r = await run(binary, ["send", "--config", join(dir, "mail.yaml"), "--json", "--from", "bin@example.com", "--to", "ops@example.com", "--subject", "from the binary", "--text", "compiled"], { cwd: dir, env: bare() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).ok, true);
    const stored = readFileSync(sink.received().at(-1)!.path, "utf8");
    assert.match(stored, /Subject: from the binary\r\n/);
    assert.match(stored, /\r\n\r\ncompiled\r\n$/);
    assert.equal((await run(binary, ["send", "--nope"], { cwd: dir, env: bare() })).code, 64);
  });
});
