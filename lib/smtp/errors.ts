/**
 * The error type of the SMTP core: a contract error code, the session phase it happened in,
 * whether retrying later may help, a hint for the user and, when a server reply caused it, that reply.
 * @module
 */

import type { ErrorCode } from "../codes.ts";
import { escapeTextCapped } from "../text/escape.ts";

/** Error codes of contract.md ("Error codes and exit status"): one list, in lib/codes.ts. */
export type { ErrorCode };

/** Session phases of contract.md (`error.phase`). */
export type Phase =
  | "connect"
  | "greeting"
  | "ehlo"
  | "starttls"
  | "tls"
  | "auth"
  | "mail"
  | "rcpt"
  | "data"
  | "dot"
  | "quit";

/** The server reply attached to an error: code, enhanced status code when present, text (raw, unescaped). */
export interface ErrorReply {
  code: number;
  enhanced?: string;
  text: string;
}

/**
 * The contract's `error` object (docs/contract.md, `send --json`), as {@link SmtpError.toJSON}
 * returns it; keys in this order.
 */
export interface SmtpErrorJson {
  code: ErrorCode;
  phase: Phase;
  temporary: boolean;
  message: string;
  hint: string;
  reply?: ErrorReply;
}

/** Constructor fields of {@link SmtpError}. */
export interface SmtpErrorInit {
  code: ErrorCode;
  phase: Phase;
  /** One plain sentence; server text must already be escaped with {@link escapeServerText}. */
  message: string;
  hint?: string;
  temporary?: boolean;
  reply?: ErrorReply;
  cause?: unknown;
}

/**
 * An SMTP failure with a contract code.
 * @example
 * throw new SmtpError({ code: "AUTH_FAILED", phase: "auth", message: "The server rejected the credentials." });
 */
export class SmtpError extends Error {
  /** Contract error code. */
  readonly code: ErrorCode;
  /** Phase the session was in. */
  readonly phase: Phase;
  /** True when the same attempt may succeed later (4xx, 421, 454). */
  readonly temporary: boolean;
  /** What the user can do about it (may be empty). */
  readonly hint: string;
  /** The server reply that caused the error, if any. */
  readonly reply?: ErrorReply;

  constructor(init: SmtpErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SmtpError";
    this.code = init.code;
    this.phase = init.phase;
    this.temporary = init.temporary ?? false;
    this.hint = init.hint ?? "";
    if (init.reply) this.reply = init.reply;
  }

  /** The same error attributed to another phase. */
  withPhase(phase: Phase): SmtpError {
    return new SmtpError({ ...this.toInit(), phase });
  }

  /** The contract's `error` object: `{ code, phase, temporary, message, hint }` (+ `reply` when known). */
  toJSON(): SmtpErrorJson {
    const out: SmtpErrorJson = {
      code: this.code,
      phase: this.phase,
      temporary: this.temporary,
      message: this.message,
      hint: this.hint,
    };
    if (this.reply) out.reply = { ...this.reply };
    return out;
  }

  private toInit(): SmtpErrorInit {
    return {
      code: this.code,
      phase: this.phase,
      message: this.message,
      hint: this.hint,
      temporary: this.temporary,
      reply: this.reply,
      cause: this.cause,
    };
  }
}

const MAX_SHOWN = 300;

/**
 * Makes text that came from a server (or any untrusted source) safe to print, with the one rule
 * of every human output ({@link escapeText}: C0/C1 controls, DEL → `\xNN`; bidi controls,
 * U+2028/U+2029, U+FEFF → `\u{XXXX}`); text longer than `max` characters is cut with "…".
 * @example
 * escapeServerText("bad\x1b[31m\x07") // => "bad\\x1b[31m\\x07"
 */
export function escapeServerText(text: string, max: number = MAX_SHOWN): string {
  return escapeTextCapped(text, max);
}
