/**
 * Several transactions of the SAME relay plan over ONE connection: one handshake (STARTTLS, EHLO,
 * AUTH) and then the messages one after another, pipelined across messages on a PIPELINING
 * server. Invariants: one result per transaction, in the order given, shaped like `deliver()`'s;
 * a message the connection ended before is a temporary failure (never retried on that connection,
 * never reported as delivered); the connection is always closed before this resolves. No retry
 * or failover here: a pool (next step) sends the temporary failures again, e.g. through `deliver()`.
 */
import { resolveSecret } from "../config/secret.ts";
import type { TransactionPlan } from "../plan/types.ts";
import type { TransactionOutcome } from "../smtp/types.ts";
import { type AttemptResult, runAttempt } from "./attempt.ts";
import type { DeliverOptions } from "./deliver.ts";
import { toDeliveryError } from "./errors.ts";
import { redactSecret } from "./redact.ts";
import type { DeliveryError, MessageSource, TransactionResult } from "./types.ts";

/** One message of a batch: its transaction plan and its bytes. */
export interface BatchItem {
  tx: TransactionPlan;
  message: MessageSource;
}

/**
 * Sends every item over one connection to the first relay of their (identical) relay plan; never throws
 * for a delivery failure (a programming error — items of different relay plans — throws).
 * @example
 * const results = await deliverMany([{ tx, message: m1 }, { tx, message: m2 }], { baseDir: "." });
 * results.map((r) => r.ok) // [true, true]: two messages, one connection
 */
export async function deliverMany(items: BatchItem[], options: DeliverOptions): Promise<TransactionResult[]> {
  if (items.length === 0) return [];
  const relay = items[0].tx.relays[0];
  const key = JSON.stringify(relay);
  if (items.some((i) => JSON.stringify(i.tx.relays[0]) !== key)) {
    throw new Error("deliverMany: every transaction must have the same relay plan");
  }
  const outcomes = new Map<number, TransactionOutcome>();
  const r = await runAttempt(relay, {
    envelope: { from: items[0].tx.from, recipients: items[0].tx.recipients },
    message: items[0].message,
    baseDir: options.baseDir,
    env: options.env,
    adapter: options.adapter,
    transcript: options.transcript,
    greetingSilenceMs: options.greetingSilenceMs,
    beforeDot: options.beforeDot,
    background: options.background,
    batch: {
      transactions: items.map(({ tx, message }) => ({
        envelope: { from: tx.from, recipients: tx.recipients },
        messageSize: message.size,
        needs8bit: message.has8bit,
        needsSmtpUtf8: message.needsSmtpUtf8,
      })),
      messages: items.map((i) => i.message),
      onTransaction: (o) => outcomes.set(o.index, o),
    },
  });
  const hide = secretHider(relay, options);
  return items.map(({ tx, message }, index) => result(tx, message, outcomes.get(index), r, hide));
}

/** Server text may echo the password: hidden like runAttempt hides it in its own result. */
function secretHider(relay: TransactionPlan["relays"][number], options: DeliverOptions): (s: string) => string {
  if (!relay.auth) return (s) => s;
  let secret: string | undefined;
  try {
    secret = resolveSecret(relay.auth.password, options.baseDir, options.env);
  } catch { /* the attempt failed on it already and said so */ }
  return (s) => redactSecret(s, secret);
}

/** Never expected (the session reports every transaction); never lets a message pass for delivered. */
const NO_OUTCOME: DeliveryError = {
  code: "PROTOCOL_ERROR",
  phase: "mail",
  temporary: true,
  message: "The connection ended without an outcome for this message.",
  hint: "this may be a bug in mailplan; run with --transcript and report it",
};

function result(
  tx: TransactionPlan,
  message: MessageSource,
  o: TransactionOutcome | undefined,
  r: AttemptResult,
  hide: (s: string) => string,
): TransactionResult {
  const relay = tx.relays[0];
  const server = { host: relay.host, port: relay.port, strategy: relay.strategy };
  const scrub = (e: DeliveryError): DeliveryError => ({
    ...e,
    message: hide(e.message),
    hint: hide(e.hint),
    ...(e.reply ? { reply: { ...e.reply, text: hide(e.reply.text) } } : {}),
  });
  // No outcome: the attempt ended outside the session (connect, TLS, a failing beforeDot): its error is everyone's.
  const error: DeliveryError | undefined = o
    ? (o.error ? scrub(toDeliveryError(o.error, o.error.phase)) : o.partial ? scrub(toDeliveryError(o.partial, "rcpt")) : undefined)
    : (r.error ?? NO_OUTCOME);
  const rejected = (o?.rejected ?? []).map((x) => ({ ...x, text: hide(x.text) }));
  const response = o?.response ? { ...o.response, text: hide(o.response.text) } : null;
  const delivered = !!o && o.error === null;
  return {
    ok: !error,
    route: tx.route,
    relay: relay.relay,
    server,
    tls: r.tls,
    accepted: delivered ? o.accepted : [],
    rejected,
    response,
    messageId: message.messageId,
    ...(error ? { error } : {}),
    attempts: [{ relay: relay.relay, server, error: error ?? null }],
  };
}
