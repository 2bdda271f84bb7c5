/** Envelope address checks done before anything is planned or sent. */
import { MailplanError } from "../codes.ts";

/**
 * Checks an envelope address (`local@domain`, or empty for the null sender when `allowEmpty`).
 * Throws MESSAGE_INVALID naming the address and what is wrong; never echoes control characters raw.
 */
export function checkAddress(address: string, role: "sender" | "recipient", allowEmpty = false): void {
  const shown = JSON.stringify(address);
  if (address === "" && allowEmpty) return;
  // deno-lint-ignore no-control-regex -- line breaks and NUL are what this rejects
  if (/[\r\n\x00]/.test(address)) {
    throw new MailplanError("MESSAGE_INVALID", `The ${role} address ${shown} contains a line break or NUL.`, "a line break in an address would inject SMTP commands; remove it");
  }
  // deno-lint-ignore no-control-regex -- control characters are what this rejects
  if (/[\s<>(),;\\"\x00-\x1f\x7f]/.test(address) || !/^[^@]+@[^@]+$/.test(address)) {
    throw new MailplanError("MESSAGE_INVALID", `The ${role} address ${shown} is not a plain mail address.`, 'write it as name@example.com, or with a display name as "Name" <name@example.com>');
  }
  if (address.length > 254) {
    throw new MailplanError("MESSAGE_INVALID", `The ${role} address is ${address.length} characters long; the limit is 254.`, "check for a pasting mistake");
  }
}
