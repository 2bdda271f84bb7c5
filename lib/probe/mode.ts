/**
 * Mode detection: does a port speak first in plaintext (an SMTP greeting) or wait for a TLS
 * ClientHello? Nothing that could be logged as an attack is sent: the probe connects and waits a
 * short, bounded time for a greeting; only when none comes does it start a TLS handshake on the
 * same connection (what any implicit-TLS client does). A plaintext server that greets late then
 * answers the ClientHello in plaintext, which the handshake reports as such: the port is
 * re-opened in plaintext with the full timeout.
 *
 * ```ts
 * const d = await detectMode("127.0.0.1", 465, { name: "localhost", greetWaitMs: 1500, timeoutMs: 5000 });
 * if (d.mode === "implicit" && d.handshake.ok) …
 * ```
 * @module
 */
import { handshake, type HandshakeResult } from "./handshake.ts";
import { connectTcp, ProbeFailure, Wire } from "./wire.ts";

/** What detection found; a plaintext wire or a TLS handshake is handed on, still open. */
export type Detected =
  | { mode: "closed"; detail: string; failure: ProbeFailure }
  | { mode: "plaintext"; detail: string; wire: Wire }
  | { mode: "implicit"; detail: string; handshake: HandshakeResult }
  | { mode: "silent"; detail: string };

/** Detection bounds. */
export interface DetectOptions {
  name: string;
  /** How long to wait for a plaintext greeting before trying TLS. */
  greetWaitMs: number;
  /** Connect and handshake deadline. */
  timeoutMs: number;
}

/** Decides the mode of `host:port`. */
export async function detectMode(host: string, port: number, o: DetectOptions): Promise<Detected> {
  let wire: Wire;
  try {
    wire = new Wire(await connectTcp(host, port, o.timeoutMs));
  } catch (e) {
    const f = e instanceof ProbeFailure ? e : new ProbeFailure("CONNECT_FAILED", String(e));
    return { mode: "closed", detail: f.message, failure: f };
  }
  const t0 = Date.now();
  if (await wire.anyBytes(o.greetWaitMs)) {
    return { mode: "plaintext", detail: `SMTP greeting after ${Date.now() - t0} ms`, wire };
  }
  const sock = wire.release();
  if (sock.destroyed) return { mode: "silent", detail: "the server closed the connection without a word" };
  const hs = await handshake(sock, { host, port, name: o.name, timeoutMs: o.timeoutMs });
  const waited = `no greeting within ${o.greetWaitMs / 1000}s`;
  if (hs.ok || hs.kind === "version" || hs.kind === "cipher" || hs.kind === "other") {
    return { mode: "implicit", detail: `${waited}; it answered a TLS ClientHello${hs.ok ? "" : ` (${hs.detail})`}`, handshake: hs };
  }
  if (hs.kind === "plaintext") {
    // A late greeting met our ClientHello: plaintext after all. Start over without TLS.
    try {
      const again = new Wire(await connectTcp(host, port, o.timeoutMs));
      if (await again.anyBytes(o.timeoutMs)) {
        return { mode: "plaintext", detail: `SMTP greeting after more than ${o.greetWaitMs / 1000}s (slow greeting)`, wire: again };
      }
      again.close();
    } catch (e) {
      const f = e instanceof ProbeFailure ? e : new ProbeFailure("CONNECT_FAILED", String(e));
      return { mode: "closed", detail: f.message, failure: f };
    }
  }
  return { mode: "silent", detail: `${waited}, and no TLS handshake either (${hs.detail})` };
}
