/**
 * SMTP command formatting (RFC 5321 §4.1). Every argument is checked: CR, LF, NUL and other
 * control characters are refused before any byte is produced (no command injection, R8).
 * Commands are returned as strings ending in CRLF; encode them as UTF-8.
 * @module
 */
import { type ErrorCode, escapeServerText, type Phase, SmtpError } from "./errors.ts";

/** Parameters of MAIL FROM. */
export interface MailParams {
  /** Declared message size in bytes (RFC 1870 SIZE=). */
  size?: number;
  /** Declare BODY=8BITMIME (RFC 6152). */
  body8bit?: boolean;
  /** Declare SMTPUTF8 (RFC 6531). */
  smtputf8?: boolean;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * Throws {@link SmtpError} with `code` when `value` contains CR, LF, NUL or another control character.
 * @example
 * checkArgument("me@example.com", "address", "MESSAGE_INVALID", "mail"); // ok
 */
export function checkArgument(value: string, what: string, code: ErrorCode, phase: Phase): void {
  const m = CONTROL.exec(value);
  if (!m) return;
  const c = m[0].charCodeAt(0);
  const name = c === 0x0d
    ? "a carriage return (CR)"
    : c === 0x0a
    ? "a line feed (LF)"
    : c === 0
    ? "a NUL byte"
    : "a control character";
  throw new SmtpError({
    code,
    phase,
    message: `The ${what} "${
      escapeServerText(value, 80)
    }" contains ${name}, which would inject SMTP commands.`,
    hint: code === "CONFIG_INVALID"
      ? "Remove line breaks and control characters from the config value."
      : "Remove line breaks and control characters from the address.",
  });
}

/**
 * Checks an envelope address (the part inside `<…>`): no control characters, no angle brackets.
 * The empty string is the null reverse-path `<>`. Throws MESSAGE_INVALID.
 */
export function checkAddress(address: string, phase: Phase): void {
  checkArgument(address, "address", "MESSAGE_INVALID", phase);
  if (/[<>]/.test(address) || /^\s|\s$/.test(address)) {
    throw new SmtpError({
      code: "MESSAGE_INVALID",
      phase,
      message: `The address "${escapeServerText(address, 80)}" is not a valid envelope address.`,
      hint: "Give a bare address such as user@example.com, without angle brackets or surrounding spaces.",
    });
  }
}

/** Checks a client name for EHLO/HELO: non-empty, no spaces or control characters. Throws CONFIG_INVALID. */
export function checkHeloName(name: string): void {
  checkArgument(name, "EHLO name", "CONFIG_INVALID", "ehlo");
  if (name === "" || /\s/.test(name)) {
    throw new SmtpError({
      code: "CONFIG_INVALID",
      phase: "ehlo",
      message: `The EHLO name "${escapeServerText(name, 80)}" must be a non-empty name without spaces.`,
      hint: "Set `helo:` to the client's fully qualified domain name, e.g. client.example.com.",
    });
  }
}

/** `EHLO name\r\n` (CONFIG_INVALID on a bad name). */
export function ehlo(name: string): string {
  checkHeloName(name);
  return `EHLO ${name}\r\n`;
}

/** `HELO name\r\n` (CONFIG_INVALID on a bad name). */
export function helo(name: string): string {
  checkHeloName(name);
  return `HELO ${name}\r\n`;
}

/** `MAIL FROM:<from> [SIZE=n] [BODY=8BITMIME] [SMTPUTF8]\r\n` (MESSAGE_INVALID on a bad address). */
export function mailFrom(from: string, params: MailParams = {}): string {
  checkAddress(from, "mail");
  let line = `MAIL FROM:<${from}>`;
  if (params.size !== undefined) {
    if (!Number.isSafeInteger(params.size) || params.size < 0) {
      throw new SmtpError({
        code: "MESSAGE_INVALID",
        phase: "mail",
        message: `The message size ${params.size} is not a valid byte count.`,
      });
    }
    line += ` SIZE=${params.size}`;
  }
  if (params.body8bit) line += " BODY=8BITMIME";
  if (params.smtputf8) line += " SMTPUTF8";
  return line + "\r\n";
}

/** `RCPT TO:<to>\r\n` (MESSAGE_INVALID on a bad or empty address). */
export function rcptTo(to: string): string {
  checkAddress(to, "rcpt");
  if (to === "") {
    throw new SmtpError({
      code: "MESSAGE_INVALID",
      phase: "rcpt",
      message: "A recipient address is empty.",
      hint: "Give every recipient as user@example.com.",
    });
  }
  return `RCPT TO:<${to}>\r\n`;
}

/** `DATA\r\n`. */
export function data(): string {
  return "DATA\r\n";
}

/** `RSET\r\n`. */
export function rset(): string {
  return "RSET\r\n";
}

/** `QUIT\r\n`. */
export function quit(): string {
  return "QUIT\r\n";
}

/** `STARTTLS\r\n`. */
export function starttls(): string {
  return "STARTTLS\r\n";
}

/** `AUTH MECH [initial-response]\r\n` (RFC 4954); an empty initial response is sent as `=`. */
export function auth(mechanism: string, initialResponse?: string): string {
  if (!/^[A-Z0-9_-]{1,20}$/.test(mechanism)) {
    throw new SmtpError({
      code: "CONFIG_INVALID",
      phase: "auth",
      message: `The SASL mechanism name "${escapeServerText(mechanism, 40)}" is not valid.`,
    });
  }
  checkArgument(initialResponse ?? "", "AUTH initial response", "CONFIG_INVALID", "auth");
  if (initialResponse === undefined) return `AUTH ${mechanism}\r\n`;
  return `AUTH ${mechanism} ${initialResponse === "" ? "=" : initialResponse}\r\n`;
}

/** One SASL continuation line (base64 text, or `*` to cancel) followed by CRLF. */
export function authResponse(response: string): string {
  checkArgument(response, "AUTH response", "CONFIG_INVALID", "auth");
  return `${response}\r\n`;
}
