/**
 * A scriptable hostile SMTP server for the threat catalogue (docs/threats.md), in-process on
 * 127.0.0.1 (port 0) under Bun and Deno (`node:net` + `node:tls` only). Deliberately independent
 * of `lib/`: it must not share bugs with the code under test.
 *
 * A {@link Scenario} lists only what differs from a normal ESMTP server (greeting 220, EHLO with
 * PIPELINING / SIZE / 8BITMIME / AUTH PLAIN LOGIN / STARTTLS, AUTH checks one user/password,
 * MAIL/RCPT 250, DATA 354, body end 250 queued, QUIT 221 + close):
 *
 * ```ts
 * const srv = await startHostile({
 *   rules: [{ on: "STARTTLS", reply: "220 Ready", raw: "250-x\r\n250 AUTH PLAIN\r\n" }], // N7
 * });
 * try { ... connect to srv.port ... } finally { await srv.close(); }
 * assert.deepEqual(srv.failClosedViolations({ secret: "s3cret" }), []);
 * ```
 *
 * TLS (STARTTLS after a 220, implicit mode) is served by an internal `tls.Server` fed through a
 * loopback pipe (the technique of tests/net/server.ts: no server-side `new tls.TLSSocket`).
 * After a STARTTLS 220 the server waits for the first TLS record byte (0x16); plaintext that
 * arrives before it (a client pipelining after STARTTLS, N11) is recorded in the plain phase.
 *
 * Runtime limits: Deno's `node:tls` (rustls) cannot serve TLS 1.0/1.1. With `maxVersion`
 * TLSv1/TLSv1.1 on Deno the server answers the ClientHello with the fatal `protocol_version`
 * alert a real TLS 1.0/1.1-only server sends to a TLS ≥ 1.2 client (`info.legacyTlsEmulated`).
 * Bun (BoringSSL) serves real TLS 1.0/1.1 (without `@SECLEVEL`, which BoringSSL rejects).
 *
 * Leaks: every server is registered until `close()`; {@link assertAllHostileClosed} (call it in
 * an `after` hook) throws for servers left open, and an unref'd guard force-closes a server
 * older than `maxLifetimeMs` and reports it as leaked.
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import process from "node:process";
import { Buffer } from "node:buffer";
import { makePki } from "./certs.ts";

// ───────────────────────────── scenario ─────────────────────────────

/** Plain phase (before TLS) or TLS phase (after STARTTLS or in implicit mode). */
export type Phase = "plain" | "tls";
/** Which recorded bytes a predicate looks at. */
export type Scope = "all" | Phase;

/**
 * A command verb (first word, case-insensitive). `"."` is the end of a DATA body, `"SASL"` a
 * client line answering a 334 challenge, `"*"` any command no other rule matches.
 */
export type Verb =
  | "EHLO"
  | "HELO"
  | "STARTTLS"
  | "AUTH"
  | "SASL"
  | "MAIL"
  | "RCPT"
  | "DATA"
  | "."
  | "QUIT"
  | "RSET"
  | "NOOP"
  | "*"
  | (string & Record<never, never>);

/** How the server answers (a greeting or a command). Every field is optional. */
export interface Reply {
  /**
   * Reply lines (CRLF appended to each). `undefined`: the default reply for the verb.
   * `null` or `[]`: write nothing (combine with `then: "hang"` for "never reply").
   */
  reply?: string | string[] | null;
  /** Raw bytes appended verbatim in the SAME write (injection, bare LF, no CRLF, …). */
  raw?: string | Uint8Array;
  /** Wait this long before writing. */
  delayMs?: number;
  /** Greeting only, on the server's FIRST connection only: write it once the client has sent
   * something (e.g. a TLS ClientHello), a "slow" greeting ordered by an event, not a delay;
   * later connections are greeted at once. */
  afterClientBytes?: boolean;
  /** Write the bytes in segments of `bytes` with `delayMs` between them (slowloris: 1 / 1000). */
  segment?: { bytes: number; delayMs: number };
  /**
   * After the reply, repeat `line` (CRLF appended) until `maxBytes` (default 1 MiB) are written
   * or the client closes; every `intervalMs` one line (default: as fast as the socket drains).
   */
  endless?: { line: string; maxBytes?: number; intervalMs?: number };
  /**
   * After writing: `continue` (default; `close` for QUIT), `close` (FIN, or close_notify + FIN),
   * `reset` (TCP RST), `hang` (answer nothing more; keep the connection open and recording).
   */
  then?: "continue" | "close" | "reset" | "hang";
}

/** A per-command rule: the first rule that matches wins; unmatched commands get the default. */
export interface Rule extends Reply {
  /** The verb to match. */
  on: Verb;
  /** Only before (`plain`) or after (`tls`) the TLS handshake. */
  phase?: Phase;
  /** Only the n-th occurrence (1-based) of this verb on the connection, counted over both phases. */
  nth?: number;
  /** Only on the n-th connection (1-based) the server accepted. */
  conn?: number;
  /**
   * STARTTLS answered with a 220: `upgrade` (default: TLS handshake), `plaintext` (keep talking
   * SMTP in clear, answer a ClientHello with a 500 line; N6), `silent` (swallow everything; C8).
   */
  starttls?: "upgrade" | "plaintext" | "silent";
}

/** TLS versions accepted by node:tls. */
export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

/** Which test-PKI certificate the server presents (tests/support/certs.ts). */
export type Identity = "leaf" | "leafOnly" | "selfSigned" | "wrongHost" | "expired" | "otherLeaf";

/** Server TLS material and parameters. */
export interface ServerTls {
  /** Certificate from makePki() (default `leaf`: leaf + intermediate for localhost/127.0.0.1). */
  identity?: Identity;
  /** Explicit PEM key/certificate chain (overrides `identity`). */
  key?: string;
  cert?: string;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** Pipe the TLS bytes to this loopback port (e.g. an `openssl s_server`, see
   * openssl-server.ts) instead of the internal node:tls server; nothing after TLS is recorded. */
  upstreamPort?: number;
  /** OpenSSL cipher list for TLS ≤ 1.2 (e.g. `AES128-SHA`: static RSA only; needs an RSA key). */
  ciphers?: string;
  /** Require a client certificate signed by `ca` (default: the test PKI's clientCa). */
  requireClientCert?: boolean | { ca: string };
}

/** What the server does. Only what differs from a normal ESMTP server needs to be given. */
export interface Scenario {
  /**
   * `plain`: greet in clear (default); `implicit`: TLS from the first byte, greet after the
   * handshake; `tls-silent`: complete the handshake then say nothing; `silent`: accept TCP and
   * wait for a ClientHello (a plaintext client gets nothing; a TLS client gets a handshake and
   * then silence).
   */
  mode?: "plain" | "implicit" | "tls-silent" | "silent";
  /** Greeting (default `220 <hostname> ESMTP hostile`); `null`: no greeting. */
  greeting?: string | string[] | null | Reply;
  /** Name in the greeting and EHLO (default `mx.hostile.test`). */
  hostname?: string;
  /** Offer STARTTLS in the plain EHLO and accept it (default: true in `plain` mode). */
  starttls?: boolean;
  /** SASL mechanisms advertised and accepted (default `["PLAIN", "LOGIN"]`; `[]`: no AUTH). */
  authMechanisms?: string[];
  /** Advertise AUTH in the plain phase too (default true: the hard case for a client). */
  authBeforeTls?: boolean;
  /** Credentials AUTH accepts (default `me` / `s3cret-pass`). */
  user?: string;
  password?: string;
  /** SIZE value (default 10485760; `false`: not advertised). PIPELINING/8BITMIME always, unless overridden. */
  size?: number | false;
  /** Full EHLO capability lines after the hostname line, plain phase (overrides the defaults). */
  capabilities?: string[];
  /** Same, TLS phase (default: the computed defaults, without STARTTLS). */
  capabilitiesTls?: string[];
  tls?: ServerTls;
  rules?: Rule[];
  /** The leak guard force-closes the server after this long (default 120 s). */
  maxLifetimeMs?: number;
}

// ───────────────────────────── recording ─────────────────────────────

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

/** Bytes received in one phase. */
export class PhaseRecord {
  #chunks: Buffer[] = [];
  /** @internal */
  push(b: Uint8Array): void {
    if (b.length) this.#chunks.push(Buffer.from(b));
  }
  /** Every byte received, in order. */
  get bytes(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.#chunks));
  }
  /** The bytes as latin1 text (one char per byte). */
  get text(): string {
    return latin1(this.bytes);
  }
  /** The text split at CRLF (bare CR/LF stay inside lines); a trailing partial line is kept. */
  get lines(): string[] {
    const parts = this.text.split("\r\n");
    if (parts[parts.length - 1] === "") parts.pop();
    return parts;
  }
  /** The data events (TCP segments as the server read them), e.g. to check STARTTLS came alone. */
  get chunks(): Uint8Array[] {
    return this.#chunks.map((c) => new Uint8Array(c));
  }
}

/** A command as parsed by the server. */
export interface Command {
  phase: Phase;
  verb: string;
  line: string;
}

/** Negotiated TLS parameters as the server saw them. */
export interface TlsFacts {
  version: string | null;
  cipher: string | null;
  /** Subject CN of the client certificate, if one was presented. */
  clientCert: string | null;
}

/** Everything one connection did. */
export class Connection {
  readonly beforeTls: PhaseRecord = new PhaseRecord();
  readonly afterTls: PhaseRecord = new PhaseRecord();
  readonly commands: Command[] = [];
  /** AUTH command lines and SASL continuation lines, any phase. */
  readonly authLines: string[] = [];
  /** DATA bodies as received (still dot-stuffed), without the final `.` line. */
  readonly bodies: Uint8Array[] = [];
  /** Plaintext bytes received after the STARTTLS 220 and before the ClientHello. */
  readonly afterStartTlsPlain: PhaseRecord = new PhaseRecord();
  /** TLS parameters once a handshake completed. */
  tls: TlsFacts | null = null;
  /** Server-side TLS failure (code or message), e.g. the client rejected the certificate. */
  tlsError: string | null = null;
  /** The client closed its side (FIN or reset). */
  clientClosed = false;
  /** Who ended the connection first. */
  endedBy: "client" | "server" | null = null;
  /** Bytes the server wrote (plain + TLS application data). */
  bytesSent = 0;
  /** The size of each write, in order (a test counts segments instead of timing them). */
  readonly writes: number[] = [];
  /** Resolves when the session's script has ended (no write can happen afterwards). */
  readonly sessionEnded: Promise<void>;
  /** @internal */
  markSessionEnded!: () => void;
  /** Resolves when the TCP connection is fully closed. */
  readonly closed: Promise<void>;
  /** @internal */
  markClosed!: () => void;
  isClosed = false;
  constructor(readonly id: number) {
    this.sessionEnded = new Promise((r) => (this.markSessionEnded = r));
    this.closed = new Promise((r) => (this.markClosed = () => {
      this.isClosed = true;
      r();
    }));
  }
  /** The record of one phase. */
  phase(p: Phase): PhaseRecord {
    return p === "plain" ? this.beforeTls : this.afterTls;
  }
}

// ───────────────────────────── predicates ─────────────────────────────

function linesIn(conns: Connection[], scope: Scope): string[] {
  const out: string[] = [];
  for (const c of conns) {
    if (scope !== "tls") out.push(...c.beforeTls.lines);
    if (scope !== "plain") out.push(...c.afterTls.lines);
  }
  return out;
}

/** True if `text` (latin1) contains `secret` raw, in base64, or inside any base64 token (PLAIN/LOGIN/XOAUTH2 blobs). */
export function containsCredential(text: string, secret: string): boolean {
  if (!secret) return false;
  const s8 = Buffer.from(secret, "utf8").toString("latin1");
  if (text.includes(s8)) return true;
  if (text.includes(Buffer.from(secret, "utf8").toString("base64").replace(/=+$/, ""))) return true;
  for (const tok of text.match(/[A-Za-z0-9+/]{4,}={0,2}/g) ?? []) {
    for (let shift = 0; shift < 4; shift++) {
      const t = tok.slice(shift);
      if (t.length < 4) break;
      const decoded = Buffer.from(t.slice(0, t.length - (t.length % 4)), "base64").toString("latin1");
      if (decoded.includes(s8)) return true;
    }
  }
  return false;
}

// ───────────────────────────── server ─────────────────────────────

/** A running hostile server. */
export interface HostileServer {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly scenario: Scenario;
  /** Connections accepted so far, in order. */
  readonly connections: Connection[];
  readonly connectionCount: number;
  /** All connections' records concatenated (in connection order). */
  readonly received: {
    beforeTls: { bytes: Uint8Array; lines: string[] };
    afterTls: { bytes: Uint8Array; lines: string[] };
    authLines: string[];
    bodies: Uint8Array[];
    commands: Command[];
  };
  /** At least one connection and every connection closed by the client. */
  readonly clientClosed: boolean;
  /** TLS parameters of the first connection that completed a handshake. */
  readonly tls: TlsFacts | null;
  /** Runtime facts: whether TLS ≤ 1.1 is emulated (Deno). */
  readonly info: { legacyTlsEmulated: boolean };
  sawAuth(scope?: Scope): boolean;
  sawMailOrRcpt(scope?: Scope): boolean;
  sawData(scope?: Scope): boolean;
  sawCredential(secret: string, scope?: Scope): boolean;
  /**
   * The catalogue's "fail closed" rule: descriptions of what the client sent that it must not
   * have (AUTH, MAIL/RCPT, DATA or body bytes, any of `secret`); `[]` when it failed closed.
   */
  failClosedViolations(opts?: { secret?: string | string[]; scope?: Scope }): string[];
  /** Resolves when `pred()` holds (polled); rejects after `ms` (default 20 s: a hang guard, never a verdict).  */
  waitFor(pred: () => boolean, ms?: number, what?: string): Promise<void>;
  /** Resolves when at least one connection exists and every connection is closed (or rejects after `ms`). */
  idle(ms?: number): Promise<void>;
  /** Stops listening, destroys every connection; nothing is left listening afterwards. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const open = new Set<HostileServer>();
const leaked: string[] = [];

/** Servers not closed yet. */
export function openHostileServers(): HostileServer[] {
  return [...open];
}

/** Throws if a server is still open or was force-closed by the lifetime guard (put it in `after`). */
export function assertAllHostileClosed(): void {
  const msgs = [
    ...[...open].map((s) => `hostile server on port ${s.port} was not closed`),
    ...leaked.splice(0),
  ];
  if (msgs.length) throw new Error(msgs.join("; "));
}

let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const check = () => {
    if (open.size || leaked.length) {
      console.error(
        `hostile-server: ${open.size} server(s) never closed; leaked: ${leaked.join("; ") || "none"}`,
      );
      process.exitCode = 1;
    }
  };
  process.once("exit", check);
  if ("Deno" in globalThis) globalThis.addEventListener("unload", check);
}

/** True when this runtime's node:tls can serve TLS 1.0/1.1 (Bun yes, Deno no). */
export const legacyTlsServable: boolean = !("Deno" in globalThis);

/** The fatal protocol_version alert (TLS 1.0 record header) a TLS ≤ 1.1-only server sends. */
const PROTOCOL_VERSION_ALERT = Uint8Array.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]);

function serverTlsOptions(t: ServerTls = {}): tls.TlsOptions {
  const pki = makePki();
  const id = t.identity ?? "leaf";
  const pick: Record<Identity, { key: string; cert: string }> = {
    leaf: { key: pki.leaf.key.pem, cert: pki.leaf.chain.pem },
    leafOnly: { key: pki.leaf.key.pem, cert: pki.leaf.cert.pem },
    selfSigned: { key: pki.selfSigned.key.pem, cert: pki.selfSigned.cert.pem },
    wrongHost: { key: pki.wrongHost.key.pem, cert: pki.wrongHost.chain.pem },
    expired: { key: pki.expired.key.pem, cert: pki.expired.chain.pem },
    otherLeaf: { key: pki.otherLeaf.key.pem, cert: pki.otherLeaf.cert.pem },
  };
  const o: tls.TlsOptions = { key: t.key ?? pick[id].key, cert: t.cert ?? pick[id].cert };
  if (t.minVersion) o.minVersion = t.minVersion;
  if (t.maxVersion) o.maxVersion = t.maxVersion;
  if (t.ciphers) o.ciphers = t.ciphers;
  if (t.requireClientCert) {
    o.requestCert = true;
    o.rejectUnauthorized = true;
    o.ca = typeof t.requireClientCert === "object" ? t.requireClientCert.ca : pki.clientCa.cert.pem;
  }
  return o;
}

const isLegacy = (v?: TlsVersion) => v === "TLSv1" || v === "TLSv1.1";

/** Starts a hostile server for `scenario` on 127.0.0.1 with a free port. */
export async function startHostile(scenario: Scenario = {}): Promise<HostileServer> {
  installExitHook();
  const mode = scenario.mode ?? "plain";
  const emulateLegacy = !legacyTlsServable && isLegacy(scenario.tls?.maxVersion);
  const connections: Connection[] = [];
  const sessions = new Set<Session>();
  const byTlsPort = new Map<number, Session>();
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  };

  let tlsServer: tls.Server | null = null;
  let tlsPort = 0;
  let lastTlsError: string | null = null;
  if (!emulateLegacy) {
    tlsServer = tls.createServer(serverTlsOptions(scenario.tls));
    tlsServer.on("connection", track);
    tlsServer.on("secureConnection", (t: tls.TLSSocket) => {
      track(t);
      const s = t.remotePort === undefined ? undefined : byTlsPort.get(t.remotePort);
      if (!s) return void t.destroy();
      s.onSecure(t);
    });
    tlsServer.on("tlsClientError", (e: Error & { code?: string }, t: tls.TLSSocket) => {
      const s = t?.remotePort === undefined ? undefined : byTlsPort.get(t.remotePort);
      if (s) s.conn.tlsError = e.code ?? e.message;
      else lastTlsError = e.code ?? e.message;
    });
    await new Promise<void>((r) => tlsServer!.listen(0, "127.0.0.1", r));
    tlsPort = (tlsServer.address() as net.AddressInfo).port;
  }

  const ctx: ServerCtx = {
    scenario,
    mode,
    emulateLegacy,
    tlsPort,
    track,
    register: (port, s) => byTlsPort.set(port, s),
    takeTlsError() {
      const e = lastTlsError;
      lastTlsError = null;
      return e;
    },
  };
  let closing: Promise<void> | null = null;
  const front = net.createServer((sock) => {
    track(sock);
    if (closing) return void sock.destroy();
    sock.setNoDelay(true);
    const conn = new Connection(connections.length + 1);
    connections.push(conn);
    const s = new Session(ctx, conn, sock);
    sessions.add(s);
    conn.closed.then(() => sessions.delete(s));
    s.start();
  });
  await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
  const port = (front.address() as net.AddressInfo).port;

  const guard = setTimeout(() => {
    leaked.push(`hostile server on port ${port} still open after ${scenario.maxLifetimeMs ?? 120_000} ms`);
    console.error(`hostile-server: ${leaked[leaked.length - 1]}; closing it`);
    void srv.close();
  }, scenario.maxLifetimeMs ?? 120_000);
  (guard as { unref?: () => void }).unref?.();

  const scoped = (scope: Scope) => linesIn(connections, scope);
  const concat = (f: (c: Connection) => PhaseRecord) => {
    const recs = connections.map(f);
    return {
      get bytes() {
        return new Uint8Array(Buffer.concat(recs.map((r) => r.bytes)));
      },
      get lines() {
        return recs.flatMap((r) => r.lines);
      },
    };
  };

  const srv: HostileServer = {
    host: "127.0.0.1",
    port,
    scenario,
    connections,
    get connectionCount() {
      return connections.length;
    },
    get received() {
      return {
        beforeTls: concat((c) => c.beforeTls),
        afterTls: concat((c) => c.afterTls),
        authLines: connections.flatMap((c) => c.authLines),
        bodies: connections.flatMap((c) => c.bodies),
        commands: connections.flatMap((c) => c.commands),
      };
    },
    get clientClosed() {
      return connections.length > 0 && connections.every((c) => c.clientClosed);
    },
    get tls() {
      return connections.find((c) => c.tls)?.tls ?? null;
    },
    info: { legacyTlsEmulated: emulateLegacy },
    sawAuth: (scope = "all") => scoped(scope).some((l) => /^AUTH\b/i.test(l)),
    sawMailOrRcpt: (scope = "all") => scoped(scope).some((l) => /^(MAIL|RCPT)\b/i.test(l)),
    sawData: (scope = "all") =>
      scoped(scope).some((l) => /^(DATA|BDAT)\b/i.test(l)) ||
      connections.some((c) =>
        c.commands.some((k) => k.verb === "." && (scope === "all" || k.phase === scope))
      ),
    sawCredential(secret, scope = "all") {
      return connections.some((c) =>
        (scope !== "tls" && containsCredential(c.beforeTls.text, secret)) ||
        (scope !== "plain" && containsCredential(c.afterTls.text, secret))
      );
    },
    failClosedViolations({ secret, scope = "all" } = {}) {
      const v: string[] = [];
      if (srv.sawAuth(scope)) v.push("AUTH");
      if (srv.sawMailOrRcpt(scope)) v.push("MAIL/RCPT");
      if (srv.sawData(scope)) v.push("DATA/body");
      const secrets = secret === undefined ? [scenario.password ?? DEFAULT_PASSWORD] : [secret].flat();
      for (const s of secrets) if (srv.sawCredential(s, scope)) v.push(`credential ${JSON.stringify(s)}`);
      return v;
    },
    async waitFor(pred, ms = 20_000, what = "condition") {
      const t0 = Date.now();
      while (!pred()) {
        if (Date.now() - t0 > ms) throw new Error(`hostile server: ${what} not reached within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    idle(ms = 20_000) {
      return srv.waitFor(
        () => connections.length > 0 && connections.every((c) => c.isClosed),
        ms,
        "all connections closed",
      );
    },
    close() {
      closing ??= (async () => {
        clearTimeout(guard);
        for (const s of sessions) s.kill();
        for (const s of sockets) s.destroy();
        const servers = [front, tlsServer].filter((x): x is net.Server => !!x);
        await Promise.all(servers.map((x) => new Promise<void>((r) => x.close(() => r()))));
        // Let the destroyed sockets report `close` so no handle outlives the server.
        const t0 = Date.now();
        while (sockets.size && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 2));
        open.delete(srv);
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return srv.close();
    },
  };
  open.add(srv);
  return srv;
}

// ───────────────────────────── session ─────────────────────────────

const DEFAULT_USER = "me";
const DEFAULT_PASSWORD = "s3cret-pass";
const TLS_RECORD = 0x16;

interface ServerCtx {
  scenario: Scenario;
  mode: NonNullable<Scenario["mode"]>;
  emulateLegacy: boolean;
  tlsPort: number;
  track(s: net.Socket): void;
  register(localPort: number, s: Session): void;
  /** The last server-side handshake error not attributed to a connection. */
  takeTlsError(): string | null;
}

/** Incoming bytes of the current phase, read as CRLF lines or as a DATA body. */
class Input {
  buf: Buffer = Buffer.alloc(0);
  ended = false;
  #wake: (() => void) | null = null;
  push(b: Uint8Array) {
    this.buf = Buffer.concat([this.buf, b]);
    this.#notify();
  }
  end() {
    this.ended = true;
    this.#notify();
  }
  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
  /** Resolves once any byte is buffered, or at EOF. */
  async any(): Promise<void> {
    await this.#until(() => (this.buf.length > 0 ? 0 : null));
  }
  take(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }
  async #until(find: () => number | null): Promise<number | null> {
    for (;;) {
      const i = find();
      if (i !== null) return i;
      if (this.ended) return null;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
  /** One line without its CRLF, or null at EOF. */
  async line(): Promise<string | null> {
    const i = await this.#until(() => {
      const k = this.buf.indexOf("\r\n");
      return k < 0 ? null : k;
    });
    if (i === null) return null;
    const line = this.buf.subarray(0, i).toString("latin1");
    this.buf = this.buf.subarray(i + 2);
    return line;
  }
  /** A DATA body up to (not including) the `.` line, or null at EOF. */
  async body(): Promise<Buffer | null> {
    const i = await this.#until(() => {
      if (this.buf.subarray(0, 3).toString("latin1") === ".\r\n") return 0;
      const k = this.buf.indexOf("\r\n.\r\n");
      return k < 0 ? null : k + 2;
    });
    if (i === null) return null;
    const body = Buffer.from(this.buf.subarray(0, i));
    this.buf = this.buf.subarray(i + 3);
    return body;
  }
}

type FrontState = "plain" | "await-hello" | "piped" | "swallow" | "plaintext-after-220";

class Session {
  phase: Phase = "plain";
  input = new Input();
  front: FrontState = "plain";
  out: net.Socket; // where replies go: the raw socket, then the TLS socket
  up: net.Socket | null = null;
  tlsSock: tls.TLSSocket | null = null;
  counts = new Map<string, number>();
  /** SASL exchange in progress (after a 334): mechanism and the client's answers so far. */
  sasl: { mech: string; answers: string[] } | null = null;
  rcptAccepted = 0;
  messages = 0;
  dead = false;
  killed = false;
  serverEnded = false;
  timers = new Set<ReturnType<typeof setTimeout>>();
  wakeSleepers = new Set<() => void>();
  onTlsReady: (() => void) | null = null;
  lastPipeData = 0;

  constructor(readonly ctx: ServerCtx, readonly conn: Connection, readonly sock: net.Socket) {
    this.out = sock;
    sock.on("data", (d: Buffer) => this.onFrontData(d));
    sock.on("end", () => {
      if (this.dead) return; // Bun emits `end` on our own destroy()
      this.conn.clientClosed = true;
      this.conn.endedBy ??= "client";
      if (this.phase === "plain") this.input.end();
      if (this.up) this.up.end();
    });
    sock.on("error", (e: Error & { code?: string }) => {
      if (!this.killed && /ECONNRESET|EPIPE|ECONNABORTED/.test(e.code ?? e.message)) {
        this.conn.clientClosed = true;
        this.conn.endedBy ??= "client";
      }
    });
    sock.on("close", (hadError: boolean) => {
      if (!this.killed && (hadError || !this.serverEnded)) {
        this.conn.clientClosed = true;
        this.conn.endedBy ??= "client";
      }
      this.destroy();
      this.conn.markClosed();
    });
  }

  get sc() {
    return this.ctx.scenario;
  }

  start() {
    void this.run().catch((e) => {
      if (!this.dead) console.error("hostile-server session error:", e);
      this.destroy();
    }).finally(() => this.conn.markSessionEnded());
  }

  /** Ended by `server.close()` (not by the client). */
  kill() {
    if (!this.dead) this.killed = true;
    this.destroy();
  }

  destroy() {
    if (this.dead) return;
    this.dead = true;
    this.input.end();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.wakeSleepers) w();
    this.onTlsReady?.();
    this.sock.destroy();
    this.up?.destroy();
    this.tlsSock?.destroy();
  }

  sleep(ms: number): Promise<void> {
    if (this.dead || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.timers.delete(t);
        this.wakeSleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.timers.add(t);
      this.wakeSleepers.add(done);
    });
  }

  // ── front (raw TCP) socket ──

  onFrontData(d: Buffer) {
    switch (this.front) {
      case "plain":
        this.conn.beforeTls.push(d);
        this.input.push(d);
        return;
      case "plaintext-after-220":
        this.conn.beforeTls.push(d);
        if (d[0] === TLS_RECORD) {
          void this.write(Buffer.from("500 5.5.2 Error: command not recognized\r\n"));
        } else this.input.push(d);
        return;
      case "swallow":
        this.conn.beforeTls.push(d);
        return;
      case "await-hello":
        return this.onHelloData(d);
      case "piped":
        this.up?.write(d);
        return;
    }
  }

  /** Waiting for the ClientHello: plaintext before it is recorded; from 0x16 on, bytes go to TLS. */
  onHelloData(d: Buffer, alreadyRecorded = false) {
    const i = d.indexOf(TLS_RECORD);
    const plain = i < 0 ? d : d.subarray(0, i);
    if (plain.length) {
      if (!alreadyRecorded) this.conn.beforeTls.push(plain);
      if (this.ctx.mode === "plain") this.conn.afterStartTlsPlain.push(plain);
    }
    if (i < 0) return;
    const hello = Buffer.from(d.subarray(i));
    if (this.ctx.emulateLegacy) {
      this.conn.tlsError = "emulated TLS <= 1.1 server: protocol_version alert";
      this.front = "swallow";
      this.serverEnded = true;
      this.conn.endedBy ??= "server";
      this.sock.end(PROTOCOL_VERSION_ALERT);
      return;
    }
    this.front = "piped";
    const up = (this.up = net.connect(this.ctx.scenario.tls?.upstreamPort ?? this.ctx.tlsPort, "127.0.0.1"));
    this.ctx.track(up);
    up.setNoDelay(true);
    // Registered on connect: the handshake needs round trips through `up`, so the internal
    // server's secureConnection always comes later. Writes before connect are queued.
    up.once("connect", () => {
      if (up.localPort !== undefined) this.ctx.register(up.localPort, this);
    });
    up.write(hello);
    up.on("data", (x: Buffer) => {
      this.lastPipeData = Date.now();
      if (!this.sock.destroyed) this.sock.write(x);
    });
    up.on("end", () => {
      this.serverEnded = true;
      this.conn.endedBy ??= "server";
      this.sock.end();
    });
    up.on("close", () => {
      // A handshake the internal server rejected: attribute its error (Deno's tlsClientError
      // gives no port), else say so.
      if (!this.conn.tls && !this.conn.tlsError) {
        this.conn.tlsError = this.ctx.takeTlsError() ?? "TLS handshake did not complete";
      }
      this.sock.end(); // FIN after what was forwarded; the client's close then ends it
    });
  }

  onSecure(t: tls.TLSSocket) {
    if (this.dead) return void t.destroy();
    this.tlsSock = t;
    t.setNoDelay?.(true);
    const cipher = t.getCipher?.();
    let clientCert: string | null = null;
    try {
      const p = t.getPeerCertificate?.() as { subject?: { CN?: string } } | undefined;
      clientCert = p?.subject?.CN ?? null;
    } catch { /* not exposed */ }
    this.conn.tls = { version: t.getProtocol?.() ?? null, cipher: cipher?.name ?? null, clientCert };
    this.phase = "tls";
    this.input = new Input();
    this.out = t;
    t.on("data", (d: Buffer) => {
      this.conn.afterTls.push(d);
      this.input.push(d);
    });
    t.on("end", () => this.input.end());
    t.on("close", () => this.input.end());
    const r = this.onTlsReady;
    this.onTlsReady = null;
    r?.();
  }

  /** Resolves once the TLS session is up (or the connection died). */
  waitTls(): Promise<void> {
    if (this.tlsSock || this.dead) return Promise.resolve();
    return new Promise((r) => (this.onTlsReady = r));
  }

  // ── writing ──

  /** Writes and resolves once flushed (or when the session dies). */
  write(b: Uint8Array): Promise<void> {
    const out = this.out;
    if (this.dead || out.destroyed || !out.writable) return Promise.resolve();
    this.conn.bytesSent += b.length;
    this.conn.writes.push(b.length);
    return new Promise((resolve) => {
      const done = () => {
        this.wakeSleepers.delete(done);
        resolve();
      };
      this.wakeSleepers.add(done);
      out.write(b, () => done());
    });
  }

  /** Writes a reply with its options; returns false when the session must stop reading. */
  async emit(
    r: Reply,
    defaultLines: string[] | null,
    defaultThen: Reply["then"] = "continue",
  ): Promise<boolean> {
    const lines = r.reply === undefined ? defaultLines : r.reply === null ? [] : [r.reply].flat();
    const parts: Buffer[] = [];
    if (lines?.length) parts.push(Buffer.from(lines.map((l) => l + "\r\n").join(""), "latin1"));
    if (r.raw !== undefined) {
      parts.push(typeof r.raw === "string" ? Buffer.from(r.raw, "latin1") : Buffer.from(r.raw));
    }
    const bytes = Buffer.concat(parts);
    await this.sleep(r.delayMs ?? 0);
    if (this.dead) return false;
    if (r.segment && r.segment.bytes > 0) {
      for (let i = 0; i < bytes.length && !this.dead; i += r.segment.bytes) {
        if (i > 0) await this.sleep(r.segment.delayMs);
        await this.write(bytes.subarray(i, i + r.segment.bytes));
      }
    } else if (bytes.length) await this.write(bytes);
    if (r.endless) await this.endless(r.endless);
    if (this.dead) return false;
    switch (r.then ?? defaultThen) {
      case "close":
        this.serverEnded = true;
        this.conn.endedBy ??= "server";
        this.out.end();
        return false;
      case "reset":
        await this.flushed();
        if (this.dead) return false;
        this.serverEnded = true;
        this.conn.endedBy ??= "server";
        (this.sock as net.Socket & { resetAndDestroy?: () => void }).resetAndDestroy?.() ??
          this.sock.destroy();
        this.destroy();
        return false;
      case "hang":
        return false;
      default:
        return true;
    }
  }

  /**
   * Waits until written bytes have left the front socket: in the TLS phase they travel through
   * the internal pipe first, so wait for it to go quiet. Used before a reset, which would
   * otherwise discard them.
   */
  async flushed() {
    const t0 = Date.now();
    for (;;) {
      const quiet = Date.now() - this.lastPipeData >= 20;
      if ((this.phase === "plain" || quiet) && this.sock.writableLength === 0) break;
      if (this.dead || Date.now() - t0 > 1000) break;
      await this.sleep(5);
    }
    await this.sleep(10); // let the client's kernel take the bytes before the RST
  }

  async endless(e: NonNullable<Reply["endless"]>) {
    const max = e.maxBytes ?? 1 << 20;
    const line = Buffer.from(e.line + "\r\n", "latin1");
    const block = e.intervalMs
      ? line
      : Buffer.concat(Array(Math.max(1, Math.floor(16384 / line.length))).fill(line));
    let sent = 0;
    while (sent < max && !this.dead && !this.conn.clientClosed && this.out.writable) {
      const chunk = block.subarray(0, Math.min(block.length, max - sent));
      await this.write(chunk);
      sent += chunk.length;
      if (e.intervalMs) await this.sleep(e.intervalMs);
    }
  }

  // ── rules ──

  match(verb: string): Rule | undefined {
    const n = this.counts.get(verb) ?? 0;
    const rules = this.sc.rules ?? [];
    const fits = (r: Rule) =>
      (r.phase === undefined || r.phase === this.phase) &&
      (r.nth === undefined || r.nth === n) &&
      (r.conn === undefined || r.conn === this.conn.id);
    return rules.find((r) => r.on.toUpperCase() === verb && fits(r)) ??
      rules.find((r) => r.on === "*" && fits(r));
  }

  // ── the SMTP dialogue ──

  get host() {
    return this.sc.hostname ?? "mx.hostile.test";
  }

  async run() {
    const mode = this.ctx.mode;
    if (mode !== "plain") {
      this.front = "await-hello";
      await this.waitTls();
      if (this.dead) return;
      if (mode === "tls-silent" || mode === "silent") return; // recorded by the data handler, never answered
    }
    const g = this.sc.greeting;
    const greet: Reply = g === undefined
      ? {}
      : g === null
      ? { reply: null }
      : typeof g === "string" || Array.isArray(g)
      ? { reply: g }
      : g;
    if (greet.afterClientBytes && this.conn.id === 1) await this.input.any();
    if (!(await this.emit(greet, [`220 ${this.host} ESMTP hostile`]))) return;

    for (;;) {
      const line = await this.input.line();
      if (line === null || this.dead) return;
      const verb = this.sasl ? "SASL" : (line.split(" ", 1)[0] ?? "").toUpperCase();
      this.conn.commands.push({ phase: this.phase, verb, line });
      if (verb === "AUTH" || verb === "SASL") this.conn.authLines.push(line);
      if (verb === "SASL") this.sasl!.answers.push(line);
      this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
      const rule = this.match(verb);
      if (!(await this.answer(verb, line, rule ?? {}))) return;
    }
  }

  /** Answers one command; false stops the loop. */
  async answer(verb: string, line: string, rule: Reply & Partial<Rule>): Promise<boolean> {
    const def = this.defaultReply(verb, line);
    const lines = rule.reply === undefined ? def : rule.reply === null ? [] : [rule.reply].flat();
    const last = lines.length ? lines[lines.length - 1] : "";
    const code = last.slice(0, 3);

    // State changes follow what is actually sent.
    if (verb === "AUTH") {
      const [, mech = "", ir] = line.split(" ");
      this.sasl = code === "334" ? { mech: mech.toUpperCase(), answers: ir === undefined ? [] : [ir] } : null;
    } else if (verb === "SASL" && code !== "334") this.sasl = null;
    if (verb === "RCPT" && code.startsWith("2")) this.rcptAccepted++;
    if (verb === "MAIL" || verb === "RSET") this.rcptAccepted = 0;

    const cont = await this.emit(rule, def, verb === "QUIT" ? "close" : "continue");

    if (verb === "STARTTLS" && code === "220" && this.phase === "plain" && !this.dead) {
      const how = rule.starttls ?? "upgrade";
      if (how === "silent") {
        this.front = "swallow";
        this.conn.afterStartTlsPlain.push(this.input.take());
        return false;
      }
      if (how === "plaintext") {
        this.front = "plaintext-after-220";
        return cont;
      }
      if (!cont) return false;
      const rest = this.input.take();
      this.input.end();
      this.front = "await-hello";
      if (rest.length) this.onHelloData(rest, true);
      await this.waitTls();
      return !this.dead;
    }
    if (!cont) return false;

    if (verb === "DATA" && code === "354") {
      const body = await this.input.body();
      if (body === null) return false;
      this.conn.bodies.push(new Uint8Array(body));
      this.conn.commands.push({ phase: this.phase, verb: ".", line: "." });
      this.counts.set(".", (this.counts.get(".") ?? 0) + 1);
      const endRule = this.match(".") ?? {};
      const endDef = this.defaultReply(".", ".");
      this.rcptAccepted = 0;
      return await this.emit(endRule, endDef);
    }
    return true;
  }

  capabilities(): string[] {
    const sc = this.sc;
    if (this.phase === "plain" && sc.capabilities) return sc.capabilities;
    if (this.phase === "tls" && sc.capabilitiesTls) return sc.capabilitiesTls;
    const caps = ["PIPELINING"];
    if (sc.size !== false) caps.push(`SIZE ${sc.size ?? 10485760}`);
    caps.push("8BITMIME");
    const mechs = sc.authMechanisms ?? ["PLAIN", "LOGIN"];
    if (mechs.length && (this.phase === "tls" || sc.authBeforeTls !== false)) {
      caps.push(`AUTH ${mechs.join(" ")}`);
    }
    if (this.phase === "plain" && this.offersStartTls()) caps.push("STARTTLS");
    return caps;
  }

  offersStartTls(): boolean {
    return this.sc.starttls ?? this.ctx.mode === "plain";
  }

  defaultReply(verb: string, line: string): string[] {
    const sc = this.sc;
    const user = sc.user ?? DEFAULT_USER;
    const pass = sc.password ?? DEFAULT_PASSWORD;
    const ok = ["235 2.7.0 Authentication successful"];
    const bad = ["535 5.7.8 Error: authentication failed"];
    const b64 = (s: string) => Buffer.from(s, "base64").toString("utf8");
    const plainOk = (blob: string) => {
      const [, u, p] = b64(blob).split("\0");
      return u === user && p === pass;
    };
    switch (verb) {
      case "EHLO": {
        const caps = this.capabilities();
        if (!caps.length) return [`250 ${this.host}`];
        return [`250-${this.host}`, ...caps.map((c, i) => `250${i === caps.length - 1 ? " " : "-"}${c}`)];
      }
      case "HELO":
        return [`250 ${this.host}`];
      case "STARTTLS":
        if (this.phase === "tls") return ["554 5.5.1 Error: TLS already active"];
        return this.offersStartTls()
          ? ["220 2.0.0 Ready to start TLS"]
          : ["502 5.5.1 Error: command not implemented"];
      case "AUTH": {
        const [, mechRaw = "", ir] = line.split(" ");
        const mech = mechRaw.toUpperCase();
        const mechs = (sc.authMechanisms ?? ["PLAIN", "LOGIN"]).map((m) => m.toUpperCase());
        if (!mechs.includes(mech)) return ["504 5.5.4 Unrecognized authentication type"];
        if (mech === "PLAIN") return ir === undefined ? ["334 "] : plainOk(ir === "=" ? "" : ir) ? ok : bad;
        if (mech === "LOGIN") return ir === undefined ? ["334 VXNlcm5hbWU6"] : ["334 UGFzc3dvcmQ6"];
        return ["334 " + Buffer.from(`<${Date.now()}@${this.host}>`).toString("base64")];
      }
      case "SASL": {
        if (line === "*") return ["501 5.7.0 Authentication aborted"];
        const s = this.sasl;
        if (!s) return bad;
        if (s.mech === "PLAIN") return plainOk(line) ? ok : bad;
        if (s.mech === "LOGIN") {
          if (s.answers.length < 2) return ["334 UGFzc3dvcmQ6"];
          return b64(s.answers[0]) === user && b64(s.answers[1]) === pass ? ok : bad;
        }
        return bad;
      }
      case "MAIL":
        return ["250 2.1.0 Ok"];
      case "RCPT":
        return ["250 2.1.5 Ok"];
      case "DATA":
        return this.rcptAccepted > 0
          ? ["354 End data with <CR><LF>.<CR><LF>"]
          : ["554 5.5.1 Error: no valid recipients"];
      case ".":
        return [`250 2.0.0 Ok: queued as HOSTILE${this.conn.id}M${++this.messages}`];
      case "QUIT":
        return ["221 2.0.0 Bye"];
      case "RSET":
      case "NOOP":
        return ["250 2.0.0 Ok"];
      default:
        return ["502 5.5.2 Error: command not recognized"];
    }
  }
}
