/**
 * Checks session options before any byte is sent (R8): CR/LF/NUL in the EHLO name or AUTH user →
 * CONFIG_INVALID, in an address → MESSAGE_INVALID, contradictory policy → CONFIG_INVALID.
 * @module
 */
import * as cmd from "./command.ts";
import { SessionErrors as E } from "./session-errors.ts";
import type { SessionOptions } from "./types.ts";

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;
// deno-lint-ignore no-control-regex
const BREAKS = /[\x00\r\n]/;
const MECHANISMS = new Set(["auto", "plain", "login", "xoauth2", "cram-md5"]);

/**
 * Throws an SmtpError when the options cannot produce a safe session; returns whether the
 * transaction needs SMTPUTF8 (asked for, or a non-ASCII envelope address).
 * @example validateSessionOptions({ strategy: "plain", tls: "required", helo: "h" }) // throws CONFIG_INVALID
 */
export function validateSessionOptions(options: SessionOptions): boolean {
  cmd.checkHeloName(options.helo);
  for (const [name, value] of Object.entries(options.limits ?? {})) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw E.badLimit(name, value);
  }
  if (options.auth && !MECHANISMS.has(options.auth.mechanism)) throw E.badMechanism(String(options.auth.mechanism));
  if (options.strategy === "plain" && options.tls === "required") throw E.plainButRequired();
  if (options.auth) {
    cmd.checkArgument(options.auth.user, "AUTH user", "CONFIG_INVALID", "auth");
    if (BREAKS.test(options.auth.password)) throw E.badPassword();
  }
  const env = options.envelope;
  if (!env) return !!options.needsSmtpUtf8;
  cmd.checkAddress(env.from, "mail");
  if (env.recipients.length === 0) throw E.noRecipient();
  for (const r of env.recipients) cmd.rcptTo(r);
  return !!options.needsSmtpUtf8 || [env.from, ...env.recipients].some((a) => NON_ASCII.test(a));
}
