/**
 * "Cold sends" (DeliverOptions.background): the result comes at the server's final 250, before
 * the 221, and the connection still closes — in the background, on a promise the caller awaits.
 * Proven by events, not time: the hostile server never answers QUIT, so a result that waited
 * for the 221 could not arrive while the connection is still open.
 */
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { availableAdapters } from "../../lib/net/detect.ts";
import { deliver } from "../../lib/engine/deliver.ts";
import { deliverMany } from "../../lib/engine/deliver-many.ts";
import { messageFromBytes } from "../../lib/engine/message-source.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { planEnvelope } from "../../lib/plan/compile.ts";
import { makePki } from "../support/certs.ts";
import { assertAllHostileClosed, type HostileServer, startHostile } from "../support/hostile-server.ts";

const pki = makePki();
let srv: HostileServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
  assertAllHostileClosed();
});

function tx(port: number, strategy: "plain" | "starttls") {
  const security = strategy === "plain" ? "{ tls: none }" : `{ ca: ${pki.root.cert.path}, server_name: localhost }`;
  const loaded = parseConfig(`version: 1
relays:
  h: { host: 127.0.0.1, port: ${port}, strategy: ${strategy}, security: ${security}, timeouts: { greeting: 20s, command: 20s }, retry: { attempts: 1 } }
routes: [{ name: r, via: [h] }]
`, "/tmp/cold.yaml");
  assert.ok(loaded.config, JSON.stringify(loaded.problems));
  return planEnvelope(loaded.config, { from: "s@sender.example", to: ["a@rcpt.example"] }).transactions[0];
}
const msg = () => messageFromBytes(new TextEncoder().encode("Subject: cold\r\n\r\nbody\r\n"));

for (const adapter of availableAdapters()) {
  describe(`cold sends, ${adapter} adapter`, () => {
    for (const strategy of ["plain", "starttls"] as const) {
      test(`${strategy}: the result arrives at the 250 while QUIT is unanswered; the connection is closed in the background`, async () => {
        srv = await startHostile({ authMechanisms: [], rules: [{ on: "QUIT", reply: null, then: "hang" }] });
        const closing: Promise<void>[] = [];
        const result = await deliver(tx(srv.port, strategy), msg(), { baseDir: "/tmp", adapter, background: (p) => closing.push(p) });
        assert.equal(result.ok, true, JSON.stringify(result.error));
        assert.equal(result.response?.code, 250);
        assert.equal(closing.length, 1, "the rest of the connection was handed over");
        const conn = srv.connections[0];
        await srv.waitFor(() => conn.commands.some((c) => c.verb === "QUIT"), 20_000, "QUIT");
        assert.equal(conn.isClosed, false, "the result did not wait for the connection to end");
        await srv.close(); // the server leaves without a 221: the background part ends on the EOF
        await closing[0];
        assert.equal(conn.isClosed, true);
      });
    }

    test("deliverMany: results at the last 250, QUIT in the background", async () => {
      srv = await startHostile({ starttls: false, authMechanisms: [], rules: [{ on: "QUIT", reply: null, then: "hang" }] });
      const t = tx(srv.port, "plain");
      const closing: Promise<void>[] = [];
      const results = await deliverMany([{ tx: t, message: msg() }, { tx: t, message: msg() }], { baseDir: "/tmp", adapter, background: (p) => closing.push(p) });
      assert.deepEqual(results.map((r) => r.ok), [true, true]);
      assert.equal(srv.connections.length, 1);
      assert.equal(srv.connections[0].bodies.length, 2);
      await srv.close();
      await closing[0];
    });
  });
}

test("without `background` a send still waits for the 221 (the default is unchanged)", async () => {
  srv = await startHostile({ starttls: false, authMechanisms: [] });
  const result = await deliver(tx(srv.port, "plain"), msg(), { baseDir: "/tmp" });
  assert.equal(result.ok, true);
  const conn = srv.connections[0];
  assert.ok(conn.commands.some((c) => c.verb === "QUIT"));
  await conn.closed; // resolves: the client closed after the 221
});
