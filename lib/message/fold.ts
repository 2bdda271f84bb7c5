/**
 * Header folding (RFC 5322 §2.2.3): lines at most 78 characters where whitespace allows, never
 * more than 998 octets, never a line of whitespace only.
 * @module
 */
import { MailplanError } from "../codes.ts";
import { octets } from "./utf8.ts";

/** RFC 5322's soft line limit (characters, excluding CRLF). */
export const FOLD_AT = 78;
/** RFC 5322's hard line limit (octets, excluding CRLF). */
export const MAX_LINE = 998;

const isWsp = (c: string | undefined) => c === " " || c === "\t";

/**
 * Folds one header line by inserting CRLF before whitespace runs (the whitespace stays, so
 * unfolding restores the original). Returns the physical lines.
 * @example foldLine("Subject: " + "word ".repeat(30)).every((l) => l.length <= 78) // true
 */
export function foldLine(line: string, limit = FOLD_AT): string[] {
  const out: string[] = [];
  let rest = line;
  while (octets(rest) > limit) {
    let best = -1;
    let first = -1;
    for (let i = 1; i < rest.length; i++) {
      if (!isWsp(rest[i]) || isWsp(rest[i - 1])) continue;
      let j = i;
      while (isWsp(rest[j])) j++;
      if (j >= rest.length) break; // trailing whitespace: a line of WSP only is not allowed
      if (first < 0) first = i;
      if (octets(rest.slice(0, i)) <= limit) best = i;
      else break;
    }
    const at = best > 0 ? best : first;
    if (at <= 0) break;
    out.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  out.push(rest);
  return out;
}

/**
 * Formats `Name: value` as folded, CRLF-terminated header text. Throws MESSAGE_INVALID when a
 * line would still exceed 998 octets (nothing to fold at) or the value holds CR, LF or NUL.
 * @example formatHeader("Subject", "hi") // "Subject: hi\r\n"
 */
export function formatHeader(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new MailplanError("MESSAGE_INVALID", `The ${name} header contains a line break or NUL.`, "a line break in a header would inject headers; remove it");
  }
  const lines = foldLine(value === "" ? `${name}:` : `${name}: ${value}`);
  for (const l of lines) {
    if (octets(l) > MAX_LINE) {
      throw new MailplanError("MESSAGE_INVALID", `The ${name} header has a run of ${octets(l)} characters without a space; the limit for a line is ${MAX_LINE}.`, "shorten the value or add spaces to it");
    }
  }
  return lines.join("\r\n") + "\r\n";
}
