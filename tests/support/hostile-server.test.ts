// The hostile server driven by a raw node:net / node:tls client: recordings by phase, injection in
// one segment, slowloris segmentation, endless lines, implicit / silent modes, TLS versions,
// client certificates, STARTTLS variants (N6, C8, N11), rules, predicates and the leak guard.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import { Buffer } from "node:buffer";
import { makePki } from "./certs.ts";
import {
  assertAllHostileClosed,
  containsCredential,
  type HostileServer,
  legacyTlsServable,
  openHostileServers,
  type Scenario,
  startHostile,
} from "./hostile-server.ts";

const pki = makePki();
const trust = { ca: pki.root.cert.pem, servername: "localhost" };
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A raw client: buffered reads of whole SMTP replies, STARTTLS via tls.connect({ socket }). */
class Raw {
  buf = "";
  chunks: string[] = [];
  closed = false;
  error: (Error & { code?: string }) | null = null;
  #wake: (() => void) | null = null;
  #onData = (d: Buffer) => {
    this.chunks.push(d.toString("latin1"));
    this.buf += d.toString("latin1");
    this.#notify();
  };
  constructor(public sock: net.Socket) {
    this.#attach(sock);
  }
  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  #attach(s: net.Socket) {
    s.on("data", this.#onData);
    s.on("error", (e) => {
      this.error ??= e;
      this.#notify();
    });
    s.on("close", () => {
      this.closed = true;
      this.#notify();
    });
  }
  static connect(port: number): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new Raw(s)));
      s.once("error", reject);
    });
  }
  static connectTls(port: number, opts: tls.ConnectionOptions = {}): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port, ...trust, ...opts }, () => resolve(new Raw(s)));
      s.once("error", reject);
    });
  }
  /**
   * Waits until `pred()` holds or the socket closed; returns pred(). `ms` only guards against a
   * hang (generous: no test may depend on machine speed), it is never used to assert an absence.
   */
  async until(pred: () => boolean, ms = 20_000): Promise<boolean> {
    const t0 = Date.now();
    while (!pred() && !this.closed && !this.error && Date.now() - t0 < ms) {
      let t: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#wake = r;
        t = setTimeout(r, ms - (Date.now() - t0));
      });
      clearTimeout(t);
    }
    return pred();
  }
  /** Reads one complete SMTP reply (its lines). */
  async reply(ms = 20_000): Promise<string[]> {
    const complete = () => /(^|\r\n)\d{3}( [^\r\n]*)?\r\n/.test(this.buf);
    assert.ok(await this.until(complete, ms), `no complete reply; have ${JSON.stringify(this.buf)}`);
    const m = /(^|\r\n)\d{3}( [^\r\n]*)?\r\n/.exec(this.buf)!;
    const end = m.index + m[0].length;
    const text = this.buf.slice(0, end);
    this.buf = this.buf.slice(end);
    return text.split("\r\n").slice(0, -1);
  }
  send(line: string) {
    this.sock.write(line + "\r\n");
  }
  async cmd(line: string): Promise<string[]> {
    this.send(line);
    return await this.reply();
  }
  /** Upgrades with tls.connect({ socket }); rejects with the handshake error. */
  startTls(opts: tls.ConnectionOptions = {}, ms = 20_000): Promise<void> {
    this.sock.off("data", this.#onData);
    return new Promise((resolve, reject) => {
      const t = tls.connect({ socket: this.sock, ...trust, ...opts });
      const timer = setTimeout(() => {
        t.destroy();
        reject(new Error("handshake timeout"));
      }, ms);
      t.once("secureConnect", () => {
        clearTimeout(timer);
        this.sock = t;
        this.closed = false;
        this.#attach(t);
        resolve();
      });
      t.once("error", (e) => {
        clearTimeout(timer);
        t.destroy();
        reject(e);
      });
    });
  }
  close() {
    this.sock.destroy();
  }
}

/** Starts a server, runs `fn`, always closes both. */
async function withServer(scenario: Scenario, fn: (srv: HostileServer) => Promise<void>) {
  const srv = await startHostile(scenario);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

after(() => assertAllHostileClosed());

describe("hostile server", () => {
  test("normal STARTTLS session: defaults, recordings split by phase, TLS facts", async () => {
    await withServer({}, async (srv) => {
      const c = await Raw.connect(srv.port);
      assert.deepEqual(await c.reply(), ["220 mx.hostile.test ESMTP hostile"]);
      const ehlo = await c.cmd("EHLO client.test");
      assert.deepEqual(ehlo, [
        "250-mx.hostile.test",
        "250-PIPELINING",
        "250-SIZE 10485760",
        "250-8BITMIME",
        "250-AUTH PLAIN LOGIN",
        "250 STARTTLS",
      ]);
      assert.deepEqual(await c.cmd("STARTTLS"), ["220 2.0.0 Ready to start TLS"]);
      await c.startTls();
      assert.ok(!(await c.cmd("EHLO client.test")).some((l) => l.includes("STARTTLS")));
      assert.deepEqual(await c.cmd("AUTH PLAIN " + b64("\0me\0s3cret-pass")), [
        "235 2.7.0 Authentication successful",
      ]);
      assert.deepEqual(await c.cmd("MAIL FROM:<a@x.test>"), ["250 2.1.0 Ok"]);
      assert.deepEqual(await c.cmd("RCPT TO:<b@y.test>"), ["250 2.1.5 Ok"]);
      assert.match((await c.cmd("DATA"))[0], /^354 /);
      c.sock.write("Subject: hi\r\n\r\n..dot\r\nbody\r\n.\r\n");
      assert.match((await c.reply())[0], /^250 2\.0\.0 Ok: queued as HOSTILE1M1$/);
      assert.deepEqual(await c.cmd("QUIT"), ["221 2.0.0 Bye"]);
      assert.ok(await c.until(() => c.closed));
      await srv.idle();

      const r = srv.received;
      assert.deepEqual(r.beforeTls.lines, ["EHLO client.test", "STARTTLS"]);
      assert.deepEqual(r.afterTls.lines.slice(0, 5), [
        "EHLO client.test",
        "AUTH PLAIN " + b64("\0me\0s3cret-pass"),
        "MAIL FROM:<a@x.test>",
        "RCPT TO:<b@y.test>",
        "DATA",
      ]);
      assert.deepEqual(r.authLines, ["AUTH PLAIN " + b64("\0me\0s3cret-pass")]);
      assert.deepEqual(r.bodies.map((b) => Buffer.from(b).toString("latin1")), [
        "Subject: hi\r\n\r\n..dot\r\nbody\r\n",
      ]);
      assert.deepEqual(r.commands.map((k) => `${k.phase}:${k.verb}`), [
        "plain:EHLO",
        "plain:STARTTLS",
        "tls:EHLO",
        "tls:AUTH",
        "tls:MAIL",
        "tls:RCPT",
        "tls:DATA",
        "tls:.",
        "tls:QUIT",
      ]);
      assert.equal(srv.connectionCount, 1);
      assert.equal(srv.clientClosed, true);
      assert.equal(srv.tls?.version, "TLSv1.3");
      assert.ok(srv.tls?.cipher);
      assert.equal(srv.tls?.clientCert, null);
      // predicates by scope
      assert.equal(srv.sawAuth(), true);
      assert.equal(srv.sawAuth("plain"), false);
      assert.equal(srv.sawMailOrRcpt("tls"), true);
      assert.equal(srv.sawData("plain"), false);
      assert.equal(srv.sawData(), true);
      assert.equal(srv.sawCredential("s3cret-pass"), true);
      assert.equal(srv.sawCredential("s3cret-pass", "plain"), false);
      assert.deepEqual(srv.failClosedViolations({ scope: "plain" }), []);
      assert.deepEqual(srv.failClosedViolations(), [
        "AUTH",
        "MAIL/RCPT",
        "DATA/body",
        'credential "s3cret-pass"',
      ]);
    });
  });

  test("N7: injected lines arrive in the SAME segment as the STARTTLS 220", async () => {
    await withServer(
      { rules: [{ on: "STARTTLS", reply: "220 Ready", raw: "250-x\r\n250 AUTH PLAIN\r\n" }] },
      async (srv) => {
        const c = await Raw.connect(srv.port);
        await c.reply();
        await c.cmd("EHLO client.test");
        const before = c.chunks.length;
        c.send("STARTTLS");
        assert.ok(await c.until(() => c.buf.includes("250 AUTH PLAIN\r\n")));
        assert.equal(c.chunks.length, before + 1, "one segment");
        assert.equal(c.chunks[before], "220 Ready\r\n250-x\r\n250 AUTH PLAIN\r\n");
        c.close(); // a correct client aborts here
        await srv.idle();
        assert.deepEqual(srv.failClosedViolations(), []);
        assert.equal(srv.clientClosed, true);
        assert.equal(srv.tls, null);
      },
    );
  });

  test("R1 slowloris: a reply written in 1-byte segments with delays", async () => {
    const greeting = "220 slow\r\n";
    await withServer(
      { greeting: { reply: null, raw: greeting, segment: { bytes: 1, delayMs: 15 } } },
      async (srv) => {
        const c = await Raw.connect(srv.port);
        assert.deepEqual(await c.reply(), ["220 slow"]);
        c.close();
        await srv.idle();
        // Counted, not timed: one write per byte (how the client's reads grouped them depends on load).
        assert.deepEqual(srv.connections[0].writes, Array(greeting.length).fill(1));
        assert.equal(srv.connections[0].bytesSent, greeting.length);
      },
    );
  });

  test("R1 endless 250- lines: bounded by maxBytes, or stopped when the client closes", async () => {
    await withServer(
      {
        rules: [{
          on: "EHLO",
          reply: "250-mx",
          endless: { line: "250-x", maxBytes: 64 * 1024 },
          then: "close",
        }],
      },
      async (srv) => {
        const c = await Raw.connect(srv.port);
        await c.reply();
        c.send("EHLO client.test");
        assert.ok(await c.until(() => c.closed, 5000));
        assert.equal(c.buf.length, "250-mx\r\n".length + 64 * 1024);
        assert.match(c.buf, /^250-mx\r\n(250-x\r\n)+/);
        await srv.idle();
      },
    );
    await withServer(
      { rules: [{ on: "EHLO", endless: { line: "250-x", maxBytes: 1 << 30, intervalMs: 2 } }] },
      async (srv) => {
        const c = await Raw.connect(srv.port);
        await c.reply();
        c.send("EHLO client.test");
        assert.ok(await c.until(() => c.buf.length > 200));
        c.close();
        await srv.idle();
        const sent = srv.connections[0].bytesSent;
        await srv.connections[0].sessionEnded; // the writer loop has returned: no write can follow
        assert.equal(srv.connections[0].bytesSent, sent, "writer stopped after the client closed");
        assert.ok(sent < 1 << 30);
        assert.equal(srv.clientClosed, true);
      },
    );
  });

  test("implicit mode: TLS from the first byte, greeting after the handshake", async () => {
    await withServer({ mode: "implicit" }, async (srv) => {
      const c = await Raw.connectTls(srv.port);
      assert.deepEqual(await c.reply(), ["220 mx.hostile.test ESMTP hostile"]);
      const ehlo = await c.cmd("EHLO client.test");
      assert.ok(!ehlo.some((l) => l.includes("STARTTLS")));
      await c.cmd("QUIT");
      assert.ok(await c.until(() => c.closed));
      await srv.idle();
      assert.deepEqual(srv.received.beforeTls.lines, []);
      assert.deepEqual(srv.received.afterTls.lines, ["EHLO client.test", "QUIT"]);
      assert.equal(srv.tls?.version, "TLSv1.3");
    });
  });

  test("M2 implicit port: a plaintext client gets nothing", async () => {
    await withServer({ mode: "implicit" }, async (srv) => {
      const c = await Raw.connect(srv.port);
      c.send("EHLO client.test"); // a confused client talking anyway
      await srv.waitFor(() => srv.received.beforeTls.lines.length === 1, undefined, "the EHLO line recorded");
      c.close();
      await srv.idle();
      await srv.connections[0].sessionEnded;
      // Absence by count, not by waiting: over the whole connection the server wrote nothing.
      assert.equal(srv.connections[0].bytesSent, 0);
      assert.equal(c.buf, "");
      assert.deepEqual(srv.received.beforeTls.lines, ["EHLO client.test"]);
      assert.equal(srv.tls, null);
    });
  });

  test("silent mode: no greeting in clear; a TLS client gets a handshake and then silence", async () => {
    await withServer({ mode: "silent" }, async (srv) => {
      const c = await Raw.connect(srv.port);
      c.send("EHLO plain.test");
      await srv.waitFor(() => srv.connections[0]?.beforeTls.lines.length === 1, undefined, "the plain EHLO recorded");
      c.close();
      const t = await Raw.connectTls(srv.port);
      t.send("EHLO client.test");
      await srv.waitFor(() => srv.connections[1]?.afterTls.lines.length === 1, undefined, "the TLS EHLO recorded");
      t.close();
      await srv.idle();
      await Promise.all(srv.connections.map((k) => k.sessionEnded));
      // Absence by count: neither connection got a byte of application data, whatever the timing.
      assert.deepEqual(srv.connections.map((k) => k.bytesSent), [0, 0]);
      assert.equal(c.buf + t.buf, "");
      assert.equal(srv.connectionCount, 2);
      assert.deepEqual(srv.connections[1].afterTls.lines, ["EHLO client.test"]);
      assert.equal(srv.connections[1].tls?.version, "TLSv1.3");
    });
  });

  test("tls-silent mode: handshake completes, no greeting", async () => {
    await withServer({ mode: "tls-silent" }, async (srv) => {
      const t = await Raw.connectTls(srv.port);
      t.send("EHLO client.test");
      await srv.waitFor(() => srv.received.afterTls.lines.length === 1, undefined, "the EHLO recorded");
      t.close();
      await srv.idle();
      await srv.connections[0].sessionEnded;
      assert.equal(srv.connections[0].bytesSent, 0, "no greeting, no reply");
      assert.equal(t.buf, "");
      assert.ok(srv.tls);
    });
  });

  test("C7: TLS 1.2-only server; a client demanding TLS 1.3 fails and sends nothing", async () => {
    await withServer({ mode: "implicit", tls: { maxVersion: "TLSv1.2" } }, async (srv) => {
      const ok = await Raw.connectTls(srv.port);
      assert.match((await ok.reply())[0], /^220 /);
      ok.close();
      await assert.rejects(Raw.connectTls(srv.port, { minVersion: "TLSv1.3" }));
      await srv.idle();
      assert.equal(srv.connections[0].tls?.version, "TLSv1.2");
      assert.equal(srv.connections[1].tls, null);
      assert.ok(srv.connections[1].tlsError, "server saw the handshake fail");
      assert.deepEqual(srv.connections[1].afterTls.lines, []);
    });
  });

  test("C6: TLS 1.0/1.1-only server (real on Bun, protocol_version alert on Deno)", async () => {
    await withServer(
      { mode: "implicit", tls: { minVersion: "TLSv1", maxVersion: "TLSv1.1" } },
      async (srv) => {
        assert.equal(srv.info.legacyTlsEmulated, !legacyTlsServable);
        await assert.rejects(Raw.connectTls(srv.port)); // default client: TLS >= 1.2
        if (legacyTlsServable) {
          const old = await Raw.connectTls(srv.port, { minVersion: "TLSv1" });
          assert.match((await old.reply())[0], /^220 /);
          old.close();
        }
        await srv.idle();
        assert.equal(srv.connections[0].tls, null);
        if (legacyTlsServable) assert.equal(srv.connections[1].tls?.version, "TLSv1.1");
      },
    );
  });

  test("C9: client certificate required (STARTTLS): accepted with one, handshake fails without", async () => {
    await withServer({ tls: { requireClientCert: true } }, async (srv) => {
      for (const withCert of [true, false]) {
        const c = await Raw.connect(srv.port);
        await c.reply();
        await c.cmd("EHLO client.test");
        await c.cmd("STARTTLS");
        const opts = withCert ? { cert: pki.client.cert.pem, key: pki.client.key.pem } : {};
        if (withCert) {
          await c.startTls(opts);
          assert.match((await c.cmd("EHLO client.test"))[0], /^250-/);
        } else {
          // TLS 1.3: the client learns of the rejection after its Finished, on the first read.
          await c.startTls(opts).then(() => c.until(() => c.closed || !!c.error), () => {});
        }
        c.close();
      }
      await srv.idle();
      assert.equal(srv.connections[0].tls?.clientCert, "mailplan test client");
      assert.equal(srv.connections[1].tls, null);
      assert.ok(srv.connections[1].tlsError);
      assert.deepEqual(srv.connections[1].afterTls.lines, []);
    });
  });

  test("N6: 220 to STARTTLS then plaintext: the handshake fails on an SMTP line", async () => {
    await withServer({ rules: [{ on: "STARTTLS", starttls: "plaintext" }] }, async (srv) => {
      const c = await Raw.connect(srv.port);
      await c.reply();
      await c.cmd("EHLO client.test");
      await c.cmd("STARTTLS");
      await assert.rejects(c.startTls());
      c.close();
      await srv.idle();
      assert.equal(
        srv.received.beforeTls.bytes.includes(0x16),
        true,
        "ClientHello recorded in the plain phase",
      );
      assert.equal(srv.tls, null);
    });
  });

  test("C8: 220 to STARTTLS then silence: the handshake never completes", async () => {
    await withServer({ rules: [{ on: "STARTTLS", starttls: "silent" }] }, async (srv) => {
      const c = await Raw.connect(srv.port);
      await c.reply();
      await c.cmd("EHLO client.test");
      await c.cmd("STARTTLS");
      await assert.rejects(c.startTls({}, 300), /handshake timeout/);
      c.close();
      await srv.idle();
      assert.equal(srv.tls, null);
    });
  });

  test("N11: plaintext pipelined after STARTTLS is recorded in the plain phase, then TLS proceeds", async () => {
    await withServer({}, async (srv) => {
      const c = await Raw.connect(srv.port);
      await c.reply();
      await c.cmd("EHLO client.test");
      c.sock.write("STARTTLS\r\nAUTH PLAIN " + b64("\0me\0s3cret-pass") + "\r\n");
      await c.reply();
      c.close();
      await srv.idle();
      assert.equal(srv.sawAuth("plain"), true);
      assert.equal(srv.sawCredential("s3cret-pass", "plain"), true);
      assert.deepEqual(srv.connections[0].afterStartTlsPlain.lines, [
        "AUTH PLAIN " + b64("\0me\0s3cret-pass"),
      ]);
    });
  });

  test("rules: phase-specific EHLO (N9), nth RCPT (R6), reset after 354 (R5), hang, per connection", async () => {
    const scenario: Scenario = {
      rules: [
        { on: "EHLO", phase: "plain", reply: ["250-mx", "250-AUTH PLAIN", "250 STARTTLS"] },
        { on: "RCPT", nth: 1, reply: "450 4.2.0 try later" },
        { on: "RCPT", nth: 2, reply: "550 5.1.1 no such user" },
        { on: "DATA", conn: 1, then: "reset" },
        { on: "NOOP", reply: null, then: "hang" },
      ],
    };
    await withServer(scenario, async (srv) => {
      const c = await Raw.connect(srv.port);
      await c.reply();
      assert.deepEqual(await c.cmd("EHLO a"), ["250-mx", "250-AUTH PLAIN", "250 STARTTLS"]);
      await c.cmd("STARTTLS");
      await c.startTls();
      assert.equal((await c.cmd("EHLO a")).at(-1), "250 AUTH PLAIN LOGIN");
      await c.cmd("MAIL FROM:<a@x>");
      assert.deepEqual(await c.cmd("RCPT TO:<b@x>"), ["450 4.2.0 try later"]);
      assert.deepEqual(await c.cmd("RCPT TO:<c@x>"), ["550 5.1.1 no such user"]);
      assert.deepEqual(await c.cmd("RCPT TO:<d@x>"), ["250 2.1.5 Ok"]);
      c.send("DATA");
      assert.ok(await c.until(() => c.closed || !!c.error));
      assert.match(c.buf, /^354 /);
      c.close();

      const d = await Raw.connect(srv.port); // connection 2: DATA not reset, NOOP never answered
      await d.reply();
      await d.cmd("EHLO a");
      assert.match((await d.cmd("DATA"))[0], /^554 /, "no accepted recipient: no 354");
      const answered = srv.connections[1].bytesSent;
      d.send("NOOP");
      await srv.connections[1].sessionEnded; // "hang": the script stops after NOOP, so nothing more is written
      assert.equal(srv.connections[1].bytesSent, answered, "NOOP was not answered");
      d.send("QUIT"); // recorded, not answered
      await srv.waitFor(() => srv.received.beforeTls.lines.includes("QUIT"), undefined, "QUIT recorded");
      assert.equal(srv.connections[1].bytesSent, answered, "QUIT was not answered");
      d.close();
      await srv.idle();
      assert.equal(srv.connectionCount, 2);
      assert.equal(srv.connections[0].endedBy, "server");
      assert.equal(srv.connections[1].endedBy, "client");
    });
  });

  test("AUTH: LOGIN default exchange; endless 334 challenges (R7) are counted as SASL lines", async () => {
    await withServer({ rules: [{ on: "SASL", conn: 2, reply: "334 bW9yZQ==" }] }, async (srv) => {
      const c = await Raw.connect(srv.port);
      await c.reply();
      assert.deepEqual(await c.cmd("AUTH LOGIN"), ["334 VXNlcm5hbWU6"]);
      assert.deepEqual(await c.cmd(b64("me")), ["334 UGFzc3dvcmQ6"]);
      assert.deepEqual(await c.cmd(b64("s3cret-pass")), ["235 2.7.0 Authentication successful"]);
      assert.deepEqual(await c.cmd("AUTH LOGIN " + b64("me")), ["334 UGFzc3dvcmQ6"]);
      assert.deepEqual(await c.cmd(b64("wrong")), ["535 5.7.8 Error: authentication failed"]);
      assert.deepEqual(await c.cmd("AUTH PLAIN"), ["334 "]);
      assert.deepEqual(await c.cmd("*"), ["501 5.7.0 Authentication aborted"]);
      c.close();
      const d = await Raw.connect(srv.port); // connection 2: the challenges never end
      await d.reply();
      assert.deepEqual(await d.cmd("AUTH LOGIN"), ["334 VXNlcm5hbWU6"]);
      for (let i = 0; i < 5; i++) assert.deepEqual(await d.cmd(b64("x")), ["334 bW9yZQ=="]);
      d.close();
      await srv.idle();
      assert.deepEqual(srv.received.authLines.length, 7 + 6);
      assert.equal(srv.connections[1].commands.filter((k) => k.verb === "SASL").length, 5);
      assert.equal(srv.sawCredential("s3cret-pass", "plain"), true);
    });
  });

  test("sawCredential: raw, base64, inside PLAIN and XOAUTH2 blobs at any alignment", () => {
    const pw = "hunter2!";
    assert.ok(containsCredential(`PASS ${pw}\r\n`, pw));
    assert.ok(containsCredential(b64(pw) + "\r\n", pw));
    for (const authz of ["", "a", "ab", "abc"]) {
      assert.ok(containsCredential(`AUTH PLAIN ${b64(`${authz}\0user\0${pw}`)}\r\n`, pw), authz);
    }
    assert.ok(containsCredential(`AUTH XOAUTH2 ${b64(`user=u\x01auth=Bearer ${pw}\x01\x01`)}\r\n`, pw));
    assert.equal(containsCredential(`AUTH PLAIN ${b64("\0user\0other")}\r\n`, pw), false);
  });

  test("close() leaves nothing listening; unclosed servers are reported", async () => {
    const srv = await startHostile({ mode: "implicit" });
    const c = await Raw.connect(srv.port);
    await srv.waitFor(() => srv.connectionCount === 1);
    assert.ok(openHostileServers().includes(srv));
    assert.throws(() => assertAllHostileClosed(), /was not closed/);
    await srv.close();
    assert.ok(await c.until(() => c.closed));
    assert.equal(openHostileServers().includes(srv), false);
    await assert.rejects(
      Raw.connect(srv.port),
      (e: Error & { code?: string }) => /ECONNREFUSED/.test(e.code ?? e.message),
    );
    assert.equal(srv.clientClosed, false, "the server, not the client, ended it");
    await srv.close(); // idempotent

    const forgotten = await startHostile({ maxLifetimeMs: 50 });
    const origError = console.error;
    console.error = () => {};
    try {
      await forgotten.waitFor(() => !openHostileServers().includes(forgotten), 20_000, "guard");
    } finally {
      console.error = origError;
    }
    assert.throws(() => assertAllHostileClosed(), /still open after 50 ms/);
    assertAllHostileClosed(); // reported once
  });
});
