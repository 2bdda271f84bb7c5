/**
 * Failover: the next relay is tried after connection, TLS and temporary failures; after a security
 * failure of a `tls: required` relay only a relay whose own policy is as strict; never after a
 * permanent refusal.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deliver } from "../../lib/engine/deliver.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { type Sink, startSink } from "../../lib/demo/sink.ts";
import { generateDemoPki } from "../../lib/demo/pki.ts";

const dir = mkdtempSync(join(tmpdir(), "mailplan-failover-"));
let sink: Sink;
let closedPort = 0;
before(async () => {
  sink = await startSink({ outDir: join(dir, "received") });
  writeFileSync(join(dir, "ca.pem"), sink.ca);
  writeFileSync(join(dir, "other-ca.pem"), generateDemoPki().ca); // a CA that did not sign the sink
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  closedPort = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r())); // now nothing listens there: connection refused
});
after(async () => await sink?.close());

function tx(relays: string, via: string[]) {
  const yaml = `version: 1
defaults: { security: { ca: ./ca.pem, server_name: localhost }, timeouts: { connect: 2s, greeting: 2s, command: 2s }, retry: { attempts: 1 } }
relays:
  refused: { host: 127.0.0.1, port: ${closedPort}, strategy: starttls }
  good: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls }
  good-implicit: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: implicit }
  untrusted: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls, security: { ca: ./other-ca.pem } }
  weaker: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls, security: { tls: opportunistic } }
  unverified: { host: 127.0.0.1, port: ${sink.ports.starttls}, strategy: starttls, security: { verify: false } }
${relays}routes: [{ name: r, via: [${via.join(", ")}] }]
`;
  const loaded = parseConfig(yaml, join(dir, "mail.yaml"));
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  return planEnvelope(loaded.config, { from: "a@sender.example", to: ["b@rcpt.example"] }).transactions[0];
}
const msg = () => messageFromBytes(new TextEncoder().encode("Subject: failover\r\n\r\nbody\r\n"));
const run = (via: string[], relays = "") => deliver(tx(relays, via), msg(), { baseDir: dir });
const tried = (r: Awaited<ReturnType<typeof run>>) => r.attempts.map((a) => `${a.relay}:${a.error?.code ?? "ok"}`);

describe("failover", () => {
  test("connection refused → the next relay delivers", async () => {
    const r = await run(["refused", "good"]);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual(tried(r), ["refused:CONNECT_FAILED", "good:ok"]);
    assert.equal(r.relay, "good");
  });
  test("a certificate failure of a required relay fails over to an equally strict relay", async () => {
    const r = await run(["untrusted", "good-implicit"]);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.deepEqual(tried(r), ["untrusted:CERT_UNTRUSTED", "good-implicit:ok"]);
  });
  test("…but never to a weaker one: opportunistic or unverified relays are not tried", async () => {
    for (const weaker of ["weaker", "unverified"]) {
      const before = sink.received().length;
      const r = await run(["untrusted", weaker]);
      assert.equal(r.ok, false);
      assert.deepEqual(tried(r), ["untrusted:CERT_UNTRUSTED"]);
      assert.equal(r.error?.code, "CERT_UNTRUSTED");
      assert.equal(sink.received().length, before);
    }
  });
  test("STARTTLS against the implicit-TLS port (M2): final at once, no failover to a weaker relay", async () => {
    const before = sink.received().length;
    const mismatched = `  mismatched: { host: 127.0.0.1, port: ${sink.ports.implicit}, strategy: starttls, timeouts: { greeting: 120s }, retry: { attempts: 3 } }\n`;
    const r = await deliver(tx(mismatched, ["mismatched", "weaker"]), msg(), { baseDir: dir, greetingSilenceMs: 0 });
    assert.deepEqual(tried(r), ["mismatched:TLS_MODE_MISMATCH"], "one try, and the weaker relay is not tried");
    assert.equal(r.error?.temporary, false);
    assert.match(r.error?.hint ?? "", /strategy: implicit/);
    assert.equal(sink.received().length, before);
  });
  test("the last relay's failure is the result, with every attempt listed", async () => {
    const r = await run(["refused", "untrusted"]);
    assert.equal(r.ok, false);
    assert.deepEqual(tried(r), ["refused:CONNECT_FAILED", "untrusted:CERT_UNTRUSTED"]);
    assert.equal(r.relay, "untrusted");
  });
});
