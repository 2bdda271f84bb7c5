/**
 * Loopback hosts: traffic that never leaves the machine, where AUTH in clear and `verify: false`
 * are acceptable (tests, a local relay). Only what cannot be redirected by DNS counts: literal
 * addresses in 127.0.0.0/8 and ::1 (also written in full or IPv4-mapped), and the exact name
 * `localhost` (any case). `smtp.localhost`, `localhost.example` or `localhost.` are looked up
 * through the resolver like any other name, so they are not exempt.
 */
import { isIPv4, isIPv6 } from "node:net";

/**
 * True for a literal loopback address or exactly `localhost`.
 *
 * @example isLoopback("127.0.0.1") // true
 * @example isLoopback("smtp.localhost") // false
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  if (isIPv4(h)) return h.startsWith("127.");
  if (!isIPv6(h)) return false;
  const mapped = /^(?:0{0,4}:){0,5}(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return isIPv4(mapped[1]) && mapped[1].startsWith("127.");
  return expandIPv6(h) === "0000:0000:0000:0000:0000:0000:0000:0001";
}

/** The eight groups of an IPv6 address, zero-padded (only for addresses isIPv6 accepted, without an embedded IPv4). */
function expandIPv6(h: string): string {
  const [head, tail] = h.includes("::") ? h.split("::") : [h, undefined];
  const a = head ? head.split(":") : [];
  const b = tail === undefined ? [] : tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array(8 - a.length - b.length).fill("0");
  return [...a, ...zeros, ...b].map((g) => g.padStart(4, "0")).join(":");
}

/** The keys that decide whether AUTH may cross the wire without TLS. */
export interface PlaintextAuthInput {
  host: string;
  strategy: "starttls" | "implicit" | "plain";
  tls: "required" | "opportunistic" | "none";
  allow_plaintext_auth: boolean;
}

/**
 * Whether AUTH may be sent without TLS: the relay says `allow_plaintext_auth: true`, or it never
 * uses TLS (strategy plain or tls none) and is a loopback host. Decided once, here: `check`
 * reports a relay where this is false but AUTH would be in clear, and the plan carries the
 * answer as `security.plaintext_auth` for the engine to hand to the session.
 *
 * @example plaintextAuthAllowed({ host: "127.0.0.1", strategy: "plain", tls: "none", allow_plaintext_auth: false }) // true
 */
export function plaintextAuthAllowed(r: PlaintextAuthInput): boolean {
  const clear = r.strategy === "plain" || r.tls === "none";
  return r.allow_plaintext_auth || (clear && isLoopback(r.host));
}
