/**
 * Several transactions on one connection (issue 12): transcript tests with the exact client
 * bytes, the number of client writes, and one outcome per message.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeBase64 } from "../../lib/smtp/base64.ts";
import type { SessionOptions, TransactionOutcome, TransactionSpec } from "../../lib/smtp/types.ts";
import { assertFail, run } from "./transcript.ts";

const tx = (from: string, ...recipients: string[]): TransactionSpec => ({ envelope: { from, recipients } });
const THREE = [tx("a1@x.test", "b1@y.test"), tx("a2@x.test", "b2@y.test"), tx("a3@x.test", "b3@y.test")];
const opts = (transactions: TransactionSpec[], o: Partial<SessionOptions> = {}): SessionOptions => ({
  strategy: "starttls",
  tls: "required",
  helo: "client.test",
  transactions,
  ...o,
});

/** Up to the second EHLO; `caps` are the capability lines after TLS. */
const prefix = (caps: string[]) => `
  S: 220 mx.test ESMTP
  C: EHLO client.test
  S: 250-mx.test
  S: 250-PIPELINING
  S: 250 STARTTLS
  C: STARTTLS
  S: 220 2.0.0 Ready to start TLS
  TLS
  C: EHLO client.test
  ${caps.map((c, i) => `S: 250${i === caps.length - 1 ? " " : "-"}${c}`).join("\n")}
`;
const PIPE = prefix(["mx.test", "PIPELINING", "SIZE 10000"]);
const LOCKSTEP = prefix(["mx.test", "SIZE 10000"]);
const group = (n: number) => `
  C: MAIL FROM:<a${n}@x.test>
  C: RCPT TO:<b${n}@y.test>
  C: DATA
`;
const ok = (o: TransactionOutcome, index: number, queued: string) => {
  assert.equal(o.index, index);
  assert.equal(o.error, null, o.error?.message ?? "");
  assert.deepEqual(o.accepted, [`b${index + 1}@y.test`]);
  assert.deepEqual(o.response, { code: 250, text: queued });
};

describe("transactions: several messages on one connection, pipelined", () => {
  const TWO = `
    ${PIPE}
    ${group(1)}
    S: 250 ok
    S: 250 ok
    S: 354 go
    BODY
    ${group(2)}
    S: 250 queued 1
    S: 250 ok
    S: 250 ok
    S: 354 go
    BODY
    S: 250 queued 2
    C: QUIT
    S: 221 bye
  `;

  for (const segment of [0, 1, 5]) {
    it(`two messages: the second's MAIL/RCPT/DATA go with the first's dot (server bytes ${segment || "whole"} at a time)`, () => {
      const o = run(opts(THREE.slice(0, 2)), TWO, segment);
      assert.ok(o.result && !o.error);
      assert.equal(o.transactions.length, 2);
      ok(o.transactions[0], 0, "queued 1");
      ok(o.transactions[1], 1, "queued 2");
      // EHLO, STARTTLS (alone), EHLO, group 1, group 2 (with the dot), QUIT
      assert.equal(o.writes, 6);
      assert.deepEqual(o.afterBody, ["MAIL FROM:<a2@x.test>\r\nRCPT TO:<b2@y.test>\r\nDATA\r\n", ""]);
      const sends = o.actions.filter((a) => a.type === "send").map((a) => a.type === "send" ? new TextDecoder().decode(a.bytes) : "");
      assert.equal(sends[1], "STARTTLS\r\n");
      assert.deepEqual(o.actions.filter((a) => a.type === "send-body"), [{ type: "send-body", index: 0 }, { type: "send-body", index: 1 }]);
    });
  }

  it("three messages: one write of commands per message on the warm connection, outcomes in order", () => {
    const o = run(opts(THREE), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(2)}
      S: 250 queued 1
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(3)}
      S: 250 queued 2
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 queued 3
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error);
    assert.deepEqual(o.transactions.map((t) => t.index), [0, 1, 2]);
    o.transactions.forEach((t, i) => ok(t, i, `queued ${i + 1}`));
    assert.equal(o.writes, 3 + 3 + 1);
    assert.deepEqual(o.afterBody.map((s) => s.split("\r\n")[0]), ["MAIL FROM:<a2@x.test>", "MAIL FROM:<a3@x.test>", ""]);
    assert.ok(!o.client.includes("RSET"), "no RSET after a delivered message");
  });

  it("a 5xx on MAIL of the second: it fails alone, RSET goes with the third's commands", () => {
    const o = run(opts(THREE), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(2)}
      S: 250 queued 1
      S: 550 5.7.1 sender refused
      S: 503 5.5.1 need MAIL
      S: 554 5.5.1 no valid recipients
      C: RSET
      ${group(3)}
      S: 250 reset
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 queued 3
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error, "the connection ended well");
    ok(o.transactions[0], 0, "queued 1");
    const second = o.transactions[1];
    assert.equal(second.error?.code, "REJECTED");
    assert.equal(second.error?.phase, "mail");
    assert.equal(second.error?.temporary, false);
    assert.deepEqual(second.accepted, []);
    assert.equal(second.response, null);
    ok(o.transactions[2], 2, "queued 3");
    // EHLO, STARTTLS, EHLO, group 1, group 2, RSET + group 3, QUIT
    assert.equal(o.writes, 7);
  });

  it("a 4xx on one RCPT: that message goes to the others (RECIPIENTS_REJECTED, temporary), the next is untouched", () => {
    const o = run(opts([tx("a1@x.test", "b1@y.test", "later@y.test"), THREE[1]]), `
      ${PIPE}
      C: MAIL FROM:<a1@x.test>
      C: RCPT TO:<b1@y.test>
      C: RCPT TO:<later@y.test>
      C: DATA
      S: 250 ok
      S: 250 ok
      S: 451 4.3.0 try later
      S: 354 go
      BODY
      ${group(2)}
      S: 250 queued 1
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 queued 2
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error);
    const first = o.transactions[0];
    assert.equal(first.error, null);
    assert.deepEqual(first.accepted, ["b1@y.test"]);
    assert.deepEqual(first.rejected, [{ address: "later@y.test", code: 451, text: "4.3.0 try later" }]);
    assert.equal(first.partial?.code, "RECIPIENTS_REJECTED");
    assert.equal(first.partial?.temporary, true);
    ok(o.transactions[1], 1, "queued 2");
    assert.equal(o.transactions[1].partial, undefined);
  });

  it("a 554 after the first dot: the first fails, the second (already written with the dot) is delivered, no RSET", () => {
    const o = run(opts(THREE.slice(0, 2)), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(2)}
      S: 554 5.7.1 spam
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 queued 2
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error);
    const first = o.transactions[0];
    assert.equal(first.error?.code, "REJECTED");
    assert.equal(first.error?.phase, "dot");
    assert.deepEqual(first.response, { code: 554, text: "5.7.1 spam" });
    ok(o.transactions[1], 1, "queued 2");
    assert.ok(!o.client.includes("RSET"));
  });

  it("every recipient of the first refused, DATA answered 354: an empty message ends it, then RSET", () => {
    const o = run(opts(THREE.slice(0, 2)), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 550 5.1.1 no such user
      S: 354 go
      C: .
      S: 554 5.5.0 no recipients
      C: RSET
      ${group(2)}
      S: 250 ok
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 queued 2
      C: QUIT
      S: 221 bye
    `);
    assert.equal(o.transactions[0].error?.code, "REJECTED");
    assert.equal(o.transactions[0].error?.phase, "rcpt");
    ok(o.transactions[1], 1, "queued 2");
    assert.equal(o.actions.filter((a) => a.type === "send-body").length, 1);
  });

  it("421 at MAIL of the second: it fails temporary with the 421, the third is not sent (temporary), no QUIT", () => {
    const o = run(opts(THREE), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(2)}
      S: 250 queued 1
      S: 421 4.3.2 shutting down
    `);
    assertFail(o, "TEMPORARY_FAILURE", "mail", true);
    ok(o.transactions[0], 0, "queued 1");
    assert.equal(o.transactions[1].error?.reply?.code, 421);
    assert.equal(o.transactions[1].error?.temporary, true);
    assert.equal(o.transactions[2].error?.code, "TEMPORARY_FAILURE");
    assert.equal(o.transactions[2].error?.temporary, true);
    assert.match(o.transactions[2].error?.message ?? "", /was not sent/);
    assert.ok(!o.client.includes("a3@x.test") && !o.client.includes("QUIT"), "nothing more on the closed connection");
  });

  it("421 after the first dot: the first fails with it, the second (written with the dot) is reported not sent", () => {
    const o = run(opts(THREE.slice(0, 2)), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(2)}
      S: 421 4.3.2 bye
    `);
    assertFail(o, "TEMPORARY_FAILURE", "dot", true);
    assert.equal(o.transactions[0].error?.reply?.code, 421);
    assert.equal(o.transactions[1].error?.code, "TEMPORARY_FAILURE");
    assert.match(o.transactions[1].error?.message ?? "", /was not sent/);
  });

  it("the connection ends after the second dot: DELIVERY_UNKNOWN for it alone, the third not sent", () => {
    const o = run(opts(THREE), `
      ${PIPE}
      ${group(1)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(2)}
      S: 250 queued 1
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      ${group(3)}
      EOF
    `);
    assertFail(o, "DELIVERY_UNKNOWN", "dot");
    ok(o.transactions[0], 0, "queued 1");
    assert.equal(o.transactions[1].error?.code, "DELIVERY_UNKNOWN");
    assert.equal(o.transactions[2].error?.code, "TEMPORARY_FAILURE");
    assert.equal(o.transactions[2].error?.temporary, true);
  });

  it("a failure before any MAIL (AUTH refused) is every message's error", () => {
    const o = run(opts(THREE.slice(0, 2), { auth: { mechanism: "plain", user: "me", password: "pw" } }), `
      ${prefix(["mx.test", "PIPELINING", "AUTH PLAIN"])}
      C: AUTH PLAIN ${encodeBase64("\0me\0pw")}
      S: 535 5.7.8 bad credentials
      C: QUIT
      S: 221 bye
    `);
    assertFail(o, "AUTH_FAILED", "auth");
    assert.deepEqual(o.transactions.map((t) => t.error?.code), ["AUTH_FAILED", "AUTH_FAILED"]);
  });

  it("a message the server cannot take (SIZE, bad address) fails alone without a byte, no RSET", () => {
    const o = run(opts([{ ...THREE[0], messageSize: 20000 }, tx("bad\r\naddr@x.test", "b@y.test"), THREE[2]]), `
      ${PIPE}
      ${group(3)}
      S: 250 ok
      S: 250 ok
      S: 354 go
      BODY
      S: 250 queued 3
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error);
    assert.deepEqual(o.transactions.map((t) => [t.index, t.error?.code ?? null]), [[0, "REJECTED"], [1, "MESSAGE_INVALID"], [2, null]]);
    assert.match(o.transactions[0].error?.message ?? "", /20000|size/i);
  });
});

describe("transactions: a server without PIPELINING (lock-step)", () => {
  it("two messages: one command per write, the next MAIL only after the dot's reply", () => {
    const o = run(opts(THREE.slice(0, 2)), `
      ${LOCKSTEP}
      C: MAIL FROM:<a1@x.test>
      S: 250 ok
      C: RCPT TO:<b1@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 queued 1
      C: MAIL FROM:<a2@x.test>
      S: 250 ok
      C: RCPT TO:<b2@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 queued 2
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error);
    ok(o.transactions[0], 0, "queued 1");
    ok(o.transactions[1], 1, "queued 2");
    assert.deepEqual(o.afterBody, ["", ""]);
    assert.equal(o.writes, 3 + 3 + 3 + 1);
  });

  it("MAIL of the second refused: RSET alone, then the third", () => {
    const o = run(opts(THREE), `
      ${LOCKSTEP}
      C: MAIL FROM:<a1@x.test>
      S: 250 ok
      C: RCPT TO:<b1@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 queued 1
      C: MAIL FROM:<a2@x.test>
      S: 553 5.1.8 bad sender
      C: RSET
      S: 250 ok
      C: MAIL FROM:<a3@x.test>
      S: 250 ok
      C: RCPT TO:<b3@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 queued 3
      C: QUIT
      S: 221 bye
    `);
    assert.ok(o.result && !o.error);
    assert.deepEqual(o.transactions.map((t) => t.error?.code ?? null), [null, "REJECTED", null]);
  });

  it("a 554 after the first dot: the next MAIL follows without RSET", () => {
    const o = run(opts(THREE.slice(0, 2)), `
      ${LOCKSTEP}
      C: MAIL FROM:<a1@x.test>
      S: 250 ok
      C: RCPT TO:<b1@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 554 5.7.1 no
      C: MAIL FROM:<a2@x.test>
      S: 250 ok
      C: RCPT TO:<b2@y.test>
      S: 250 ok
      C: DATA
      S: 354 go
      BODY
      S: 250 queued 2
      C: QUIT
      S: 221 bye
    `);
    assert.deepEqual(o.transactions.map((t) => t.error?.code ?? null), ["REJECTED", null]);
  });

  it("RSET refused: the connection is given up, the message after it is not sent", () => {
    const o = run(opts(THREE.slice(0, 2)), `
      ${LOCKSTEP}
      C: MAIL FROM:<a1@x.test>
      S: 550 no
      C: RSET
      S: 500 what
      C: QUIT
      S: 221 bye
    `);
    assertFail(o, "REJECTED", "mail");
    assert.equal(o.transactions[0].error?.code, "REJECTED");
    assert.equal(o.transactions[1].error?.code, "REJECTED", "the message RSET was sent for gets the RSET refusal");
  });
});

describe("transactions: the single-envelope session is unchanged", () => {
  it("emits no transaction action and ends with the transaction's own error", () => {
    const o = run({ strategy: "plain", tls: "none", helo: "client.test", envelope: { from: "a@x.test", recipients: ["b@y.test"] } }, `
      S: 220 mx.test
      C: EHLO client.test
      S: 250 mx.test
      C: MAIL FROM:<a@x.test>
      S: 550 no
      C: QUIT
      S: 221 bye
    `);
    assertFail(o, "REJECTED", "mail");
    assert.deepEqual(o.transactions, []);
  });
});
