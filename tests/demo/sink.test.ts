/**
 * The demo sink, driven by hand over raw node:net / node:tls sockets: both ports, STARTTLS rules,
 * AUTH, byte-exact storage, pipelining, STARTTLS injection, bounds, and a clean close().
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sink, startSink } from "../../lib/demo/sink.ts";
import { b64, Client } from "./client.ts";

let sink: Sink;
const outDir = mkdtempSync(join(tmpdir(), "mailplan-demo-sink-"));
before(async () => {
  sink = await startSink({ outDir });
});
after(async () => {
  await sink.close();
  rmSync(outDir, { recursive: true, force: true });
});

/** Plaintext connect, EHLO, STARTTLS, upgrade, EHLO again: a client ready for AUTH/MAIL. */
async function upgraded(): Promise<Client> {
  const c = await Client.plain(sink.ports.starttls);
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd("EHLO client.test")).code, 250);
  assert.equal((await c.cmd("STARTTLS")).code, 220);
  await c.startTls(sink.ca);
  return c;
}

/** The last stored message and its bytes. */
function last() {
  const all = sink.received();
  const m = all[all.length - 1];
  return { m, bytes: readFileSync(m.path) };
}

describe("demo sink: STARTTLS port", () => {
  test("greets in clear, offers STARTTLS and no AUTH before TLS", async () => {
    const c = await Client.plain(sink.ports.starttls);
    const greeting = await c.reply();
    assert.equal(greeting.code, 220);
    assert.match(greeting.lines[0], /^localhost ESMTP/);
    const ehlo = await c.cmd("EHLO client.test");
    assert.equal(ehlo.code, 250);
    assert.deepEqual(ehlo.lines.slice(1), [
      "PIPELINING",
      "SIZE 10485760",
      "8BITMIME",
      "SMTPUTF8",
      "ENHANCEDSTATUSCODES",
      "STARTTLS",
    ]);
    assert.equal((await c.cmd("HELO client.test")).code, 250);
    assert.equal((await c.cmd("QUIT")).code, 221);
    await c.closed();
  });

  test("MAIL and AUTH are refused until STARTTLS (530), the session stays usable", async () => {
    const c = await Client.plain(sink.ports.starttls);
    await c.reply();
    await c.cmd("EHLO client.test");
    const mail = await c.cmd("MAIL FROM:<a@client.test>");
    assert.equal(mail.code, 530);
    assert.match(mail.lines[0], /^5\.7\.0 Must issue a STARTTLS command first/);
    assert.equal((await c.cmd("AUTH PLAIN " + b64("\0demo\0demo"))).code, 530);
    assert.equal((await c.cmd("RCPT TO:<b@client.test>")).code, 503);
    assert.equal((await c.cmd("DATA")).code, 503);
    assert.equal((await c.cmd("NOOP")).code, 250);
    assert.equal((await c.cmd("STARTTLS")).code, 220);
    await c.startTls(sink.ca);
    assert.equal((await c.cmd("EHLO client.test")).code, 250);
    assert.equal((await c.cmd("MAIL FROM:<a@client.test>")).code, 250);
    c.destroy();
  });

  test("after the upgrade: no new greeting, EHLO required, AUTH offered, STARTTLS not", async () => {
    const c = await upgraded();
    assert.equal((await c.cmd("MAIL FROM:<a@client.test>")).code, 503); // EHLO first: state was reset
    const ehlo = await c.cmd("EHLO client.test");
    assert.ok(ehlo.lines.includes("AUTH PLAIN LOGIN"));
    assert.ok(!ehlo.lines.includes("STARTTLS"));
    assert.equal((await c.cmd("STARTTLS")).code, 503);
    c.destroy();
  });

  test("full exchange: STARTTLS + AUTH PLAIN + one message to two recipients", async () => {
    const c = await upgraded();
    const tlsSocket = c.socket as import("node:tls").TLSSocket;
    assert.equal(tlsSocket.authorized, true);
    await c.cmd("EHLO client.test");
    const auth = await c.cmd("AUTH PLAIN " + b64(`\0${sink.user}\0${sink.password}`));
    assert.deepEqual([auth.code, auth.lines[0]], [235, "2.7.0 Authentication successful"]);
    assert.equal((await c.cmd("AUTH PLAIN " + b64("\0demo\0demo"))).code, 503);
    assert.equal((await c.cmd("MAIL FROM:<alice@client.test> SIZE=40 BODY=8BITMIME")).code, 250);
    assert.equal((await c.cmd("RCPT TO:<bob@example.test>")).code, 250);
    assert.equal((await c.cmd("RCPT TO:<carol@example.test> NOTIFY=NEVER")).code, 250);
    assert.equal((await c.cmd("DATA")).code, 354);
    const done = await c.cmd("Subject: hi\r\n\r\nhello\r\n.");
    assert.equal(done.code, 250);
    const { m, bytes } = last();
    assert.equal(done.lines[0], `2.0.0 Ok: queued as ${m.n}`);
    assert.equal(bytes.toString(), "Subject: hi\r\n\r\nhello\r\n");
    assert.equal(m.path, join(outDir, `${m.n}.eml`));
    assert.equal(m.port, "starttls");
    assert.equal(m.helo, "client.test");
    assert.equal(m.mailFrom, "alice@client.test");
    assert.deepEqual(m.rcptTo, ["bob@example.test", "carol@example.test"]);
    assert.equal(m.authUser, "demo");
    assert.equal(m.tls.version, tlsSocket.getProtocol());
    assert.equal(m.tls.cipher, tlsSocket.getCipher().name);
    assert.equal(m.size, bytes.length);
    assert.equal((await c.cmd("QUIT")).code, 221);
    await c.closed();
  });

  test("AUTH LOGIN (with and without an initial response) and wrong credentials", async () => {
    const c = await upgraded();
    await c.cmd("EHLO client.test");
    assert.deepEqual(await c.cmd("AUTH LOGIN"), { code: 334, lines: ["VXNlcm5hbWU6"] });
    assert.deepEqual(await c.cmd(b64("demo")), { code: 334, lines: ["UGFzc3dvcmQ6"] });
    assert.equal((await c.cmd(b64("nope"))).code, 535);
    assert.equal((await c.cmd("AUTH LOGIN " + b64("demo"))).code, 334);
    assert.equal((await c.cmd("*")).code, 501); // cancelled
    assert.equal((await c.cmd("AUTH PLAIN")).code, 334);
    assert.equal((await c.cmd("not base64!")).code, 501);
    assert.equal((await c.cmd("AUTH CRAM-MD5")).code, 504);
    assert.equal((await c.cmd("AUTH LOGIN " + b64("demo"))).code, 334);
    assert.equal((await c.cmd(b64("demo"))).code, 235);
    c.destroy();
  });

  test("requireAuth: MAIL refused until AUTH", async () => {
    const strict = await startSink({
      requireAuth: true,
      user: "u",
      password: "p",
      outDir: join(outDir, "strict"),
    });
    try {
      const c = await Client.implicit(strict.ports.implicit, strict.ca);
      await c.reply();
      await c.cmd("EHLO client.test");
      assert.equal((await c.cmd("MAIL FROM:<a@client.test>")).code, 530);
      assert.equal((await c.cmd("AUTH PLAIN " + b64("\0demo\0demo"))).code, 535);
      assert.equal((await c.cmd("AUTH PLAIN " + b64("u\0u\0p"))).code, 235);
      assert.equal((await c.cmd("MAIL FROM:<a@client.test>")).code, 250);
      c.destroy();
    } finally {
      await strict.close();
    }
  });
});

describe("demo sink: implicit-TLS port", () => {
  test("TLS from the first byte, greeting inside TLS, AUTH offered, one message", async () => {
    const c = await Client.implicit(sink.ports.implicit, sink.ca);
    const tlsSocket = c.socket as import("node:tls").TLSSocket;
    assert.equal(tlsSocket.authorized, true);
    assert.equal((await c.reply()).code, 220);
    const ehlo = await c.cmd("EHLO client.test");
    assert.ok(ehlo.lines.includes("AUTH PLAIN LOGIN"));
    assert.ok(!ehlo.lines.includes("STARTTLS"));
    assert.equal((await c.cmd("MAIL FROM:<>")).code, 250); // null reverse path
    assert.equal((await c.cmd("RCPT TO:<postmaster@example.test>")).code, 250);
    assert.equal((await c.cmd("DATA")).code, 354);
    assert.equal((await c.cmd("Subject: bounce\r\n\r\nbody\r\n.")).code, 250);
    const { m, bytes } = last();
    assert.equal(bytes.toString(), "Subject: bounce\r\n\r\nbody\r\n");
    assert.equal(m.port, "implicit");
    assert.equal(m.mailFrom, "");
    assert.equal(m.authUser, null);
    assert.equal(m.tls.version, tlsSocket.getProtocol());
    assert.match(m.tls.version ?? "", /^TLSv1\.[23]$/);
    assert.equal((await c.cmd("QUIT")).code, 221);
    await c.closed();
  });

  test("the pin matches the certificate the server presents", async () => {
    const c = await Client.implicit(sink.ports.implicit, sink.ca);
    const cert = (c.socket as import("node:tls").TLSSocket).getPeerX509Certificate?.();
    if (cert) {
      const { createHash } = await import("node:crypto");
      const spki = cert.publicKey.export({ type: "spki", format: "der" });
      assert.equal("sha256/" + createHash("sha256").update(spki).digest("base64"), sink.pin);
    }
    c.destroy();
  });
});

describe("demo sink: message bytes", () => {
  test("stored byte for byte after dot-unstuffing (8-bit, UTF-8, dots, bare LF, long line, split writes)", async () => {
    const original = Buffer.concat([
      Buffer.from("From: =?utf-8?q?J=C3=B6rg?= <j@client.test>\r\nSubject: Grüße ✉\r\n\r\n", "utf8"),
      Buffer.from(".leading dot\r\n..two dots\r\n.\r\n \r\n", "utf8"), // "." alone inside the body is stuffed too
      Buffer.from([0xe9, 0x80, 0xff, 0x00, 0x0d, 0x0a]), // raw 8-bit, NUL
      Buffer.from("bare\nLF and a lone CR\r in a line\r\n", "latin1"),
      Buffer.from("x".repeat(5000) + "\r\n"),
      Buffer.from("last line without dot\r\n"),
    ]);
    // Dot-stuff as a client must: every line starting with "." gets one more.
    const stuffed = Buffer.from(
      original.toString("latin1").replace(/(^|\n)\./g, "$1.."),
      "latin1",
    );
    const c = await upgraded();
    await c.cmd("EHLO client.test");
    await c.cmd("MAIL FROM:<j@client.test> BODY=8BITMIME SMTPUTF8");
    await c.cmd("RCPT TO:<jörg@example.test>");
    assert.equal((await c.cmd("DATA")).code, 354);
    // Dribble the first 300 bytes one at a time, then the rest in odd-sized pieces.
    const wire = Buffer.concat([stuffed, Buffer.from(".\r\n")]);
    for (let i = 0; i < wire.length;) {
      const n = i < 300 ? 1 : 777;
      c.write(wire.subarray(i, i + n));
      i += n;
      if (i < 300) await new Promise((r) => setTimeout(r, 0));
    }
    assert.equal((await c.reply()).code, 250);
    const { m, bytes } = last();
    assert.ok(bytes.equals(original), "the .eml differs from the message sent");
    assert.equal(m.size, original.length);
    assert.deepEqual(m.rcptTo, ["jörg@example.test"]);
    c.destroy();
  });

  test("files are numbered 1.eml, 2.eml, … in the output folder", () => {
    const all = sink.received();
    assert.ok(all.length >= 2);
    all.forEach((m, i) => {
      assert.equal(m.n, i + 1);
      assert.ok(existsSync(join(outDir, `${i + 1}.eml`)));
    });
  });

  test("an output folder with earlier messages: numbering continues, nothing is overwritten", async () => {
    const dir = join(outDir, "reused");
    mkdirSync(dir);
    writeFileSync(join(dir, "7.eml"), "old");
    writeFileSync(join(dir, "notes.txt"), "x");
    const again = await startSink({ outDir: dir });
    try {
      const c = await Client.implicit(again.ports.implicit, again.ca);
      await c.reply();
      await c.cmd("EHLO client.test");
      await c.cmd("MAIL FROM:<a@client.test>");
      await c.cmd("RCPT TO:<b@example.test>");
      await c.cmd("DATA");
      assert.deepEqual(await c.cmd("new\r\n."), { code: 250, lines: ["2.0.0 Ok: queued as 8"] });
      assert.equal(readFileSync(join(dir, "7.eml"), "utf8"), "old");
      assert.equal(readFileSync(join(dir, "8.eml"), "utf8"), "new\r\n");
      assert.equal(again.received()[0].n, 8);
      c.destroy();
    } finally {
      await again.close();
    }
  });

  test("a message over maxSize is refused with 552 and not stored; the session goes on", async () => {
    const small = await startSink({ maxSize: 100, outDir: join(outDir, "small") });
    try {
      const c = await Client.implicit(small.ports.implicit, small.ca);
      await c.reply();
      assert.match((await c.cmd("EHLO client.test")).lines.join("\n"), /SIZE 100/);
      assert.equal((await c.cmd("MAIL FROM:<a@client.test> SIZE=101")).code, 552);
      await c.cmd("MAIL FROM:<a@client.test>");
      await c.cmd("RCPT TO:<b@example.test>");
      await c.cmd("DATA");
      assert.equal((await c.cmd("y".repeat(200) + "\r\n.")).code, 552);
      assert.equal(small.received().length, 0);
      assert.equal((await c.cmd("NOOP")).code, 250);
      c.destroy();
    } finally {
      await small.close();
    }
  });
});

describe("demo sink: pipelining and injection", () => {
  test("pipelined commands (one write) are answered in order, in clear and in TLS", async () => {
    const c = await Client.plain(sink.ports.starttls);
    await c.reply();
    c.write("EHLO client.test\r\nNOOP\r\nMAIL FROM:<a@client.test>\r\nBOGUS\r\nRSET\r\n");
    assert.equal((await c.reply()).lines.length, 7); // EHLO: greeting line + 6 extensions
    assert.deepEqual((await Promise.all([c.reply(), c.reply(), c.reply(), c.reply()])).map((r) => r.code), [
      250,
      530,
      500,
      250,
    ]);
    assert.equal((await c.cmd("STARTTLS")).code, 220);
    await c.startTls(sink.ca);
    c.write(
      "EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:bad\r\n" +
        "RCPT TO:<c@example.test>\r\nDATA\r\n",
    );
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await c.reply()).code);
    assert.deepEqual(codes, [250, 250, 250, 501, 250, 354]);
    // Message, end, and the next transaction in one write.
    c.write("Subject: p\r\n\r\npipelined\r\n.\r\nRSET\r\nMAIL FROM:<x@client.test>\r\nNOOP\r\nQUIT\r\n");
    const after: number[] = [];
    for (let i = 0; i < 5; i++) after.push((await c.reply()).code);
    assert.deepEqual(after, [250, 250, 250, 250, 221]);
    const { m, bytes } = last();
    assert.equal(bytes.toString(), "Subject: p\r\n\r\npipelined\r\n");
    assert.deepEqual(m.rcptTo, ["b@example.test", "c@example.test"]);
    await c.closed();
  });

  test("plaintext sent after STARTTLS (same write) is discarded, not run inside TLS", async () => {
    const before = sink.received().length;
    const c = await Client.plain(sink.ports.starttls);
    await c.reply();
    await c.cmd("EHLO client.test");
    // An attacker's (or a broken client's) commands riding behind STARTTLS:
    c.write("STARTTLS\r\nEHLO evil\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<victim@example.test>\r\n");
    assert.deepEqual(await c.reply(), { code: 220, lines: ["2.0.0 Ready to start TLS"] });
    // No waiting for an absence: a stray plaintext reply already here fails now, and one arriving
    // later lands in the TLS handshake and fails it; one sent inside TLS breaks the 503s below.
    assert.equal(c.pending(), "");
    await c.startTls(sink.ca); // would fail if the server had answered anything in clear
    // Nothing from the injected lines survived: no EHLO, no MAIL.
    assert.equal((await c.cmd("RCPT TO:<x@example.test>")).code, 503);
    assert.equal((await c.cmd("MAIL FROM:<a@client.test>")).code, 503); // EHLO first
    await c.cmd("EHLO client.test");
    assert.equal((await c.cmd("RCPT TO:<x@example.test>")).code, 503); // still no MAIL
    assert.equal(sink.received().length, before);
    c.destroy();
  });
});

describe("demo sink: bounds and close()", () => {
  test("an over-long command line gets 500 and the connection is closed", async () => {
    const c = await Client.plain(sink.ports.starttls);
    await c.reply();
    c.write("NOOP " + "A".repeat(5000)); // no line end at all
    const r = await c.reply();
    assert.equal(r.code, 500);
    assert.match(r.lines[0], /Line too long/);
    await c.closed();
  });

  test("an idle connection gets 421 and is closed, in clear, after STARTTLS and on implicit TLS", async () => {
    const idle = await startSink({ idleMs: 150, outDir: join(outDir, "idle") });
    try {
      const plain = await Client.plain(idle.ports.starttls);
      await plain.reply();
      const upgraded = await Client.plain(idle.ports.starttls);
      await upgraded.reply();
      await upgraded.cmd("STARTTLS");
      await upgraded.startTls(idle.ca);
      const implicit = await Client.implicit(idle.ports.implicit, idle.ca);
      await implicit.reply();
      for (const c of [plain, upgraded, implicit]) {
        assert.deepEqual(await c.reply(), { code: 421, lines: ["4.4.2 Idle timeout, closing"] });
        await c.closed();
      }
    } finally {
      await idle.close();
    }
  });

  test("a TLS handshake failure on either port leaves the sink serving", async () => {
    const { generateDemoPki } = await import("../../lib/demo/pki.ts");
    const otherCa = generateDemoPki().ca;
    await assert.rejects(Client.implicit(sink.ports.implicit, otherCa));
    const c = await Client.plain(sink.ports.starttls);
    await c.reply();
    await c.cmd("STARTTLS");
    await assert.rejects(c.startTls(otherCa));
    const ok = await Client.implicit(sink.ports.implicit, sink.ca);
    assert.equal((await ok.reply()).code, 220);
    ok.destroy();
  });

  test("close() drops open connections and leaves nothing listening on either port", async () => {
    const s = await startSink({ outDir: join(outDir, "closing") });
    const open1 = await Client.plain(s.ports.starttls);
    await open1.reply();
    const open2 = await Client.implicit(s.ports.implicit, s.ca);
    await open2.reply();
    const open3 = await Client.plain(s.ports.starttls);
    await open3.reply();
    await open3.cmd("STARTTLS");
    await open3.startTls(s.ca);
    await s.close();
    await Promise.all([open1.closed(), open2.closed(), open3.closed()]);
    for (const port of [s.ports.starttls, s.ports.implicit]) {
      const err = await new Promise<string>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
          socket.destroy();
          resolve("connected");
        });
        socket.once("error", (e: Error & { code?: string }) => resolve(e.code ?? e.message));
      });
      assert.equal(err, "ECONNREFUSED", `port ${port}`);
    }
  });

  test("fixed ports are honoured; a busy port rejects startSink and frees the other", async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const busy = (probe.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startSink({ implicitPort: busy, outDir: join(outDir, "busy") }),
        /EADDRINUSE|in use/i,
      );
    } finally {
      await new Promise((r) => probe.close(r));
    }
    const s = await startSink({ starttlsPort: busy, outDir: join(outDir, "fixed") });
    assert.equal(s.ports.starttls, busy);
    await s.close();
  });
});

describe("demo sink: STARTTLS with the runtime's native client", () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();

  if ("Deno" in globalThis) {
    test("Deno.connect + Deno.startTls (rustls) upgrades and sends", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: sink.ports.starttls });
      conn.setNoDelay(true);
      let text = "";
      const buf = new Uint8Array(4096);
      const until = async (c: Deno.Conn, re: RegExp) => {
        while (!re.test(text)) {
          const n = await c.read(buf);
          if (n === null) throw new Error(`EOF after ${JSON.stringify(text)}`);
          text += dec.decode(buf.subarray(0, n));
        }
      };
      await until(conn, /^220 .*\r\n/m);
      await conn.write(enc.encode("EHLO native.test\r\n"));
      await until(conn, /^250 STARTTLS\r\n/m);
      await conn.write(enc.encode("STARTTLS\r\n"));
      await until(conn, /^220 2\.0\.0 .*\r\n/m);
      const secure = await Deno.startTls(conn, { hostname: "localhost", caCerts: [sink.ca] });
      text = "";
      await secure.write(
        enc.encode("EHLO native.test\r\nAUTH PLAIN " + b64("\0demo\0demo") + "\r\nQUIT\r\n"),
      );
      await until(secure, /^221 /m);
      assert.match(text, /^250 AUTH PLAIN LOGIN\r\n235 2\.7\.0 .*\r\n221 /m);
      secure.close();
    });
  }

  interface BunSocket {
    write(data: string): number;
    end(): void;
    upgradeTLS(o: unknown): [BunSocket, BunSocket];
  }
  const bun = (globalThis as { Bun?: { connect(o: unknown): Promise<BunSocket> } }).Bun;
  if (bun) {
    test("Bun.connect + upgradeTLS (BoringSSL) upgrades and sends", async () => {
      let text = "";
      let wake = () => {};
      const until = async (re: RegExp) => {
        while (!re.test(text)) await new Promise<void>((r) => (wake = r));
      };
      let upgraded = false;
      const raw = await bun.connect({
        hostname: "127.0.0.1",
        port: sink.ports.starttls,
        socket: {
          data(_s: unknown, d: Uint8Array) {
            if (upgraded) return; // after upgradeTLS the old handler sees ciphertext
            text += dec.decode(d);
            wake();
          },
        },
      });
      await until(/^220 .*\r\n/m);
      raw.write("EHLO native.test\r\n");
      await until(/^250 STARTTLS\r\n/m);
      raw.write("STARTTLS\r\n");
      await until(/^220 2\.0\.0 .*\r\n/m);
      upgraded = true;
      text = "";
      let authorized = false;
      const [, secure] = raw.upgradeTLS({
        tls: { ca: sink.ca, serverName: "localhost" },
        socket: {
          data(_s: unknown, d: Uint8Array) {
            text += dec.decode(d);
            wake();
          },
          handshake(s: { authorized: boolean }) {
            authorized = s.authorized;
            text += "<handshake>";
            wake();
          },
        },
      });
      await until(/<handshake>/);
      assert.equal(authorized, true);
      secure.write("EHLO native.test\r\nAUTH PLAIN " + b64("\0demo\0demo") + "\r\nQUIT\r\n");
      await until(/^221 /m);
      assert.match(text, /^250 AUTH PLAIN LOGIN\r\n235 2\.7\.0 .*\r\n221 /m);
      secure.end();
    });
  }
});
