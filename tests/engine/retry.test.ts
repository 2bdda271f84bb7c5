/**
 * Retries against the hostile server: temporary failures are retried with exponential backoff and
 * jitter, bounded by count and total time; a 4xx recipient is retried alone and accepted recipients
 * are never sent twice; 5xx is final; a lost reply after the final dot is reported, not resent,
 * unless the relay opts in.
 */
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { deliver, worstCase } from "../../lib/engine/deliver.ts";
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

async function run(scenario: Scenario, retry: string, to = ["a@rcpt.example"]) {
  srv = await startHostile({ starttls: false, ...scenario });
  const loaded = parseConfig(`version: 1
relays:
  h: { host: 127.0.0.1, port: ${srv.port}, strategy: plain, security: { tls: none }, timeouts: { greeting: 2s, command: 2s, data: 2s }, retry: ${retry} }
routes: [{ name: r, via: [h] }]
`, "/tmp/retry.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  const tx = planEnvelope(loaded.config, { from: "s@sender.example", to }).transactions[0];
  const sleeps: number[] = [];
  let clock = 0; // a fake clock that only the waits advance
  const result = await deliver(tx, messageFromBytes(new TextEncoder().encode("Subject: r\r\n\r\nbody\r\n")), {
    baseDir: "/tmp",
    sleep: (ms) => (sleeps.push(ms), (clock += ms), Promise.resolve()),
    random: () => 1,
    now: () => clock,
  });
  return { result, sleeps, server: srv };
}
const rcpts = (s: HostileServer, conn: number) => s.connections[conn].commands.filter((c) => c.verb === "RCPT").map((c) => c.line);

describe("retries", () => {
  test("421 twice, then success: three tries with doubling backoff", async () => {
    const { result, sleeps, server } = await run({ rules: [{ on: "EHLO", conn: 1, reply: "421 4.3.2 busy", then: "close" }, { on: "EHLO", conn: 2, reply: "421 4.3.2 busy", then: "close" }] }, "{ attempts: 3, backoff: 100ms, max_backoff: 1s }");
    assert.equal(result.ok, true, JSON.stringify(result.error));
    assert.equal(server.connectionCount, 3);
    assert.deepEqual(sleeps, [100, 200]);
    assert.deepEqual(result.attempts.map((a) => a.error?.code ?? "ok"), ["TEMPORARY_FAILURE", "TEMPORARY_FAILURE", "ok"]);
  });

  test("backoff is capped by max_backoff and jittered between half and all of it", async () => {
    const { sleeps } = await run({ rules: [{ on: "MAIL", reply: "451 4.3.0 later" }] }, "{ attempts: 5, backoff: 300ms, max_backoff: 1s }");
    assert.deepEqual(sleeps, [300, 600, 1000, 1000]);
  });

  test("attempts are bounded by max_total too", async () => {
    const { result, sleeps } = await run({ rules: [{ on: "MAIL", reply: "451 4.3.0 later" }] }, "{ attempts: 10, backoff: 1s, max_backoff: 1s, max_total: 2500ms }");
    assert.equal(result.error?.code, "TEMPORARY_FAILURE");
    assert.deepEqual(sleeps, [1000, 1000], "a third wait would pass 2.5 s");
  });

  test("a 4xx recipient is retried alone; the accepted one is never sent twice", async () => {
    const { result, server } = await run({ rules: [{ on: "RCPT", conn: 1, nth: 2, reply: "450 4.2.1 mailbox busy" }] }, "{ attempts: 3, backoff: 10ms }", ["a@rcpt.example", "b@rcpt.example"]);
    assert.equal(result.ok, true, JSON.stringify(result.error));
    assert.deepEqual(result.accepted, ["a@rcpt.example", "b@rcpt.example"]);
    assert.deepEqual(result.rejected, []);
    assert.deepEqual(rcpts(server, 0), ["RCPT TO:<a@rcpt.example>", "RCPT TO:<b@rcpt.example>"]);
    assert.deepEqual(rcpts(server, 1), ["RCPT TO:<b@rcpt.example>"]);
    assert.equal(server.received.bodies.length, 2);
  });

  test("a 5xx recipient is final: reported, not retried; the others get the message", async () => {
    const { result, server } = await run({ rules: [{ on: "RCPT", nth: 2, reply: "550 5.1.1 no such user" }] }, "{ attempts: 3, backoff: 10ms }", ["a@rcpt.example", "b@rcpt.example"]);
    assert.equal(result.ok, false);
    assert.equal(result.error?.code, "RECIPIENTS_REJECTED");
    assert.deepEqual(result.accepted, ["a@rcpt.example"]);
    assert.deepEqual(result.rejected, [{ address: "b@rcpt.example", code: 550, text: "5.1.1 no such user" }]);
    assert.equal(server.connectionCount, 1);
  });

  test("a 4xx recipient that never clears: the accepted ones keep the message, the result is temporary", async () => {
    const { result, server } = await run({ rules: [{ on: "RCPT", nth: 2, conn: 1, reply: "450 4.2.1 busy" }, { on: "RCPT", conn: 2, reply: "450 4.2.1 busy" }, { on: "RCPT", conn: 3, reply: "450 4.2.1 busy" }] }, "{ attempts: 3, backoff: 10ms }", ["a@rcpt.example", "b@rcpt.example"]);
    assert.equal(result.error?.code, "TEMPORARY_FAILURE");
    assert.equal(result.error?.temporary, true);
    assert.deepEqual(result.accepted, ["a@rcpt.example"]);
    assert.deepEqual(result.rejected.map((r) => [r.address, r.code]), [["b@rcpt.example", 450]]);
    assert.equal(server.received.bodies.length, 1, "the message went out once, to a@ only");
  });

  test("5xx on MAIL is permanent: one try", async () => {
    const { result, server, sleeps } = await run({ rules: [{ on: "MAIL", reply: "550 5.7.1 sender refused" }] }, "{ attempts: 3, backoff: 10ms }");
    assert.equal(result.error?.code, "REJECTED");
    assert.equal(server.connectionCount, 1);
    assert.deepEqual(sleeps, []);
  });

  test("connection lost after the final dot: DELIVERY_UNKNOWN, not resent", async () => {
    const { result, server } = await run({ rules: [{ on: ".", reply: null, then: "reset" }] }, "{ attempts: 3, backoff: 10ms }");
    assert.equal(result.error?.code, "DELIVERY_UNKNOWN");
    assert.equal(result.error?.phase, "dot");
    assert.equal(server.connectionCount, 1);
  });

  test("…resent when the relay opts in with delivery_unknown: resend", async () => {
    const { result, server } = await run({ rules: [{ on: ".", conn: 1, reply: null, then: "reset" }] }, "{ attempts: 3, backoff: 10ms, delivery_unknown: resend }");
    assert.equal(result.ok, true, JSON.stringify(result.error));
    assert.equal(server.connectionCount, 2);
    assert.equal(server.received.bodies.length, 2, "the user accepted a possible duplicate");
  });

  test("retry.max_total bounds the whole send, failover included: the backup gets only what is left", async () => {
    // Both relays answer 451 to MAIL. backoff 1 s (no jitter), max_total 1.5 s on the fake clock:
    // the first relay gets try 1, a 1 s wait, try 2; the backup then has 0.5 s left: one try, no
    // wait. (Counted per relay, as before, the backup would get two tries.)
    srv = await startHostile({ starttls: false, rules: [{ on: "MAIL", reply: "451 4.3.0 later" }] });
    const backup = await startHostile({ starttls: false, rules: [{ on: "MAIL", reply: "451 4.3.0 later" }] });
    try {
      const relay = (port: number) => `{ host: 127.0.0.1, port: ${port}, strategy: plain, security: { tls: none }, timeouts: { greeting: 2s, command: 2s }, retry: { attempts: 3, backoff: 1s, max_backoff: 1s, max_total: 1500ms } }`;
      const loaded = parseConfig(`version: 1\nrelays:\n  a: ${relay(srv.port)}\n  b: ${relay(backup.port)}\nroutes: [{ name: r, via: [a, b] }]\n`, "/tmp/retry.yaml");
      assert.ok(loaded.config, JSON.stringify(loaded.problems));
      const tx = planEnvelope(loaded.config, { from: "s@sender.example", to: ["a@rcpt.example"] }).transactions[0];
      const sleeps: number[] = [];
      let clock = 0;
      const result = await deliver(tx, messageFromBytes(new TextEncoder().encode("Subject: r\r\n\r\nbody\r\n")), {
        baseDir: "/tmp", sleep: (ms) => (sleeps.push(ms), (clock += ms), Promise.resolve()), random: () => 1, now: () => clock,
      });
      assert.equal(result.error?.code, "TEMPORARY_FAILURE");
      assert.deepEqual(sleeps, [1000]);
      assert.equal(srv.connectionCount, 2);
      assert.equal(backup.connectionCount, 1);
      assert.deepEqual(result.attempts.map((a) => a.relay), ["a", "a", "b"]);
    } finally {
      await backup.close();
    }
  });

  test("max_total already used up: the next relay is not tried at all", async () => {
    srv = await startHostile({ starttls: false, rules: [{ on: "MAIL", reply: "451 4.3.0 later" }] });
    const backup = await startHostile({ starttls: false });
    try {
      const relay = (port: number) => `{ host: 127.0.0.1, port: ${port}, strategy: plain, security: { tls: none }, timeouts: { greeting: 2s, command: 2s }, retry: { attempts: 1, max_total: 10s } }`;
      const loaded = parseConfig(`version: 1\nrelays:\n  a: ${relay(srv.port)}\n  b: ${relay(backup.port)}\nroutes: [{ name: r, via: [a, b] }]\n`, "/tmp/retry.yaml");
      assert.ok(loaded.config, JSON.stringify(loaded.problems));
      const tx = planEnvelope(loaded.config, { from: "s@sender.example", to: ["a@rcpt.example"] }).transactions[0];
      let reads = 0; // a clock that jumps 10 s once the first try is under way
      const result = await deliver(tx, messageFromBytes(new TextEncoder().encode("Subject: r\r\n\r\nbody\r\n")), {
        baseDir: "/tmp", sleep: async () => {}, now: () => (reads++ === 0 ? 0 : 10_000),
      });
      assert.equal(result.error?.code, "TEMPORARY_FAILURE");
      assert.equal(backup.connectionCount, 0, "no try starts past max_total");
      assert.deepEqual(result.attempts.map((a) => a.relay), ["a"]);
    } finally {
      await backup.close();
    }
  });

  test("worstCase: what `plan` states per relay (tries within max_total, each waiting out its longest timeout)", () => {
    const relayOf = (retry: string) => {
      const loaded = parseConfig(`version: 1\nrelays:\n  h: { host: 127.0.0.1, port: 2525, strategy: plain, security: { tls: none }, timeouts: { connect: 10s, greeting: 30s, tls: 20s, command: 60s }, retry: ${retry} }\nroutes: [{ name: r, via: [h] }]\n`, "/tmp/retry.yaml");
      assert.ok(loaded.config, JSON.stringify(loaded.problems));
      return planEnvelope(loaded.config, { from: "s@sender.example", to: ["a@rcpt.example"] }).transactions[0].relays[0];
    };
    assert.deepEqual(worstCase(relayOf("{ attempts: 3, backoff: 1s, max_backoff: 60s }")), { ms: 3 * 70_000 + 1000 + 2000, tries: 3 });
    assert.deepEqual(worstCase(relayOf("{ attempts: 3, backoff: 1s, max_total: 142s }")), { ms: 2 * 70_000 + 1000, tries: 2 }, "a wait that would reach max_total starts no try");
    assert.deepEqual(worstCase(relayOf("{ attempts: 3, backoff: 1s, max_total: 2s }")), { ms: 70_000, tries: 1 }, "max_total counts the tries too");
    assert.deepEqual(worstCase(relayOf("{ attempts: 1 }")), { ms: 70_000, tries: 1 });
  });
});
