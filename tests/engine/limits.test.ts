/**
 * Bounds: reply size, line length and line count are enforced (and configurable) so memory stays
 * flat whatever a server sends — including 100 MB of `250-` lines.
 */
import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { assertAllHostileClosed, type HostileServer, type Scenario, startHostile } from "../support/hostile-server.ts";

let srv: HostileServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
  assertAllHostileClosed();
});

async function run(scenario: Scenario, limits = "{}") {
  srv = await startHostile({ starttls: false, ...scenario });
  const loaded = parseConfig(`version: 1
relays:
  h: { host: 127.0.0.1, port: ${srv.port}, strategy: plain, security: { tls: none }, timeouts: { greeting: 5s, command: 5s }, retry: { attempts: 1 }, limits: ${limits} }
routes: [{ name: r, via: [h] }]
`, "/tmp/limits.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  const tx = planEnvelope(loaded.config, { from: "s@sender.example", to: ["a@rcpt.example"] }).transactions[0];
  return await deliver(tx, messageFromBytes(new TextEncoder().encode("Subject: l\r\n\r\nbody\r\n")), { baseDir: "/tmp" });
}

test("100 MB of 250- lines: PROTOCOL_ERROR, and RSS grows by less than 32 MB", async () => {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const result = await run({ rules: [{ on: "EHLO", reply: null, endless: { line: "250-" + "x".repeat(70), maxBytes: 100 * 1024 * 1024 } }] });
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  assert.equal(result.error?.code, "PROTOCOL_ERROR", JSON.stringify(result.error));
  assert.equal(result.error?.phase, "ehlo", JSON.stringify(result.error));
  assert.ok(peak - before < 32 * 1024 * 1024, `RSS grew by ${((peak - before) / 1048576).toFixed(1)} MB`);
  assert.equal(srv!.sawMailOrRcpt(), false);
});

test("limits are configurable: a 5000-byte EHLO reply passes the default and fails max_reply: 4096", async () => {
  const big = { rules: [{ on: "EHLO" as const, reply: ["250-mx.example", ...Array.from({ length: 60 }, (_, i) => `250-X-CAPABILITY-${i}-${"y".repeat(60)}`), "250 SIZE 1000000"] }] };
  assert.equal((await run(big)).ok, true);
  await srv!.close();
  const r = await run(big, "{ max_reply: 4096 }");
  assert.equal(r.error?.code, "PROTOCOL_ERROR");
  await srv!.close();
  const lines = await run(big, "{ max_reply_lines: 16 }");
  assert.equal(lines.error?.code, "PROTOCOL_ERROR");
});

test("a line over max_line fails without waiting for its end", async () => {
  const r = await run({ greeting: { reply: null, raw: "220 " + "z".repeat(2000), then: "hang" } }, "{ max_line: 1024 }");
  assert.equal(r.error?.code, "PROTOCOL_ERROR");
  assert.equal(r.error?.phase, "greeting");
});
