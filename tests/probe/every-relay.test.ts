/**
 * `probe --config FILE` without HOST or --relay (issue 11 §5): every relay of the config is
 * probed (lib/probe's `probe`, once per relay) and summed up in a table (relay, host:port,
 * verdict, days left); --json prints an array of reports, one per relay, in the file's order.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { probeCommand } from "../../lib/cli/probe.ts";
import type { ProbeReport } from "../../lib/probe/types.ts";
import { assertAllHostileClosed, startHostile } from "../support/hostile-server.ts";
import { makePki } from "../support/certs.ts";
import { tempDir } from "./helpers.ts";

const pki = makePki();
after(() => assertAllHostileClosed());

async function run(args: string[], env: Record<string, string> = {}) {
  let out = "", err = "";
  const code = await probeCommand([...args, "--timeout", "2s"], { out: (t) => void (out += t), err: (t) => void (err += t), env });
  return { code, out, err };
}

describe("probe every relay of a config", () => {
  test("two loopback relays: a table with each verdict and days left; --json an array; exit the worst", async () => {
    const good = await startHostile({ authBeforeTls: false });
    const wrong = await startHostile({ authBeforeTls: false });
    try {
      const dir = tempDir();
      copyFileSync(pki.root.cert.path, join(dir, "ca.pem"));
      const file = join(dir, "mail.yaml");
      writeFileSync(file, `version: 1
relays:
  zeta: { host: 127.0.0.1, port: ${good.port}, strategy: starttls, security: { ca: ./ca.pem, server_name: localhost } }
  alpha: { host: 127.0.0.1, port: ${wrong.port}, strategy: implicit, security: { ca: ./ca.pem } }
routes:
  - { name: all, via: [zeta, alpha] }
`);
      const text = await run(["--config", file]);
      assert.equal(text.code, 1, text.out + text.err);
      const lines = text.out.split("\n");
      assert.equal(lines[0], `Probed every relay of ${file}:`);
      assert.match(lines[2], /^ {2}RELAY +SERVER +VERDICT +DAYS LEFT$/);
      assert.match(lines[3], new RegExp(`^  zeta +127\\.0\\.0\\.1:${good.port} +ok +\\d+$`));
      assert.match(lines[4], new RegExp(`^  alpha +127\\.0\\.0\\.1:${wrong.port} +1 problem: TLS_MODE_MISMATCH +\\d+$`));
      assert.match(text.out, /\nalpha:\n {2}ERROR TLS_MODE_MISMATCH: .*wrong version number.* Fix: Use strategy: starttls, or port 465\.\n/);

      const json = await run(["--config", file, "--json"]);
      assert.equal(json.code, 1);
      const reports = JSON.parse(json.out) as ProbeReport[];
      assert.deepEqual(reports.map((r) => [r.relay?.name, r.ports.map((p) => p.port), r.ok]), [["zeta", [good.port], true], ["alpha", [wrong.port], false]]);

      // The same config found through $MAILPLAN_CONFIG, no flag: the same table.
      const viaEnv = await run([], { MAILPLAN_CONFIG: file });
      assert.equal(viaEnv.out, text.out);

      // --relay without --config: that relay of the located config.
      const one = await run(["--relay", "zeta", "--json"], { MAILPLAN_CONFIG: file });
      assert.equal(one.code, 0, one.out);
      assert.equal((JSON.parse(one.out) as ProbeReport).relay?.name, "zeta");
    } finally {
      await good.close();
      await wrong.close();
    }
  });
});
