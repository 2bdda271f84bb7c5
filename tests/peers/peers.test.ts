// Harness check of the real SMTP peers (Postfix, smtp-server under Node): raw SMTP over loopback by hand.
// Runs under `bun test tests/peers` and `deno test -A tests/peers`.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { type PostfixPeer, requirePostfix, startPostfix } from "./postfix.ts";
import { type SmtpServerPeer, startSmtpServerPeer } from "./smtp-server.ts";

// ---------------------------------------------------------------- a minimal SMTP client over node:net/tls
interface Reply {
  code: number;
  lines: string[];
}

class Smtp {
  private buf = "";
  private waiter: (() => void) | undefined;
  private closed = false;
  private constructor(public sock: net.Socket) {
    this.attach();
  }
  private attach() {
    this.sock.setEncoding("latin1");
    this.sock.on("data", (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    this.sock.on("close", () => {
      this.closed = true;
      this.waiter?.();
    });
    this.sock.on("error", () => {});
  }
  static plain(port: number): Promise<Smtp> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => resolve(new Smtp(s)));
      s.once("error", reject);
    });
  }
  static tls(port: number, ca: string, extra: tls.ConnectionOptions = {}): Promise<Smtp> {
    return new Promise((resolve, reject) => {
      const s = tls.connect(
        { host: "127.0.0.1", port, servername: "localhost", ca, ...extra },
        () => resolve(new Smtp(s)),
      );
      s.once("error", reject);
    });
  }
  /** bytes received so far that no reply() consumed */
  get pending(): string {
    return this.buf;
  }
  async reply(timeoutMs = 30_000): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\r\n]*\r\n)*(\d{3})(?: [^\r\n]*)?\r\n/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        return { code: Number(m[1]), lines: m[0].trimEnd().split("\r\n").map((l) => l.slice(4)) };
      }
      if (this.closed) throw new Error(`connection closed; unparsed: ${JSON.stringify(this.buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SMTP reply within ${timeoutMs} ms; got ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = undefined;
    }
  }
  send(data: string) {
    this.sock.write(data, "latin1");
  }
  cmd(line: string): Promise<Reply> {
    this.send(line + "\r\n");
    return this.reply();
  }
  async ehlo(): Promise<string[]> {
    const r = await this.cmd("EHLO client.example.test");
    assert.equal(r.code, 250, r.lines.join("\n"));
    return r.lines.slice(1).map((l) => l.toUpperCase());
  }
  /** STARTTLS, handshake verifying `ca` for the name localhost; afterwards the session runs over TLS */
  async starttls(ca: string, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const r = await this.cmd("STARTTLS");
    assert.equal(r.code, 220, r.lines.join("\n"));
    const raw = this.sock;
    raw.removeAllListeners("data");
    raw.removeAllListeners("close");
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: raw, servername: "localhost", ca, ...extra }, () => resolve(s));
      s.once("error", reject);
    });
    this.sock = secure;
    this.buf = "";
    this.attach();
    return secure;
  }
  async quit() {
    if (!this.closed) {
      try {
        await this.cmd("QUIT");
      } catch { /* closed already */ }
    }
    this.sock.destroy();
  }
}

/**
 * True when a port speaks TLS first (implicit TLS): a plaintext client that talks anyway gets no
 * SMTP greeting or reply, only the connection closed (maybe after a TLS alert). Decided on events
 * (the server's bytes, its close), never by waiting a while for an absence: a port that greets in
 * clear sends "220" before it could close, and one that answers plaintext never closes (the
 * test's own timeout then fails it).
 */
function speaksTlsFirst(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    s.once("connect", () => s.write("EHLO client.example.test\r\n"));
    s.once("error", (e: Error & { code?: string }) => (e.code === "ECONNRESET" ? undefined : reject(e)));
    s.once("close", () => resolve(!/^\d{3}[ -]/.test(Buffer.concat(chunks).toString("latin1"))));
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.once("error", () => resolve(true));
  });
}

/** pid alive and not a zombie */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** live processes whose environment holds `entry` (Postfix exports MAIL_CONFIG to the master and children) */
function processesWithEnv(entry: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, "latin1").split("\0").includes(entry) && running(Number(p))) {
        pids.push(Number(p));
      }
    } catch { /* gone or not ours */ }
  }
  return pids;
}

const b64 = (s: string) => btoa(s);
const lf = (s: string) => s.replace(/\r\n/g, "\n");

function message(id: string): string {
  return [
    `From: Mailplan Test <sender@example.test>`,
    `To: <rcpt@example.test>`,
    `Subject: peers harness ${id}`,
    `Message-ID: <${id}@mailplan.test>`,
    `Date: Thu, 26 Nov 2026 08:00:00 +0000`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=us-ascii`,
    ``,
    `first line`,
    `.a line starting with a dot (dot-stuffed on the wire)`,
    `last line`,
    ``,
  ].join("\r\n");
}

/** MAIL/RCPT/DATA of `msg` (CRLF text ending in CRLF) on an authenticated session; returns the final reply */
async function sendMessage(c: Smtp, msg: string): Promise<Reply> {
  assert.equal((await c.cmd("MAIL FROM:<sender@example.test>")).code, 250);
  assert.equal((await c.cmd("RCPT TO:<rcpt@example.test>")).code, 250);
  assert.equal((await c.cmd("DATA")).code, 354);
  c.send(msg.replace(/^\./gm, "..") + ".\r\n");
  return c.reply();
}

// ---------------------------------------------------------------- Postfix
describe("postfix peer", () => {
  let pf: PostfixPeer;
  let pf2: PostfixPeer;
  let ca: string;

  before(async () => {
    requirePostfix();
    [pf, pf2] = await Promise.all([startPostfix(), startPostfix()]); // start.sh must be safe in parallel
    ca = readFileSync(pf.ca, "utf8");
  });
  after(async () => {
    await pf?.stop();
    await pf2?.stop();
  });

  it("two parallel starts get separate dirs, ports and banners", async () => {
    assert.notEqual(pf.dir, pf2.dir);
    const all = [...Object.values(pf.ports), ...Object.values(pf2.ports)];
    assert.equal(new Set(all).size, 6, `ports overlap: ${all}`);
    for (const p of [pf, pf2]) {
      const c = await Smtp.plain(p.ports.plain);
      assert.match((await c.reply()).lines[0], new RegExp(`^mail\\.example\\.test ESMTP test-${p.runId}$`));
      await c.quit();
      // No bound on p.startMs: start-up time depends on the machine's load, not on correctness.
    }
    await pf2.stop();
    assert.ok(!existsSync(pf2.dir));
  });

  it("implicit-TLS port: silent before TLS; after it greets, EHLO offers AUTH PLAIN LOGIN", async () => {
    assert.ok(await speaksTlsFirst(pf.ports.implicit), "implicit-TLS port spoke SMTP before the TLS handshake");
    const c = await Smtp.tls(pf.ports.implicit, ca);
    assert.ok((c.sock as tls.TLSSocket).authorized);
    const g = await c.reply();
    assert.equal(g.code, 220);
    assert.ok(g.lines[0].includes(`test-${pf.runId}`));
    const caps = await c.ehlo();
    assert.ok(caps.includes("AUTH PLAIN LOGIN"), caps.join());
    assert.ok(!caps.includes("STARTTLS"));
    assert.ok(
      caps.includes("PIPELINING") && caps.includes("8BITMIME") && caps.includes("SMTPUTF8"),
      caps.join(),
    );
    await c.quit();
  });

  it("STARTTLS port: STARTTLS offered, no AUTH and MAIL refused before TLS; AUTH offered after", async () => {
    const c = await Smtp.plain(pf.ports.starttls);
    assert.equal((await c.reply()).code, 220);
    let caps = await c.ehlo();
    assert.ok(caps.includes("STARTTLS"), caps.join());
    assert.ok(!caps.some((l) => l.startsWith("AUTH")), caps.join());
    const mail = await c.cmd("MAIL FROM:<sender@example.test>");
    assert.equal(mail.code, 530);
    assert.match(mail.lines[0], /Must issue a STARTTLS command first/);
    const s = await c.starttls(ca);
    assert.ok(s.authorized);
    caps = await c.ehlo();
    assert.ok(caps.includes("AUTH PLAIN LOGIN"), caps.join());
    assert.ok(!caps.includes("STARTTLS"));
    // AUTH is required before RCPT
    assert.equal((await c.cmd("MAIL FROM:<sender@example.test>")).code, 250);
    assert.equal((await c.cmd("RCPT TO:<rcpt@example.test>")).code, 554);
    await c.quit();
  });

  it("plain port: STARTTLS offered, no AUTH before or after TLS", async () => {
    const c = await Smtp.plain(pf.ports.plain);
    assert.equal((await c.reply()).code, 220);
    let caps = await c.ehlo();
    assert.ok(caps.includes("STARTTLS"), caps.join());
    assert.ok(!caps.some((l) => l.startsWith("AUTH")));
    await c.starttls(ca);
    caps = await c.ehlo();
    assert.ok(!caps.some((l) => l.startsWith("AUTH")), caps.join());
    await c.quit();
  });

  it("AUTH PLAIN over implicit TLS, one message: it lands in the Maildir as sent", async () => {
    const id = `pf-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const msg = message(id);
    const c = await Smtp.tls(pf.ports.implicit, ca);
    assert.equal((await c.reply()).code, 220);
    await c.ehlo();
    const auth = await c.cmd(`AUTH PLAIN ${b64(`\0${pf.user}\0${pf.password}`)}`);
    assert.equal(auth.code, 235, auth.lines.join());
    const done = await sendMessage(c, msg);
    assert.equal(done.code, 250);
    assert.match(done.lines[0], /queued as/);
    await c.quit();

    const got = (await pf.readMaildir({ count: 1 })).find((m) =>
      new TextDecoder().decode(m.bytes).includes(`<${id}@`)
    );
    assert.ok(got, "message not in the Maildir");
    const text = new TextDecoder().decode(got.bytes);
    // Maildir files use LF; Postfix prepends only its trace headers, the rest is the message as sent
    const sent = lf(msg);
    assert.ok(text.endsWith(sent), `delivered:\n${text}`);
    const added = text.slice(0, text.length - sent.length);
    assert.match(added, /^Return-Path: <sender@example\.test>\n/);
    assert.match(added, /\nDelivered-To: rcpt@example\.test\n/);
    assert.match(added, /\nReceived: from client\.example\.test[^]*with ESMTPSA/);
    for (const line of added.trimEnd().split("\n")) {
      assert.match(
        line,
        /^(Return-Path|X-Original-To|Delivered-To|Received):|^[ \t]/,
        `unexpected header ${line}`,
      );
    }
  });

  it("stop() leaves no process and closes the ports", async () => {
    const { dir, pid, ports } = pf;
    assert.ok(pid && running(pid), "master not running before stop");
    assert.ok(processesWithEnv(`MAIL_CONFIG=${dir}/etc`).length > 1);
    assert.ok(processesWithEnv(`MAILPLAN_PFX_WATCHDOG=${dir}`).length >= 1, "owner watchdog not running"); // bash + its sleep
    await pf.stop();
    assert.ok(!running(pid!), "master still running");
    for (const d of [dir, pf2.dir]) {
      assert.deepEqual(processesWithEnv(`MAIL_CONFIG=${d}/etc`), [], "Postfix processes left");
      assert.deepEqual(processesWithEnv(`MAILPLAN_PFX_WATCHDOG=${d}`), [], "owner watchdog left");
    }
    for (const p of [...Object.values(ports), ...Object.values(pf2.ports)]) {
      assert.ok(await refused(p), `port ${p} open`);
    }
    assert.ok(!existsSync(dir));
    await pf.stop(); // idempotent
  });
});

// ---------------------------------------------------------------- smtp-server (Node)
describe("smtp-server peer", () => {
  let pki: string;
  let ca: string;
  let peer: SmtpServerPeer;

  before(async () => {
    pki = mkdtempSync(join(tmpdir(), "mailplan-peers-pki-"));
    const ossl = (...a: string[]) =>
      execFileSync("openssl", a, { cwd: pki, stdio: ["ignore", "ignore", "pipe"] });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    ossl(
      "req",
      "-x509",
      "-new",
      ...ec,
      "-days",
      "2",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-subj",
      "/CN=Peers Test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    for (
      const [name, ext] of [[
        "server",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
      ], ["client", "extendedKeyUsage=clientAuth"]]
    ) {
      writeFileSync(join(pki, `${name}.ext`), `basicConstraints=critical,CA:FALSE\n${ext}\n`);
      ossl(
        "req",
        "-new",
        ...ec,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name === "server" ? "localhost" : "client"}`,
      );
      ossl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.crt`,
      );
    }
    ca = readFileSync(join(pki, "ca.crt"), "utf8");
    peer = await startSmtpServerPeer({
      key: join(pki, "server.key"),
      cert: join(pki, "server.crt"),
      password: "pw-ü 1",
    });
  });
  after(async () => {
    await peer?.stop();
    rmSync(pki, { recursive: true, force: true });
  });

  it("implicit-TLS port: silent before TLS; greets after, AUTH offered, no STARTTLS", async () => {
    assert.ok(await speaksTlsFirst(peer.ports.implicit), "implicit-TLS port spoke SMTP before the TLS handshake");
    const c = await Smtp.tls(peer.ports.implicit, ca);
    assert.ok((c.sock as tls.TLSSocket).authorized);
    assert.equal((await c.reply()).code, 220);
    const caps = await c.ehlo();
    assert.ok(caps.includes("AUTH PLAIN LOGIN"), caps.join());
    assert.ok(!caps.includes("STARTTLS"));
    await c.quit();
  });

  it("STARTTLS port: STARTTLS + PIPELINING/8BITMIME/SMTPUTF8, AUTH refused (538) until TLS", async () => {
    const c = await Smtp.plain(peer.ports.starttls);
    assert.equal((await c.reply()).code, 220);
    let caps = await c.ehlo();
    for (const k of ["STARTTLS", "PIPELINING", "8BITMIME", "SMTPUTF8"]) {
      assert.ok(caps.includes(k), `${k}: ${caps}`);
    }
    // smtp-server advertises AUTH before TLS too, but refuses it until STARTTLS
    assert.equal((await c.cmd("AUTH PLAIN AAAA")).code, 538);
    await c.starttls(ca);
    caps = await c.ehlo();
    assert.ok(caps.includes("AUTH PLAIN LOGIN") && !caps.includes("STARTTLS"), caps.join());
    await c.quit();
  });

  it("AUTH PLAIN over STARTTLS, one message: stored byte for byte with envelope and TLS facts", async () => {
    const msg = message(`ss-${Date.now()}`);
    const c = await Smtp.plain(peer.ports.starttls);
    await c.reply();
    await c.ehlo();
    await c.starttls(ca);
    await c.ehlo();
    assert.equal((await c.cmd(`AUTH PLAIN ${b64("\0tester\0pw-\xc3\xbc 1")}`)).code, 235); // UTF-8 bytes of "ü"
    assert.equal((await sendMessage(c, msg)).code, 250);
    await c.quit();
    const [m] = await peer.messages({ count: 1 });
    assert.deepEqual(m.eml, new TextEncoder().encode(msg));
    assert.equal(m.meta.secure, true);
    assert.match(m.meta.tls!.protocol, /^TLSv1\.[23]$/);
    assert.equal(m.meta.user, "tester");
    assert.equal(m.meta.localPort, peer.ports.starttls);
    assert.deepEqual(m.meta.envelope.rcptTo.map((r) => r.address), ["rcpt@example.test"]);
    assert.equal(m.meta.envelope.mailFrom?.address, "sender@example.test");
  });

  it("options: hidden STARTTLS/PIPELINING/8BITMIME/SMTPUTF8, SIZE, required client certificate", async () => {
    const p = await startSmtpServerPeer({
      key: readFileSync(join(pki, "server.key"), "utf8"), // PEM text works as well as a path
      cert: join(pki, "server.crt"),
      ca: join(pki, "ca.crt"),
      hideStarttls: true,
      hidePipelining: true,
      hide8bitmime: true,
      hideSmtputf8: true,
      size: 4096,
      requireClientCert: true,
    });
    try {
      const c = await Smtp.plain(p.ports.starttls);
      await c.reply();
      const caps = await c.ehlo();
      for (const k of ["STARTTLS", "PIPELINING", "8BITMIME", "SMTPUTF8"]) {
        assert.ok(!caps.includes(k), `${k}: ${caps}`);
      }
      assert.ok(caps.includes("SIZE 4096"), caps.join());
      await c.quit();
      // no client certificate: the handshake (or the first read after it, TLS 1.3) fails
      const noCert = await Smtp.tls(p.ports.implicit, ca).then(async (c) => {
        try {
          await c.reply(2000);
          return "greeted";
        } catch {
          return "refused";
        } finally {
          c.sock.destroy();
        }
      }, () => "refused");
      assert.equal(noCert, "refused");
      const ok = await Smtp.tls(p.ports.implicit, ca, {
        key: readFileSync(join(pki, "client.key")),
        cert: readFileSync(join(pki, "client.crt")),
      });
      assert.equal((await ok.reply()).code, 220);
      await ok.quit();
    } finally {
      await p.stop();
    }
    assert.ok(!running(p.pid));
    assert.ok(!existsSync(p.outDir));
  });

  it("stop() ends the Node process and closes both ports", async () => {
    assert.ok(running(peer.pid));
    await peer.stop();
    assert.ok(!running(peer.pid), "peer process still running");
    assert.ok(await refused(peer.ports.starttls));
    assert.ok(await refused(peer.ports.implicit));
    await peer.stop(); // idempotent
  });
});
