/**
 * Header values for composed messages: Subject (RFC 2047 when needed) and caller-supplied extra
 * headers, with the checks that keep them from injecting or overriding structural fields.
 * @module
 */
import { MailplanError } from "../codes.ts";
import { encodeWords } from "./encoded-word.ts";
import { FOLD_AT, formatHeader } from "./fold.ts";

/** Fields the composer writes itself; extra headers may not set them. */
const RESERVED = new Set([
  "date", "from", "sender", "to", "cc", "bcc", "subject", "message-id", "mime-version",
  "content-type", "content-transfer-encoding", "content-disposition",
]);

function rejectControl(name: string, value: string): void {
  if (/[\r\n\0]/.test(value)) {
    throw new MailplanError("MESSAGE_INVALID", `The ${name} contains a line break or NUL.`, "a line break in a header would inject headers; remove it");
  }
}

/** True when `value` can go into `name:` as is: printable ASCII, no "=?", every word foldable within 78. */
function plainUnstructured(name: string, value: string): boolean {
  if (!/^[\x20-\x7e\t]*$/.test(value) || value.includes("=?")) return false;
  const words = value.split(/[ \t]+/);
  const firstWord = value.match(/^[ \t]*[^ \t]*/)![0];
  return words.every((w) => w.length + 1 <= FOLD_AT) && name.length + 2 + firstWord.length <= FOLD_AT;
}

/**
 * The folded `Subject:` header: as is when plain printable ASCII, else UTF-8 encoded-words
 * (also for ASCII holding "=?" or words too long to fold). An empty subject is allowed.
 * Throws MESSAGE_INVALID on CR, LF or NUL.
 * @example subjectHeader("Grüße") // "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
 */
export function subjectHeader(subject: string): string {
  rejectControl("subject", subject);
  if (plainUnstructured("Subject", subject)) return formatHeader("Subject", subject);
  return formatHeader("Subject", encodeWords(subject, FOLD_AT - "Subject: ".length, 75).join(" "));
}

/**
 * A caller-supplied extra header, folded. ASCII values are kept as given (they may be structured,
 * e.g. List-Unsubscribe); non-ASCII values become encoded-words. Throws MESSAGE_INVALID for a bad
 * name, a field the composer owns, or CR/LF/NUL in the value.
 * @example extraHeader("X-Priority", "1") // "X-Priority: 1\r\n"
 */
export function extraHeader(name: string, value: string): string {
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
    throw new MailplanError("MESSAGE_INVALID", `${JSON.stringify(name)} is not a valid header field name.`, "use printable ASCII without spaces or colons, e.g. X-Campaign");
  }
  if (RESERVED.has(name.toLowerCase())) {
    throw new MailplanError("MESSAGE_INVALID", `The ${name} header is written by mailplan and cannot be set as an extra header.`, "use the matching send flag (--from, --to, --cc, --bcc, --subject…) instead");
  }
  rejectControl(`${name} header`, value);
  if (/^[\x20-\x7e\t]*$/.test(value)) return formatHeader(name, value);
  return formatHeader(name, encodeWords(value, Math.max(24, FOLD_AT - name.length - 2), 75).join(" "));
}
