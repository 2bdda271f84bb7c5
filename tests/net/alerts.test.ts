/**
 * Threat X4 at the connection level (issue 8 §6): a TLS 1.3 server that requires a client
 * certificate completes the client's handshake, then sends the "certificate required" alert and
 * closes. Whether that alert lands before or after mailplan writes its EHLO depends on timing;
 * this test makes the order certain (it waits until the server recorded its refusal and, where
 * the adapter tracks it, until the connection is closed) and requires the SAME answer either way:
 * TLS_HANDSHAKE_FAILED naming security.client_cert, from the write or from the next read —
 * never CONNECTION_CLOSED (which the engine reports as a temporary "closed during ehlo").
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { availableAdapters, loadAdapter } from "../../lib/net/detect.ts";
import { NetError } from "../../lib/net/errors.ts";
import type { Conn } from "../../lib/net/conn.ts";
import { makePki } from "../support/certs.ts";
import { startServer, type TestServer } from "./server.ts";

const pki = makePki();
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Resolves once `cond()` holds, checking after each turn of the event loop (no fixed delay). */
async function until(cond: () => boolean, what: string, turns = 20_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 0));
  }
  throw new Error(`never happened: ${what}`);
}

async function line(conn: Conn): Promise<string> {
  const chunk = await conn.read();
  if (!chunk) throw new Error("EOF");
  return dec.decode(chunk).trim();
}

for (const name of availableAdapters()) {
  describe(`certificate-required alert after the handshake [${name}]`, () => {
    const servers: TestServer[] = [];
    after(async () => {
      for (const s of servers) await s.close();
    });
    test("the write (or the read after it) reports TLS_HANDSHAKE_FAILED with the client_cert hint", async () => {
      const srv = await startServer({
        mode: "starttls",
        tls: { key: pki.leaf.key.pem, cert: pki.leaf.chain.pem, requestCert: true, rejectUnauthorized: true, ca: pki.clientCa.cert.pem, minVersion: "TLSv1.3" },
      });
      servers.push(srv);
      const conn = await (await loadAdapter(name)).connect({ host: srv.host, port: srv.port });
      assert.equal(await line(conn), "220 ready");
      await conn.write(enc.encode("STARTTLS\r\n"));
      assert.equal(await line(conn), "220 go ahead");
      await conn.startTls({ ca: pki.root.cert.pem, serverName: "localhost" });
      await until(() => srv.tlsErrors.length > 0, "the server refused the handshake");
      if (name !== "deno") await until(() => conn.closed, "the client saw the close"); // Deno native reads on demand only
      let err: unknown = null;
      try {
        await conn.write(enc.encode("EHLO client.example\r\n"));
        await conn.read();
      } catch (e) {
        err = e;
      } finally {
        conn.close();
      }
      assert.ok(err instanceof NetError, `expected a NetError, got ${err}`);
      assert.equal(err.code, "TLS_HANDSHAKE_FAILED", `${err.code}: ${err.message}`);
      assert.equal(err.temporary, false);
      assert.match(err.message, /requires a client certificate/);
      assert.match(err.hint, /security\.client_cert/);
    });
  });
}
