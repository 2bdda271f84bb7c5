/**
 * The line `send` should end with when it fails with a TLS or mode error: the exact `probe`
 * command that explains it. For the lead to wire into lib/cli/render-result.ts / send.ts.
 *
 * ```ts
 * probeHint("TLS_MODE_MISMATCH", "config/mail.yaml", "gmail");
 * // "run: mailplan probe --config config/mail.yaml --relay gmail  (explains the server's TLS and writes the relay for it)"
 * ```
 * @module
 */

/** Error codes after which `probe` has something to say. */
export const PROBE_CODES: ReadonlySet<string> = new Set([
  "TLS_MODE_MISMATCH",
  "STARTTLS_UNAVAILABLE",
  "STARTTLS_REFUSED",
  "TLS_HANDSHAKE_FAILED",
  "TLS_VERSION_TOO_LOW",
  "CERT_UNTRUSTED",
  "CERT_EXPIRED",
  "CERT_HOSTNAME_MISMATCH",
  "CERT_PIN_MISMATCH",
]);

const arg = (s: string) => (/^[A-Za-z0-9_.\/:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The hint line for `code`, or null when probe would not help. */
export function probeHint(code: string, configFile: string, relay: string): string | null {
  if (!PROBE_CODES.has(code)) return null;
  return `run: mailplan probe --config ${arg(configFile)} --relay ${arg(relay)}  (explains the server's TLS and writes the relay for it)`;
}
