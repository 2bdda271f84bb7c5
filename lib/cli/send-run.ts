/**
 * The send pipeline shared by `send` and `demo`: plan the envelope, deliver each transaction in
 * turn (each over its own connection), and combine the results into the contract's result object.
 * With an outbox, each transaction is written ahead: stored (fsync) and marked in flight before the
 * first byte goes out, removed once it is delivered or refused for good, kept when the failure is
 * temporary. So a send killed at any moment leaves the message either delivered, or in the outbox
 * (flagged when it was cut off mid-send, so that a flush never resends it blindly).
 */
import type { Config } from "../config/schema.ts";
import type { SecretEnv } from "../config/secret.ts";
import { deliver } from "../engine/deliver.ts";
import type { Transcript } from "../engine/transcript.ts";
import type { MessageSource, TransactionResult } from "../engine/types.ts";
import type { AdapterName } from "../net/conn.ts";
import { beginAttempt, drop, enqueue, markAttempt } from "../outbox/store.ts";
import { planEnvelope } from "../plan/compile.ts";
import type { TransactionPlan } from "../plan/types.ts";

/** The combined result: one transaction's fields at the top, `transactions` when there are several. */
export type SendResult = TransactionResult & { transactions?: TransactionResult[] };

/** Where undelivered mail goes: the outbox folder and the config (remembered for `outbox flush`). */
export interface OutboxTarget {
  dir: string;
  config: string;
}

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
  /** Store temporary failures here (after retries); absent: report them only. */
  outbox?: OutboxTarget;
  /** Store in the outbox without trying (`send --queue`). */
  queueOnly?: boolean;
}

/** Recipients of a transaction that neither got the message nor were refused for good. */
export function stillPending(tx: TransactionPlan, r: TransactionResult): string[] {
  const settled = new Set([...r.accepted, ...r.rejected.filter((x) => x.code >= 500).map((x) => x.address)]);
  return tx.recipients.filter((a) => !settled.has(a));
}

/** A temporary failure (after retries) is worth keeping; a security failure or an unknown outcome is not. */
function shouldQueue(r: TransactionResult): boolean {
  return !r.ok && r.error !== undefined && r.error.temporary && r.error.code !== "DELIVERY_UNKNOWN";
}

/** Stores a transaction's message and envelope in the outbox (durable when this returns). */
function store(job: SendJob, tx: TransactionPlan, reason: { code: string; message: string }): Promise<string> {
  return enqueue(job.outbox!.dir, { envelope: { from: tx.from, recipients: tx.recipients }, route: tx.route, config: job.outbox!.config, message: job.message, reason });
}

/** Delivers one transaction written ahead to the outbox; keeps the entry only for a temporary failure. */
async function deliverWrittenAhead(job: SendJob, tx: TransactionPlan): Promise<TransactionResult> {
  const dir = job.outbox!.dir;
  const id = await store(job, tx, { code: "TEMPORARY_FAILURE", message: "Stored before sending." });
  await beginAttempt(dir, id, { relay: tx.relays[0].relay });
  const r = await deliver(tx, job.message, { baseDir: job.baseDir, env: job.env, adapter: job.adapter, transcript: job.transcript });
  if (!shouldQueue(r)) {
    await drop(dir, id); // delivered, or failed for good: the result says which
    return r;
  }
  const permanent = r.rejected.filter((x) => x.code >= 500);
  const { removed } = await markAttempt(dir, id, { relay: r.relay, accepted: r.accepted, rejectedPermanent: permanent, temporaryError: { code: r.error!.code, message: r.error!.message } });
  if (removed) return r;
  job.transcript?.note(`kept in the outbox as ${id} for ${stillPending(tx, r).join(", ")}`);
  return { ...r, queued: { id, dir } };
}

/**
 * Plans and sends. Throws (before any connection) MESSAGE_INVALID / NO_ROUTE / CONFIG_INVALID;
 * delivery failures are in the result, never thrown.
 */
export async function runSend(job: SendJob): Promise<SendResult> {
  const plan = planEnvelope(job.config, { from: job.envelope.from, to: job.envelope.recipients }, { route: job.route });
  const results: TransactionResult[] = [];
  for (const tx of plan.transactions) {
    if (job.queueOnly) {
      const relay = tx.relays[0];
      const held: TransactionResult = {
        ok: false, route: tx.route, relay: relay.relay, server: { host: relay.host, port: relay.port, strategy: relay.strategy },
        tls: null, accepted: [], rejected: [], response: null, messageId: job.message.messageId,
        error: { code: "TEMPORARY_FAILURE", phase: "connect", temporary: true, message: "The message was stored in the outbox without trying to send it (--queue).", hint: "`mailplan outbox flush` sends it" },
        attempts: [],
      };
      const id = await store(job, tx, { code: "TEMPORARY_FAILURE", message: held.error!.message });
      results.push({ ...held, queued: { id, dir: job.outbox!.dir } });
      continue;
    }
    if (plan.transactions.length > 1) job.transcript?.note(`transaction for route ${tx.route}: ${tx.recipients.join(", ")}`);
    results.push(job.outbox ? await deliverWrittenAhead(job, tx) : await deliver(tx, job.message, { baseDir: job.baseDir, env: job.env, adapter: job.adapter, transcript: job.transcript }));
  }
  return combine(results);
}

/**
 * One transaction: its result as is. Several: the first failed one (or the first) at the top,
 * `ok` only when all are, `accepted`/`rejected` over all, and every result in `transactions`.
 */
export function combine(results: TransactionResult[]): SendResult {
  if (results.length === 1) return results[0];
  const lead = results.find((r) => !r.ok) ?? results[0];
  return {
    ...lead,
    ok: results.every((r) => r.ok),
    accepted: results.flatMap((r) => r.accepted),
    rejected: results.flatMap((r) => r.rejected),
    transactions: results,
  };
}
