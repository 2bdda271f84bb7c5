/**
 * The line `send` should end with when it fails with a TLS or mode error: the exact `probe`
 * command that explains it. `send` prints it (lib/cli/send.ts); which codes get it is the
 * `probe` column of the one table, lib/codes.ts.
 *
 * ```ts
 * probeHint("TLS_MODE_MISMATCH", "config/mail.yaml", "gmail");
 * // "run: mailplan probe --config config/mail.yaml --relay gmail  (explains the server's TLS and writes the relay for it)"
 * ```
 * @module
 */

import { type ErrorCode, hasProbeHint } from "../codes.ts";

const arg = (s: string) => (/^[A-Za-z0-9_.\/:@=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The hint line for `code`, or null when probe would not help. */
export function probeHint(code: ErrorCode, configFile: string, relay: string): string | null {
  if (!hasProbeHint(code)) return null;
  return `run: mailplan probe --config ${arg(configFile)} --relay ${arg(relay)}  (explains the server's TLS and writes the relay for it)`;
}
