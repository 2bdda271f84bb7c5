/**
 * End to end against the real-world peer: a private Postfix on loopback (implicit-TLS port and a
 * STARTTLS port that requires TLS and SASL), every adapter of the current runtime, the message read
 * back from the Maildir. Also: the plain port with `tls: required` still upgrades (Postfix offers
 * STARTTLS), and wrong credentials end as AUTH_FAILED without failover.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { availableAdapters } from "../../lib/net/detect.ts";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { Transcript } from "../../lib/engine/transcript.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { type PostfixPeer, startPostfix } from "../peers/postfix.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../lib/cli/main.ts";

/** Where sends of this file keep undelivered mail: never the user's real outbox. */
const testOutbox = mkdtempSync(join(tmpdir(), "mailplan-test-outbox-"));

let pfx: PostfixPeer;
before(async () => {
  pfx = await startPostfix();
  process.env.MAILPLAN_TEST_PFX_PW = pfx.password;
});
after(async () => await pfx?.stop());

function transaction(route: string, to: string) {
  const yaml = `version: 1
defaults:
  security: { ca: ${pfx.ca} }
  timeouts: { greeting: 10s, command: 10s }
relays:
  implicit: { host: localhost, port: ${pfx.ports.implicit}, strategy: implicit, auth: { user: ${pfx.user}, password: { env: MAILPLAN_TEST_PFX_PW } } }
  starttls: { host: 127.0.0.1, port: ${pfx.ports.starttls}, strategy: starttls, security: { server_name: localhost }, auth: { user: ${pfx.user}, password: { env: MAILPLAN_TEST_PFX_PW } } }
  wrong-password: { host: localhost, port: ${pfx.ports.starttls}, strategy: starttls, auth: { user: ${pfx.user}, password: not-the-password } }
routes:
  - { name: ${route}, via: [${route}] }
`;
  const loaded = parseConfig(yaml, "/tmp/pfx.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  return planEnvelope(loaded.config, { from: "sender@example.test", to: [to] }).transactions[0];
}

let delivered = 0;
for (const adapter of availableAdapters()) {
  describe(`Postfix with the ${adapter} adapter`, () => {
    for (const route of ["implicit", "starttls"]) {
      test(`delivers through the ${route} port and the message lands in the Maildir`, async () => {
        const id = `${adapter}.${route}.${process.pid}.${Date.now()}`;
        const body = `Date: Thu, 26 Nov 2026 08:00:00 +0000\r\nFrom: sender@example.test\r\nTo: inbox@example.test\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.test>\r\n\r\nline one\r\n..two dots\r\nüñí 8-bit\r\n`;
        const transcript = new Transcript();
        const result = await deliver(transaction(route, "inbox@example.test"), messageFromBytes(new TextEncoder().encode(body)), { baseDir: "/", adapter, transcript });
        assert.equal(result.ok, true, JSON.stringify(result.error) + "\n" + transcript);
        assert.match(result.response?.text ?? "", /queued as/);
        assert.ok(result.tls);
        const msgs = await pfx.readMaildir({ count: ++delivered });
        const mine = msgs.map((m) => new TextDecoder().decode(m.bytes)).find((m) => m.includes(`Subject: ${id}`));
        assert.ok(mine, "the message is in the Maildir");
        assert.ok(mine.endsWith(body.replace(/\r\n/g, "\n")), "headers and body arrive unchanged (Maildir stores LF)");
        assert.match(transcript.toString(), route === "starttls" ? /-> STARTTLS\n<- 220 [^\n]*\n\*\* TLS [^\n]*\n~> EHLO/ : /\*\* TLS [^\n]*\n<~ 220 /);
        assert.match(transcript.toString(), /~> AUTH PLAIN \*\*\*\n<~ 235 /, "AUTH travels over TLS, redacted in the transcript");
        assert.match(transcript.toString(), /~> MAIL FROM:<sender@example\.test> SIZE=\d+ BODY=8BITMIME\n~> RCPT TO:<inbox@example\.test>\n~> DATA\n/, "MAIL, RCPT and DATA pipelined");
        assert.doesNotMatch(transcript.toString(), new RegExp(pfx.password));
      });
    }
    test("the send command delivers through both ports (two routes, one message)", async () => {
      const dir = mkdtempSync(join(tmpdir(), "mailplan-pfx-send-"));
      const config = join(dir, "mail.yaml");
      writeFileSync(config, `version: 1
defaults: { security: { ca: ${pfx.ca}, server_name: localhost } }
relays:
  implicit: { host: 127.0.0.1, port: ${pfx.ports.implicit}, strategy: implicit, auth: { user: ${pfx.user}, password: { env: MAILPLAN_TEST_PFX_PW } } }
  starttls: { host: 127.0.0.1, port: ${pfx.ports.starttls}, strategy: starttls, auth: { user: ${pfx.user}, password: { env: MAILPLAN_TEST_PFX_PW } } }
routes:
  - { name: a, match: { to: "a-*@example.test" }, via: [implicit] }
  - { name: b, via: [starttls] }
`);
      let out = "";
      const subject = `cli ${adapter} ${Date.now()}`;
      const code = await runCli(["send", "--config", config, "--from", "sender@example.test", "--to", "a-inbox@example.test,b-inbox@example.test", "--subject", subject, "--text", "via the CLI", "--net", adapter, "--json"], { out: (t) => void (out += t), err: () => {}, env: { MAILPLAN_OUTBOX: testOutbox } });
      assert.equal(code, 0, out);
      const result = JSON.parse(out);
      assert.deepEqual(result.transactions.map((t: { route: string; server: { strategy: string } }) => [t.route, t.server.strategy]), [["a", "implicit"], ["b", "starttls"]]);
      delivered += 2;
      const msgs = await pfx.readMaildir({ count: delivered });
      const mine = msgs.map((m) => new TextDecoder().decode(m.bytes)).filter((m) => m.includes(`Subject: ${subject}`));
      assert.equal(mine.length, 2, "one copy per route arrived");
    });
    test("wrong credentials are AUTH_FAILED, nothing is sent", async () => {
      const result = await deliver(transaction("wrong-password", "inbox@example.test"), messageFromBytes(new TextEncoder().encode("Subject: x\r\n\r\nx\r\n")), { baseDir: "/", adapter });
      assert.equal(result.ok, false);
      assert.equal(result.error?.code, "AUTH_FAILED");
      assert.equal(result.error?.phase, "auth");
      assert.deepEqual(result.accepted, []);
    });
  });
}
