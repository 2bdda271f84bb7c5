/**
 * deliverMany against a real SMTP server (smtp-server under Node): N messages of one relay plan
 * over ONE connection (one smtp-server session), each received byte for byte, on every adapter
 * of the current runtime and both strategies, with and without PIPELINING.
 */
import { after, before, describe, test } from "node:test";
import process from "node:process";
import assert from "node:assert/strict";
import { availableAdapters } from "../../lib/net/detect.ts";
import { deliverMany } from "../../lib/engine/deliver-many.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { Transcript } from "../../lib/engine/transcript.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { makePki } from "../support/certs.ts";
import { type SmtpServerPeer, startSmtpServerPeer } from "../peers/smtp-server.ts";

const pki = makePki();
const PW = "peer-pass-many-1";
let peer: SmtpServerPeer;
let lockstep: SmtpServerPeer;
before(async () => {
  [peer, lockstep] = await Promise.all([
    startSmtpServerPeer({ key: pki.leaf.key.path, cert: pki.leaf.chain.path, user: "tester", password: PW }),
    startSmtpServerPeer({ key: pki.leaf.key.path, cert: pki.leaf.chain.path, user: "tester", password: PW, hidePipelining: true }),
  ]);
});
after(async () => await Promise.all([peer?.stop(), lockstep?.stop()]));

function plan(p: SmtpServerPeer, strategy: "starttls" | "implicit", to: string[]) {
  process.env.MAILPLAN_TEST_MANY_PW = PW;
  const port = strategy === "starttls" ? p.ports.starttls : p.ports.implicit;
  const loaded = parseConfig(`version: 1
defaults:
  security: { ca: ${pki.root.cert.path}, server_name: localhost }
  timeouts: { greeting: 5s, command: 5s }
relays:
  r: { host: 127.0.0.1, port: ${port}, strategy: ${strategy}, auth: { user: tester, password: { env: MAILPLAN_TEST_MANY_PW } } }
routes: [{ name: all, via: [r] }]
`, "/tmp/many.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  return planEnvelope(loaded.config, { from: "a@sender.example", to }).transactions[0];
}

const body = (id: string, i: number) =>
  `From: a@sender.example\r\nTo: b@x.example\r\nSubject: many ${id} #${i}\r\nMessage-ID: <${id}.${i}@sender.example>\r\n\r\nHello ${i}.\r\n.leading dot\r\nbare LF line\nlast line ${"x".repeat(i * 100)}\r\n`;

const N = 3;
const cases = [["PIPELINING", () => peer], ["lock-step (no PIPELINING)", () => lockstep]] as const;

for (const adapter of availableAdapters()) {
  for (const [name, server] of cases) {
    describe(`deliverMany through smtp-server, ${name}, ${adapter} adapter`, () => {
      for (const strategy of ["starttls", "implicit"] as const) {
        test(`${strategy}: ${N} messages → 1 connection, each received byte for byte`, async () => {
          const p = server();
          const id = `${adapter}-${strategy}-${Date.now()}`;
          const items = Array.from({ length: N }, (_, i) => ({
            tx: plan(p, strategy, [`r${i}@x.example`]),
            message: messageFromBytes(new TextEncoder().encode(body(id, i))),
          }));
          const before = (await p.messages({ count: 0 })).length;
          const transcript = new Transcript();
          const results = await deliverMany(items, { baseDir: "/tmp", adapter, transcript });
          const text = transcript.toString();
          for (const [i, r] of results.entries()) {
            assert.equal(r.ok, true, JSON.stringify(r.error) + "\n" + text);
            assert.deepEqual(r.accepted, [`r${i}@x.example`]);
            assert.equal(r.response?.code, 250);
            assert.equal(r.messageId, `<${id}.${i}@sender.example>`);
            assert.ok(r.tls);
          }
          const got = (await p.messages({ count: before + N })).slice(before);
          assert.equal(got.length, N);
          for (const [i, m] of got.entries()) {
            assert.equal(new TextDecoder().decode(m.eml), body(id, i).replace(/\r?\n/g, "\r\n"));
            assert.deepEqual(m.meta.envelope.rcptTo.map((r) => r.address), [`r${i}@x.example`]);
            assert.equal(m.meta.user, "tester");
          }
          assert.equal(new Set(got.map((m) => m.meta.sessionId)).size, 1, "one smtp-server session for all messages");
          assert.equal(text.match(/\*\* connecting to /g)?.length, 1);
          assert.equal(text.match(/~> AUTH /g)?.length, 1, "one AUTH");
          assert.equal(text.match(/~> QUIT/g)?.length, 1);
          assert.equal(text.match(/~> RSET/g), null);
          assert.doesNotMatch(text, new RegExp(PW));
          const together = text.match(/the next message's commands with its dot/g)?.length ?? 0;
          assert.equal(together, name === "PIPELINING" ? N - 1 : 0);
        });
      }
    });
  }
}

describe("deliverMany: failures stay with their message", () => {
  test("a refused recipient fails its message alone; the next one on the connection is delivered", async () => {
    const id = `refused-${Date.now()}`;
    const ok = plan(peer, "starttls", ["ok@x.example"]);
    const items = [
      { tx: ok, message: messageFromBytes(new TextEncoder().encode(body(id, 0))) },
      { tx: { ...ok, recipients: ["refuse-me@x.example"] }, message: messageFromBytes(new TextEncoder().encode(body(id, 1))) },
      { tx: ok, message: messageFromBytes(new TextEncoder().encode(body(id, 2))) },
    ];
    const before = (await peer.messages({ count: 0 })).length;
    const transcript = new Transcript();
    const results = await deliverMany(items, { baseDir: "/tmp", transcript });
    assert.deepEqual(results.map((r) => r.ok), [true, false, true], transcript.toString());
    assert.equal(results[1].error?.phase, "rcpt");
    const got = (await peer.messages({ count: before + 2 })).slice(before);
    assert.deepEqual(got.map((m) => new TextDecoder().decode(m.eml)), [body(id, 0), body(id, 2)].map((b) => b.replace(/\r?\n/g, "\r\n")));
    assert.equal(new Set(got.map((m) => m.meta.sessionId)).size, 1);
    assert.match(transcript.toString(), /~> RSET/);
  });
});
