/**
 * `HOST[:PORT]` of the probe command line: names, IPv4, and IPv6 as `[::1]:25`, `[::1]` or bare `::1`.
 *
 * ```ts
 * parseTarget("[::1]:2525"); // { host: "::1", port: 2525 }
 * parseTarget("smtp.example.com"); // { host: "smtp.example.com", port: null }
 * ```
 * @module
 */
import { isIP } from "node:net";
import { MailplanError } from "../codes.ts";

const NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})?)*\.?$/;

function port(text: string, arg: string): number {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) {
    throw new MailplanError("USAGE", `"${arg}" has no valid port number (1–65535).`, "write HOST:PORT, for example smtp.example.com:587 or [::1]:25");
  }
  return n;
}

/** Parses the target argument; USAGE error when it is not a host with an optional port. */
export function parseTarget(arg: string): { host: string; port: number | null } {
  const bad = () =>
    new MailplanError("USAGE", `"${arg}" is not a host name or address.`, "write HOST or HOST:PORT, for example smtp.example.com:587 or [::1]:25 (no scheme, no path)");
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(arg);
  if (v6) {
    if (isIP(v6[1]) !== 6) throw bad();
    return { host: v6[1], port: v6[2] === undefined ? null : port(v6[2], arg) };
  }
  if (isIP(arg) === 6) return { host: arg, port: null };
  const i = arg.lastIndexOf(":");
  const host = i < 0 ? arg : arg.slice(0, i);
  if (!host || (!NAME.test(host) && isIP(host) !== 4)) throw bad();
  return { host, port: i < 0 ? null : port(arg.slice(i + 1), arg) };
}
