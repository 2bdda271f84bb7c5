/**
 * Addresses from the command line: `a@x`, `<a@x>`, `Name <a@x>`, `"Doe, Jane" <a@x>`, and
 * comma-separated lists of them. Headers keep the display name; the envelope gets the bare address.
 * CR or LF anywhere is MESSAGE_INVALID (header/command injection, threat R8).
 * @module
 */
import { MailplanError } from "../codes.ts";
import { splitAddressList, stripComments } from "./address-list.ts";
import { checkAddress } from "./envelope-address.ts";
import { encodeWords } from "./encoded-word.ts";
import { isAscii } from "./utf8.ts";

/** One mailbox: the envelope address, an optional display name, and whether it needs SMTPUTF8. */
export interface Mailbox {
  /** Bare `local@domain` for MAIL FROM / RCPT TO. IDN domains are kept as given (no punycode). */
  address: string;
  /** Display name for the header, unquoted and unescaped; absent when none was given. */
  name?: string;
  /** The address has non-ASCII characters (local part or domain): the transaction needs SMTPUTF8. */
  smtpUtf8: boolean;
}

type Role = "sender" | "recipient";

function rejectBreaks(input: string, role: Role): void {
  if (/[\r\n\0]/.test(input)) {
    throw new MailplanError("MESSAGE_INVALID", `The ${role} address ${JSON.stringify(input)} contains a line break or NUL.`, "a line break in an address would inject SMTP commands or headers; remove it");
  }
}

/** Finds the `<` that opens the angle address (outside a quoted display name), or -1. */
function angleStart(s: string): number {
  let quoted = false;
  let at = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === "<") at = i;
  }
  return at;
}

function unquote(name: string, whole: string, role: Role): string {
  if (!name.startsWith('"')) return name;
  if (name.length < 2 || !name.endsWith('"') || name.endsWith('\\"') && !name.endsWith('\\\\"')) {
    throw new MailplanError("MESSAGE_INVALID", `The ${role} ${JSON.stringify(whole)} has an unterminated quoted name.`, 'write it as "Name" <name@example.com>');
  }
  return name.slice(1, -1).replace(/\\(.)/g, "$1");
}

/**
 * Parses one mailbox. Throws MESSAGE_INVALID (via checkAddress for the address itself).
 * @example parseMailbox('"Doe, Jane" <jane@example.com>', "recipient") // { address: "jane@example.com", name: "Doe, Jane", smtpUtf8: false }
 */
export function parseMailbox(input: string, role: Role): Mailbox {
  rejectBreaks(input, role);
  const s = stripComments(input).trim();
  let address = s;
  let name: string | undefined;
  const lt = angleStart(s);
  if (lt >= 0 || s.endsWith(">")) {
    if (lt < 0 || !s.endsWith(">")) {
      throw new MailplanError("MESSAGE_INVALID", `The ${role} ${JSON.stringify(input)} has unbalanced angle brackets.`, "write it as Name <name@example.com> or just name@example.com");
    }
    address = s.slice(lt + 1, -1).trim();
    const raw = s.slice(0, lt).trim();
    const n = unquote(raw, input, role).trim();
    if (n !== "") name = n;
  }
  checkAddress(address, role);
  return name === undefined ? { address, smtpUtf8: !isAscii(address) } : { address, name, smtpUtf8: !isAscii(address) };
}

/**
 * Parses an RFC 5322 address list (see splitAddressList: commas inside quotes, comments, angle
 * addresses do not split; groups stand for their members); an array is several such lists
 * (repeated flags). Empty items are skipped.
 * @example parseAddressList('a@x, "Doe, B" <b@y>, Team: c@z;', "recipient").map((m) => m.address) // ["a@x", "b@y", "c@z"]
 */
export function parseAddressList(input: string | readonly string[], role: Role): Mailbox[] {
  const lists = typeof input === "string" ? [input] : input;
  const out: Mailbox[] = [];
  for (const list of lists) {
    rejectBreaks(list, role);
    for (const item of splitAddressList(list)) out.push(parseMailbox(item, role));
  }
  return out;
}

/** RFC 5322 atext plus space: a display name made of these needs no quoting. */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;

/**
 * Header form of a mailbox: the bare address, or `Name <address>` with the name as atoms, a
 * quoted-string, or RFC 2047 encoded-words when it is not printable ASCII.
 * @example formatMailbox({ address: "a@x", name: "Zoë", smtpUtf8: false }) // "=?UTF-8?Q?Zo=C3=AB?= <a@x>"
 */
export function formatMailbox(m: Mailbox): string {
  if (m.name === undefined || m.name === "") return m.address;
  const n = m.name;
  let phrase: string;
  if (PLAIN_PHRASE.test(n) && !n.includes("=?") && n.trim() === n && !/ {2}/.test(n)) phrase = n;
  else if (/^[\x20-\x7e]*$/.test(n) && !n.includes("=?")) phrase = `"${n.replace(/(["\\])/g, "\\$1")}"`;
  else phrase = encodeWords(n, 70, 70).join(" ");
  return `${phrase} <${m.address}>`;
}

/** Header value for a list of mailboxes, comma-separated (formatHeader folds it). */
export function formatAddressList(list: readonly Mailbox[]): string {
  return list.map(formatMailbox).join(", ");
}
