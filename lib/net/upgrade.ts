/**
 * The TLS upgrade every adapter runs (implicit TLS and STARTTLS alike): one skeleton, adapters
 * supply only primitives ({@link UpgradeSide}: state, a capability refusal, the runtime
 * handshake returning raw facts, an abort). The order is the security argument:
 * 1. refuse what the adapter cannot honour, before any TLS byte;
 * 2. refuse bytes buffered after the STARTTLS 220 (response injection, threats N7);
 * 3. handshake; a runtime error is classified once (classify.ts);
 * 4. decide (verify.ts: chain, names from the DER, minimum version, pins).
 * Any failure aborts the connection before the promise settles, so no byte reaches an
 * unverified peer.
 *
 * ```ts
 * const { facts, ctx } = await upgradeTls(side, opts, "starttls", signal);
 * ```
 */
import type { AdapterName, TlsOptions } from "./conn.ts";
import { classifyTlsError, type TlsContext } from "./classify.ts";
import { closedError, injectionError, type NetError } from "./errors.ts";
import { decideSession, type RawHandshake } from "./verify.ts";
import type { TlsFacts } from "./conn.ts";

/** What an adapter's connection gives the shared upgrade. */
export interface UpgradeSide {
  readonly adapter: AdapterName;
  readonly host: string;
  readonly port: number;
  readonly isTls: boolean;
  readonly closed: boolean;
  /** Bytes received and not yet read (after the STARTTLS 220: an injection). */
  readonly bufferedBytes: number;
  /** An option this adapter cannot honour, as the error to refuse with; null when fine. */
  refuse?(opts: TlsOptions, mode: "implicit" | "starttls"): NetError | null;
  /** Runs the runtime handshake. Rejects with the runtime's error, or `signal.reason`. */
  handshake(opts: TlsOptions, ctx: TlsContext, signal?: AbortSignal): Promise<RawHandshake>;
  /** Closes at once, dropping buffered bytes; idempotent. */
  abort(): void;
}

/**
 * Upgrades `side` to TLS under `opts`; resolves with the decided facts and the context later
 * read errors are classified with, or rejects (connection aborted) with a NetError or the
 * signal's reason.
 *
 * @example
 * const { facts } = await upgradeTls(side, { serverName: "smtp.example.com" }, "implicit");
 */
export async function upgradeTls(
  side: UpgradeSide,
  opts: TlsOptions,
  mode: "implicit" | "starttls",
  signal?: AbortSignal,
): Promise<{ facts: TlsFacts; ctx: TlsContext }> {
  if (side.isTls) throw new Error("startTls: the connection is already TLS");
  if (side.closed) throw closedError();
  const refusal = side.refuse?.(opts, mode) ?? null;
  if (refusal) {
    side.abort();
    throw refusal;
  }
  if (side.bufferedBytes > 0) {
    const n = side.bufferedBytes;
    side.abort();
    throw injectionError(n);
  }
  const ctx: TlsContext = {
    host: side.host,
    port: side.port,
    mode,
    name: opts.serverName ?? side.host,
    minVersion: opts.minVersion,
    clientCert: !!opts.clientCert,
  };
  let raw: RawHandshake;
  try {
    signal?.throwIfAborted();
    raw = await side.handshake(opts, ctx, signal);
  } catch (e) {
    side.abort();
    if (signal?.aborted && e === signal.reason) throw e;
    throw classifyTlsError(e, ctx);
  }
  const decided = decideSession(raw, opts, ctx);
  if ("error" in decided) {
    side.abort();
    throw decided.error;
  }
  return decided;
}
