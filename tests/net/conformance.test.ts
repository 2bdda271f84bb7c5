/**
 * The same cases against every adapter available in this runtime (Bun: bun + node-tls;
 * Deno: node-tls + deno). Where an adapter cannot do something (capabilities), the case asserts
 * the clear, early error instead of skipping.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Adapter, AdapterName, Conn, TlsOptions } from "../../lib/net/conn.ts";
import { availableAdapters, loadAdapter } from "../../lib/net/detect.ts";
import { NetError } from "../../lib/net/errors.ts";
import { makePki, type Pki } from "../support/certs.ts";
import { freePort, type ServerOptions, startServer, type TestServer } from "./server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const pki: Pki = makePki();

/** Reads one CRLF line; bytes past it are given back with `unread`. */
async function readLine(conn: Conn): Promise<string> {
  let acc = new Uint8Array(0);
  for (;;) {
    const text = dec.decode(acc);
    const i = text.indexOf("\r\n");
    if (i >= 0) {
      const cut = enc.encode(text.slice(0, i + 2)).length;
      if (cut < acc.length) conn.unread(acc.slice(cut));
      return text.slice(0, i);
    }
    const chunk = await withTimeout(conn.read(), 5000, "read");
    if (chunk === null) throw new Error(`EOF after ${JSON.stringify(text)}`);
    const next = new Uint8Array(acc.length + chunk.length);
    next.set(acc);
    next.set(chunk, acc.length);
    acc = next;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, rej) => {
      t = setTimeout(() => rej(new Error(`test timeout: ${what} took more than ${ms} ms`)), ms);
    }),
  ]);
}

const send = (conn: Conn, line: string) => conn.write(enc.encode(line + "\r\n"));

/** Asserts a NetError with `code` (and optional message / hint patterns). */
async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  opts: { message?: RegExp; hint?: RegExp; phase?: string } = {},
): Promise<NetError> {
  let err: unknown;
  try {
    await withTimeout(p, 8000, code);
  } catch (e) {
    err = e;
  }
  assert.ok(
    err instanceof NetError,
    `expected NetError ${code}, got ${err === undefined ? "success" : String(err)}`,
  );
  assert.equal(err.code, code, `${err.message} (detail: ${err.detail})`);
  if (opts.message) assert.match(err.message, opts.message);
  if (opts.hint) assert.match(err.hint, opts.hint);
  if (opts.phase) assert.equal(err.phase, opts.phase);
  assert.ok(err.message.length > 0 && err.hint.length > 0);
  return err;
}

const trustRoot: TlsOptions = { ca: pki.root.cert.pem, serverName: "localhost" };
const leafServer = { key: pki.leaf.key.pem, cert: pki.leaf.chain.pem };

for (const name of availableAdapters()) {
  describe(`net adapter ${name}`, () => {
    let adapter: Adapter;
    const servers: TestServer[] = [];
    const conns: Conn[] = [];
    before(async () => {
      adapter = await loadAdapter(name as AdapterName);
    });
    after(async () => {
      for (const c of conns) c.close();
      for (const s of servers) await s.close();
    });
    const server = async (o: ServerOptions) => {
      const s = await startServer(o);
      servers.push(s);
      return s;
    };
    const track = (c: Conn) => (conns.push(c), c);
    const caps = () => adapter.capabilities;

    /** STARTTLS dialogue up to (not including) the upgrade. */
    async function toStartTls(srv: TestServer): Promise<Conn> {
      const conn = track(await adapter.connect({ host: srv.host, port: srv.port }));
      assert.equal(await readLine(conn), "220 ready");
      await send(conn, "STARTTLS");
      assert.equal(await readLine(conn), "220 go ahead");
      return conn;
    }

    /** Connects with implicit TLS and exchanges PING/PONG. */
    async function implicitOk(srvOpts: ServerOptions["tls"], tlsOpts: TlsOptions) {
      const srv = await server({ mode: "implicit", tls: srvOpts });
      const conn = track(
        await withTimeout(adapter.connect({ host: srv.host, port: srv.port, tls: tlsOpts }), 8000, "connect"),
      );
      assert.equal(await readLine(conn), "220 ready");
      await send(conn, "PING");
      assert.equal(await readLine(conn), "250 PONG tls");
      conn.close();
      return conn;
    }

    const implicitFails = async (
      srvOpts: ServerOptions["tls"],
      tlsOpts: TlsOptions,
      code: string,
      o?: { message?: RegExp; hint?: RegExp },
    ) => {
      const srv = await server({ mode: "implicit", tls: srvOpts });
      const err = await rejectsWith(adapter.connect({ host: srv.host, port: srv.port, tls: tlsOpts }), code, {
        phase: "tls",
        ...o,
      });
      assert.deepEqual(srv.lines, [], "no application byte reached the server");
      return err;
    };

    test("plain connect, read, write, close; read after close is null", async () => {
      const srv = await server({ mode: "plain" });
      const conn = track(await adapter.connect({ host: srv.host, port: srv.port }));
      assert.equal(conn.adapter, name);
      assert.equal(conn.tls, null);
      assert.equal(await readLine(conn), "220 ready");
      await send(conn, "PING");
      assert.equal(await readLine(conn), "250 PONG");
      await send(conn, "QUIT");
      assert.equal(await readLine(conn), "221 bye");
      assert.equal(await withTimeout(conn.read(), 5000, "EOF"), null);
      conn.close();
      assert.equal(conn.closed, true);
      assert.equal(await conn.read(), null);
      await rejectsWith(conn.write(enc.encode("x")), "CONNECTION_CLOSED");
    });

    test("close() ends a pending read with null", async () => {
      const srv = await server({ mode: "plain" });
      const conn = track(await adapter.connect({ host: srv.host, port: srv.port }));
      assert.equal(await readLine(conn), "220 ready");
      const pending = conn.read(); // nothing more comes: the read is pending until close()
      await Promise.resolve();
      conn.close();
      assert.equal(await withTimeout(pending, 3000, "pending read"), null);
    });

    test("connection refused is CONNECT_FAILED (temporary)", async () => {
      const port = await freePort();
      const err = await rejectsWith(adapter.connect({ host: "127.0.0.1", port }), "CONNECT_FAILED", {
        phase: "connect",
      });
      assert.equal(err.temporary, true);
    });

    test("an aborted signal rejects connect with its reason", async () => {
      const srv = await server({ mode: "plain" });
      const ac = new AbortController();
      ac.abort(new Error("deadline"));
      await assert.rejects(
        adapter.connect({ host: srv.host, port: srv.port, signal: ac.signal }),
        /deadline/,
      );
    });

    test("STARTTLS upgrade after a plaintext exchange", async () => {
      const srv = await server({ mode: "starttls", tls: leafServer });
      const conn = await toStartTls(srv);
      assert.equal(conn.bufferedBytes, 0);
      const facts = await withTimeout(conn.startTls(trustRoot), 8000, "startTls");
      assert.equal(facts.mode, "starttls");
      assert.equal(facts.authorized, true);
      assert.equal(conn.tls, facts);
      await send(conn, "PING");
      assert.equal(await readLine(conn), "250 PONG tls");
      assert.deepEqual(srv.lines, ["plain:STARTTLS", "tls:PING"]);
      const pending = conn.read(); // the server sends nothing unasked: pending until close()
      await Promise.resolve();
      conn.close();
      assert.equal(
        await withTimeout(pending, 3000, "pending TLS read"),
        null,
        "close() ends a pending TLS read",
      );
    });

    test("implicit TLS", async () => {
      const conn = await implicitOk(leafServer, trustRoot);
      assert.equal(conn.tls?.mode, "implicit");
    });

    test("TLS facts: version, cipher, chain, pin — or explicit null", async () => {
      const srv = await server({ mode: "implicit", tls: leafServer });
      const conn = track(await adapter.connect({ host: srv.host, port: srv.port, tls: trustRoot }));
      const f = conn.tls!;
      assert.equal(f.adapter, name);
      assert.equal(f.authorized, true);
      assert.equal(f.authorizationError, null);
      if (caps().versionAndCipher) {
        assert.equal(f.version, "TLSv1.3");
        assert.match(f.cipher ?? "", /^TLS_/);
      } else {
        assert.equal(f.version, null);
        assert.equal(f.cipher, null);
      }
      if (caps().peerChain === "none") {
        assert.equal(f.peerChain, null);
      } else {
        const chain = f.peerChain!;
        assert.equal(chain[0].subject, "CN=localhost");
        assert.match(chain[0].issuer, /intermediate/);
        assert.ok(chain[0].subjectAltNames.includes("DNS:localhost"));
        assert.ok(chain[0].subjectAltNames.includes("IP Address:127.0.0.1"));
        assert.equal(chain[0].spkiPin, pki.leaf.pin);
        assert.ok(Date.parse(chain[0].validTo) > Date.now());
        assert.match(chain[0].fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
        if (caps().peerChain === "full") {
          assert.ok(chain.length >= 2);
          assert.equal(chain[1].spkiPin, pki.intermediate.pin);
        } else assert.equal(chain.length, 1);
      }
      conn.close();
    });

    test("TLS 1.2 server: facts say TLSv1.2 (or null)", async () => {
      const conn = await implicitOk({ ...leafServer, maxVersion: "TLSv1.2" }, trustRoot);
      assert.equal(conn.tls!.version, caps().versionAndCipher ? "TLSv1.2" : null);
    });

    test("matching pin succeeds; wrong pin is CERT_PIN_MISMATCH", async () => {
      if (caps().peerChain === "none") {
        await implicitFails(leafServer, { ...trustRoot, pins: [pki.leaf.pin] }, "TLS_HANDSHAKE_FAILED", {
          hint: /node-tls/,
        });
        return;
      }
      await implicitOk(leafServer, { ...trustRoot, pins: [pki.otherCa.pin, pki.leaf.pin] });
      await implicitFails(leafServer, { ...trustRoot, pins: [pki.otherCa.pin] }, "CERT_PIN_MISMATCH", {
        hint: /security\.pin/,
      });
    });

    test("wrong pin after STARTTLS fails before any byte", async () => {
      const srv = await server({ mode: "starttls", tls: leafServer });
      const conn = await toStartTls(srv);
      const code = caps().peerChain === "none" ? "TLS_HANDSHAKE_FAILED" : "CERT_PIN_MISMATCH";
      await rejectsWith(conn.startTls({ ...trustRoot, pins: [pki.otherCa.pin] }), code);
      assert.equal(conn.closed, true);
      await rejectsWith(conn.write(enc.encode("PING\r\n")), "CONNECTION_CLOSED");
      assert.deepEqual(srv.lines, ["plain:STARTTLS"]);
    });

    test("self-signed certificate is CERT_UNTRUSTED; accepted by pin with verify:false", async () => {
      const self = { key: pki.selfSigned.key.pem, cert: pki.selfSigned.cert.pem };
      await implicitFails(self, trustRoot, "CERT_UNTRUSTED", { hint: /security\.(ca|pin)/ });
      if (caps().verifyOff) {
        await implicitOk(self, { serverName: "localhost", verify: false, pins: [pki.selfSigned.pin] });
      } else {
        await implicitFails(self, { verify: false }, "TLS_HANDSHAKE_FAILED", { hint: /node-tls/ });
      }
    });

    test("unknown CA is CERT_UNTRUSTED; succeeds once the CA is given", async () => {
      await implicitFails(
        leafServer,
        { ca: pki.otherCa.cert.pem, serverName: "localhost" },
        "CERT_UNTRUSTED",
        { hint: /security\.ca/ },
      );
      await implicitFails(leafServer, { serverName: "localhost" }, "CERT_UNTRUSTED", {
        hint: /security\.ca/,
      });
      await implicitOk(leafServer, {
        ca: [pki.otherCa.cert.pem, pki.root.cert.pem],
        serverName: "localhost",
      });
    });

    test("missing intermediate is CERT_UNTRUSTED; succeeds with the intermediate in ca", async () => {
      const bare = { key: pki.leaf.key.pem, cert: pki.leaf.cert.pem };
      await implicitFails(bare, trustRoot, "CERT_UNTRUSTED", { hint: /security\.ca/ });
      await implicitOk(bare, { ...trustRoot, ca: [pki.root.cert.pem, pki.intermediate.cert.pem] });
    });

    test("wrong host is CERT_HOSTNAME_MISMATCH; succeeds with serverName", async () => {
      const wrong = { key: pki.wrongHost.key.pem, cert: pki.wrongHost.chain.pem };
      await implicitFails(wrong, { ca: pki.root.cert.pem }, "CERT_HOSTNAME_MISMATCH", {
        hint: /server_name/,
        message: /127\.0\.0\.1/,
      });
      await implicitFails(wrong, trustRoot, "CERT_HOSTNAME_MISMATCH", { message: /localhost/ });
      await implicitOk(wrong, { ca: pki.root.cert.pem, serverName: "wrong.example" });
    });

    test("expired certificate is CERT_EXPIRED", async () => {
      const expired = { key: pki.expired.key.pem, cert: pki.expired.chain.pem };
      await implicitFails(expired, trustRoot, "CERT_EXPIRED", {
        message: caps().peerChain === "none" ? /expired/ : /expired on 2021-01-01/,
        hint: /renew/,
      });
    });

    test("TLS 1.2-only server vs minVersion 1.3 is TLS_VERSION_TOO_LOW", async () => {
      const tls12 = { ...leafServer, maxVersion: "TLSv1.2" as const };
      if (caps().minVersion13) {
        await implicitFails(tls12, { ...trustRoot, minVersion: "1.3" }, "TLS_VERSION_TOO_LOW", {
          hint: /min_tls/,
        });
      } else {
        await implicitFails(tls12, { ...trustRoot, minVersion: "1.3" }, "TLS_HANDSHAKE_FAILED", {
          hint: /node-tls/,
        });
      }
    });

    test("implicit TLS to a plaintext port is TLS_MODE_MISMATCH naming starttls", async () => {
      const srv = await server({ mode: "plain" });
      await rejectsWith(
        adapter.connect({ host: srv.host, port: srv.port, tls: trustRoot }),
        "TLS_MODE_MISMATCH",
        {
          message: /starttls/,
          phase: "tls",
        },
      );
    });

    test("STARTTLS answered 220 then plaintext is TLS_HANDSHAKE_FAILED", async () => {
      const srv = await server({ mode: "starttls", tls: leafServer, fakeStartTls: true });
      const conn = await toStartTls(srv);
      await rejectsWith(conn.startTls(trustRoot), "TLS_HANDSHAKE_FAILED", { phase: "tls" });
    });

    test("STARTTLS handshake is abortable by signal (220 then silence)", async () => {
      const srv = await server({ mode: "starttls", tls: leafServer, silentStartTls: true });
      const conn = await toStartTls(srv);
      // The server swallows the ClientHello and never answers: the handshake can only end by
      // the abort, which is fired once the handshake has started (an event, not a clock).
      const ac = new AbortController();
      const reason = new DOMException("handshake deadline", "TimeoutError");
      const handshake = conn.startTls({ ...trustRoot, signal: ac.signal });
      setTimeout(() => ac.abort(reason), 0);
      await assert.rejects(handshake, (e: Error) => e === reason);
      assert.equal(conn.closed, true);
    });

    test("client certificate required: implicit TLS succeeds with it, clear error without", async () => {
      const mtls = { ...leafServer, requestCert: true, rejectUnauthorized: true, ca: pki.clientCa.cert.pem };
      const clientCert = { cert: pki.client.cert.pem, key: pki.client.key.pem };
      // No serverName: the leaf covers IP 127.0.0.1 (Deno.connectTls dials the name it checks).
      await implicitOk(mtls, { ca: pki.root.cert.pem, clientCert });
      if (caps().serverNameWithClientCert) await implicitOk(mtls, { ...trustRoot, clientCert });
      else {await implicitFails(mtls, { ...trustRoot, clientCert }, "TLS_HANDSHAKE_FAILED", {
          hint: /node-tls/,
        });}
      // Without: TLS 1.3 reports the server's refusal after the client's handshake completes,
      // so the error may come from connect or from the first read.
      const srv = await server({ mode: "implicit", tls: mtls });
      const attempt = (async () => {
        const conn = track(await adapter.connect({ host: srv.host, port: srv.port, tls: trustRoot }));
        await readLine(conn);
      })();
      await rejectsWith(attempt, "TLS_HANDSHAKE_FAILED", {
        hint: /client_cert/,
        message: /client certificate/,
      });
    });

    test("client certificate after STARTTLS (deno native: clear error)", async () => {
      const mtls = { ...leafServer, requestCert: true, rejectUnauthorized: true, ca: pki.clientCa.cert.pem };
      const srv = await server({ mode: "starttls", tls: mtls });
      const conn = await toStartTls(srv);
      const clientCert = { cert: pki.client.cert.pem, key: pki.client.key.pem };
      if (caps().clientCertStartTls) {
        await conn.startTls({ ...trustRoot, clientCert });
        await send(conn, "PING");
        assert.equal(await readLine(conn), "250 PONG tls");
      } else {
        await rejectsWith(conn.startTls({ ...trustRoot, clientCert }), "TLS_HANDSHAKE_FAILED", {
          message: /client certificate after STARTTLS/,
          hint: /node-tls/,
        });
      }
      conn.close();
    });

    test("bytes injected after the STARTTLS 220 are buffered and refused", async () => {
      const srv = await server({ mode: "starttls", tls: leafServer, inject: "250-x\r\n250 AUTH PLAIN\r\n" });
      const conn = await toStartTls(srv);
      assert.equal(conn.bufferedBytes, "250-x\r\n250 AUTH PLAIN\r\n".length);
      await rejectsWith(conn.startTls(trustRoot), "STARTTLS_INJECTION", { phase: "starttls" });
      assert.equal(conn.closed, true);
    });
  });
}
