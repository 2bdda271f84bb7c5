/**
 * The engine against a real SMTP server (smtp-server under Node): both strategies, every adapter
 * of the current runtime, the message received byte for byte.
 */
import { after, before, describe, test } from "node:test";
import process from "node:process";
import assert from "node:assert/strict";
import { availableAdapters } from "../../lib/net/detect.ts";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { Transcript } from "../../lib/engine/transcript.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { makePki } from "../support/certs.ts";
import { type SmtpServerPeer, startSmtpServerPeer } from "../peers/smtp-server.ts";

const pki = makePki();
let peer: SmtpServerPeer;
before(async () => {
  peer = await startSmtpServerPeer({ key: pki.leaf.key.path, cert: pki.leaf.chain.path, user: "tester", password: "peer-pass-123" });
});
after(async () => await peer?.stop());

function config(extra = "") {
  process.env.MAILPLAN_TEST_PEER_PW = "peer-pass-123";
  const yaml = `version: 1
defaults:
  security: { ca: ${pki.root.cert.path} }
  timeouts: { greeting: 5s, command: 5s }
relays:
  starttls: { host: 127.0.0.1, port: ${peer.ports.starttls}, strategy: starttls, security: { server_name: localhost }, auth: { user: tester, password: { env: MAILPLAN_TEST_PEER_PW } } }
  implicit: { host: localhost, port: ${peer.ports.implicit}, strategy: implicit, auth: { user: tester, password: { env: MAILPLAN_TEST_PEER_PW } } }
${extra}routes:
  - { name: via-starttls, match: { to: "*@starttls.example" }, via: [starttls] }
  - { name: via-implicit, via: [implicit] }
`;
  const loaded = parseConfig(yaml, "/tmp/peer.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  return loaded.config;
}

const message = (id: string) => new TextEncoder().encode(
  `From: a@sender.example\r\nTo: b@x.example\r\nSubject: engine test ${id}\r\nMessage-ID: <${id}@sender.example>\r\n\r\nHello.\r\n.leading dot\r\nbare LF line\nlast line\r\n`,
);


for (const adapter of availableAdapters()) {
  describe(`deliver through smtp-server with the ${adapter} adapter`, () => {
    for (const [route, to] of [["via-starttls", "rcpt@starttls.example"], ["via-implicit", "rcpt@implicit.example"]] as const) {
      test(route, async () => {
        const tx = planEnvelope(config(), { from: "a@sender.example", to: [to] }).transactions[0];
        assert.equal(tx.route, route);
        const before = (await peer.messages({ count: 0 })).length;
        const id = `${adapter}-${route}-${Date.now()}`;
        const transcript = new Transcript();
        const result = await deliver(tx, messageFromBytes(message(id)), { baseDir: "/tmp", adapter, transcript });
        assert.equal(result.ok, true, JSON.stringify(result.error) + "\n" + transcript);
        assert.deepEqual(result.accepted, [to]);
        assert.equal(result.response?.code, 250);
        assert.equal(result.messageId, `<${id}@sender.example>`);
        assert.ok(result.tls, "the result says TLS was used");
        if (adapter === "deno") assert.deepEqual([result.tls.version, result.tls.peer], [null, null], "Deno native cannot see TLS facts and says so");
        else assert.match(result.tls.version ?? "", /^TLSv1\.[23]$/);
        const msgs = await peer.messages({ count: before + 1 });
        const got = msgs[msgs.length - 1];
        assert.equal(new TextDecoder().decode(got.eml), new TextDecoder().decode(message(id)).replace(/\r?\n/g, "\r\n"));
        assert.equal(got.meta.secure, true);
        assert.equal(got.meta.user, "tester");
        assert.deepEqual(got.meta.envelope.rcptTo.map((r) => r.address), [to]);
        const text = transcript.toString();
        assert.doesNotMatch(text, /peer-pass-123/);
        assert.match(text, route === "via-starttls" ? /-> STARTTLS\n/ : /~> EHLO /);
      });
    }
  });
}

describe("server limits are checked before the message is sent (smtp-server without 8BITMIME/SMTPUTF8, SIZE 1000)", () => {
  let strict: SmtpServerPeer;
  before(async () => {
    strict = await startSmtpServerPeer({ key: pki.leaf.key.path, cert: pki.leaf.chain.path, user: "tester", password: "peer-pass-123", size: 1000, rejectOversized: true, hide8bitmime: true, hideSmtputf8: true });
  });
  after(async () => await strict?.stop());
  const tx = (to = "rcpt@x.example") => {
    const loaded = parseConfig(`version: 1
relays:
  s: { host: 127.0.0.1, port: ${strict.ports.starttls}, strategy: starttls, security: { ca: ${pki.root.cert.path}, server_name: localhost }, auth: { user: tester, password: { env: MAILPLAN_TEST_PEER_PW } } }
routes: [{ name: all, via: [s] }]
`, "/tmp/strict.yaml");
    assert.ok(loaded.config);
    return planEnvelope(loaded.config, { from: "a@sender.example", to: [to] }).transactions[0];
  };
  const cases: [string, string, string, string][] = [
    ["a message over the server's SIZE", "Subject: big\r\n\r\n" + "x".repeat(2000) + "\r\n", "rcpt@x.example", "REJECTED"],
    ["8-bit content without 8BITMIME", "Subject: 8bit\r\n\r\nGrüße\r\n", "rcpt@x.example", "MESSAGE_INVALID"],
    ["a UTF-8 address without SMTPUTF8", "Subject: utf8\r\n\r\nhi\r\n", "jürgen@x.example", "MESSAGE_INVALID"],
  ];
  for (const [name, body, to, code] of cases) {
    test(`${name}: ${code}, no MAIL sent`, async () => {
      process.env.MAILPLAN_TEST_PEER_PW = "peer-pass-123";
      const transcript = new Transcript();
      const result = await deliver(tx(to), messageFromBytes(new TextEncoder().encode(body)), { baseDir: "/tmp", transcript });
      assert.equal(result.ok, false);
      assert.equal(result.error?.code, code, JSON.stringify(result.error));
      assert.doesNotMatch(transcript.toString(), /MAIL FROM/);
      assert.equal((await strict.messages({ count: 0 })).length, 0);
    });
  }
});
