/**
 * EHLO capabilities (RFC 5321 §4.1.1.1): keyword → parameters, keywords matched as whole words.
 * @module
 */
import type { Reply } from "./reply.ts";

/**
 * The EHLO keywords mailplan acts on or reports (RFC 5321 §4.1.1.1, and RFC 3207 STARTTLS, 4954
 * AUTH, 1870 SIZE, 2920 PIPELINING, 6152 8BITMIME, 6531 SMTPUTF8, 3030 CHUNKING, 3461 DSN, 8689
 * REQUIRETLS, 2034 ENHANCEDSTATUSCODES). A check by a keyword not listed here (a typo such as
 * "STARTLS") does not compile.
 */
export type CapabilityKeyword =
  | "STARTTLS"
  | "AUTH"
  | "SIZE"
  | "PIPELINING"
  | "8BITMIME"
  | "SMTPUTF8"
  | "CHUNKING"
  | "DSN"
  | "REQUIRETLS"
  | "ENHANCEDSTATUSCODES";

/**
 * Capabilities advertised by one EHLO reply: upper-cased keyword → parameters (as sent). Looked
 * up by {@link CapabilityKeyword}; iterating gives every keyword the server sent, known or not.
 * @example caps.has("STARTTLS"); caps.get("SIZE"); [...caps.keys()] // ["PIPELINING", "X-FOO"]
 */
export interface Capabilities extends Iterable<[string, readonly string[]]> {
  has(keyword: CapabilityKeyword): boolean;
  get(keyword: CapabilityKeyword): readonly string[] | undefined;
  keys(): Iterable<string>;
  entries(): Iterable<[string, readonly string[]]>;
  readonly size: number;
}

/** No capabilities (before EHLO, or after a HELO fallback). */
export const NO_CAPABILITIES: Capabilities = new Map<string, readonly string[]>();

const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * Parses an EHLO reply. The first line (the server's name) is skipped; a line whose first word
 * is not a valid ehlo-keyword is ignored. The legacy `AUTH=PLAIN LOGIN` form is merged into `AUTH`.
 * @example
 * const caps = parseCapabilities(reply); // "250-mx\r\n250-SIZE 1000\r\n250 STARTTLS"
 * caps.has("STARTTLS"); // true
 */
export function parseCapabilities(reply: Reply): Capabilities {
  const caps = new Map<string, string[]>();
  for (const line of reply.lines.slice(1)) {
    const words = line.split(/[ \t]+/).filter((w) => w !== "");
    if (words.length === 0) continue;
    let [keyword, ...params] = words;
    const eq = keyword.indexOf("=");
    if (eq > 0 && keyword.slice(0, eq).toUpperCase() === "AUTH") {
      params = [keyword.slice(eq + 1), ...params].filter((p) => p !== "");
      keyword = "AUTH";
    }
    if (!KEYWORD.test(keyword)) continue;
    const key = keyword.toUpperCase();
    const prev = caps.get(key);
    if (prev) {
      for (const p of params) if (!prev.includes(p)) prev.push(p);
    } else {
      caps.set(key, params);
    }
  }
  return caps;
}

/** SASL mechanisms offered (upper-cased, deduplicated). */
export function authMechanisms(caps: Capabilities): string[] {
  const out: string[] = [];
  for (const m of caps.get("AUTH") ?? []) {
    const u = m.toUpperCase();
    if (!out.includes(u)) out.push(u);
  }
  return out;
}

/**
 * The SIZE limit (RFC 1870): a positive byte count, `0` when SIZE is offered without a limit
 * (or with `0`), `null` when SIZE is not offered or its parameter is not a number.
 */
export function sizeLimit(caps: Capabilities): number | null {
  const p = caps.get("SIZE");
  if (!p) return null;
  if (p.length === 0) return 0;
  if (!/^\d{1,15}$/.test(p[0])) return null;
  return Number(p[0]);
}
