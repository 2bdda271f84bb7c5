/**
 * The state of one mail transaction inside a session (MAIL → RCPT… → DATA → body → dot), so that
 * one connection can carry several in turn. Invariants: a transaction is settled exactly once,
 * with its own accepted/rejected/response and its own error (null = the server took it); a
 * transaction whose MAIL was never written is never reported as delivered or unknown — when the
 * connection ends first it fails temporary ({@link notSent}); replies reach the transaction whose
 * command they answer because the session matches them strictly in order.
 * @module
 */
import * as cmd from "./command.ts";
import { SmtpError } from "./errors.ts";
import type { RecipientRejection, TransactionOutcome, TransactionSpec } from "./types.ts";

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Per-transaction state; the session owns the order, this owns the facts.
 * @example
 * const tx = new Transaction(0, { envelope: { from: "a@x", recipients: ["b@y"] } });
 * tx.accepted.push("b@y");
 */
export class Transaction {
  readonly index: number;
  readonly spec: TransactionSpec;
  /** SMTPUTF8 needed (asked for, or a non-ASCII envelope address). */
  readonly needsUtf8: boolean;
  /** The envelope could not be written at all (bad address): settled without a byte sent. */
  readonly invalid: SmtpError | null;
  /** A command of this transaction was written. */
  started = false;
  settled = false;
  error: SmtpError | null = null;
  /** MAIL refused while RCPT/DATA were pipelined behind it. */
  mailError: SmtpError | null = null;
  /** Why DATA's 354 was answered with an empty message (RFC 2920 §3.1). */
  abortError: SmtpError | null = null;
  accepted: string[] = [];
  rejected: RecipientRejection[] = [];
  response: { code: number; text: string } | null = null;

  constructor(index: number, spec: TransactionSpec, needsUtf8?: boolean) {
    this.index = index;
    this.spec = spec;
    let invalid: SmtpError | null = null;
    let utf8 = !!spec.needsSmtpUtf8;
    if (needsUtf8 !== undefined) utf8 = needsUtf8;
    else {
      try {
        utf8 = validateTransaction(spec);
      } catch (e) {
        if (!(e instanceof SmtpError)) throw e;
        invalid = e;
      }
    }
    this.needsUtf8 = utf8;
    this.invalid = invalid;
  }

  /** The outcome as the `transaction` action carries it. */
  outcome(partial: (accepted: number, rejected: RecipientRejection[]) => SmtpError): TransactionOutcome {
    const o: TransactionOutcome = {
      index: this.index,
      accepted: [...this.accepted],
      rejected: this.rejected.map((x) => ({ ...x })),
      response: this.response,
      error: this.error,
    };
    if (!this.error && this.rejected.length > 0 && this.response) o.partial = partial(this.accepted.length, this.rejected);
    return o;
  }
}

/**
 * Checks one queued envelope like the constructor checks `envelope`; returns whether it needs SMTPUTF8.
 * @example validateTransaction({ envelope: { from: "a@x", recipients: [] } }) // throws MESSAGE_INVALID
 */
export function validateTransaction(spec: TransactionSpec): boolean {
  const env = spec.envelope;
  cmd.checkAddress(env.from, "mail");
  if (env.recipients.length === 0) {
    throw new SmtpError({ code: "MESSAGE_INVALID", phase: "rcpt", message: "This message has no recipient.", hint: "give at least one recipient" });
  }
  for (const r of env.recipients) cmd.rcptTo(r);
  return !!spec.needsSmtpUtf8 || [env.from, ...env.recipients].some((a) => NON_ASCII.test(a));
}

/**
 * The error of a queued message the connection ended before: nothing of it was accepted, so it
 * is safe to send again (on a new connection).
 * @example notSent("rcpt").temporary // true
 */
export function notSent(phase: SmtpError["phase"]): SmtpError {
  return new SmtpError({
    code: "TEMPORARY_FAILURE",
    phase,
    temporary: true,
    message: "The connection ended before this message's turn on it, so it was not sent.",
    hint: "it is safe to send it again on a new connection",
  });
}
