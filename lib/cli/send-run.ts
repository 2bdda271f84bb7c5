/**
 * The send pipeline shared by `send` and `demo`: plan the envelope, deliver each transaction in
 * turn (each over its own connection), and combine the results into the contract's result object.
 * How the outbox takes part is one `mode`:
 *   direct       — deliver and report (`--no-queue`, the demo);
 *   queue-only   — store without trying (`send --queue`);
 *   write-ahead  — store first (fsync), hold the entry's lock until the outcome is recorded, and
 *                  let the outbox's one rule (lib/outbox sendEntry) decide what stays: delivered →
 *                  removed, temporary failure → kept, cut off after the dot → kept and flagged.
 * When the outbox cannot be written (full disk, read-only, EACCES) the message is sent anyway and
 * the result carries `outbox: { error }`; a delivered message is never reported as failed because
 * of a local failure.
 */
import { type ErrorCode, MailplanError } from "../codes.ts";
import type { Config } from "../config/schema.ts";
import type { SecretEnv } from "../config/secret.ts";
import { deliver } from "../engine/deliver.ts";
import type { Transcript } from "../engine/transcript.ts";
import type { MessageSource, TransactionResult } from "../engine/types.ts";
import type { AdapterName } from "../net/conn.ts";
import { describeFsError, type EntryStatus, sendEntry, store } from "../outbox/mod.ts";
import { planEnvelope } from "../plan/compile.ts";
import type { TransactionPlan } from "../plan/types.ts";
import { replyClass } from "../smtp/reply.ts";

/** Where undelivered mail goes: the outbox folder, and the config in use (recorded; named in the resend command). */
export interface OutboxTarget {
  dir: string;
  config: string;
}

/** How the outbox takes part in a send. */
export type SendMode =
  | { kind: "direct" }
  | { kind: "queue-only"; outbox: OutboxTarget }
  | { kind: "write-ahead"; outbox: OutboxTarget };

/** `queued` in a result: where the message is kept; `cutOff` when the send was cut off after the final dot. */
export interface QueuedInfo {
  id: string;
  dir: string;
  cutOff?: boolean;
}

/** One transaction's result, with what the outbox did with it. */
export type OutboxedResult = TransactionResult & { queued?: QueuedInfo; outbox?: { error: string } };

/** The combined result: one transaction's fields at the top, `transactions` when there are several. */
export type SendResult = OutboxedResult & { transactions?: OutboxedResult[] };

/** What to send, where from, and how. */
export interface SendJob {
  config: Config;
  baseDir: string;
  envelope: { from: string; recipients: string[] };
  message: MessageSource;
  route?: string;
  adapter?: AdapterName;
  /** Where `{ env: NAME }` secrets are read (default process.env; the library passes its own). */
  env?: SecretEnv;
  transcript?: Transcript;
  mode: SendMode;
}

/** A path as one shell word (quoted only when it needs to be). */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9_\/.,:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Recipients of a transaction that neither got the message nor were refused for good. */
export function stillPending(tx: TransactionPlan, r: TransactionResult): string[] {
  const settled = new Set([...r.accepted, ...r.rejected.filter((x) => replyClass(x.code) === "permanent").map((x) => x.address)]);
  return tx.recipients.filter((a) => !settled.has(a));
}

function storeTx(outbox: OutboxTarget, job: SendJob, tx: TransactionPlan, reason: { code: ErrorCode; message: string }) {
  return store(outbox.dir, { envelope: { from: tx.from, recipients: tx.recipients }, route: tx.route, config: outbox.config, message: job.message, reason });
}

function deliverTx(job: SendJob, tx: TransactionPlan, beforeDot?: (info: { relay: string; recipients: string[] }) => Promise<void>): Promise<TransactionResult> {
  return deliver(tx, job.message, { baseDir: job.baseDir, env: job.env, adapter: job.adapter, transcript: job.transcript, beforeDot });
}

/** `send --queue`: stored without trying; a store that fails is an error (nothing was sent either). */
async function queueOnly(job: SendJob, outbox: OutboxTarget, tx: TransactionPlan): Promise<OutboxedResult> {
  const relay = tx.relays[0];
  const message = "The message was stored in the outbox without trying to send it (--queue).";
  let id: string;
  try {
    const stored = await storeTx(outbox, job, tx, { code: "TEMPORARY_FAILURE", message });
    await stored.lock.release();
    id = stored.id;
  } catch (e) {
    if (e instanceof MailplanError) throw e;
    throw new MailplanError("TEMPORARY_FAILURE", `The message could not be stored in the outbox ${outbox.dir} (${describeFsError(e)}): it was NOT queued and NOT sent.`, "free space or fix the folder's permissions, or send without --queue");
  }
  return {
    ok: false, route: tx.route, relay: relay.relay, server: { host: relay.host, port: relay.port, strategy: relay.strategy },
    tls: null, accepted: [], rejected: [], response: null, messageId: job.message.messageId,
    error: { code: "TEMPORARY_FAILURE", phase: "connect", temporary: true, message, hint: "`mailplan outbox flush` sends it" },
    attempts: [], queued: { id, dir: outbox.dir },
  };
}

/** Delivers one transaction written ahead to the outbox (see the module header). */
async function writeAhead(job: SendJob, outbox: OutboxTarget, tx: TransactionPlan): Promise<OutboxedResult> {
  let stored;
  try {
    stored = await storeTx(outbox, job, tx, { code: "TEMPORARY_FAILURE", message: "Stored before sending." });
  } catch (e) {
    // An alert about a full disk must still go out: send without the outbox, and say so.
    const error = `the message could not be stored in the outbox ${outbox.dir} (${e instanceof MailplanError ? `${e.message} ${e.hint}` : describeFsError(e)})`;
    job.transcript?.note(`outbox: ${error}; sending without it`);
    const r: OutboxedResult = { ...await deliverTx(job, tx), outbox: { error } };
    if (!r.ok && r.error?.temporary) r.error = { ...r.error, hint: `${r.error.hint ? `${r.error.hint}; ` : ""}it was NOT queued (${error}): send it again later` };
    return r;
  }
  const { id, lock } = stored;
  let status: EntryStatus, result: TransactionResult, warning: string | null;
  try {
    ({ status, result, warning } = await sendEntry(outbox.dir, id, lock, (hooks) => deliverTx(job, tx, hooks.beforeDot), { onPermanent: "drop" }));
  } finally {
    await lock.release().catch(() => {});
  }
  const r: OutboxedResult = warning ? { ...result, outbox: { error: warning } } : { ...result };
  const flush = `mailplan outbox flush --config ${shellArg(outbox.config)}`;
  if (status === "queued") {
    job.transcript?.note(`kept in the outbox as ${id} for ${stillPending(tx, result).join(", ")}`);
    r.queued = { id, dir: outbox.dir };
    if (r.error) r.error = { ...r.error, hint: `${r.error.hint ? `${r.error.hint}; ` : ""}kept in the outbox as ${id}: \`${flush}\` sends it (run it from cron to retry automatically)` };
  } else if (status === "cut-off") {
    job.transcript?.note(`kept in the outbox as ${id}, flagged as cut off: the server may already have it`);
    r.queued = { id, dir: outbox.dir, cutOff: true };
    if (r.error) r.error = { ...r.error, hint: `the message may have arrived; it is kept in the outbox as ${id}, flagged "cut off". To send it again (possibly a duplicate): \`${flush} --resend-unknown ${id}\`; if it did arrive: \`mailplan outbox drop ${id} --config ${shellArg(outbox.config)}\`` };
  } else if (status === "dropped" && !r.ok && r.error?.temporary && warning) {
    r.error = { ...r.error, hint: `${r.error.hint ? `${r.error.hint}; ` : ""}it was NOT queued: send it again later` };
  }
  return r;
}

/**
 * Plans and sends. Throws (before any connection) MESSAGE_INVALID / NO_ROUTE / CONFIG_INVALID;
 * delivery failures are in the result, never thrown.
 */
export async function runSend(job: SendJob): Promise<SendResult> {
  const plan = planEnvelope(job.config, { from: job.envelope.from, to: job.envelope.recipients }, { route: job.route });
  const results: OutboxedResult[] = [];
  for (const tx of plan.transactions) {
    if (job.mode.kind === "queue-only") {
      results.push(await queueOnly(job, job.mode.outbox, tx));
      continue;
    }
    if (plan.transactions.length > 1) job.transcript?.note(`transaction for route ${tx.route}: ${tx.recipients.join(", ")}`);
    results.push(job.mode.kind === "write-ahead" ? await writeAhead(job, job.mode.outbox, tx) : await deliverTx(job, tx));
  }
  return combine(results);
}

/**
 * One transaction: its result as is. Several: the first failed one (or the first) at the top,
 * `ok` only when all are, `accepted`/`rejected` over all, the first outbox error, and every
 * result in `transactions`.
 */
export function combine(results: OutboxedResult[]): SendResult {
  if (results.length === 1) return results[0];
  const lead = results.find((r) => !r.ok) ?? results[0];
  const outbox = results.find((r) => r.outbox)?.outbox;
  return {
    ...lead,
    ok: results.every((r) => r.ok),
    accepted: results.flatMap((r) => r.accepted),
    rejected: results.flatMap((r) => r.rejected),
    ...(outbox ? { outbox } : {}),
    transactions: results,
  };
}
