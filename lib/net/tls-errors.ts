/**
 * Compatibility entry point for code outside lib/net that imported the former 412-line
 * `tls-errors.ts`: the error type (errors.ts), the classifier (classify.ts) and the
 * post-handshake checks (verify.ts) now live in one file each. New code imports those directly.
 * Re-exports only: no logic here, and nothing in lib/net imports this file (no cycle).
 *
 * ```ts
 * // lib/engine/errors.ts: `NetError` imported from here is the very class errors.ts defines
 * e instanceof NetError;
 * ```
 */
export { closedError, errorText, injectionError, NetError, type NetErrorCode, type NetPhase, unsupported } from "./errors.ts";
export { classifyReadError, classifyTlsError, connectError, isReset, type TlsContext } from "./classify.ts";
export { checkPins, checkSession, decideSession, type RawHandshake, trustAnchors } from "./verify.ts";
