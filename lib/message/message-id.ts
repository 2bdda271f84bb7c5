/** Message-ID values (RFC 5322 §3.6.4): `<random@domain>`. @module */
import { randomBytes } from "node:crypto";
import { domainToASCII } from "node:url";
import { MailplanError } from "../codes.ts";
import { isAscii } from "./utf8.ts";

const ID_PART = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
const LITERAL = /^\[[\x21-\x5a\x5e-\x7e]*\]$/;

/**
 * The right-hand side for generated Message-IDs: `domain` in ASCII (IDN → punycode here only,
 * since a Message-ID must be ASCII). Throws MESSAGE_INVALID when it cannot be one.
 * @example messageIdDomain("bücher.example") // "xn--bcher-kva.example"
 */
export function messageIdDomain(domain: string): string {
  const d = isAscii(domain) ? domain : domainToASCII(domain);
  if (!d || !(ID_PART.test(d) || LITERAL.test(d))) {
    throw new MailplanError("MESSAGE_INVALID", `${JSON.stringify(domain)} cannot be the domain of a Message-ID.`, "pass a plain host name as the Message-ID domain");
  }
  return d;
}

/**
 * A new Message-ID: 16 random bytes (hex) plus the time, at `domain`.
 * @example newMessageId("example.com") // "<m8x2k1.3f9c…@example.com>"
 */
export function newMessageId(domain: string): string {
  return `<${Date.now().toString(36)}.${randomBytes(16).toString("hex")}@${messageIdDomain(domain)}>`;
}

/**
 * Checks a caller-supplied Message-ID (`<left@right>`, brackets optional) and returns it bracketed.
 * @example normalizeMessageId("abc@example.com") // "<abc@example.com>"
 */
export function normalizeMessageId(id: string): string {
  const inner = id.startsWith("<") && id.endsWith(">") ? id.slice(1, -1) : id;
  const at = inner.lastIndexOf("@");
  const left = inner.slice(0, at);
  const right = inner.slice(at + 1);
  if (at <= 0 || !ID_PART.test(left) || !(ID_PART.test(right) || LITERAL.test(right))) {
    throw new MailplanError("MESSAGE_INVALID", `The Message-ID ${JSON.stringify(id)} is not of the form <left@right>.`, "use ASCII letters, digits and dots, e.g. <2025.1@example.com>");
  }
  return `<${inner}>`;
}
