/**
 * The demo sink: a small SMTP server on 127.0.0.1, in-process, that stores every message it
 * receives as `<n>.eml` (the exact bytes after dot-unstuffing). It is what `mailplan demo` sends
 * to. It is a teaching tool, not an MTA: no relaying, no queue, no DNS.
 *
 * ```ts
 * const sink = await startSink();                // ports 0 = pick free ones
 * // send to 127.0.0.1:sink.ports.starttls (STARTTLS, then AUTH demo/demo)
 * //      or 127.0.0.1:sink.ports.implicit (TLS from the first byte)
 * // trust sink.ca (PEM) or pin sink.pin; messages land in sink.outDir
 * console.log(sink.received());                   // [{ n: 1, mailFrom, rcptTo, tls, path, … }]
 * await sink.close();
 * ```
 *
 * Two ports, like a real submission service:
 * - `starttls` (think 587): plaintext greeting; EHLO offers STARTTLS; MAIL and AUTH are refused
 *   until the client has upgraded; after the upgrade EHLO offers `AUTH PLAIN LOGIN`.
 * - `implicit` (think 465): TLS from the first byte, then the same SMTP with AUTH offered.
 *
 * Protocol notes:
 * - Input is cut into lines and handled strictly in order, so pipelined commands get their
 *   replies in order. Lines are bounded (commands 4 KiB, message lines 64 KiB): a longer line
 *   gets `500` and the connection is closed.
 * - On STARTTLS, whatever the client sent after the command in plaintext is thrown away (an
 *   attacker could have injected it, RFC 3207 §4.2), and the session starts over: EHLO again.
 * - The TLS upgrade wraps the accepted socket with `new tls.TLSSocket(socket, { isServer: true })`
 *   (server side: measured to work in Bun, Deno and Node with node:tls, Bun native and Deno
 *   native clients; the client-side warnings in runtimes.md do not apply to it).
 */
import { Buffer } from "node:buffer";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { type DemoPki, generateDemoPki } from "./pki.ts";

export interface SinkOptions {
  /** Folder for `<n>.eml` files (created if missing; numbering continues after the highest
   * `<n>.eml` already there, so nothing is overwritten). Default: a new temp folder, kept. */
  outDir?: string;
  /** Port of the STARTTLS listener (default 0: a free port). */
  starttlsPort?: number;
  /** Port of the implicit-TLS listener (default 0: a free port). */
  implicitPort?: number;
  /** Demo credentials accepted by AUTH (default `demo` / `demo`). */
  user?: string;
  password?: string;
  /** Refuse MAIL until AUTH succeeded (default false: authentication is offered, not required). */
  requireAuth?: boolean;
  /** Largest message accepted, in bytes, advertised as SIZE (default 10 MiB). */
  maxSize?: number;
  /** Certificates to serve (default: a fresh {@link generateDemoPki}). */
  pki?: DemoPki;
  /** Idle time after which a connection gets `421` and is closed (default 5 minutes). */
  idleMs?: number;
  /** Called after each stored message. */
  onMessage?: (message: ReceivedMessage) => void;
}

/** One stored message. */
export interface ReceivedMessage {
  /** Sequence number (from 1 in an empty folder); the file is `<n>.eml`. */
  n: number;
  /** Absolute path of the `.eml` file. */
  path: string;
  /** Size of the stored message in bytes. */
  size: number;
  /** Which listener it came through. */
  port: "starttls" | "implicit";
  /** The EHLO/HELO name the client gave. */
  helo: string;
  /** Reverse path (may be empty: `MAIL FROM:<>`). */
  mailFrom: string;
  rcptTo: string[];
  /** Negotiated TLS (the sink never accepts a message in clear). */
  tls: { version: string | null; cipher: string | null };
  /** The user that authenticated, or null. */
  authUser: string | null;
  receivedAt: Date;
}

export interface Sink {
  host: "127.0.0.1";
  ports: { starttls: number; implicit: number };
  /** The CA certificate (PEM) to trust. */
  ca: string;
  /** `sha256/BASE64` pin of the server certificate. */
  pin: string;
  user: string;
  password: string;
  outDir: string;
  /** The messages stored so far, oldest first (a copy). */
  received(): ReceivedMessage[];
  /** Stops both listeners and drops every open connection. */
  close(): Promise<void>;
}

const COMMAND_LINE_MAX = 4096;
const DATA_LINE_MAX = 64 * 1024;
const MAX_RECIPIENTS = 100;
const NAME = "localhost";

interface Shared {
  opts: {
    outDir: string;
    user: string;
    password: string;
    requireAuth: boolean;
    maxSize: number;
    idleMs: number;
    onMessage?: (message: ReceivedMessage) => void;
  };
  secureContext: tls.SecureContext;
  received: ReceivedMessage[];
  /** Number of the next `.eml` file. */
  next: number;
  sockets: Set<net.Socket>;
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const pki = options.pki ?? generateDemoPki();
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), "mailplan-demo-"));
  mkdirSync(outDir, { recursive: true });
  const shared: Shared = {
    opts: {
      outDir,
      user: options.user ?? "demo",
      password: options.password ?? "demo",
      requireAuth: options.requireAuth ?? false,
      maxSize: options.maxSize ?? 10 * 1024 * 1024,
      idleMs: options.idleMs ?? 5 * 60 * 1000,
      onMessage: options.onMessage,
    },
    secureContext: tls.createSecureContext({ key: pki.key, cert: pki.cert, minVersion: "TLSv1.2" }),
    received: [],
    next: 1 + Math.max(0, ...readdirSync(outDir).map((f) => Number(/^(\d+)\.eml$/.exec(f)?.[1] ?? 0))),
    sockets: new Set(),
  };
  const track = (socket: net.Socket) => {
    shared.sockets.add(socket);
    socket.on("close", () => shared.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };

  const plain = net.createServer((socket) => {
    track(socket);
    socket.setNoDelay(true);
    new Session(shared, socket, "starttls", null);
  });
  const implicit = tls.createServer({ key: pki.key, cert: pki.cert, minVersion: "TLSv1.2" }, (socket) => {
    socket.setNoDelay(true);
    new Session(shared, socket, "implicit", tlsInfo(socket));
  });
  implicit.on("connection", track);
  implicit.on("tlsClientError", () => {}); // a failed handshake just closes that connection

  const listen = (server: net.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
    });
  const ports = {
    starttls: await listen(plain, options.starttlsPort ?? 0),
    implicit: await listen(implicit, options.implicitPort ?? 0).catch(async (e) => {
      await new Promise((r) => plain.close(r));
      throw e;
    }),
  };

  return {
    host: "127.0.0.1",
    ports,
    ca: pki.ca,
    pin: pki.pin,
    user: shared.opts.user,
    password: shared.opts.password,
    outDir,
    received: () => [...shared.received],
    async close() {
      const closed = [plain, implicit].map((s) => new Promise<void>((r) => s.close(() => r())));
      for (const socket of shared.sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
}

function tlsInfo(socket: tls.TLSSocket): { version: string | null; cipher: string | null } {
  return { version: socket.getProtocol() ?? null, cipher: socket.getCipher()?.name ?? null };
}

type Mode = "command" | "data" | "auth-plain" | "auth-login-user" | "auth-login-password";

/** One SMTP conversation on one socket (a STARTTLS upgrade starts a new Session). */
class Session {
  private buffer: Buffer = Buffer.alloc(0);
  private mode: Mode = "command";
  private helo: string | null = null;
  private authUser: string | null = null;
  private loginUser = "";
  private mailFrom: string | null = null;
  private rcptTo: string[] = [];
  private data: Buffer[] = [];
  private dataSize = 0;
  private closed = false;
  private readonly onData = (chunk: Buffer) => this.feed(chunk);

  constructor(
    private readonly shared: Shared,
    private readonly socket: net.Socket,
    private readonly port: "starttls" | "implicit",
    private readonly tls: { version: string | null; cipher: string | null } | null,
  ) {
    socket.setTimeout(shared.opts.idleMs, () => this.close("421 4.4.2 Idle timeout, closing"));
    socket.on("data", this.onData);
    socket.on("close", () => (this.closed = true));
    // After a STARTTLS upgrade there is no new greeting (RFC 3207): the client sends EHLO.
    if (!(port === "starttls" && tls)) this.reply(`220 ${NAME} ESMTP mailplan demo sink`);
  }

  private reply(line: string) {
    if (!this.closed) this.socket.write(line + "\r\n");
  }

  private close(line: string) {
    if (this.closed) return;
    this.closed = true;
    this.socket.end(line + "\r\n");
  }

  /** Cuts the input into lines and handles them in order (the pipelining guarantee). */
  private feed(chunk: Buffer) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let start = 0;
    while (!this.closed) {
      const lf = this.buffer.indexOf(0x0a, start);
      if (lf < 0) break;
      const line = this.buffer.subarray(start, lf + 1);
      start = lf + 1;
      if (this.mode === "data") this.dataLine(line);
      else if (this.handleCommand(line) === "upgrade") return; // the rest of the buffer is dropped
    }
    this.buffer = this.buffer.subarray(start);
    const max = this.mode === "data" ? DATA_LINE_MAX : COMMAND_LINE_MAX;
    if (this.buffer.length > max) this.close("500 5.5.2 Line too long, closing");
  }

  /** One line of the message: `.` alone ends it, a leading dot is unstuffed. */
  private dataLine(line: Buffer) {
    if (line.length === 3 && line[0] === 0x2e && line[1] === 0x0d) return this.endData();
    if (line.length > DATA_LINE_MAX) return this.close("500 5.5.2 Line too long, closing");
    const content = line[0] === 0x2e ? line.subarray(1) : line;
    this.dataSize += content.length;
    if (this.dataSize <= this.shared.opts.maxSize) this.data.push(Buffer.from(content));
  }

  private endData() {
    this.mode = "command";
    const { opts, received } = this.shared;
    if (this.dataSize > opts.maxSize) {
      this.resetTransaction();
      return this.reply("552 5.3.4 Message too big for this demo sink");
    }
    const n = this.shared.next++;
    const path = join(opts.outDir, `${n}.eml`);
    const bytes = Buffer.concat(this.data);
    writeFileSync(path, bytes);
    const message: ReceivedMessage = {
      n,
      path,
      size: bytes.length,
      port: this.port,
      helo: this.helo ?? "",
      mailFrom: this.mailFrom ?? "",
      rcptTo: [...this.rcptTo],
      tls: this.tls!, // MAIL is refused without TLS
      authUser: this.authUser,
      receivedAt: new Date(),
    };
    received.push(message);
    this.resetTransaction();
    this.reply(`250 2.0.0 Ok: queued as ${n}`);
    opts.onMessage?.(message);
  }

  private resetTransaction() {
    this.mailFrom = null;
    this.rcptTo = [];
    this.data = [];
    this.dataSize = 0;
  }

  private handleCommand(raw: Buffer): "upgrade" | void {
    if (raw.length > COMMAND_LINE_MAX) return this.close("500 5.5.2 Line too long, closing");
    const line = raw.toString("utf8").replace(/\r?\n$/, "");
    if (this.mode !== "command") return this.authStep(line);

    const verb = line.split(" ", 1)[0].toUpperCase();
    const arg = line.slice(verb.length).trim();
    const { opts } = this.shared;
    const secure = this.tls !== null;
    switch (verb) {
      case "EHLO":
      case "HELO": {
        if (!arg) return this.reply(`501 5.5.4 ${verb} needs a name`);
        this.helo = arg;
        this.resetTransaction();
        if (verb === "HELO") return this.reply(`250 ${NAME}`);
        const extensions = [
          "PIPELINING",
          `SIZE ${opts.maxSize}`,
          "8BITMIME",
          "SMTPUTF8",
          "ENHANCEDSTATUSCODES",
        ];
        extensions.push(secure ? "AUTH PLAIN LOGIN" : "STARTTLS");
        const lines = [`${NAME} greets ${arg}`, ...extensions];
        return lines.forEach((l, i) => this.reply(`250${i < lines.length - 1 ? "-" : " "}${l}`));
      }
      case "STARTTLS":
        if (arg) return this.reply("501 5.5.4 STARTTLS takes no argument");
        if (secure) return this.reply("503 5.5.1 TLS already active");
        this.reply("220 2.0.0 Ready to start TLS");
        this.upgrade();
        return "upgrade";
      case "AUTH":
        if (!secure) return this.reply("530 5.7.0 Must issue a STARTTLS command first");
        if (!this.helo) return this.reply("503 5.5.1 Send EHLO first");
        if (this.authUser) return this.reply("503 5.5.1 Already authenticated");
        if (this.mailFrom !== null) return this.reply("503 5.5.1 AUTH not allowed during a transaction");
        return this.authStart(arg);
      case "MAIL": {
        if (!secure) return this.reply("530 5.7.0 Must issue a STARTTLS command first");
        if (!this.helo) return this.reply("503 5.5.1 Send EHLO first");
        if (opts.requireAuth && !this.authUser) return this.reply("530 5.7.0 Authentication required");
        if (this.mailFrom !== null) return this.reply("503 5.5.1 Sender already given");
        const m = /^FROM:\s*<([^<>]*)>(.*)$/i.exec(arg);
        if (!m) return this.reply("501 5.5.4 Syntax: MAIL FROM:<address>");
        const size = /(?:^|\s)SIZE=(\d+)/i.exec(m[2]);
        if (size && Number(size[1]) > opts.maxSize) return this.reply("552 5.3.4 Message too big");
        this.mailFrom = m[1];
        return this.reply("250 2.1.0 Ok");
      }
      case "RCPT": {
        if (this.mailFrom === null) return this.reply("503 5.5.1 Need MAIL first");
        const m = /^TO:\s*<([^<>]+)>/i.exec(arg);
        if (!m) return this.reply("501 5.5.4 Syntax: RCPT TO:<address>");
        if (this.rcptTo.length >= MAX_RECIPIENTS) return this.reply("452 4.5.3 Too many recipients");
        this.rcptTo.push(m[1]);
        return this.reply("250 2.1.5 Ok");
      }
      case "DATA":
        if (this.mailFrom === null) return this.reply("503 5.5.1 Need MAIL first");
        if (!this.rcptTo.length) return this.reply("554 5.5.1 No valid recipients");
        this.mode = "data";
        return this.reply("354 End data with <CR><LF>.<CR><LF>");
      case "RSET":
        this.resetTransaction();
        return this.reply("250 2.0.0 Ok");
      case "NOOP":
        return this.reply("250 2.0.0 Ok");
      case "QUIT":
        return this.close("221 2.0.0 Bye");
      default:
        return this.reply("500 5.5.2 Command not recognized");
    }
  }

  /** Hands the socket to TLS; the new session starts with nothing known about the client. */
  private upgrade() {
    this.closed = true; // this session says nothing more
    this.socket.off("data", this.onData);
    this.socket.setTimeout(0);
    const secure = new tls.TLSSocket(this.socket, {
      isServer: true,
      secureContext: this.shared.secureContext,
    });
    secure.on("error", () => this.socket.destroy());
    secure.once("secure", () => {
      this.shared.sockets.add(secure);
      secure.on("close", () => this.shared.sockets.delete(secure));
      new Session(this.shared, secure, "starttls", tlsInfo(secure));
    });
  }

  private authStart(arg: string) {
    const [mechanism, initial] = arg.split(/\s+/, 2);
    switch (mechanism.toUpperCase()) {
      case "PLAIN":
        if (initial === undefined) {
          this.mode = "auth-plain";
          return this.reply("334 ");
        }
        return this.authStep(initial, "auth-plain");
      case "LOGIN":
        if (initial === undefined) {
          this.mode = "auth-login-user";
          return this.reply("334 VXNlcm5hbWU6"); // "Username:"
        }
        return this.authStep(initial, "auth-login-user");
      default:
        return this.reply("504 5.5.4 Unrecognized authentication mechanism (use PLAIN or LOGIN)");
    }
  }

  /** One base64 answer of an AUTH exchange. */
  private authStep(line: string, mode: Mode = this.mode) {
    this.mode = "command";
    if (line === "*") return this.reply("501 5.0.0 Authentication cancelled");
    const text = decodeBase64(line === "=" ? "" : line);
    if (text === null) return this.reply("501 5.5.2 Cannot decode the base64 answer");
    const { user, password } = this.shared.opts;
    if (mode === "auth-login-user") {
      this.loginUser = text;
      this.mode = "auth-login-password";
      return this.reply("334 UGFzc3dvcmQ6"); // "Password:"
    }
    let given: [string, string];
    if (mode === "auth-plain") {
      const parts = text.split("\0"); // authzid NUL authcid NUL passwd
      if (parts.length !== 3) return this.reply("501 5.5.2 Malformed PLAIN answer");
      if (parts[0] && parts[0] !== parts[1]) {
        return this.reply("535 5.7.8 Authentication credentials invalid");
      }
      given = [parts[1], parts[2]];
    } else {
      given = [this.loginUser, text];
    }
    if (given[0] !== user || given[1] !== password) {
      return this.reply("535 5.7.8 Authentication credentials invalid");
    }
    this.authUser = user;
    return this.reply("235 2.7.0 Authentication successful");
  }
}

function decodeBase64(text: string): string | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  return Buffer.from(text, "base64").toString("utf8");
}
