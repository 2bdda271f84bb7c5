/**
 * What a server that refuses every cipher mailplan offers DOES offer: raw TLS ClientHellos
 * (TLS 1.0 up to 1.2, a wide list of old and new suites mailplan never sends with), one per
 * connection, reading only the ServerHello's version and chosen suite, then hanging up. Used
 * only to describe the server (issue 9, threats X5): no handshake is completed, no byte of
 * application data is ever sent, whatever the runtime's own TLS library supports.
 *
 * ```ts
 * const offer = await scanOffer(() => openForTls(), { name: "mx.example.com", timeoutMs: 5000 });
 * offer.suites; // [{ name: "CAMELLIA128-SHA", version: "TLSv1.2", weak: ["no forward secrecy", "CBC with SHA-1"] }]
 * ```
 * @module
 */
import type * as net from "node:net";
import { isIP } from "node:net";

/** One suite the server chose, with what is wrong with it. */
export interface OfferedSuite {
  /** OpenSSL name (or `0xNNNN` when unknown). */
  name: string;
  version: "TLSv1" | "TLSv1.1" | "TLSv1.2";
  /** Weaknesses in words: "no forward secrecy", "CBC with SHA-1", "3DES", "RC4", … */
  weak: string[];
}

/** The scan's result: suites in the server's order of preference. */
export interface Offer {
  suites: OfferedSuite[];
}

/** Suites offered by the scan (id → OpenSSL name): modern ones first so a healthy server shows it. */
const SUITES: [number, string][] = [
  [0xc02f, "ECDHE-RSA-AES128-GCM-SHA256"], [0xc030, "ECDHE-RSA-AES256-GCM-SHA384"],
  [0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256"], [0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384"],
  [0xcca8, "ECDHE-RSA-CHACHA20-POLY1305"], [0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305"],
  [0x009e, "DHE-RSA-AES128-GCM-SHA256"], [0x009f, "DHE-RSA-AES256-GCM-SHA384"],
  [0xc013, "ECDHE-RSA-AES128-SHA"], [0xc014, "ECDHE-RSA-AES256-SHA"],
  [0xc009, "ECDHE-ECDSA-AES128-SHA"], [0xc00a, "ECDHE-ECDSA-AES256-SHA"],
  [0x0033, "DHE-RSA-AES128-SHA"], [0x0039, "DHE-RSA-AES256-SHA"],
  [0x0045, "DHE-RSA-CAMELLIA128-SHA"], [0x0088, "DHE-RSA-CAMELLIA256-SHA"],
  [0x009c, "AES128-GCM-SHA256"], [0x009d, "AES256-GCM-SHA384"],
  [0x003c, "AES128-SHA256"], [0x003d, "AES256-SHA256"],
  [0x002f, "AES128-SHA"], [0x0035, "AES256-SHA"],
  [0x0041, "CAMELLIA128-SHA"], [0x0084, "CAMELLIA256-SHA"],
  [0x0096, "SEED-SHA"], [0x0007, "IDEA-CBC-SHA"],
  [0xc012, "ECDHE-RSA-DES-CBC3-SHA"], [0x0016, "EDH-RSA-DES-CBC3-SHA"], [0x000a, "DES-CBC3-SHA"],
  [0xc011, "ECDHE-RSA-RC4-SHA"], [0x0005, "RC4-SHA"], [0x0004, "RC4-MD5"],
];
const NAMES = new Map(SUITES);

/**
 * What is weak about a suite, by its OpenSSL name.
 *
 * @example
 * weaknesses("DES-CBC3-SHA"); // ["no forward secrecy", "CBC with SHA-1", "3DES"]
 */
export function weaknesses(name: string): string[] {
  const out: string[] = [];
  if (!/^(ECDHE|DHE|EDH)-/.test(name)) out.push("no forward secrecy");
  if (/-SHA$|-MD5$/.test(name) && !/GCM|CHACHA/.test(name)) out.push(/RC4/.test(name) ? "SHA-1/MD5 MAC" : "CBC with SHA-1");
  if (/DES-CBC3/.test(name)) out.push("3DES");
  if (/RC4/.test(name)) out.push("RC4");
  if (/CAMELLIA|SEED|IDEA/.test(name)) out.push(`${/CAMELLIA/.test(name) ? "Camellia" : /SEED/.test(name) ? "SEED" : "IDEA"}, which mailplan's TLS libraries do not implement`);
  return out;
}

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const vec16 = (b: number[]) => [...u16(b.length), ...b];
const ext = (type: number, body: number[]) => [...u16(type), ...vec16(body)];

/** A TLS ≤ 1.2 ClientHello offering `suites`, with SNI when `name` is a host name. */
export function clientHello(suites: number[], name: string | null): Uint8Array {
  const exts: number[] = [];
  if (name && !isIP(name)) {
    const host = Array.from(new TextEncoder().encode(name));
    exts.push(...ext(0x0000, vec16([0, ...vec16(host)])));
  }
  exts.push(...ext(0x000a, vec16([...u16(0x001d), ...u16(0x0017), ...u16(0x0018)]))); // groups
  exts.push(...ext(0x000b, [1, 0])); // ec_point_formats: uncompressed
  exts.push(...ext(0x000d, vec16([0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0201, 0x0203].flatMap(u16))));
  exts.push(...ext(0xff01, [0])); // renegotiation_info
  const random = Array.from(crypto.getRandomValues(new Uint8Array(32)));
  const body = [0x03, 0x03, ...random, 0, ...vec16(suites.flatMap(u16)), 1, 0, ...vec16(exts)];
  const hs = [0x01, 0, ...u16(body.length), ...body];
  return Uint8Array.from([0x16, 0x03, 0x01, ...u16(hs.length), ...hs]);
}

const VERSION: Record<number, OfferedSuite["version"]> = { 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2" };

/** The server's first answer: its chosen version and suite, an alert, or null (need more bytes). */
export function serverAnswer(b: Uint8Array): { version: number; suite: number } | { alert: number } | null {
  if (b.length < 5) return null;
  const len = (b[3] << 8) | b[4];
  if (b.length < 5 + len) return null;
  if (b[0] === 0x15) return { alert: b[6] ?? 0 };
  if (b[0] !== 0x16 || b[5] !== 0x02) return { alert: -1 };
  const p = 5 + 4; // record header + handshake header
  const version = (b[p] << 8) | b[p + 1];
  const sid = b[p + 34];
  const at = p + 35 + sid;
  if (at + 2 > b.length) return { alert: -1 };
  return { version, suite: (b[at] << 8) | b[at + 1] };
}

/** Sends one ClientHello on `sock` and waits for the ServerHello (or an alert, EOF, the deadline). */
function ask(sock: net.Socket, suites: number[], name: string, ms: number): Promise<ReturnType<typeof serverAnswer>> {
  return new Promise((resolve) => {
    let acc = new Uint8Array(0);
    const done = (r: ReturnType<typeof serverAnswer>) => {
      clearTimeout(timer);
      sock.removeAllListeners("data");
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(null), ms);
    sock.on("data", (d: Uint8Array) => {
      const next = new Uint8Array(acc.length + d.length);
      next.set(acc);
      next.set(d, acc.length);
      acc = next;
      const r = serverAnswer(acc);
      if (r) done(r);
    });
    sock.once("close", () => done(serverAnswer(acc)));
    sock.on("error", () => {});
    sock.write(clientHello(suites, name));
  });
}

/**
 * Asks the server, one connection per question, which suite it picks from the wide list; then
 * again without that suite, up to `max` times. `open` gives a socket ready for a ClientHello
 * (after STARTTLS when the port needs it), or null.
 *
 * @example
 * const { suites } = await scanOffer(open, { name: "localhost", timeoutMs: 2000 });
 */
export async function scanOffer(
  open: () => Promise<net.Socket | null>,
  o: { name: string; timeoutMs: number; max?: number },
): Promise<Offer> {
  let left = SUITES.map(([id]) => id);
  const suites: OfferedSuite[] = [];
  for (let i = 0; i < (o.max ?? 6) && left.length; i++) {
    const sock = await open();
    if (!sock) break;
    const r = await ask(sock, left, o.name, o.timeoutMs);
    if (!r || "alert" in r || !VERSION[r.version]) break;
    const name = NAMES.get(r.suite) ?? `0x${r.suite.toString(16).padStart(4, "0")}`;
    suites.push({ name, version: VERSION[r.version], weak: weaknesses(name) });
    left = left.filter((id) => id !== r.suite);
  }
  return { suites };
}
