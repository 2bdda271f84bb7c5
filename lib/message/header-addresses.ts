/**
 * Addresses out of RFC 5322 address headers (To, Cc, Bcc, From, Resent-*), for `sendmail -t`:
 * display names (quoted, with commas, encoded-words), comments (nested), angle addresses (an
 * obsolete source route is dropped), groups (`Team: a@x, b@y;`, `undisclosed-recipients:;`) and
 * folding white space. Only the bare addresses come out: the header itself is never rewritten.
 *
 * Invariant: a comma, colon or semicolon inside a quoted string, a comment or angle brackets never
 * splits; an unterminated quote, comment or angle bracket is MESSAGE_INVALID naming the header.
 * @module
 */
import { MailplanError } from "../codes.ts";

/**
 * The addresses of an address-list header value, in order, as written (an address without "@",
 * such as cron's `root`, comes out as is: the caller decides what to do with it).
 * @example headerAddresses('"Doe, John" <j@x.org>, Team: a@y (Ann), <b@z>;', "To") // ["j@x.org", "a@y", "b@z"]
 */
export function headerAddresses(value: string, header: string): string[] {
  const out: string[] = [];
  let plain = ""; // the item's text outside comments and angle brackets
  let angle: string | null = null; // the angle address of the item, once seen
  let inAngle = false;
  let depth = 0; // comment nesting
  let quoted = false;
  const bad = (what: string) =>
    new MailplanError("MESSAGE_INVALID", `The ${header} header has ${what}: ${JSON.stringify(value.slice(0, 200))}.`, "fix the header; an address list looks like \"Name\" <a@example.com>, b@example.com");
  const flush = () => {
    const address = (angle ?? plain).trim();
    if (address !== "") out.push(address);
    plain = "";
    angle = null;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && (quoted || depth > 0 || inAngle)) {
      const pair = value.slice(i, i + 2);
      if (inAngle) angle += pair;
      else if (quoted) plain += pair;
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === "(") depth++;
      else if (c === ")") depth--;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
      plain += c;
      continue;
    }
    if (inAngle) {
      if (c === ">") {
        inAngle = false;
        angle = angle!.includes(":") ? angle!.slice(angle!.lastIndexOf(":") + 1) : angle; // obs-route "@a,@b:addr"
      } else if (c === '"') {
        angle += c;
        const end = value.indexOf('"', i + 1);
        if (end < 0) throw bad("an unterminated quoted string");
        angle += value.slice(i + 1, end + 1);
        i = end;
      } else angle += c;
      continue;
    }
    if (c === "(") depth = 1;
    else if (c === '"') {
      quoted = true;
      plain += c;
    } else if (c === "<") {
      inAngle = true;
      angle = "";
    } else if (c === ":") plain = ""; // a group's display name
    else if (c === "," || c === ";") flush();
    else plain += c;
  }
  if (quoted) throw bad("an unterminated quoted string");
  if (depth > 0) throw bad("an unterminated comment");
  if (inAngle) throw bad("an unclosed angle bracket");
  flush();
  return out;
}
