/**
 * The error type of lib/net and its constructors that need no classification: a closed
 * connection, bytes injected after the STARTTLS 220, an option an adapter cannot honour.
 * Imports only the table of codes (the bottom of lib/net: conn.ts re-exports from here, no cycle).
 *
 * ```ts
 * try { await conn.startTls({ pins }) } catch (e) {
 *   if (e instanceof NetError) console.log(e.code, e.message, e.hint); // "CERT_PIN_MISMATCH", …
 * }
 * ```
 */
import type { ErrorCode } from "../codes.ts";

/** Contract codes this layer produces, plus `CONNECTION_CLOSED` (write on a closed connection;
 * the engine maps it by phase, e.g. DELIVERY_UNKNOWN after the final dot). */
export type NetErrorCode =
  | Extract<
    ErrorCode,
    | "CONNECT_FAILED"
    | "TLS_MODE_MISMATCH"
    | "STARTTLS_INJECTION"
    | "TLS_HANDSHAKE_FAILED"
    | "TLS_VERSION_TOO_LOW"
    | "CERT_UNTRUSTED"
    | "CERT_EXPIRED"
    | "CERT_HOSTNAME_MISMATCH"
    | "CERT_PIN_MISMATCH"
  >
  | "CONNECTION_CLOSED";

/** Where the failure happened, in the contract's phase vocabulary. */
export type NetPhase = "connect" | "starttls" | "tls";

/** A classified network failure: one contract code, a one-sentence message, and a hint that
 * says what to change. `detail` keeps the runtime's own code or message for transcripts. */
export class NetError extends Error {
  override name = "NetError";
  readonly code: NetErrorCode;
  readonly phase: NetPhase;
  readonly temporary: boolean;
  readonly hint: string;
  readonly detail: string | null;
  constructor(
    code: NetErrorCode,
    message: string,
    opts: { phase: NetPhase; hint: string; temporary?: boolean; detail?: string | null; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.phase = opts.phase;
    this.temporary = opts.temporary ?? false;
    this.hint = opts.hint;
    this.detail = opts.detail ?? null;
  }
}

/**
 * The runtime's code and message of an error-like value (Error, string, `{code}`), causes included.
 *
 * @example
 * errorText(Object.assign(new Error("x"), { code: "ECONNRESET" })); // { code: "ECONNRESET", message: "x" }
 */
export function errorText(err: unknown): { code: string; message: string } {
  if (err == null) return { code: "", message: "" };
  if (typeof err === "string") return { code: /^[A-Z0-9_]+$/.test(err) ? err : "", message: err };
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  let message = typeof e.message === "string" ? e.message : String(err);
  if (e.cause && e.cause !== err) {
    const c = errorText(e.cause);
    message += ` (${[c.code, c.message].filter(Boolean).join(": ")})`;
    if (!code && c.code) return { code: c.code, message };
  }
  if (!code && typeof e.name === "string" && e.name !== "Error") message = `${e.name}: ${message}`;
  return { code, message };
}

/**
 * The error for an option the adapter cannot honour; raised before any handshake.
 *
 * @example
 * unsupported("deno", "check security.pin", "use the node-tls adapter"); // TLS_HANDSHAKE_FAILED
 */
export function unsupported(adapter: string, what: string, hint: string): NetError {
  return new NetError("TLS_HANDSHAKE_FAILED", `The ${adapter} adapter cannot ${what}.`, {
    phase: "tls",
    hint,
  });
}

/**
 * The error for bytes buffered after the STARTTLS 220 and before the handshake.
 *
 * @example
 * injectionError(24).code; // "STARTTLS_INJECTION"
 */
export function injectionError(bytes: number): NetError {
  return new NetError(
    "STARTTLS_INJECTION",
    `The server sent ${bytes} byte${
      bytes === 1 ? "" : "s"
    } after its STARTTLS reply and before the TLS handshake (response injection).`,
    {
      phase: "starttls",
      hint: "something in the path injected plaintext; the connection was dropped, do not retry in clear",
    },
  );
}

/**
 * The error for a write or startTls on a connection that is already closed.
 *
 * @example
 * closedError().temporary; // true
 */
export function closedError(): NetError {
  return new NetError("CONNECTION_CLOSED", "The connection is closed.", {
    phase: "connect",
    temporary: true,
    hint: "the server or a timeout ended the connection; retry later",
  });
}

/**
 * Why a write is impossible: the TLS alert the server closed with (X4), when one is pending in
 * the read queue, else {@link closedError} (with the runtime's error as its cause, when given).
 *
 * @example
 * throw closedReason(queue.pendingError); // the alert's NetError, or CONNECTION_CLOSED
 */
export function closedReason(pending: unknown, cause?: unknown): NetError {
  if (pending instanceof NetError) return pending;
  return cause === undefined ? closedError() : Object.assign(closedError(), { cause });
}
