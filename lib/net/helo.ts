/**
 * The EHLO name mailplan uses when a relay sets none: this machine's host name when it is a
 * dotted host name (RFC 5321 §4.1.4 wants the client's FQDN), else `localhost`. One home for the
 * rule, used by `probe` and the engine.
 *
 * ```ts
 * defaultHelo(); // "build-7.example.net" or "localhost"
 * ```
 */
import { hostname } from "node:os";

/**
 * The default EHLO name.
 *
 * @example
 * defaultHelo(); // "localhost" on a machine named "laptop"
 */
export function defaultHelo(): string {
  let h: string;
  try {
    h = hostname();
  } catch {
    return "localhost"; // Deno without --allow-sys=hostname: a relay that cares sets `helo:`
  }
  return /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(h) ? h : "localhost";
}
