/** `probe --config FILE` without `--relay`: every relay of the config in one table (and JSON). */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../lib/cli/main.ts";
import { generateDemoPki } from "../lib/demo/pki.ts";
import { type Sink, startSink } from "../lib/demo/sink.ts";

const dir = mkdtempSync(join(tmpdir(), "mailplan-probe-all-"));
let sink: Sink;
let config: string;

before(async () => {
  sink = await startSink({ outDir: join(dir, "received"), pki: generateDemoPki({ days: 365 }) }); // no "expires soon" warning
  writeFileSync(join(dir, "ca.pem"), sink.ca);
  config = join(dir, "mail.yaml");
  writeFileSync(config, `version: 1
defaults: { security: { ca: ./ca.pem, server_name: localhost } }
relays:
  good: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: implicit }
  wrong-mode: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: starttls }
  closed: { host: 127.0.0.1, port: 1, strategy: implicit }
  broken: { host: 127.0.0.1, port: 70000 }
routes:
  - { name: all, via: [good] }
`);
});
after(async () => await sink?.close());

async function cli(...argv: string[]) {
  let out = "", err = "";
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: {} });
  return { code, out, err };
}

describe("probe --config without --relay", () => {
  test("one row per relay, in file order: ok, the mode problem, unreachable, the invalid block; exit 1", async () => {
    const r = await cli("probe", "--config", config, "--timeout", "3s");
    assert.equal(r.code, 1, r.err);
    const rows = r.out.split("\n");
    assert.match(rows[0], /^RELAY\s+SERVER\s+RESULT\s+DETAIL$/);
    assert.match(rows[1], new RegExp(`^good\\s+127\\.0\\.0\\.1:${sink.ports.implicit}\\s+ok\\s`));
    assert.match(rows[2], /^wrong-mode\s+\S+\s+\d+ problems?\s+\S/);
    assert.match(rows[3], /^closed\s+127\.0\.0\.1:1\s+unreachable\s/);
    assert.match(rows[4], /^broken\s+-\s+CONFIG_INVALID\s/);
    assert.ok(r.out.includes(`mailplan probe --config ${config} --relay wrong-mode`));
  });

  test("--json: each relay's full probe report, or its error", async () => {
    const r = await cli("probe", "--config", config, "--timeout", "3s", "--json");
    const j = JSON.parse(r.out);
    assert.equal(j.ok, false);
    assert.deepEqual(j.relays.map((x: { relay: string }) => x.relay), ["good", "wrong-mode", "closed", "broken"]);
    assert.equal(j.relays[0].report.ok, true);
    assert.equal(j.relays[0].report.ports[0].mode, "implicit");
    assert.equal(j.relays[2].exit, 69);
    assert.equal(j.relays[3].report, null);
    assert.equal(j.relays[3].error.code, "CONFIG_INVALID");
  });

  test("exit 69 when no relay answers, 0 when all are fine", async () => {
    const closed = join(dir, "closed.yaml");
    writeFileSync(closed, "version: 1\nrelays:\n  a: { host: 127.0.0.1, port: 1, strategy: implicit }\nroutes: [{ name: all, via: [a] }]\n");
    assert.equal((await cli("probe", "--config", closed, "--timeout", "2s")).code, 69);
    const good = join(dir, "good.yaml");
    writeFileSync(good, `version: 1\nrelays:\n  a: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: implicit, security: { ca: ./ca.pem, server_name: localhost } }\nroutes: [{ name: all, via: [a] }]\n`);
    const r = await cli("probe", "--config", good, "--timeout", "3s");
    assert.equal(r.code, 0, r.out);
  });
});
