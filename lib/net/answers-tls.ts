/**
 * Does a port answer TLS? One short question on a connection of its own: connect, send one TLS 1.2
 * ClientHello, read the first bytes back. A TLS server answers with a handshake record (0x16,
 * ServerHello) or an alert record (0x15) whose version byte is 3; a plaintext SMTP server greets
 * (`220 …`) or complains in text. Used when a STARTTLS/plain relay stays silent where a greeting
 * should come (threats.md M2: an implicit-TLS port waits for the client to speak first).
 *
 * Invariants: nothing but the ClientHello is ever written (no SMTP command, no credential); the
 * socket is closed before the promise settles; the promise never rejects; the whole question is
 * bounded by `timeoutMs` (connect included) and by `signal`.
 *
 * ```ts
 * const verdict = await answersTls("127.0.0.1", 465, { timeoutMs: 2000, serverName: "smtp.example.com" });
 * if (verdict === "tls") console.log("this port expects implicit TLS");
 * ```
 * @module
 */
import * as net from "node:net";

/** `tls`: a TLS record came back; `plaintext`: other bytes came back; `silent`: nothing (or no connection). */
export type TlsAnswer = "tls" | "plaintext" | "silent";

/** Bounds of the question. */
export interface AnswersTlsOptions {
  /** Connect plus answer deadline. */
  timeoutMs: number;
  /** SNI to offer (omitted for IP literals and when absent). */
  serverName?: string;
  /** Aborting ends the question at once with `silent`. */
  signal?: AbortSignal;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const withLen16 = (body: number[]) => [...u16(body.length), ...body];

/**
 * A TLS 1.2 ClientHello with the common suites and extensions (SNI, groups, point formats,
 * signature algorithms), enough for any TLS server to answer with a ServerHello or an alert.
 *
 * @example
 * ```ts
 * const hello = clientHello("smtp.example.com"); // hello[0] === 0x16
 * ```
 */
export function clientHello(serverName?: string): Uint8Array {
  const random = crypto.getRandomValues(new Uint8Array(32));
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  const ext = (type: number, body: number[]) => [...u16(type), ...withLen16(body)];
  const extensions: number[] = [];
  if (serverName && net.isIP(serverName) === 0 && /^[\x21-\x7e]{1,253}$/.test(serverName)) {
    const name = [...new TextEncoder().encode(serverName)];
    extensions.push(...ext(0x0000, withLen16([0x00, ...withLen16(name)])));
  }
  extensions.push(...ext(0x000a, withLen16([0x001d, 0x0017, 0x0018].flatMap(u16))));
  extensions.push(...ext(0x000b, [0x01, 0x00]));
  extensions.push(...ext(0x000d, withLen16([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201].flatMap(u16))));
  const body = [0x03, 0x03, ...random, 0x00, ...withLen16(suites.flatMap(u16)), 0x01, 0x00, ...withLen16(extensions)];
  const handshake = [0x01, ...u24(body.length), ...body];
  return new Uint8Array([0x16, 0x03, 0x01, ...withLen16(handshake)]);
}

/**
 * True when `bytes` starts like a TLS record a server sends first: handshake (0x16) or alert
 * (0x15), protocol major version 3.
 *
 * @example
 * ```ts
 * looksLikeTls(new Uint8Array([0x16, 0x03, 0x03])); // true
 * looksLikeTls(new TextEncoder().encode("220 mx")); // false
 * ```
 */
export function looksLikeTls(bytes: Uint8Array): boolean {
  return bytes.length >= 1 && (bytes[0] === 0x15 || bytes[0] === 0x16) && (bytes.length < 2 || bytes[1] === 0x03);
}

/**
 * Asks `host:port` whether it speaks TLS first, on a new connection; never rejects.
 *
 * @example
 * ```ts
 * await answersTls("127.0.0.1", 465, { timeoutMs: 2000 }); // "tls" | "plaintext" | "silent"
 * ```
 */
export function answersTls(host: string, port: number, o: AnswersTlsOptions): Promise<TlsAnswer> {
  return new Promise((resolve) => {
    if (o.signal?.aborted) return resolve("silent");
    let settled = false;
    const sock = net.connect({ host, port });
    const done = (a: TlsAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      sock.removeAllListeners("data");
      sock.on("error", () => {});
      sock.destroy();
      resolve(a);
    };
    const onAbort = () => done("silent");
    const timer = setTimeout(() => done("silent"), o.timeoutMs);
    o.signal?.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => {
      sock.setNoDelay(true);
      sock.write(clientHello(o.serverName));
    });
    sock.on("data", (b: Uint8Array) => done(looksLikeTls(b) ? "tls" : "plaintext"));
    sock.once("error", () => done("silent"));
    sock.once("close", () => done("silent"));
  });
}
