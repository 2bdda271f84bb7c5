/**
 * Splitting an address list as RFC 5322 §3.4 writes it: commas separate addresses only outside
 * quoted strings (`"Doe, John" <j@x.org>`), comments (`j@x.org (ops, nights)`), angle addresses
 * and domain literals; a group (`Team: a@x.org, b@x.org;`) stands for its members. The items
 * come back as written (comments included) for parseMailbox to read.
 * @module
 */
import { MailplanError } from "../codes.ts";

/**
 * The mailboxes of one address list, each as written; groups are opened up, empty items skipped.
 * Throws MESSAGE_INVALID for an unterminated quoted string, comment, angle address or group.
 *
 * @example splitAddressList('"Doe, John" <j@x.org>, ops@x.org') // ['"Doe, John" <j@x.org>', "ops@x.org"]
 * @example splitAddressList("Team: a@x.org, b@x.org;") // ["a@x.org", "b@x.org"]
 */
export function splitAddressList(input: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  let comment = 0;
  let angle = false;
  let literal = false;
  let group = false;
  const push = (end: number) => {
    const item = input.slice(start, end).trim();
    if (item !== "") items.push(item);
    start = end + 1;
  };
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === "\\" && (quoted || comment > 0)) {
      i++;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
    } else if (comment > 0) {
      if (c === "(") comment++;
      else if (c === ")") comment--;
    } else if (c === "(") comment = 1;
    else if (c === '"') quoted = true;
    else if (literal) {
      if (c === "]") literal = false;
    } else if (c === "[") literal = true;
    else if (angle) {
      if (c === ">") angle = false;
    } else if (c === "<") angle = true;
    else if (c === ":" && !group) {
      group = true; // `display-name:` opens a group; the name itself is not an address
      start = i + 1;
    } else if (c === ";" && group) {
      push(i);
      group = false;
    } else if (c === ",") push(i);
  }
  const unterminated = quoted ? 'a quoted name ("…") is not closed' : comment > 0 ? "a comment (…) is not closed" : angle ? "an angle address <…> is not closed" : literal ? "a domain literal […] is not closed" : group ? "a group (Name: …;) is not closed with ;" : undefined;
  if (unterminated) {
    throw new MailplanError("MESSAGE_INVALID", `The address list ${JSON.stringify(input)} is malformed: ${unterminated}.`, 'write addresses as name@example.com or "Name" <name@example.com>, separated by commas');
  }
  push(input.length);
  return items;
}

/**
 * The text without its RFC 5322 comments (outside quoted strings), each replaced by a space.
 *
 * @example stripComments("j@x.org (night shift)") // "j@x.org  "
 */
export function stripComments(s: string): string {
  let out = "";
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (depth > 0) {
      if (c === "\\") i++;
      else if (c === "(") depth++;
      else if (c === ")" && --depth === 0) out += " ";
      continue;
    }
    if (quoted && c === "\\") {
      out += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (!quoted && c === "(") {
      depth = 1;
      continue;
    }
    out += c;
  }
  return out;
}
