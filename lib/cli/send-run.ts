/**
 * The send pipeline shared by `send` and `demo`: plan the envelope, deliver each transaction in
 * turn (each over its own connection), and combine the results into the contract's result object.
 */
import type { Config } from "../config/schema.ts";
import { deliver } from "../engine/deliver.ts";
import { Transcript } from "../engine/transcript.ts";
import type { MessageSource, TransactionResult } from "../engine/types.ts";
import type { AdapterName } from "../net/conn.ts";
import { planEnvelope } from "../plan/compile.ts";

/** The combined result: one transaction's fields at the top, `transactions` when there are several. */
export type SendResult = TransactionResult & { transactions?: TransactionResult[] };

/** What to send, where from, and how. */
export interface SendJob {
  config: Config;
  baseDir: string;
  envelope: { from: string; recipients: string[] };
  message: MessageSource;
  route?: string;
  adapter?: AdapterName;
  transcript?: Transcript;
}

/**
 * Plans and sends. Throws (before any connection) MESSAGE_INVALID / NO_ROUTE / CONFIG_INVALID;
 * delivery failures are in the result, never thrown.
 */
export async function runSend(job: SendJob): Promise<SendResult> {
  const plan = planEnvelope(job.config, { from: job.envelope.from, to: job.envelope.recipients }, { route: job.route });
  const results: TransactionResult[] = [];
  for (const tx of plan.transactions) {
    if (plan.transactions.length > 1) job.transcript?.note(`transaction for route ${tx.route}: ${tx.recipients.join(", ")}`);
    results.push(await deliver(tx, job.message, { baseDir: job.baseDir, adapter: job.adapter, transcript: job.transcript }));
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
