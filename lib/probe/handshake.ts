/**
 * One TLS handshake for facts, with `node:tls` (the full peer chain is visible under Bun and Deno,
 * runtimes.md). Verification is recorded, never enforced: `rejectUnauthorized: false` and no
 * hostname check, so `authorized` says only whether the chain leads to the trust store; names,
 * dates and the relay's `ca` are judged in chain.ts. No application byte is written here.
 *
 * ```ts
 * const hs = await handshake(sock, { host: "127.0.0.1", port: 465, name: "localhost", timeoutMs: 5000 });
 * if (hs.ok) console.log(hs.version, hs.chain.length, hs.authorized);
 * ```
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { isReset, tlsFailureKind } from "../net/classify.ts";
import { errorText } from "../net/errors.ts";
import { peerDer } from "../net/peer-chain.ts";

/** What to offer. */
export interface HandshakeOptions {
  host: string;
  port: number;
  /** SNI (omitted for IP literals). */
  name: string;
  /** Trust anchors (PEM) replacing the runtime's store; absent = the system store. */
  ca?: string;
  minVersion?: "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1.2" | "TLSv1.3";
  timeoutMs: number;
}

/** A completed handshake. */
export interface HandshakeOk {
  ok: true;
  socket: tls.TLSSocket;
  version: string | null;
  cipher: string | null;
  /** The chain leads to the trust anchors (system store, or `ca`). */
  authorized: boolean;
  authorizationError: string | null;
  /** DER of the peer chain, leaf first, as the runtime reports it. */
  chain: Uint8Array[];
}

/** A failed handshake. `kind` is a first classification of the runtime's error. */
export interface HandshakeFailed {
  ok: false;
  kind: "plaintext" | "version" | "cipher" | "timeout" | "closed" | "other";
  detail: string;
}

export type HandshakeResult = HandshakeOk | HandshakeFailed;

/** The probe's reading of a failure, from the one classifier of lib/net (classify.ts). */
function classify(err: unknown): HandshakeFailed["kind"] {
  if (isReset(err)) return "closed";
  const kind = tlsFailureKind(err);
  if (kind === "mode") return "plaintext";
  if (kind === "version") return "version";
  if (kind === "cipher") return "cipher";
  return /closed|disconnected before secure/i.test(errorText(err).message) ? "closed" : "other";
}

/** Runs a client handshake over `sock` (a connected TCP socket nobody else reads). */
export function handshake(sock: net.Socket, o: HandshakeOptions): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const t = tls.connect({
      socket: sock,
      servername: net.isIP(o.name) ? undefined : o.name,
      ca: o.ca,
      minVersion: o.minVersion ?? "TLSv1.2",
      maxVersion: o.maxVersion ?? "TLSv1.3",
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    let settled = false;
    const done = (r: HandshakeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      t.off("secureConnect", ok);
      t.off("close", closed);
      if (!r.ok) {
        t.destroy();
        sock.destroy();
      }
      resolve(r);
    };
    const ok = () => {
      const c = t.getCipher() as { name?: string; standardName?: string } | null;
      const err = t.authorizationError ? errorText(t.authorizationError) : null;
      done({
        ok: true,
        socket: t,
        version: t.getProtocol() || null,
        cipher: c?.standardName || c?.name || null,
        authorized: t.authorized === true,
        authorizationError: t.authorized ? null : (err?.code || err?.message || "certificate verify failed"),
        chain: peerDer(t) ?? [],
      });
    };
    const closed = () => done({ ok: false, kind: "closed", detail: "the server closed the connection during the handshake" });
    const timer = setTimeout(
      () => done({ ok: false, kind: "timeout", detail: `no TLS handshake within ${o.timeoutMs / 1000}s` }),
      o.timeoutMs,
    );
    t.once("secureConnect", ok);
    t.once("close", closed);
    t.on("error", (e: unknown) => {
      const { code, message } = errorText(e);
      const detail = [code, message].filter(Boolean).join(": ");
      done({ ok: false, kind: classify(e), detail });
    });
  });
}
