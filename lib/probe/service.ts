/**
 * Service facts from EHLO capabilities: AUTH mechanisms, SIZE, PIPELINING, CHUNKING, 8BITMIME,
 * SMTPUTF8, DSN, REQUIRETLS, ENHANCEDSTATUSCODES; and the EHLO lines as text, with what TLS
 * added or removed.
 *
 * ```ts
 * serviceFacts(capsAfterTls, capsBeforeTls).auth; // ["PLAIN", "LOGIN"]
 * ```
 * @module
 */
import { authMechanisms, type Capabilities, sizeLimit } from "../smtp/capabilities.ts";
import type { ServiceFacts } from "./types.ts";

/** EHLO keywords with their parameters, one string each ("SIZE 10240000"). */
export function capabilityLines(caps: Capabilities | null): string[] | null {
  if (!caps) return null;
  return [...caps.entries()].map(([k, v]) => [k, ...v].join(" "));
}

/** Lines in `after` and not in `before`, and the reverse. */
export function capabilityDiff(before: string[] | null, after: string[] | null): { addedByTls: string[]; removedByTls: string[] } {
  if (!before || !after) return { addedByTls: [], removedByTls: [] };
  return {
    addedByTls: after.filter((l) => !before.includes(l)),
    removedByTls: before.filter((l) => !after.includes(l)),
  };
}

/** The facts of the connection mailplan would send on (`caps`), plus AUTH offered before TLS
 * (`beforeTls`: the plaintext EHLO, null on implicit-TLS ports). */
export function serviceFacts(caps: Capabilities, beforeTls: Capabilities | null): ServiceFacts {
  return {
    auth: authMechanisms(caps),
    authBeforeTls: beforeTls ? authMechanisms(beforeTls) : [],
    size: sizeLimit(caps),
    pipelining: caps.has("PIPELINING"),
    chunking: caps.has("CHUNKING"),
    eightBitMime: caps.has("8BITMIME"),
    smtpUtf8: caps.has("SMTPUTF8"),
    dsn: caps.has("DSN"),
    requireTls: caps.has("REQUIRETLS"),
    enhancedStatusCodes: caps.has("ENHANCEDSTATUSCODES"),
  };
}
